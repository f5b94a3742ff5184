#!/usr/bin/env bash
# Parquet ingest in chunks (bench/README.md): `sluice ingest` of one generated Parquet file of
# narrow rows, its wall time and the process's peak resident memory (/usr/bin/time -v).
#
#   bash bench/parquet_ingest.sh [BUILD_DIR] [SLUICE_BINARY]
#
# Environment: PQ_ROWS (3000000), PQ_ROUNDS (3), PQ_MEMORY_LIMIT (unset: the project default),
# PQ_OUT (bench/out/parquet). The file holds PQ_ROWS orders over 8 tenants x 30 days; the source
# is partitioned by day and tenant. Each round ingests into a fresh lake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
sluice=${2:-$build/src/cli/sluice}
duckdb_sql=$build/bench/duckdb_sql
rows=${PQ_ROWS:-3000000}
rounds=${PQ_ROUNDS:-3}
out=${PQ_OUT:-$root/bench/out/parquet}
mkdir -p "$out"
out=$(cd "$out" && pwd)
file=$out/orders_$rows.parquet
if [ ! -f "$file" ]; then
  echo "COPY (SELECT 'o' || i AS order_id, 't' || (i % 8) AS customer,
          TIMESTAMP '2026-01-01' + to_minutes(i % (30 * 1440)) AS created_at,
          CAST((i % 100000) / 100 AS DECIMAL(12,2)) AS amount, (i % 3)::BIGINT AS seq
        FROM range($rows) t(i)) TO '$file' (FORMAT parquet)" |
    "$duckdb_sql" --db "$out/gen.duckdb" - >/dev/null
  rm -f "$out/gen.duckdb"*
fi
proj=$out/project
rm -rf "$proj" && mkdir -p "$proj/contracts"
{
  echo "name: pqbench"
  echo "lake: lake"
  [ -n "${PQ_MEMORY_LIMIT:-}" ] && echo "memory_limit: $PQ_MEMORY_LIMIT"
  cat <<YAML
sources:
  orders:
    type: files
    path: landing/*.parquet
    format: parquet
    contract: contracts/orders.yaml
    partition_by: {day: created_at, tenant: customer}
tables:
  orders: {from: orders, key: [order_id], version: seq}
YAML
} >"$proj/sluice.yaml"
cat >"$proj/contracts/orders.yaml" <<YAML
name: orders
columns:
  order_id:   {type: string, required: true}
  customer:   {type: string, required: true}
  created_at: {type: timestamp, required: true}
  amount:     {type: "decimal(12,2)", required: true}
  seq:        {type: int64, required: true}
YAML
for r in $(seq 1 "$rounds"); do
  rm -rf "$proj/lake"
  /usr/bin/time -v "$sluice" ingest orders "$file" --project "$proj" --json >"$out/ingest.json" 2>"$out/time.txt"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time.txt")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time.txt")
  staged=$(grep -o '"rows_staged": *[0-9]*' "$out/ingest.json" | head -1)
  echo "round $r: wall $wall, peak RSS $((rss / 1024)) MiB, $staged"
done
