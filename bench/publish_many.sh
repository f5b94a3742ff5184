#!/usr/bin/env bash
# Publishing with many partitions: the `publish` stage of `sluice run --json` on tables with many
# (day, tenant) partitions, a full publish and an incremental one.
#
#   bash bench/publish_many.sh BUILD_DIR [BUILD_DIR...]
#
# Each BUILD_DIR holds src/cli/sluice and bench/duckdb_sql (give the build of an older commit too,
# to compare layouts in the same invocation). For each workload and round, on a fresh project:
#   full         `sluice run --json` over Parquet batches of every order (one per 31 days):
#                ingest, curate, the mart, and a first publish of curated.orders and
#                marts.daily_revenue;
#   incremental  a second batch updating half the orders of one day, then `sluice run --json`:
#                one day of each table changed, every other partition hard-linked.
# The figure is each run's `publish.seconds`; the summary gives the median over the rounds.
#
# Workloads (orders, tenants, days): 20x30 = 1,000,000 orders over 20 tenants x 30 days (600
# partitions); 110x366 = 3,000,000 orders over 110 keys x 366 days (40,260 partitions).
#
#   BENCH_ROUNDS      rounds (3)
#   BENCH_WORKLOADS   "20x30 110x366"; a workload is TENANTSxDAYS, orders: 1 M, 3 M past 10,000 partitions
#   BENCH_ORDERS      orders of every workload (default as above), e.g. 20000 for a smoke run
#   BENCH_OUT         work directory (bench/out/publish_many)
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [BUILD_DIR...]" >&2; exit 2; }
rounds=${BENCH_ROUNDS:-3}
workloads=${BENCH_WORKLOADS:-"20x30 110x366"}
out=${BENCH_OUT:-bench/out/publish_many}
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.tsv"
: >"$results"
duckdb_sql=$(cd "$1" && pwd)/bench/duckdb_sql

say() { printf '%s\n' "$*" >&2; }

# Writes the batches of a workload: every order (seq 1) as one file per 31 days,
# DATA/first/chunk=K/data_0.parquet, and DATA/batch-2.parquet (half the orders of the first day,
# seq 2, status shipped). One file of all 40,260 partitions ran the staging write out of memory
# (7.9 GiB) here; per 31 days it stages 3,410 partitions at a time.
make_data() {  # make_data DATA TENANTS DAYS ORDERS
  mkdir -p "$1"
  "$duckdb_sql" --db :memory: --var DATA="$1" --var TENANTS="$2" --var DAYS="$3" --var ORDERS="$4" - >/dev/null <<'SQL'
CREATE TABLE o AS
SELECT 'o' || i AS order_id,
       't' || lpad(CAST(hash(i) % ${TENANTS} AS VARCHAR), 3, '0') AS tenant_id,
       'paid' AS status,
       CAST((i % 10000) / 100.0 AS DECIMAL(12,2)) AS amount,
       TIMESTAMP '2025-01-01 10:00:00' + to_days(CAST(hash(i * 7 + 1) % ${DAYS} AS INTEGER)) AS created_at,
       CAST(1 AS BIGINT) AS seq
FROM range(${ORDERS}) r(i);
COPY (SELECT *, datediff('day', TIMESTAMP '2025-01-01', created_at) // 31 AS chunk FROM o)
  TO '${DATA}/first' (FORMAT parquet, PARTITION_BY (chunk));
COPY (SELECT order_id, tenant_id, 'shipped' AS status, amount, created_at, CAST(2 AS BIGINT) AS seq
      FROM o WHERE CAST(created_at AS DATE) = DATE '2025-01-01' AND hash(order_id) % 100 < 50)
  TO '${DATA}/batch-2.parquet' (FORMAT parquet);
SQL
}

project() {  # project DIR
  rm -rf "$1"
  mkdir -p "$1/contracts" "$1/models" "$1/landing"
  cat >"$1/sluice.yaml" <<'EOF'
name: publish_many
lake: lake
sources:
  orders:
    type: files
    path: landing/*.parquet
    format: parquet
    contract: contracts/orders.yaml
    partition_by: {day: created_at, tenant: tenant_id}
tables:
  orders:
    from: orders
    key: [order_id]
    version: seq
  daily_revenue:
    sql: models/daily_revenue.sql
    partition_by: {day: day, tenant: tenant_id}
EOF
  cat >"$1/contracts/orders.yaml" <<'EOF'
name: orders
columns:
  order_id:   {type: string, required: true}
  tenant_id:  {type: string, required: true}
  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled]}
  amount:     {type: decimal(12,2), min: 0}
  created_at: {type: timestamp, required: true}
  seq:        {type: int64, required: true}
EOF
  cat >"$1/models/daily_revenue.sql" <<'EOF'
SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue
FROM curated.orders WHERE status <> 'cancelled' GROUP BY ALL
EOF
}

publish_seconds() {  # publish_seconds RUN_JSON
  "$duckdb_sql" --db :memory: --var RUN="$1" - 2>/dev/null <<'SQL' | tail -n 1
SELECT (content::JSON ->> '$.publish.seconds')::DOUBLE FROM read_text('${RUN}');
SQL
}

for w in $workloads; do
  tenants=${w%x*}
  days=${w#*x}
  orders=1000000
  (( tenants * days > 10000 )) && orders=3000000
  orders=${BENCH_ORDERS:-$orders}
  data="$out/data_$w"
  [[ -n ${BENCH_ORDERS:-} ]] && data="$out/data_${w}_$orders"
  [[ -f "$data/batch-2.parquet" ]] || { say "$w: writing $orders orders"; make_data "$data" "$tenants" "$days" "$orders"; }
  for ((r = 1; r <= rounds; r++)); do
    for build in "$@"; do
      sluice=$(cd "$build" && pwd)/src/cli/sluice
      dir="$out/project"
      project "$dir"
      for f in "$data"/first/chunk=*/*.parquet; do
        k=$(basename "$(dirname "$f")")
        ln "$f" "$dir/landing/batch-1-${k#chunk=}-$(basename "$f")"
      done
      "$sluice" --project "$dir" run --json >"$out/run1.json"
      ln "$data/batch-2.parquet" "$dir/landing/batch-2.parquet"
      "$sluice" --project "$dir" run --json >"$out/run2.json"
      files=$(find "$dir/lake/published/curated/orders/current/" -name '*.parquet' | wc -l)
      full=$(publish_seconds "$out/run1.json")
      incr=$(publish_seconds "$out/run2.json")
      say "$w round $r $build: publish full ${full}s, incremental ${incr}s, curated files per version $files"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$r" "$build" "$full" "$incr" "$files" >>"$results"
    done
  done
done

"$duckdb_sql" --db :memory: --var RESULTS="$results" - <<'SQL'
SELECT w AS workload, build, count(*) AS rounds, round(median(full_s), 2) AS publish_full_s,
       round(median(incr_s), 2) AS publish_incremental_s, max(files) AS curated_files_per_version
FROM read_csv('${RESULTS}', delim = '\t', header = false,
              columns = {'w': 'VARCHAR', 'r': 'INTEGER', 'build': 'VARCHAR', 'full_s': 'DOUBLE',
                         'incr_s': 'DOUBLE', 'files': 'BIGINT'})
GROUP BY ALL ORDER BY workload, build;
SQL
