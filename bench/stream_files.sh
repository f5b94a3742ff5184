#!/usr/bin/env bash
# The micro-batch files benchmark (bench/README.md, "Many micro-batches"): two hours' worth of
# 5-second micro-batches (1,440 by default, ~700 order events each, spread over 3 days and 20
# tenants) staged by `sluice serve` over HTTP, one request = one micro-batch. Serve stopped, it
# measures
#   (a) a one-day, one-tenant count and sum on `staging.orders` through `sluice query` (process
#       wall time, median of BENCH_QUERY_RUNS) and the files its EXPLAIN ANALYZE reads, against
#       the same query through duckdb_sql on ONE compacted Parquet file holding the same rows;
#   (b) one curate of all those micro-batches: `sluice run --json` after a curated table is
#       added to the project (curate seconds from its summary), against plain DuckDB building the
#       same table (winner per key) from the compacted file; BENCH_ROUNDS rounds, each from a
#       copy of the staged lake.
# Results are verified (rows staged, batches, query results equal, curated rows) and written to
# BENCH_OUT/stream_files.json.
#
#   bash bench/stream_files.sh [BUILD_DIR]      (default: build)
#
# Environment: BENCH_SF_BATCHES (1440), BENCH_SF_ROWS (700 per batch), BENCH_QUERY_RUNS (5),
# BENCH_ROUNDS (3), BENCH_OUT (bench/out), BENCH_KEEP_TMP (keep the work dir's projects).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
batches=${BENCH_SF_BATCHES:-1440}
per_batch=${BENCH_SF_ROWS:-700}
query_runs=${BENCH_QUERY_RUNS:-5}
rounds=${BENCH_ROUNDS:-3}
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { say "stream_files: $*"; exit 1; }

sluice=$build/src/cli/sluice
duckdb_sql=$build/bench/duckdb_sql
if [ ! -x "$sluice" ] || [ ! -x "$duckdb_sql" ]; then
  [ -f "$build/CMakeCache.txt" ] || die "no build in $build (run: make build, or cmake -S . -B $build)"
  cmake --build "$build" --target sluice duckdb_sql -j2 >&2
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v curl >/dev/null || die "curl is missing"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
case $build_type in
  Release | RelWithDebInfo) ;;
  *) say "stream_files: WARNING: $build is a '${build_type:-no type}' build; its figures are not comparable" ;;
esac

work=$out/stream_files
rm -rf "$work"
mkdir -p "$work" "$work/bodies"
proj=$work/project
bodies=$work/bodies
compact=$work/compact.parquet
query_day=2026-01-03
query_tenant=t07

serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  [ -n "${BENCH_KEEP_TMP:-}" ] || rm -rf "$bodies" "$work/round"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- data: the bodies (NDJSON, one per micro-batch) and the compacted file, from one table ------
# Row i: batch i / PER_BATCH. Every 5th row (from the second batch on) updates the order of the
# row 699 earlier (a higher seq, status paid); an order's tenant, day and created_at depend on
# the order only. Days by the order's number modulo 10: 7 of 10 on 2026-01-03 (the stream's
# "today"), 2 on the day before, 1 two days before; since an update's order is a multiple of 5,
# and new orders skip i % 5 = 4, that comes to 80% / 20% and only 70 rows on 2026-01-01 (kept:
# the "before" figures were measured on exactly these rows). Tenants t01..t20.
say "stream_files: generating $batches micro-batches of $per_batch events into $bodies"
"$duckdb_sql" --db :memory: --var BODIES="$bodies" --var COMPACT="$compact" --var BATCHES="$batches" \
  --var PER="$per_batch" - >"$work/generate.log" 2>&1 <<'SQL' || { cat "$work/generate.log" >&2; die "generating failed"; }
CREATE TABLE g AS
SELECT i, i // ${PER} + 1 AS b,
       CASE WHEN i % 5 = 4 AND i >= ${PER} THEN i - 699 ELSE i END AS base
FROM range(${BATCHES} * ${PER}) t(i);
CREATE TABLE events AS
SELECT b, i,
       'o' || base::VARCHAR AS order_id,
       't' || lpad(((base // 7) % 20 + 1)::VARCHAR, 2, '0') AS tenant_id,
       CASE WHEN base = i THEN 'created' ELSE 'paid' END AS status,
       ((base * 7919) % 100000 / 100)::DECIMAL(12,2) AS amount,
       TIMESTAMP '2026-01-01 00:00:00'
         + to_days(CASE WHEN base % 10 < 7 THEN 2 WHEN base % 10 < 9 THEN 1 ELSE 0 END)
         + to_seconds((base * 37) % 86400) AS created_at,
       i + 1 AS seq
FROM g;
COPY (
  SELECT order_id, tenant_id, status, amount, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at, seq
  FROM events ORDER BY i
) TO '${BODIES}/all.ndjson' (FORMAT json);
COPY (SELECT order_id, tenant_id, status, amount, created_at, seq FROM events ORDER BY i) TO '${COMPACT}' (FORMAT parquet);
SQL
# One body per PER_BATCH lines, in order (DuckDB's JSON COPY cannot partition).
(cd "$bodies" && split -l "$per_batch" -d -a 5 --additional-suffix=.ndjson all.ndjson body- && rm all.ndjson)
mapfile -t body_files < <(find "$bodies" -name 'body-*.ndjson' | sort)
((${#body_files[@]} == batches)) || die "expected $batches bodies, found ${#body_files[@]}"
total_rows=$((batches * per_batch))

# --- the project: an http source; no curated table yet (so serve stages and curates nothing) ----
mkdir -p "$proj/contracts"
cat >"$proj/sluice.yaml" <<'EOF'
name: streamfiles
lake: lake
sources:
  orders:
    type: http
    contract: contracts/orders.yaml
    partition_by: {day: created_at, tenant: tenant_id}
    batch: {max_rows: 50000}
EOF
cat >"$proj/contracts/orders.yaml" <<'EOF'
name: orders
compatibility: full_transitive
columns:
  order_id:   {type: string, required: true}
  tenant_id:  {type: string, required: true}
  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled]}
  amount:     {type: "decimal(12,2)", min: 0}
  created_at: {type: timestamp, required: true}
  seq:        {type: int64, required: true}
EOF

# --- staging: one sequential client, one request per micro-batch ------------------------------
# A request is answered only once its micro-batch is committed, and requests arriving during a
# commit form the next one; one client sending the next body only after the previous answer
# therefore makes exactly one micro-batch per request (checked below in meta.batches).
"$sluice" serve --project "$proj" --listen 127.0.0.1:0 --port-file "$proj/.port" 2>"$work/serve.log" &
serve_pid=$!
for ((i = 0; i < 300; i++)); do
  kill -0 "$serve_pid" 2>/dev/null || die "sluice serve exited: $(tail -5 "$work/serve.log")"
  [ -s "$proj/.port" ] && break
  sleep 0.1
done
[ -s "$proj/.port" ] || die "sluice serve wrote no port file"
port=$(cat "$proj/.port")
{
  n=0
  for f in "${body_files[@]}"; do
    n=$((n + 1))
    printf 'url = "http://127.0.0.1:%s/v1/sources/orders/events"\n' "$port"
    printf 'data-binary = "@%s"\n' "$f"
    printf 'header = "Content-Type: application/x-ndjson"\n'
    printf 'header = "Idempotency-Key: bench-%05d"\n' "$n"
    printf 'write-out = "\\n%%{http_code}\\n"\n'
    ((n == batches)) || printf 'next\n'
  done
} >"$work/curl.cfg"
say "stream_files: posting $batches bodies to sluice serve on port $port, one at a time"
/usr/bin/time -f '%e' -o "$work/post.time" curl -sS --config "$work/curl.cfg" >"$work/post.out" 2>"$work/post.err" ||
  die "posting failed: $(tail -3 "$work/post.err")"
post_s=$(tail -1 "$work/post.time")
ok_posts=$(grep -c '^200$' "$work/post.out" || true)
((ok_posts == batches)) || die "$ok_posts of $batches requests answered 200: $(grep -v '^200$' "$work/post.out" | head -3)"
serve_hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status")
kill -TERM "$serve_pid"
rc=0; wait "$serve_pid" || rc=$?
serve_pid=""
((rc == 0)) || die "sluice serve exited with status $rc: $(tail -3 "$work/serve.log")"
staging_files=$(find "$proj/lake/staging" -name '*.parquet' | wc -l)
"$sluice" query "SELECT (SELECT count(*) FROM meta.batches) AS batches, (SELECT count(*) FROM staging.orders) AS staged" \
  --format csv --project "$proj" >"$work/staged.csv" 2>&1 || die "query failed: $(cat "$work/staged.csv")"
read -r staged_batches staged_rows < <(tail -1 "$work/staged.csv" | tr ',' ' ')
say "stream_files: $staged_rows rows in $staged_batches micro-batches staged in $post_s s ($staging_files staging files); serve peak $((serve_hwm_kb / 1024)) MB"
((staged_batches == batches && staged_rows == total_rows)) ||
  die "expected $batches batches and $total_rows rows staged, got $staged_batches and $staged_rows"

runs=$work/runs.tsv   # run  what  metric  value
printf 'run\twhat\tmetric\tvalue\n' >"$runs"
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$runs"; }
timed() {  # timed TIMEFILE CMD...: sets wall_s and peak_kb
  local tf=$1 rc=0
  shift
  /usr/bin/time -f '%e %M' -o "$tf" "$@" || rc=$?
  read -r wall_s peak_kb < <(tail -1 "$tf")
  return $rc
}

# --- (a) the one-day, one-tenant query ---------------------------------------------------------
sluice_q="SELECT count(*) AS n, sum(amount) AS total FROM staging.orders WHERE day = DATE '$query_day' AND tenant = '$query_tenant'"
"$sluice" query "EXPLAIN ANALYZE $sluice_q" --project "$proj" >"$work/explain.txt" 2>&1 || die "EXPLAIN ANALYZE failed: $(tail -3 "$work/explain.txt")"
# DuckDB's plan box may break "Total Files Read: N" (and "Scanning Files: a/b") over two lines.
plan_figure() {  # plan_figure LABEL: the figure after LABEL, on its line or the next
  awk -v label="$1" '
    want { if (match($0, /[0-9][0-9\/]*/)) { print substr($0, RSTART, RLENGTH); want = 0 } ; next }
    index($0, label) { rest = substr($0, index($0, label) + length(label))
                       if (match(rest, /[0-9][0-9\/]*/)) print substr(rest, RSTART, RLENGTH); else want = 1 }' "$work/explain.txt"
}
files_read=$(plan_figure 'Total Files Read:' | awk '{s += $1} END {print s + 0}')
scanning=$(plan_figure 'Scanning Files:' | head -1)
say "stream_files: (a) $sluice_q"
say "  EXPLAIN ANALYZE: Total Files Read: $files_read${scanning:+, Scanning Files: $scanning} (of $staging_files staging files)"
for ((q = 1; q <= query_runs; q++)); do
  timed "$work/time.txt" "$sluice" query "$sluice_q" --format csv --project "$proj" >"$work/q_sluice.csv" 2>&1 ||
    die "sluice query failed: $(tail -3 "$work/q_sluice.csv")"
  record "$q" query sluice_seconds "$wall_s"
  timed "$work/time.txt" "$duckdb_sql" --db :memory: --var F="$compact" --var D="$query_day" --var T="$query_tenant" - \
    >"$work/q_ref.tsv" 2>"$work/q_ref.err" <<'SQL' || die "reference query failed: $(tail -3 "$work/q_ref.err")"
SELECT count(*) AS n, sum(amount) AS total FROM read_parquet('${F}')
WHERE CAST(created_at AS DATE) = DATE '${D}' AND tenant_id = '${T}';
SQL
  record "$q" query reference_seconds "$wall_s"
done
sluice_answer=$(tail -1 "$work/q_sluice.csv" | tr ',' ' ')
ref_answer=$(grep -v '^n' "$work/q_ref.tsv" | tail -1 | tr '\t' ' ')
[ "$sluice_answer" = "$ref_answer" ] || die "query answers differ: sluice '$sluice_answer', reference '$ref_answer'"
say "  both answer n, total = $sluice_answer"

# --- (b) one curate of all the micro-batches ---------------------------------------------------
cp -a "$proj" "$work/staged_project"
cat >>"$work/staged_project/sluice.yaml" <<'EOF'
tables:
  orders:
    from: orders
    key: [order_id]
    version: seq
EOF
expected_orders=$("$duckdb_sql" --db :memory: --var F="$compact" - 2>/dev/null <<'SQL' | tail -1
SELECT count(DISTINCT order_id) FROM read_parquet('${F}');
SQL
)
for ((r = 1; r <= rounds; r++)); do
  rm -rf "$work/round"
  cp -a "$work/staged_project" "$work/round"
  sync
  timed "$work/time.txt" "$sluice" run --json --project "$work/round" >"$work/run.json" 2>"$work/run.err" ||
    die "sluice run failed: $(tail -3 "$work/run.err")"
  record "$r" curate sluice_seconds "$wall_s"
  run_s=$wall_s
  record "$r" curate sluice_peak_kb "$peak_kb"
  # The curate stage's own "seconds" (its "cpu_seconds" comes first in the summary).
  curate_s=$(grep -o '"curate":{[^{]*' "$work/run.json" | grep -o '"seconds":[0-9.e-]*' | head -1 | sed 's/.*://')
  rows_in=$(grep -o '"rows_in":[0-9]*' "$work/run.json" | head -1 | sed 's/.*://')
  record "$r" curate sluice_curate_seconds "$curate_s"
  got=$("$sluice" query "SELECT count(*) FROM curated.orders" --format csv --project "$work/round" | tail -1)
  [ "$got" = "$expected_orders" ] || die "curated.orders holds $got rows, expected $expected_orders"
  rm -f "$work/ref.duckdb" "$work/ref.duckdb.wal"
  timed "$work/time.txt" "$duckdb_sql" --db "$work/ref.duckdb" --var F="$compact" - >"$work/ref_curate.tsv" 2>"$work/ref_curate.err" <<'SQL' ||
CREATE TABLE orders AS
SELECT * FROM read_parquet('${F}') QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY seq DESC) = 1;
SELECT count(*) AS orders FROM orders;
SQL
    die "reference curate failed: $(tail -3 "$work/ref_curate.err")"
  [ "$(tail -1 "$work/ref_curate.tsv")" = "$expected_orders" ] || die "reference curate: wrong row count"
  record "$r" curate reference_seconds "$wall_s"
  say "  round $r: sluice run $run_s s, of which curate $(printf %.2f "$curate_s") s ($rows_in rows in, $got orders); reference $wall_s s"
done

# --- summary -----------------------------------------------------------------------------------
"$duckdb_sql" --db :memory: --var RUNS="$runs" --var RESULTS="$out/stream_files.json" \
  --var BATCHES="$batches" --var ROWS="$total_rows" --var POST="$post_s" --var FILES="$staging_files" \
  --var READ="$files_read" --var HWM="$serve_hwm_kb" --var ORDERS="$expected_orders" - \
  2>"$work/summary.err" >"$work/summary.txt" <<'SQL' || { cat "$work/summary.err" >&2; exit 1; }
CREATE TABLE runs AS SELECT * FROM read_csv('${RUNS}', delim = '\t', header = true,
  columns = {'run': 'INTEGER', 'what': 'VARCHAR', 'metric': 'VARCHAR', 'value': 'DOUBLE'});
CREATE TABLE m AS
WITH p AS (
  SELECT what, run, max(value) FILTER (WHERE metric = 'sluice_seconds') AS s,
         max(value) FILTER (WHERE metric = 'sluice_curate_seconds') AS sc,
         max(value) FILTER (WHERE metric = 'reference_seconds') AS ref
  FROM runs GROUP BY what, run
)
SELECT what, count(*) AS runs, median(s) AS sluice_s, median(sc) AS sluice_stage_s, median(ref) AS reference_s,
       median(s / ref) AS ratio, median(sc / ref) AS stage_ratio
FROM p GROUP BY what;
SELECT what, runs, round(sluice_s, 3) AS "sluice s (process)", round(sluice_stage_s, 3) AS "sluice curate stage s",
       round(reference_s, 3) AS "reference s (process)", round(ratio, 2) AS "ratio (process)",
       round(stage_ratio, 2) AS "ratio (curate stage)"
FROM m ORDER BY what DESC;
COPY (
  SELECT ${BATCHES} AS batches, ${ROWS} AS rows, ${POST} AS staging_seconds, ${FILES} AS staging_files,
         ${READ} AS query_files_read, ${HWM} AS serve_peak_kb, ${ORDERS} AS orders,
         (SELECT list(struct_pack(what, runs, sluice_s, sluice_stage_s, reference_s, ratio, stage_ratio)) FROM m) AS medians,
         (SELECT list(struct_pack(run, what, metric, value) ORDER BY what, run, metric) FROM runs) AS runs
) TO '${RESULTS}' (FORMAT json);
SQL
say ""
say "stream_files: $batches micro-batches x $per_batch events = $total_rows rows, staged in $post_s s ($staging_files staging files)"
say "query: one day ($query_day), one tenant ($query_tenant), count and sum: sluice reads $files_read file(s); medians of $query_runs runs; curate: $rounds round(s)"
grep -v '^\(setup\|total\)[[:space:]]' "$work/summary.txt" | column -t -s $'\t' >&2
say ""
say "results: $out/stream_files.json"
