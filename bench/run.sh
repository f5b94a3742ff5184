#!/usr/bin/env bash
# The sluice benchmark (bench/README.md): the whole pipeline from empty on generated orders, run
# by sluice (all batches in one run, and one run per batch), by plain DuckDB SQL and by
# PostgreSQL on the same data, interleaved for a few rounds; every engine's results are checked against the generator's expected.json; medians and ratios
# are printed and written to bench/out/results.json.
#
#   bash bench/run.sh [BUILD_DIR]        (`make bench` passes its build dir; default: build)
#
# Environment: BENCH_ORDERS (1000000), BENCH_BATCHES (10), BENCH_TENANTS (8), BENCH_DAYS (7),
# BENCH_SEED (42), BENCH_ROUNDS (3), BENCH_ENGINES ("sluice sluice_batched duckdb postgres"),
# BENCH_OUT (bench/out). BENCH_TENANTS x BENCH_DAYS is the number of (day, tenant) partitions
# (`sluice generate --tenants --days`: 1..100 and 1..31).
# Besides seconds and peak memory, sluice's CPU seconds per stage (from `sluice run --json`'s
# cpu_seconds) are reported per million input lines.
# Engines: sluice (one `sluice run` over all batches), sluice_batched (one `sluice run` per batch,
# like the references), duckdb (bench/plain_duckdb.sql), postgres (bench/postgres.sh).
# Exit status: 0 when every run of every engine succeeded and verified, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
orders=${BENCH_ORDERS:-1000000}
batches=${BENCH_BATCHES:-10}
tenants=${BENCH_TENANTS:-8}
days=${BENCH_DAYS:-7}
seed=${BENCH_SEED:-42}
rounds=${BENCH_ROUNDS:-3}
engines=${BENCH_ENGINES:-sluice sluice_batched duckdb postgres}
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

# --- build check -----------------------------------------------------------------------------
sluice=$build/src/cli/sluice
duckdb_sql=$build/bench/duckdb_sql
if [ ! -x "$sluice" ] || [ ! -x "$duckdb_sql" ]; then
  [ -f "$build/CMakeCache.txt" ] || die "no build in $build (run: make build, or cmake -S . -B $build)"
  say "bench: building sluice and duckdb_sql in $build"
  cmake --build "$build" --target sluice duckdb_sql -j "$(nproc)" >&2
fi
[ -x "$sluice" ] || die "no sluice binary at $sluice"
[ -x "$duckdb_sql" ] || die "no duckdb_sql binary at $duckdb_sql"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
case $build_type in
  Release | RelWithDebInfo) ;;
  *) say "bench: WARNING: $build is a '${build_type:-no type}' build; its figures are not comparable" ;;
esac
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ]; then
    say "bench: installing the 'time' package (for peak RSS)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null; }
  fi
  [ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
fi
case " $engines " in
  *" postgres "*)
    command -v psql >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
      [ -n "${PG_BIN:-}" ] || die "PostgreSQL server binaries missing: run scripts/setup.sh (or set PG_BIN)" ;;
esac

# --- data --------------------------------------------------------------------------------------
data=$out/data
rm -rf "$data"
say "bench: generating $orders orders in $batches batches, $tenants tenants x $days days (seed $seed) into $data"
"$sluice" generate "$data" --orders "$orders" --batches "$batches" --tenants "$tenants" --days "$days" \
  --seed "$seed" >/dev/null
expected=$data/expected.json
shopt -s nullglob
files=("$data"/batch-*.jsonl)
shopt -u nullglob
[ ${#files[@]} -gt 0 ] || die "the generator wrote no batch-*.jsonl into $data"
events=$(cat "${files[@]}" | wc -l)
bytes=$(cat "${files[@]}" | wc -c)
say "bench: $events events, $((bytes / 1048576)) MiB of JSONL in ${#files[@]} files"

work=$out/work
runs=$out/runs.tsv    # round  engine  metric  value
printf 'round\tengine\tmetric\tvalue\n' >"$runs"
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$runs"; }
failures=0

# Checks an engine's results (a JSON array of {metric, key, value}) against expected.json:
# distinct orders, final status counts, revenue per tenant, every mart row, rows staged and
# dead-lettered per reason. Prints the differences; fails when there are any.
verify() {  # verify RESULT_JSON LOG
  "$duckdb_sql" --db :memory: --var EXPECTED="$expected" --var ACTUAL="$1" - >"$2" 2>&1 <<'SQL'
CREATE TABLE e AS SELECT content::JSON AS j FROM read_text('${EXPECTED}');
CREATE TABLE expected AS
SELECT 'orders' AS metric, '' AS key, j ->> 'orders' AS value FROM e
UNION ALL SELECT 'staged', '', j ->> 'events_valid' FROM e
UNION ALL SELECT 'status', k, j -> 'final_status_counts' ->> k
  FROM (SELECT j, unnest(json_keys(j -> 'final_status_counts')) AS k FROM e)
UNION ALL SELECT 'dead', k, j -> 'dead_by_reason' ->> k
  FROM (SELECT j, unnest(json_keys(j -> 'dead_by_reason')) AS k FROM e)
UNION ALL SELECT 'revenue', k, j -> 'revenue_by_tenant' ->> k
  FROM (SELECT j, unnest(json_keys(j -> 'revenue_by_tenant')) AS k FROM e)
UNION ALL SELECT 'mart', (m ->> 'day') || '/' || (m ->> 'tenant_id'), (m ->> 'orders') || '/' || (m ->> 'revenue')
  FROM (SELECT unnest(json_extract(j, '$.mart_daily_revenue[*]')) AS m FROM e);
-- A GROUP BY shows no zero counts.
DELETE FROM expected WHERE metric IN ('status', 'dead') AND value = '0';
CREATE TABLE actual AS
SELECT metric, coalesce(key, '') AS key, value
FROM read_json('${ACTUAL}', format = 'array',
               columns = {'metric': 'VARCHAR', 'key': 'VARCHAR', 'value': 'VARCHAR'});
CREATE TABLE diff AS
SELECT metric, key, e.value AS expected, a.value AS actual
FROM expected e FULL OUTER JOIN actual a USING (metric, key)
WHERE e.value IS DISTINCT FROM a.value;
SELECT metric, count(*) AS checked FROM expected GROUP BY metric ORDER BY metric;
SELECT * FROM diff ORDER BY metric, key LIMIT 20;
SELECT CASE WHEN count(*) > 0 THEN error(count(*)::VARCHAR || ' result(s) differ from expected.json')
            ELSE 'verified' END AS verdict
FROM diff;
SQL
}

# Runs CMD under /usr/bin/time; sets wall_s and peak_kb. Returns CMD's status.
timed() {  # timed TIMEFILE CMD...
  local tf=$1 rc=0
  shift
  /usr/bin/time -f '%e %M' -o "$tf" "$@" || rc=$?
  read -r wall_s peak_kb < <(tail -1 "$tf")
  return $rc
}

# Sums duckdb_sql/postgres.sh step timings into the sluice stage names.
record_steps() {  # record_steps ROUND ENGINE TIMINGS_TSV
  awk -F'\t' -v round="$1" -v engine="$2" '
    $1 == "batch" {
      stage = ($3 ~ /^(changes|touched|merge)$/) ? "curate" : ($3 == "mart") ? "marts" : "ingest"
      t[stage] += $4
    }
    END { for (s in t) printf "%s\t%s\t%s_seconds\t%.6f\n", round, engine, s, t[s] }' "$3" >>"$runs"
}

# Writes a fresh sluice project into DIR whose source reads the files matching GLOB.
sluice_project() {  # sluice_project DIR GLOB
  local dir=$1 glob=$2
  rm -rf "$dir"
  mkdir -p "$dir/contracts" "$dir/models"
  cat >"$dir/sluice.yaml" <<EOF
name: bench
lake: lake
sources:
  orders:
    type: files
    path: $glob
    format: jsonl
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
  cat >"$dir/contracts/orders.yaml" <<'EOF'
name: orders
compatibility: full_transitive
columns:
  order_id:   {type: string, required: true}
  tenant_id:  {type: string, required: true}
  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled]}
  amount:     {type: decimal(12,2), min: 0}
  created_at: {type: timestamp, required: true}
  seq:        {type: int64, required: true}
EOF
  cat >"$dir/models/daily_revenue.sql" <<'EOF'
SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue
FROM curated.orders WHERE status <> 'cancelled' GROUP BY ALL
EOF
}

# Records the per-stage seconds and CPU seconds of one or more `sluice run --json` summaries (a
# path or a glob), summed over the summaries.
record_sluice_stages() {  # record_sluice_stages ROUND ENGINE RUN_JSON_GLOB
  "$duckdb_sql" --db :memory: --var RUN="$3" --var ROUND="$1" --var ENGINE="$2" --var OUT="$work/stages.tsv" - \
    >/dev/null 2>"$work/stages.err" <<'SQL' || { say "  $2: unreadable run summary"; cat "$work/stages.err" >&2; return 1; }
COPY (
  WITH s AS (SELECT content::JSON AS j FROM read_text('${RUN}')),
  t AS (
    SELECT sum((j ->> '$.ingest.seconds')::DOUBLE) AS i, sum((j ->> '$.curate.seconds')::DOUBLE) AS c,
           sum((j ->> '$.marts.seconds')::DOUBLE) AS m, sum((j ->> '$.publish.seconds')::DOUBLE) AS p,
           sum((j ->> '$.ingest.cpu_seconds')::DOUBLE) AS ci, sum((j ->> '$.curate.cpu_seconds')::DOUBLE) AS cc,
           sum((j ->> '$.marts.cpu_seconds')::DOUBLE) AS cm, sum((j ->> '$.publish.cpu_seconds')::DOUBLE) AS cp
    FROM s
  )
  SELECT ${ROUND}, '${ENGINE}',
         unnest(['ingest_seconds', 'curate_seconds', 'marts_seconds', 'publish_seconds',
                 'ingest_cpu_seconds', 'curate_cpu_seconds', 'marts_cpu_seconds', 'publish_cpu_seconds']),
         unnest([i, c, m, p, ci, cc, cm, cp])
  FROM t
) TO '${OUT}' (FORMAT csv, DELIMITER '\t', HEADER false);
SQL
  cat "$work/stages.tsv" >>"$runs"
}

# Writes the final state of the sluice project DIR as $work/ENGINE_results.json, for verify.
sluice_results() {  # sluice_results DIR ENGINE
  "$sluice" query "
    SELECT 'orders' AS metric, '' AS key, count(*)::VARCHAR AS value FROM curated.orders
    UNION ALL SELECT 'status', status, count(*)::VARCHAR FROM curated.orders GROUP BY status
    UNION ALL SELECT 'revenue', tenant_id, sum(revenue)::VARCHAR FROM marts.daily_revenue GROUP BY tenant_id
    UNION ALL SELECT 'mart', day::VARCHAR || '/' || tenant_id, orders::VARCHAR || '/' || revenue::VARCHAR
              FROM marts.daily_revenue
    UNION ALL SELECT 'staged', '', count(*)::VARCHAR FROM staging.orders
    UNION ALL SELECT 'dead', reason, count(*)::VARCHAR FROM dlq.orders GROUP BY reason" \
    --format json --project "$1" >"$work/$2_results.json"
}

# sluice over all the batch files at once: one `sluice run` (one curate, one mart build).
run_sluice() {  # run_sluice ROUND
  local r=$1 dir=$work/sluice
  sluice_project "$dir" "$data/*.jsonl"
  sync
  if ! timed "$work/time.txt" "$sluice" run --json --project "$dir" >"$work/sluice_run.json" 2>"$work/sluice_run.err"; then
    say "  sluice: run failed: $(tail -3 "$work/sluice_run.err")"
    return 1
  fi
  record "$r" sluice total_seconds "$wall_s"
  record "$r" sluice peak_rss_kb "$peak_kb"
  record_sluice_stages "$r" sluice "$work/sluice_run.json" || return 1
  sluice_results "$dir" sluice
}

# sluice as the references work: the batches land one at a time in an initially empty landing
# directory and each is followed by its own `sluice run` (ingest, curate, incremental mart refresh,
# publish of exactly that batch). Seconds are summed over the runs (process starts included),
# peak memory is the max over the runs, stage seconds are summed from the run summaries.
run_sluice_batched() {  # run_sluice_batched ROUND
  local r=$1 dir=$work/sluice_batched landing=$work/sluice_batched_landing summaries=$work/sluice_batched_runs
  local f n=0 total=0 peak=0
  rm -rf "$landing" "$summaries"
  mkdir -p "$landing" "$summaries"
  sluice_project "$dir" "$landing/*.jsonl"
  sync
  for f in "${files[@]}"; do
    n=$((n + 1))
    ln "$f" "$landing/" 2>/dev/null || ln -s "$f" "$landing/"
    if ! timed "$work/time.txt" "$sluice" run --json --project "$dir" >"$summaries/run-$(printf %04d "$n").json" \
        2>"$work/sluice_batched_run.err"; then
      say "  sluice_batched: run $n ($(basename "$f")) failed: $(tail -3 "$work/sluice_batched_run.err")"
      return 1
    fi
    total=$(awk -v a="$total" -v b="$wall_s" 'BEGIN { printf "%.2f", a + b }')
    if ((peak_kb > peak)); then peak=$peak_kb; fi
  done
  record "$r" sluice_batched total_seconds "$total"
  record "$r" sluice_batched peak_rss_kb "$peak"
  record_sluice_stages "$r" sluice_batched "$summaries/run-*.json" || return 1
  sluice_results "$dir" sluice_batched
}

run_duckdb() {  # run_duckdb ROUND
  local r=$1 lake=$work/duckdb_lake args=()
  rm -rf "$lake" "$work/plain.duckdb" "$work/plain.duckdb.wal"
  mkdir -p "$lake/staging"
  for f in "${files[@]}"; do args+=(--batch "$f"); done
  sync
  if ! timed "$work/time.txt" "$duckdb_sql" --db "$work/plain.duckdb" --var LAKE="$lake" \
      --var RESULT="$work/duckdb_results.json" --timings "$work/duckdb_timings.tsv" "${args[@]}" \
      "$root/bench/plain_duckdb.sql" >/dev/null 2>"$work/duckdb.err"; then
    say "  duckdb: failed: $(tail -3 "$work/duckdb.err")"
    return 1
  fi
  record "$r" duckdb total_seconds "$wall_s"
  record "$r" duckdb peak_rss_kb "$peak_kb"
  record_steps "$r" duckdb "$work/duckdb_timings.tsv"
}

run_postgres() {  # run_postgres ROUND
  local r=$1
  sync
  if ! bash "$root/bench/postgres.sh" "$data" "$work/postgres_results.json" "$work/postgres_timings.tsv" \
      2>"$work/postgres.err"; then
    say "  postgres: failed: $(tail -3 "$work/postgres.err")"
    return 1
  fi
  record "$r" postgres total_seconds "$(awk -F'\t' '$1 == "total" {print $4}' "$work/postgres_timings.tsv")"
  record "$r" postgres peak_rss_kb "$(awk -F'\t' '$3 == "peak_pss_kb" {print $4}' "$work/postgres_timings.tsv")"
  record_steps "$r" postgres "$work/postgres_timings.tsv"
}

# --- rounds ------------------------------------------------------------------------------------
mkdir -p "$work"
for ((r = 1; r <= rounds; r++)); do
  for engine in $engines; do
    say "bench: round $r/$rounds: $engine"
    ok=0
    case $engine in
      sluice) run_sluice "$r" && ok=1 ;;
      sluice_batched) run_sluice_batched "$r" && ok=1 ;;
      duckdb) run_duckdb "$r" && ok=1 ;;
      postgres) run_postgres "$r" && ok=1 ;;
      *) die "unknown engine '$engine' in BENCH_ENGINES" ;;
    esac
    verified=0
    if ((ok)); then
      if verify "$work/${engine}_results.json" "$work/${engine}_verify.log"; then
        verified=1
        say "  $engine: $(awk -F'\t' -v r="$r" -v e="$engine" '$1 == r && $2 == e && $3 == "total_seconds" {printf "%.2f s", $4}' "$runs"), verified"
      else
        say "  $engine: results differ from expected.json:"
        sed 's/^/    /' "$work/${engine}_verify.log" | grep -v '^ *\(setup\|total\) ' | tail -25 >&2
      fi
    fi
    record "$r" "$engine" ok "$ok"
    record "$r" "$engine" verified "$verified"
    ((ok && verified)) || failures=$((failures + 1))
  done
done

# --- summary -----------------------------------------------------------------------------------
# Medians over the rounds; ratios are per round (runs of the same round ran back to back) and
# then the median of those.
"$duckdb_sql" --db :memory: --var RUNS="$runs" --var RESULTS="$out/results.json" --var EVENTS="$events" \
  --var ORDERS="$orders" --var BATCHES="${#files[@]}" --var ROUNDS="$rounds" --var TENANTS="$tenants" \
  --var DAYS="$days" - 2>"$work/summary.err" \
  >"$work/summary.txt" <<'SQL' || { cat "$work/summary.err" >&2; exit 1; }
CREATE TABLE runs AS
SELECT round, engine, metric, value FROM read_csv('${RUNS}', delim = '\t', header = true,
  columns = {'round': 'INTEGER', 'engine': 'VARCHAR', 'metric': 'VARCHAR', 'value': 'DOUBLE'});
-- Only runs that finished and verified count.
CREATE TABLE good AS
SELECT r.* FROM runs r
WHERE (SELECT min(value) FROM runs v WHERE v.round = r.round AND v.engine = r.engine
         AND v.metric IN ('ok', 'verified')) = 1;
CREATE TABLE per_engine AS
SELECT engine,
       count(DISTINCT round) AS good_runs,
       median(value) FILTER (WHERE metric = 'total_seconds') AS seconds,
       median(value) FILTER (WHERE metric = 'ingest_seconds') AS ingest_s,
       median(value) FILTER (WHERE metric = 'curate_seconds') AS curate_s,
       median(value) FILTER (WHERE metric = 'marts_seconds') AS marts_s,
       median(value) FILTER (WHERE metric = 'publish_seconds') AS publish_s,
       max(value) FILTER (WHERE metric = 'peak_rss_kb') / 1024 AS peak_mb,
       -- sluice only: process CPU seconds (all threads) per million input lines, per stage
       median(value) FILTER (WHERE metric = 'ingest_cpu_seconds') / (${EVENTS} / 1e6) AS ingest_cpu_s_per_m,
       median(value) FILTER (WHERE metric = 'curate_cpu_seconds') / (${EVENTS} / 1e6) AS curate_cpu_s_per_m,
       median(value) FILTER (WHERE metric = 'marts_cpu_seconds') / (${EVENTS} / 1e6) AS marts_cpu_s_per_m,
       median(value) FILTER (WHERE metric = 'publish_cpu_seconds') / (${EVENTS} / 1e6) AS publish_cpu_s_per_m
FROM good GROUP BY engine;
CREATE TABLE ratios AS
WITH t AS (
  SELECT round,
         max(value) FILTER (WHERE engine = 'sluice') AS s,
         max(value) FILTER (WHERE engine = 'sluice_batched') AS sb,
         max(value) FILTER (WHERE engine = 'duckdb') AS d,
         max(value) FILTER (WHERE engine = 'postgres') AS p
  FROM good WHERE metric = 'total_seconds' GROUP BY round
)
SELECT median(s / d) AS sluice_over_duckdb,
       median(sb / d) AS sluice_batched_over_duckdb,
       median(p / s) AS postgres_over_sluice,
       median(p / sb) AS postgres_over_sluice_batched,
       median(p / d) AS postgres_over_duckdb
FROM t;
SELECT engine, good_runs AS runs, round(seconds, 2) AS "seconds",
       round(${EVENTS} / seconds) AS "events/s",
       round(ingest_s, 2) AS ingest_s, round(${EVENTS} / ingest_s) AS "ingest ev/s",
       round(curate_s, 2) AS curate_s, round(${EVENTS} / curate_s) AS "curate ev/s",
       round(marts_s, 2) AS marts_s, round(publish_s, 2) AS publish_s,
       round(peak_mb) AS "peak MB"
FROM per_engine
ORDER BY CASE engine WHEN 'sluice' THEN 1 WHEN 'sluice_batched' THEN 2 WHEN 'duckdb' THEN 3 ELSE 4 END;
-- sluice's CPU seconds per million input lines (medians of the rounds), per stage.
SELECT engine AS "cpu s / M lines", round(ingest_cpu_s_per_m, 2) AS ingest, round(curate_cpu_s_per_m, 2) AS curate,
       round(marts_cpu_s_per_m, 2) AS marts, round(publish_cpu_s_per_m, 2) AS publish,
       round(ingest_cpu_s_per_m + curate_cpu_s_per_m + marts_cpu_s_per_m + publish_cpu_s_per_m, 2) AS total
FROM per_engine WHERE engine IN ('sluice', 'sluice_batched')
ORDER BY engine;
-- The targets are sluice's; sluice_batched (one run per batch) is like-for-like with the references.
WITH r AS (
  SELECT 1 AS o, 'sluice / plain DuckDB' AS ratio, sluice_over_duckdb AS v, 'target <= 1.5' AS target,
         sluice_over_duckdb <= 1.5 AS met FROM ratios
  UNION ALL SELECT 2, 'sluice_batched / plain DuckDB', sluice_batched_over_duckdb, 'target <= 1.5',
         sluice_batched_over_duckdb <= 1.5 FROM ratios
  UNION ALL SELECT 3, 'PostgreSQL / sluice', postgres_over_sluice, 'target >= 5',
         postgres_over_sluice >= 5 FROM ratios
  UNION ALL SELECT 4, 'PostgreSQL / sluice_batched', postgres_over_sluice_batched, 'target >= 5',
         postgres_over_sluice_batched >= 5 FROM ratios
  UNION ALL SELECT 5, 'sluice peak memory (MB)', peak_mb, 'target < 2048', peak_mb < 2048
         FROM (SELECT max(peak_mb) AS peak_mb FROM per_engine WHERE engine = 'sluice')
  UNION ALL SELECT 6, 'sluice_batched peak memory (MB)', peak_mb, 'target < 2048', peak_mb < 2048
         FROM (SELECT max(peak_mb) AS peak_mb FROM per_engine WHERE engine = 'sluice_batched')
)
SELECT ratio, CASE WHEN ratio LIKE '%memory%' THEN round(v) ELSE round(v, 2) END AS value, target,
       CASE WHEN v IS NULL THEN 'n/a' WHEN met THEN 'met' ELSE 'MISSED' END AS status
FROM r ORDER BY o;
COPY (
  SELECT ${ORDERS} AS orders, ${BATCHES} AS batches, ${TENANTS} AS tenants, ${DAYS} AS days,
         ${TENANTS} * ${DAYS} AS partitions, ${EVENTS} AS events, ${ROUNDS} AS rounds,
         (SELECT list(struct_pack(engine, runs := good_runs, seconds, events_per_s := ${EVENTS} / seconds,
                                  ingest_s, curate_s, marts_s, publish_s, peak_mb,
                                  ingest_cpu_s_per_m, curate_cpu_s_per_m, marts_cpu_s_per_m,
                                  publish_cpu_s_per_m) ORDER BY engine)
          FROM per_engine) AS engines,
         (SELECT struct_pack(sluice_over_duckdb, sluice_batched_over_duckdb, postgres_over_sluice,
                             postgres_over_sluice_batched, postgres_over_duckdb) FROM ratios) AS ratios,
         (SELECT list(struct_pack(round, engine, metric, value) ORDER BY round, engine, metric) FROM runs) AS runs
) TO '${RESULTS}' (FORMAT json);
SQL

say ""
say "sluice benchmark: $orders orders, $events events in ${#files[@]} batches, $tenants tenants x $days days" \
  "= $((tenants * days)) (day, tenant) partitions, $rounds round(s); medians of the verified runs"
say "(stages: sluice's own; for the SQL references their steps summed into the same stages)"
# duckdb_sql prints each result with a header; make the three tables readable.
rm -f "$work"/summary.txt.[0-9]
awk '/^cpu s \/ M lines\t/ { part = 1 } /^ratio\t/ { part = 2 } { print > (FILENAME "." (part + 0)) }' \
  "$work/summary.txt"
for part in 0 1 2; do
  [ -f "$work/summary.txt.$part" ] && column -t -s $'\t' "$work/summary.txt.$part" >&2
  say ""
done
say "results: $out/results.json"
if ((failures)); then
  say "bench: $failures run(s) failed or did not verify"
  exit 1
fi
