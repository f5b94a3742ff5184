#!/usr/bin/env bash
# The high-cardinality benchmark (bench/README.md, "High cardinality"): one Parquet file of ~3 M
# rows over ~40,000 (day, key) partitions (366 days x 110 keys), generated deterministically by
# SQL, loaded by one `sluice run` (contract validation, DLQ, ledger, staging, curate by id,
# publish) against a plain DuckDB `COPY ... (FORMAT parquet, PARTITION_BY (day, key))` of the
# same valid rows, interleaved for a few rounds; then one more sluice run under a memory limit.
# Every run is verified; medians and same-round ratios are printed and written to
# BENCH_OUT/highcard.json.
#
#   bash bench/highcard.sh [BUILD_DIR]        (default: build)
#
# Environment: BENCH_HC_ROWS (3000000), BENCH_HC_DAYS (366), BENCH_HC_KEYS (110),
# BENCH_HC_INVALID (100: half with a NULL key, half with a negative amount), BENCH_ROUNDS (3),
# BENCH_HC_ENGINES ("sluice sluice_staging copy"; sluice_staging: the project without its
# curated table, i.e. validation, DLQ, ledger and staging only),
# BENCH_HC_MEMORY_LIMIT (1GB; empty: skip that run), BENCH_OUT (bench/out).
# Exit status: 0 when every run succeeded and verified (the memory-limit run may fail: it is
# reported, not an error), 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
rows=${BENCH_HC_ROWS:-3000000}
days=${BENCH_HC_DAYS:-366}
keys=${BENCH_HC_KEYS:-110}
invalid=${BENCH_HC_INVALID:-100}
rounds=${BENCH_ROUNDS:-3}
memory_limit=${BENCH_HC_MEMORY_LIMIT-1GB}
engines=${BENCH_HC_ENGINES:-sluice sluice_staging copy}
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { say "highcard: $*"; exit 1; }

sluice=$build/src/cli/sluice
duckdb_sql=$build/bench/duckdb_sql
if [ ! -x "$sluice" ] || [ ! -x "$duckdb_sql" ]; then
  [ -f "$build/CMakeCache.txt" ] || die "no build in $build (run: make build, or cmake -S . -B $build)"
  cmake --build "$build" --target sluice duckdb_sql -j2 >&2
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
case $build_type in
  Release | RelWithDebInfo) ;;
  *) say "highcard: WARNING: $build is a '${build_type:-no type}' build; its figures are not comparable" ;;
esac
((invalid % 2 == 0 && invalid < rows)) || die "BENCH_HC_INVALID must be even and below BENCH_HC_ROWS"

work=$out/highcard
rm -rf "$work"
mkdir -p "$work"
src=$work/events.parquet
expected=$work/expected.json

# --- data: one Parquet file, time-ordered, every (day, key) partition populated ---------------
# Row i (0-based): ts spreads the rows evenly over DAYS days from 2025-01-01, key = k000..k(KEYS-1)
# cycling with stride 7 (so every day holds every key when KEYS is prime to 7), and every
# (ROWS / INVALID)-th row is invalid: alternately a NULL key (missing_required) and a negative
# amount (out_of_range).
say "highcard: generating $rows rows over $days days x $keys keys ($invalid invalid) into $src"
"$duckdb_sql" --db :memory: --var SRC="$src" --var EXPECTED="$expected" --var ROWS="$rows" \
  --var DAYS="$days" --var KEYS="$keys" --var INVALID="$invalid" - >"$work/generate.log" 2>&1 <<'SQL' ||
CREATE TABLE g AS
SELECT i,
       (i % (${ROWS} // ${INVALID}) = (${ROWS} // ${INVALID}) - 1 AND i // (${ROWS} // ${INVALID}) < ${INVALID}) AS bad,
       (i // (${ROWS} // ${INVALID})) % 2 AS bad_kind
FROM range(${ROWS}) t(i);
COPY (
  SELECT i + 1 AS id,
         TIMESTAMP '2025-01-01 00:00:00' + to_seconds((i * (${DAYS} * 86400) // ${ROWS})::BIGINT) AS ts,
         CASE WHEN bad AND bad_kind = 0 THEN NULL
              ELSE 'k' || lpad(((i * 7) % ${KEYS})::VARCHAR, 3, '0') END AS key,
         CASE WHEN bad AND bad_kind = 1 THEN -1.00::DECIMAL(12,2)
              ELSE ((i * 7919) % 100000 / 100)::DECIMAL(12,2) END AS amount,
         ['created', 'paid', 'shipped', 'delivered', 'cancelled'][1 + i % 5] AS status,
         ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'GB'][1 + (i // 3) % 7] AS country,
         'note ' || (i % 9973)::VARCHAR AS note,
         i + 1 AS seq
  FROM g ORDER BY i
) TO '${SRC}' (FORMAT parquet);
-- The ground truth, from the file itself: valid rows, dead letters per reason, per-key count and sum.
CREATE VIEW valid AS SELECT * FROM read_parquet('${SRC}') WHERE key IS NOT NULL AND (amount IS NULL OR amount >= 0);
COPY (
  SELECT 'staged' AS metric, '' AS key, count(*)::VARCHAR AS value FROM valid
  UNION ALL SELECT 'curated', '', count(DISTINCT id)::VARCHAR FROM valid
  UNION ALL SELECT 'partitions', '', count(DISTINCT (CAST(ts AS DATE), key))::VARCHAR FROM valid
  UNION ALL SELECT 'dead', 'missing_required', count(*)::VARCHAR FROM read_parquet('${SRC}') WHERE key IS NULL
  UNION ALL SELECT 'dead', 'out_of_range', count(*)::VARCHAR FROM read_parquet('${SRC}') WHERE key IS NOT NULL AND amount < 0
  UNION ALL SELECT 'sum', key, count(*)::VARCHAR || '/' || sum(amount)::VARCHAR FROM valid GROUP BY key
) TO '${EXPECTED}' (FORMAT json, ARRAY true);
SELECT count(*) AS rows, count(DISTINCT (CAST(ts AS DATE), key)) AS partitions FROM valid;
SQL
  { cat "$work/generate.log" >&2; die "generating the data failed"; }
valid_rows=$(sed -n 's/.*"metric":"staged","key":"","value":"\([0-9]*\)".*/\1/p' "$expected")
partitions=$(sed -n 's/.*"metric":"partitions","key":"","value":"\([0-9]*\)".*/\1/p' "$expected")
say "highcard: $rows rows, $valid_rows valid over $partitions (day, key) partitions, $((rows - valid_rows)) invalid, $(($(stat -c %s "$src") / 1048576)) MiB"

runs=$work/runs.tsv   # round  engine  metric  value
printf 'round\tengine\tmetric\tvalue\n' >"$runs"
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$runs"; }
failures=0

# Runs CMD under /usr/bin/time; sets wall_s, peak_kb and cpu_s (user + system). Returns CMD's status.
timed() {  # timed TIMEFILE CMD...
  local tf=$1 rc=0 user sys
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" || rc=$?
  read -r wall_s peak_kb user sys < <(tail -1 "$tf")
  cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  return $rc
}

# Compares ACTUAL (a JSON array of {metric, key, value}) with expected.json for the metrics
# the engine produces (METRICS: a SQL list of names). Prints the differences; fails on any.
verify() {  # verify ACTUAL LOG METRICS
  "$duckdb_sql" --db :memory: --var EXPECTED="$expected" --var ACTUAL="$1" --var METRICS="$3" - >"$2" 2>&1 <<'SQL'
CREATE TABLE e AS SELECT * FROM read_json('${EXPECTED}', format = 'array',
  columns = {'metric': 'VARCHAR', 'key': 'VARCHAR', 'value': 'VARCHAR'}) WHERE metric IN ${METRICS};
CREATE TABLE a AS SELECT metric, coalesce(key, '') AS key, value FROM read_json('${ACTUAL}', format = 'array',
  columns = {'metric': 'VARCHAR', 'key': 'VARCHAR', 'value': 'VARCHAR'});
CREATE TABLE diff AS SELECT metric, key, e.value AS expected, a.value AS actual
FROM e FULL OUTER JOIN a USING (metric, key) WHERE e.value IS DISTINCT FROM a.value;
SELECT metric, count(*) AS checked FROM e GROUP BY metric ORDER BY metric;
SELECT * FROM diff ORDER BY metric, key LIMIT 20;
SELECT CASE WHEN count(*) > 0 THEN error(count(*)::VARCHAR || ' result(s) differ from the source')
            ELSE 'verified' END AS verdict FROM diff;
SQL
}

# Writes a fresh sluice project into DIR reading the one Parquet file (with memory_limit LIMIT
# when given; without the curated table when TABLE is "no").
sluice_project() {  # sluice_project DIR [LIMIT] [TABLE]
  local dir=$1 limit=${2:-} table=${3:-yes}
  rm -rf "$dir"
  mkdir -p "$dir/contracts"
  {
    echo "name: highcard"
    echo "lake: lake"
    [ -z "$limit" ] || echo "memory_limit: $limit"
    cat <<EOF
sources:
  events:
    type: files
    path: $src
    format: parquet
    contract: contracts/events.yaml
    partition_by: {day: ts, tenant: key}
EOF
    [ "$table" = no ] || printf 'tables:\n  events:\n    from: events\n    key: [id]\n    version: seq\n'
  } >"$dir/sluice.yaml"
  cat >"$dir/contracts/events.yaml" <<'EOF'
name: events
compatibility: full_transitive
columns:
  id:      {type: int64, required: true}
  ts:      {type: timestamp, required: true}
  key:     {type: string, required: true}
  amount:  {type: "decimal(12,2)", min: 0}
  status:  {type: string, enum: [created, paid, shipped, delivered, cancelled]}
  country: {type: string, pattern: "[A-Z]{2}"}
  note:    {type: string}
  seq:     {type: int64, required: true}
EOF
}

# One sluice run from an empty lake: timed, stage seconds from its summary, verified through
# `sluice query` (a second process reading the lake's staging, curated and DLQ tables).
# ENGINE is the label (sluice, sluice_staging: no curated table, sluice_mem); LIMIT the
# memory_limit or empty. A failed run's stage seconds are recorded too (its summary has them).
run_sluice() {  # run_sluice ROUND ENGINE [LIMIT]
  local r=$1 engine=$2 limit=${3:-} dir=$work/$2 table=yes failed=0
  [ "$engine" != sluice_staging ] || table=no
  sluice_project "$dir" "$limit" "$table"
  sync
  if ! timed "$work/time.txt" "$sluice" run --json --project "$dir" >"$work/${engine}_run.json" 2>"$work/${engine}_run.err"; then
    say "  $engine: run FAILED after ${wall_s} s, peak $((peak_kb / 1024)) MB: $(tail -3 "$work/${engine}_run.err")"
    cp "$work/${engine}_run.json" "$work/${engine}_run_failed_$r.json" 2>/dev/null || true
    failed=1
  fi
  record "$r" "$engine" total_seconds "$wall_s"
  record "$r" "$engine" peak_rss_kb "$peak_kb"
  record "$r" "$engine" cpu_seconds "$cpu_s"
  [ -s "$work/${engine}_run.json" ] || return 1
  "$duckdb_sql" --db :memory: --var RUN="$work/${engine}_run.json" --var OUT="$work/stages.tsv" \
    --var ROUND="$r" --var ENGINE="$engine" - >/dev/null 2>"$work/stages.err" <<'SQL' || { cat "$work/stages.err" >&2; return 1; }
COPY (
  WITH s AS (SELECT content::JSON AS j FROM read_text('${RUN}'))
  SELECT ${ROUND}, '${ENGINE}', unnest(['ingest_seconds', 'curate_seconds', 'marts_seconds', 'publish_seconds']),
         unnest([(j ->> '$.ingest.seconds')::DOUBLE, (j ->> '$.curate.seconds')::DOUBLE,
                 (j ->> '$.marts.seconds')::DOUBLE, (j ->> '$.publish.seconds')::DOUBLE])
  FROM s
) TO '${OUT}' (FORMAT csv, DELIMITER '\t', HEADER false);
SQL
  cat "$work/stages.tsv" >>"$runs"
  ((!failed)) || return 1
  record "$r" "$engine" staging_files "$(find "$dir/lake/staging" -name '*.parquet' | wc -l)"
  "$sluice" query "
    SELECT 'staged' AS metric, '' AS key, count(*)::VARCHAR AS value FROM staging.events
    $([ "$table" = no ] || echo "UNION ALL SELECT 'curated', '', count(*)::VARCHAR FROM curated.events")
    UNION ALL SELECT 'dead', reason, count(*)::VARCHAR FROM dlq.events GROUP BY reason
    UNION ALL SELECT 'sum', key, count(*)::VARCHAR || '/' || sum(amount)::VARCHAR FROM staging.events GROUP BY key" \
    --format json --project "$dir" >"$work/${engine}_results.json" 2>"$work/${engine}_query.err" ||
    { say "  $engine: the verification query failed: $(tail -3 "$work/${engine}_query.err")"; return 1; }
  local metrics="('staged', 'curated', 'dead', 'sum')"
  [ "$table" = yes ] || metrics="('staged', 'dead', 'sum')"
  verify "$work/${engine}_results.json" "$work/${engine}_verify.log" "$metrics"
}

# The reference: plain DuckDB writes the valid rows partitioned by (day, key), then a second
# process reads them back for the check.
run_copy() {  # run_copy ROUND
  local r=$1 dir=$work/copy_lake
  rm -rf "$dir" "$work/copy.duckdb" "$work/copy.duckdb.wal"
  sync
  if ! timed "$work/time.txt" "$duckdb_sql" --db "$work/copy.duckdb" --var SRC="$src" --var DIR="$dir" - \
      >/dev/null 2>"$work/copy.err" <<'SQL'; then
-- @step copy
COPY (
  SELECT *, CAST(ts AS DATE) AS day FROM read_parquet('${SRC}')
  WHERE key IS NOT NULL AND (amount IS NULL OR amount >= 0)
) TO '${DIR}' (FORMAT parquet, PARTITION_BY (day, key));
SQL
    say "  copy: failed: $(tail -3 "$work/copy.err")"
    return 1
  fi
  record "$r" copy total_seconds "$wall_s"
  record "$r" copy peak_rss_kb "$peak_kb"
  record "$r" copy cpu_seconds "$cpu_s"
  record "$r" copy staging_files "$(find "$dir" -name '*.parquet' | wc -l)"
  "$duckdb_sql" --db :memory: --var DIR="$dir" --var OUT="$work/copy_results.json" - >/dev/null 2>"$work/copy_check.err" <<'SQL' ||
COPY (
  SELECT 'staged' AS metric, '' AS key, count(*)::VARCHAR AS value
  FROM read_parquet('${DIR}/**/*.parquet', hive_partitioning = true)
  UNION ALL SELECT 'sum', key, count(*)::VARCHAR || '/' || sum(amount)::VARCHAR
  FROM read_parquet('${DIR}/**/*.parquet', hive_partitioning = true) GROUP BY key
) TO '${OUT}' (FORMAT json, ARRAY true);
SQL
    { say "  copy: reading its output failed: $(tail -3 "$work/copy_check.err")"; return 1; }
  verify "$work/copy_results.json" "$work/copy_verify.log" "('staged', 'sum')"
}

# --- rounds ------------------------------------------------------------------------------------
finish() {  # finish ROUND ENGINE OK
  local verified=$3
  if ((verified)); then
    say "  $2: $(awk -F'\t' -v r="$1" -v e="$2" '$1 == r && $2 == e && $3 == "total_seconds" {printf "%.2f s", $4}' "$runs"), $(awk -F'\t' -v r="$1" -v e="$2" '$1 == r && $2 == e && $3 == "peak_rss_kb" {printf "%d MB", $4 / 1024}' "$runs"), verified"
  elif [ -f "$work/$2_verify.log" ]; then
    sed 's/^/    /' "$work/$2_verify.log" | grep -v '^ *\(setup\|total\) ' | tail -25 >&2
  fi
  record "$1" "$2" verified "$verified"
}
for ((r = 1; r <= rounds; r++)); do
  for engine in $engines; do
    say "highcard: round $r/$rounds: $engine"
    ok=0
    case $engine in
      sluice | sluice_staging) run_sluice "$r" "$engine" && ok=1 ;;
      copy) run_copy "$r" && ok=1 ;;
      *) die "unknown engine '$engine' in BENCH_HC_ENGINES" ;;
    esac
    finish "$r" "$engine" "$ok"
    ((ok)) || failures=$((failures + 1))
  done
done
if [ -n "$memory_limit" ]; then
  say "highcard: one sluice run with memory_limit: $memory_limit"
  ok=0; run_sluice 0 sluice_mem "$memory_limit" && ok=1; finish 0 sluice_mem "$ok"
fi

# --- summary -----------------------------------------------------------------------------------
"$duckdb_sql" --db :memory: --var RUNS="$runs" --var RESULTS="$out/highcard.json" --var ROWS="$rows" \
  --var VALID="$valid_rows" --var PARTITIONS="$partitions" --var LIMIT="$memory_limit" - \
  2>"$work/summary.err" >"$work/summary.txt" <<'SQL' || { cat "$work/summary.err" >&2; exit 1; }
CREATE TABLE runs AS SELECT * FROM read_csv('${RUNS}', delim = '\t', header = true,
  columns = {'round': 'INTEGER', 'engine': 'VARCHAR', 'metric': 'VARCHAR', 'value': 'DOUBLE'});
CREATE TABLE good AS SELECT r.* FROM runs r
WHERE (SELECT min(value) FROM runs v WHERE v.round = r.round AND v.engine = r.engine AND v.metric = 'verified') = 1;
CREATE TABLE per_engine AS
SELECT engine, count(DISTINCT round) AS runs,
       median(value) FILTER (WHERE metric = 'total_seconds') AS seconds,
       median(value) FILTER (WHERE metric = 'cpu_seconds') AS cpu_s,
       median(value) FILTER (WHERE metric = 'ingest_seconds') AS ingest_s,
       median(value) FILTER (WHERE metric = 'curate_seconds') AS curate_s,
       median(value) FILTER (WHERE metric = 'publish_seconds') AS publish_s,
       max(value) FILTER (WHERE metric = 'peak_rss_kb') / 1024 AS peak_mb,
       max(value) FILTER (WHERE metric = 'staging_files') AS files
FROM good GROUP BY engine;
CREATE TABLE ratio AS
WITH t AS (
  SELECT round, max(value) FILTER (WHERE engine = 'sluice') AS s, max(value) FILTER (WHERE engine = 'sluice_staging') AS st,
         max(value) FILTER (WHERE engine = 'copy') AS c
  FROM good WHERE metric = 'total_seconds' AND round > 0 GROUP BY round
)
SELECT median(s / c) AS sluice_over_copy, list(round(s / c, 2) ORDER BY round) AS per_round,
       median(st / c) AS staging_over_copy, list(round(st / c, 2) ORDER BY round) AS per_round_staging FROM t;
SELECT round, engine, CASE WHEN max(value) FILTER (WHERE metric = 'verified') = 1 THEN 'verified' ELSE 'FAILED' END AS status,
       round(max(value) FILTER (WHERE metric = 'total_seconds'), 2) AS seconds,
       round(max(value) FILTER (WHERE metric = 'ingest_seconds'), 2) AS ingest_s,
       round(max(value) FILTER (WHERE metric = 'curate_seconds'), 2) AS curate_s,
       round(max(value) FILTER (WHERE metric = 'publish_seconds'), 2) AS publish_s,
       round(max(value) FILTER (WHERE metric = 'peak_rss_kb') / 1024) AS "peak MB"
FROM runs GROUP BY round, engine ORDER BY round = 0, round, engine;
SELECT engine, runs, round(seconds, 2) AS seconds, round(${VALID} / seconds) AS "rows/s",
       round(cpu_s, 1) AS cpu_s, round(ingest_s, 2) AS ingest_s, round(curate_s, 2) AS curate_s,
       round(publish_s, 2) AS publish_s, round(peak_mb) AS "peak MB", files AS "parquet files"
FROM per_engine ORDER BY CASE engine WHEN 'sluice' THEN 1 WHEN 'copy' THEN 2 ELSE 3 END;
SELECT 'sluice / COPY' AS ratio, round(sluice_over_copy, 2) AS median, per_round::VARCHAR AS per_round,
       'target <= 1' AS target,
       CASE WHEN sluice_over_copy IS NULL THEN 'n/a' WHEN sluice_over_copy <= 1 THEN 'met' ELSE 'MISSED' END AS status
FROM ratio
UNION ALL
SELECT 'sluice_staging / COPY', round(staging_over_copy, 2), per_round_staging::VARCHAR, '(no curate)',
       CASE WHEN staging_over_copy IS NULL THEN 'n/a' WHEN staging_over_copy <= 1 THEN '<= 1' ELSE '> 1' END
FROM ratio;
SELECT 'memory_limit ${LIMIT}' AS run,
       CASE WHEN max(value) FILTER (WHERE metric = 'verified') = 1 THEN 'ok, verified' ELSE 'FAILED' END AS result,
       round(max(value) FILTER (WHERE metric = 'total_seconds'), 2) AS seconds,
       round(max(value) FILTER (WHERE metric = 'peak_rss_kb') / 1024) AS "peak MB"
FROM runs WHERE engine = 'sluice_mem';
COPY (
  SELECT ${ROWS} AS rows, ${VALID} AS valid_rows, ${PARTITIONS} AS partitions, '${LIMIT}' AS memory_limit,
         (SELECT list(struct_pack(engine, runs, seconds, cpu_s, ingest_s, curate_s, publish_s, peak_mb, files))
          FROM per_engine) AS engines,
         (SELECT sluice_over_copy FROM ratio) AS sluice_over_copy,
         (SELECT staging_over_copy FROM ratio) AS sluice_staging_over_copy,
         (SELECT list(struct_pack(round, engine, metric, value) ORDER BY round, engine, metric) FROM runs) AS runs
) TO '${RESULTS}' (FORMAT json);
SQL
say ""
say "highcard: $rows rows ($valid_rows valid) over $partitions (day, key) partitions, $rounds round(s); medians of verified runs"
say "(ingest/curate/publish: sluice's own stage seconds from \`sluice run --json\`)"
grep -v '^\(setup\|total\)[[:space:]]' "$work/summary.txt" | awk 'BEGIN { FS = "\t" } NF == 0 { print; next } { print }' |
  column -t -s $'\t' >&2 || cat "$work/summary.txt" >&2
say ""
say "results: $out/highcard.json"
if ((failures)); then
  say "highcard: $failures run(s) failed or did not verify"
  exit 1
fi
