#!/usr/bin/env bash
# What the metrics file costs a batch run: `sluice run` with nothing to do, with and without
# `--metrics-file` (which reads the catalog, counts the rows per partition of every table and
# its max event time, renders and writes the file atomically), alternated in the same
# invocation on the same lake.
#
#   bash bench/metrics_file.sh BUILD_DIR
#
# The project is `sluice init`'s with `event_time: created_at`, its landing files replaced by
# `sluice generate` (BENCH_ORDERS orders over 20 tenants x 30 days: 600 partitions), run once.
# Each round times both commands (wall, `date +%s%N` around the process); the summary gives the
# medians and the difference.
#
#   BENCH_ROUNDS   rounds (7)
#   BENCH_ORDERS   orders (300000)
#   BENCH_OUT      work directory (bench/out/metrics_file)
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
sluice=$(cd "$1" && pwd)/src/cli/sluice
rounds=${BENCH_ROUNDS:-7}
orders=${BENCH_ORDERS:-300000}
out=${BENCH_OUT:-bench/out/metrics_file}
mkdir -p "$out"
out=$(cd "$out" && pwd)
dir="$out/shop"

rm -rf "$dir"
"$sluice" init "$dir" >/dev/null
"$sluice" generate "$dir/landing/orders" --orders "$orders" --batches 4 --tenants 20 --days 30 --force >/dev/null
sed -i 's/^    partition_by: {day: created_at, tenant: tenant_id}$/&\n    event_time: created_at/' "$dir/sluice.yaml"
"$sluice" --project "$dir" run >/dev/null

ms() {  # ms COMMAND...: wall milliseconds of the command
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

without=() with=()
for ((r = 1; r <= rounds; r++)); do
  without+=("$(ms "$sluice" --project "$dir" run)")
  with+=("$(ms "$sluice" --project "$dir" run --metrics-file "$out/sluice.prom")")
  echo "round $r: without ${without[-1]} ms, with --metrics-file ${with[-1]} ms" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
a=$(median "${without[@]}")
b=$(median "${with[@]}")
echo "orders $orders, rounds $rounds: sluice run (nothing to do) median $a ms; with --metrics-file $b ms; difference $((${b%.*} - ${a%.*})) ms"
echo "file: $(wc -c <"$out/sluice.prom") bytes, $(grep -vc '^#' "$out/sluice.prom") series"
