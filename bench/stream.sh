#!/usr/bin/env bash
# The streaming benchmark (bench/README.md, "Streaming"): events/s sustained by `sluice serve`
# through HTTP push and through a NATS JetStream stream, with accept-to-queryable latency, and the
# raw JetStream publish rate measured in the same invocation as the ceiling.
#
#   bash bench/stream.sh [BUILD_DIR]     (default: build; needs src/cli/sluice,
#                                         bench/sluice_stream_load and bench/duckdb_sql built there)
#
# Environment: BENCH_ROUNDS (3), BENCH_SCENARIOS ("http nats"), BENCH_HTTP_EVENTS (4000000),
# BENCH_HTTP_CONNECTIONS (16), BENCH_HTTP_BATCH (1000), BENCH_IDEMPOTENCY_KEYS (on),
# BENCH_NATS_EVENTS (2000000), BENCH_NATS_WINDOW (4096), BENCH_OUT (bench/out),
# BENCH_PERF (unset; 1: `perf record` sluice during the first round of each scenario into
# BENCH_OUT/stream-<scenario>.perf.data), BENCH_KEEP_TMP (unset; set: keep the temp dir with the
# projects, logs and every tool's output).
#
# Each round, each scenario from empty: a fresh copy of the `sluice init` project (its source
# rewritten to type http or nats), a fresh `sluice serve --listen 127.0.0.1:0`, a fresh stream.
#   http   sluice_stream_load posts BENCH_HTTP_EVENTS events in NDJSON bodies of 1,000 over
#          BENCH_HTTP_CONNECTIONS keep-alive connections (a 200 means committed to staging);
#          then waits for the transform that makes the last of them queryable in curated.
#   nats   raw: the events published to a stream nobody consumes (the ceiling); then sluice:
#          the same events published while serve consumes, timed from the first publish to the
#          last event committed (end to end), then the transform after it.
#   nats_backlog  the events published first (serve not running; the publish rate is the raw
#          figure), then serve started and timed from its start to the last event committed:
#          what sluice sustains through NATS when it does not share the CPU with the publisher.
# Every run is checked: rows staged = events, curated.orders = distinct orders, nothing
# dead-lettered. Only 127.0.0.1 is used; every process started here is stopped and the temp
# directory removed on exit. Exit status 0 when every run succeeded and verified, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
rounds=${BENCH_ROUNDS:-3}
scenarios=${BENCH_SCENARIOS:-http nats nats_backlog}
http_events=${BENCH_HTTP_EVENTS:-4000000}
http_connections=${BENCH_HTTP_CONNECTIONS:-64}
http_batch=${BENCH_HTTP_BATCH:-1000}
idempotency_keys=${BENCH_IDEMPOTENCY_KEYS:-on}
nats_events=${BENCH_NATS_EVENTS:-2000000}
nats_window=${BENCH_NATS_WINDOW:-4096}
perf=${BENCH_PERF:-}
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { say "stream: $*"; exit 1; }

# --- build check -----------------------------------------------------------------------------
sluice=$build/src/cli/sluice
load=$build/bench/sluice_stream_load
duckdb_sql=$build/bench/duckdb_sql
for b in "$sluice" "$load" "$duckdb_sql"; do
  [ -x "$b" ] || die "no $b (build it: cmake --build $build --target sluice sluice_stream_load duckdb_sql)"
done
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
case $build_type in
  Release | RelWithDebInfo) ;;
  *) say "stream: WARNING: $build is a '${build_type:-no type}' build; its figures are not comparable" ;;
esac
nats_server=$(command -v nats-server || true)
for d in /usr/sbin /usr/local/sbin /sbin; do
  [ -n "$nats_server" ] || { [ -x "$d/nats-server" ] && nats_server=$d/nats-server; } || true
done
case " $scenarios " in
  *" nats "* | *" nats_backlog "*) [ -n "$nats_server" ] || die "nats-server is not installed (scripts/setup.sh installs it)" ;;
esac
if [ -n "$perf" ]; then command -v perf >/dev/null || die "BENCH_PERF is set but perf is not installed"; fi

# --- processes and cleanup ---------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-stream.XXXXXX")
serve_pid="" nats_pid="" bg_pids=()
stop_pid() {  # stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS; returns its exit status
  local pid=$1 secs=$2 i rc=0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return $rc; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  [ -n "$perf_pid" ] && kill -INT "$perf_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && { stop_pid "$serve_pid" 30 || true; }
  [ -n "$nats_pid" ] && { stop_pid "$nats_pid" 10 || true; }
  if [ -n "${BENCH_KEEP_TMP:-}" ]; then say "stream: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU seconds (user + system) a process has used so far.
tck=$(getconf CLK_TCK)
cpu_s() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The 1-minute load average: other work on the machine skews every figure.
loadavg() { cut -d' ' -f1 /proc/loadavg; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# --- nats-server -------------------------------------------------------------------------------
nats_url=""
start_nats() {
  local dir=$tmp/nats i port=""
  mkdir -p "$dir/store"
  local version
  version=$("$nats_server" --version 2>&1 | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')
  {
    echo "listen: \"127.0.0.1:-1\""
    echo "ports_file_dir: \"$dir\""
    echo "jetstream {"
    echo "  store_dir: \"$dir/store\""
    # As docs/JETSTREAM.md recommends; nats-server 2.9 has no such option (and refuses it).
    read -r major minor <<<"$version"
    if ((major > 2 || (major == 2 && minor >= 10))); then echo "  sync_interval: always"; fi
    echo "}"
  } >"$dir/nats.conf"
  "$nats_server" -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 &
  nats_pid=$!
  for ((i = 0; i < 100; i++)); do
    kill -0 "$nats_pid" 2>/dev/null || die "nats-server exited: $(tail -5 "$dir/nats.log")"
    port=$(sed -n 's|.*nats://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$dir"/*_"$nats_pid".ports 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || die "nats-server did not report its port: $(tail -5 "$dir/nats.log")"
  nats_url=nats://127.0.0.1:$port
  for ((i = 0; i < 100; i++)); do
    "$load" nats-stream --url "$nats_url" --stream PROBE --subject probe.x --delete-only yes >/dev/null 2>&1 && break
    sleep 0.1
  done
  say "stream: $("$nats_server" --version 2>&1) (JetStream, file store in $dir/store) on $nats_url"
}

# --- projects and sluice serve -----------------------------------------------------------------
# The `sluice init` example with its files source replaced by SOURCE_LINES (its contract,
# partitioning, curated table with its tests and the daily_revenue mart unchanged).
make_template() {  # make_template DIR SOURCE_LINES
  local dir=$1 lines=$2
  "$sluice" init "$dir" >/dev/null
  rm -rf "$dir/landing"
  awk -v repl="$lines" '
    $0 == "    type: files" { print repl; replaced = 1; next }
    $0 ~ /^    path: landing\// || $0 == "    format: jsonl" { next }
    { print }
    END { if (!replaced) exit 1 }' "$dir/sluice.yaml" >"$dir/sluice.yaml.new" ||
    die "sluice init's sluice.yaml has no 'type: files' source to replace"
  mv "$dir/sluice.yaml.new" "$dir/sluice.yaml"
}

serve_port=""
perf_pid=""
perf_start() {  # perf_start SCENARIO ROUND: with BENCH_PERF, record serve in the first round
  [ -n "$perf" ] && (($2 == 1)) || return 0
  perf record -F 149 --call-graph dwarf,16384 -o "$out/stream-$1.perf.data" -p "$serve_pid" >/dev/null 2>"$work/perf-$1.log" &
  perf_pid=$!
}
perf_stop() {
  [ -n "$perf_pid" ] || return 0
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  perf_pid=""
}
start_serve() {  # start_serve PROJECT_DIR LOG
  local dir=$1 log=$2 i
  rm -f "$dir/.port"
  "$sluice" serve --project "$dir" --listen 127.0.0.1:0 --port-file "$dir/.port" 2>"$log" &
  serve_pid=$!
  for ((i = 0; i < 300; i++)); do
    kill -0 "$serve_pid" 2>/dev/null || die "sluice serve exited: $(tail -5 "$log")"
    [ -s "$dir/.port" ] && break
    sleep 0.1
  done
  [ -s "$dir/.port" ] || die "sluice serve wrote no port file: $(tail -5 "$log")"
  serve_port=$(cat "$dir/.port")
}

stop_serve() {  # stop_serve LOG: SIGTERM (drains), exit status 0 expected
  local log=$1 rc=0
  stop_pid "$serve_pid" 120 || rc=$?
  serve_pid=""
  ((rc == 0)) || { say "  sluice serve exited with status $rc: $(tail -3 "$log")"; return 1; }
}

# Where the engine's time went, from the stopped project's catalog: per micro-batch (meta.batches:
# rows, decode and stage milliseconds, start to commit) and per transform (meta.runs: curate,
# marts and publish seconds; the last one shows how it grows with the tables). One JSON object.
lake_stats() {  # lake_stats DIR
  "$sluice" query "
    WITH b AS (SELECT rows_staged, decode_ms, stage_ms, epoch_ms(committed_at) - epoch_ms(started_at) AS ms
               FROM meta.batches),
    t AS (SELECT started_at, (summary::JSON ->> '\$.curate.seconds')::DOUBLE AS curate_s,
                 (summary::JSON ->> '\$.marts.seconds')::DOUBLE AS marts_s,
                 (summary::JSON ->> '\$.publish.seconds')::DOUBLE AS publish_s
          FROM meta.runs WHERE status = 'ok')
    SELECT (SELECT count(*) FROM b) AS batches, (SELECT median(rows_staged) FROM b) AS batch_rows_p50,
           (SELECT median(decode_ms) FROM b) AS batch_decode_ms_p50, (SELECT median(stage_ms) FROM b) AS batch_stage_ms_p50,
           (SELECT median(ms) FROM b) AS batch_ms_p50, (SELECT quantile_disc(ms, 0.99) FROM b) AS batch_ms_p99,
           (SELECT count(*) FROM t) AS transforms,
           (SELECT median(curate_s) FROM t) AS curate_s_p50, (SELECT max(curate_s) FROM t) AS curate_s_max,
           (SELECT median(marts_s) FROM t) AS marts_s_p50, (SELECT median(publish_s) FROM t) AS publish_s_p50,
           (SELECT max(publish_s) FROM t) AS publish_s_max,
           (SELECT arg_max(curate_s, started_at) FROM t) AS last_curate_s,
           (SELECT arg_max(publish_s, started_at) FROM t) AS last_publish_s" \
    --format json --project "$1" 2>/dev/null | tr -d '\n' | sed 's/^\[\(.*\)\]$/\1/' | grep '^{' || echo null
}

# Checks a stopped project's lake: rows staged, curated.orders rows, dead letters.
verify() {  # verify DIR EVENTS DISTINCT_ORDERS
  local got want="$2|$3|0"
  got=$("$sluice" query "SELECT (SELECT count(*) FROM staging.orders) || '|' || (SELECT count(*) FROM curated.orders)
                          || '|' || (SELECT count(*) FROM dlq.orders) AS v" --format csv --project "$1" 2>&1 | tail -1)
  [ "$got" = "$want" ] && return 0
  say "  verify: staged|curated|dead = $got, expected $want"
  return 1
}

# --- runs ----------------------------------------------------------------------------------------
work=$tmp/work
mkdir -p "$work"
runs=$out/stream-runs.jsonl
: >"$runs"
failures=0
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no -- src 2>/dev/null | wc -l)
# The figures are those of the binary: say so when it is older than the last commit to src/.
src_time=$(git -C "$root" log -1 --format=%ct -- src 2>/dev/null || echo 0)
if (($(stat -c %Y "$sluice") < src_time)); then
  say "stream: WARNING: $sluice is older than the last commit to src/ ($(git -C "$root" log -1 --format=%h -- src)); rebuild it"
fi

case " $scenarios " in *" nats "* | *" nats_backlog "*) start_nats ;; esac
make_template "$tmp/template-http" "    type: http"
if [ -n "$nats_url" ]; then
  make_template "$tmp/template-nats" "    type: nats
    nats: {url: $nats_url, stream: SLUICE_BENCH, subject: orders.>}"
fi

run_http() {  # run_http ROUND
  local r=$1 dir=$tmp/http-$1 log=$work/serve-http-$1.log cpu0 load0
  load0=$(loadavg)
  rm -rf "$dir"
  cp -r "$tmp/template-http" "$dir"
  start_serve "$dir" "$log"
  perf_start http "$r"
  cpu0=$(cpu_s "$serve_pid")
  "$load" http --port "$serve_port" --source orders --events "$http_events" --batch "$http_batch" \
    --connections "$http_connections" --idempotency-keys "$idempotency_keys" --seed "$r" \
    >"$work/http-$r.json" 2>"$work/http-$r.err" || { say "  http: load failed: $(tail -3 "$work/http-$r.err")"; stop_serve "$log" || true; return 1; }
  "$load" wait --port "$serve_port" --source orders --rows "$http_events" >"$work/http-wait-$r.json" \
    2>"$work/http-wait-$r.err" || { say "  http: wait failed: $(tail -3 "$work/http-wait-$r.err")"; stop_serve "$log" || true; return 1; }
  local cpu
  cpu=$(sub "$(cpu_s "$serve_pid")" "$cpu0")
  perf_stop
  stop_serve "$log" || return 1
  local distinct
  distinct=$(sed -n 's/.*"distinct_orders":\([0-9]*\).*/\1/p' "$work/http-$r.json")
  verify "$dir" "$http_events" "$distinct" || return 1
  printf '{"round":%d,"scenario":"http","load":%s,"wait":%s,"lake":%s,"sluice_cpu_s":%s,"loadavg_before":%s}\n' "$r" \
    "$(cat "$work/http-$r.json")" "$(cat "$work/http-wait-$r.json")" "$(lake_stats "$dir")" "$cpu" "$load0" >>"$runs"
  say "  http: $(awk -v n="$http_events" -v s="$(sed -n 's/.*"seconds":\([0-9.e+-]*\).*/\1/p' "$work/http-$r.json" | head -1)" \
    'BEGIN { printf "%d events in %.1f s = %.0f events/s", n, s, n / s }'), verified"
  rm -rf "$dir"
}

run_nats() {  # run_nats ROUND
  local r=$1 dir=$tmp/nats-$1 log=$work/serve-nats-$1.log cpu0 ncpu0 wait_pid load0
  load0=$(loadavg)
  # The ceiling: the same number of events into a stream with no consumer, sluice not running.
  "$load" nats-stream --url "$nats_url" --stream RAW --subject raw.x >/dev/null
  "$load" nats-publish --url "$nats_url" --stream RAW --subject raw.x --events "$nats_events" \
    --window "$nats_window" --seed "$r" >"$work/raw-$r.json" 2>"$work/raw-$r.err" ||
    { say "  nats: raw publish failed: $(tail -3 "$work/raw-$r.err")"; return 1; }
  "$load" nats-stream --url "$nats_url" --stream RAW --subject raw.x --delete-only yes >/dev/null

  "$load" nats-stream --url "$nats_url" --stream SLUICE_BENCH --subject 'orders.>' >/dev/null
  rm -rf "$dir"
  cp -r "$tmp/template-nats" "$dir"
  start_serve "$dir" "$log"
  perf_start nats "$r"
  cpu0=$(cpu_s "$serve_pid")
  ncpu0=$(cpu_s "$nats_pid")
  "$load" wait --port "$serve_port" --source orders --rows "$nats_events" >"$work/nats-wait-$r.json" \
    2>"$work/nats-wait-$r.err" &
  wait_pid=$!
  bg_pids+=("$wait_pid")
  "$load" nats-publish --url "$nats_url" --stream SLUICE_BENCH --subject orders.bench --events "$nats_events" \
    --window "$nats_window" --seed "$r" >"$work/nats-$r.json" 2>"$work/nats-$r.err" ||
    { say "  nats: publish failed: $(tail -3 "$work/nats-$r.err")"; kill "$wait_pid" 2>/dev/null; wait "$wait_pid" || true
      bg_pids=(); stop_serve "$log" || true; return 1; }
  local wait_rc=0
  wait "$wait_pid" || wait_rc=$?
  bg_pids=()
  ((wait_rc == 0)) || { say "  nats: wait failed: $(tail -3 "$work/nats-wait-$r.err")"; stop_serve "$log" || true; return 1; }
  finish_nats "$r" nats "$dir" "$log" "$work/nats-$r.json" "$(cat "$work/raw-$r.json")" \
    "$(cat "$work/nats-$r.json")" "$work/nats-wait-$r.json" "$cpu0" "$ncpu0" "$load0" || return 1
  say "  nats: $(jq_free_rate "$work/raw-$r.json" "$work/nats-$r.json" "$work/nats-wait-$r.json"), verified"
  rm -rf "$dir"
}

# The end of a NATS run: serve's and nats-server's CPU, graceful stop, stream removed, lake
# verified against the publisher's distinct orders, run recorded.
finish_nats() {  # finish_nats ROUND SCENARIO DIR LOG PUBLISHER_JSON_FILE RAW_JSON LOAD_JSON WAIT_JSON_FILE CPU0 NCPU0 LOAD0
  local r=$1 scenario=$2 dir=$3 log=$4 cpu ncpu distinct
  cpu=$(sub "$(cpu_s "$serve_pid")" "$9")
  ncpu=$(sub "$(cpu_s "$nats_pid")" "${10}")
  perf_stop
  stop_serve "$log" || return 1
  "$load" nats-stream --url "$nats_url" --stream SLUICE_BENCH --subject 'orders.>' --delete-only yes >/dev/null
  distinct=$(sed -n 's/.*"distinct_orders":\([0-9]*\).*/\1/p' "$5")
  verify "$dir" "$nats_events" "$distinct" || return 1
  printf '{"round":%d,"scenario":"%s","raw":%s,"load":%s,"wait":%s,"lake":%s,"sluice_cpu_s":%s,"nats_server_cpu_s":%s,"loadavg_before":%s}\n' \
    "$r" "$scenario" "$6" "$7" "$(cat "$8")" "$(lake_stats "$dir")" "$cpu" "$ncpu" "${11}" >>"$runs"
}

run_nats_backlog() {  # run_nats_backlog ROUND
  local r=$1 dir=$tmp/nats-backlog-$1 log=$work/serve-nats-backlog-$1.log cpu0 ncpu0 load0 started
  load0=$(loadavg)
  "$load" nats-stream --url "$nats_url" --stream SLUICE_BENCH --subject 'orders.>' >/dev/null
  "$load" nats-publish --url "$nats_url" --stream SLUICE_BENCH --subject orders.bench --events "$nats_events" \
    --window "$nats_window" --seed "$r" >"$work/backlog-pub-$r.json" 2>"$work/backlog-pub-$r.err" ||
    { say "  nats_backlog: publish failed: $(tail -3 "$work/backlog-pub-$r.err")"; return 1; }
  rm -rf "$dir"
  cp -r "$tmp/template-nats" "$dir"
  started=$(date +%s.%N)
  start_serve "$dir" "$log"
  perf_start nats_backlog "$r"
  cpu0=$(cpu_s "$serve_pid")
  ncpu0=$(cpu_s "$nats_pid")
  "$load" wait --port "$serve_port" --source orders --rows "$nats_events" >"$work/backlog-wait-$r.json" \
    2>"$work/backlog-wait-$r.err" || { say "  nats_backlog: wait failed: $(tail -3 "$work/backlog-wait-$r.err")"; perf_stop; stop_serve "$log" || true; return 1; }
  # raw = the backlog's publish (no consumer running); load = the events and serve's start.
  finish_nats "$r" nats_backlog "$dir" "$log" "$work/backlog-pub-$r.json" "$(cat "$work/backlog-pub-$r.json")" \
    "{\"events\":$nats_events,\"started_unix_s\":$started}" "$work/backlog-wait-$r.json" \
    "$cpu0" "$ncpu0" "$load0" || return 1
  say "  nats_backlog: $(awk -v n="$nats_events" -v a="$started" -v b="$(sed -n 's/.*"reached_unix_s":\([0-9.e+-]*\).*/\1/p' "$work/backlog-wait-$r.json")" \
    'BEGIN { printf "%d events drained in %.1f s from serve start = %.0f events/s", n, b - a, n / (b - a) }'), verified"
  rm -rf "$dir"
}

# "raw X ev/s, sluice end to end Y ev/s" from the three JSON outputs of a NATS run.
jq_free_rate() {
  local raw pub_start reached
  raw=$(sed -n 's/.*"events_per_s":\([0-9.e+-]*\).*/\1/p' "$1")
  pub_start=$(sed -n 's/.*"started_unix_s":\([0-9.e+-]*\).*/\1/p' "$2")
  reached=$(sed -n 's/.*"reached_unix_s":\([0-9.e+-]*\).*/\1/p' "$3")
  awk -v raw="$raw" -v n="$nats_events" -v a="$pub_start" -v b="$reached" \
    'BEGIN { printf "raw publish %.0f events/s; sluice end to end %d events in %.1f s = %.0f events/s", raw, n, b - a, n / (b - a) }'
}

say "stream: $rounds round(s) of: $scenarios (HTTP $http_events events over $http_connections connections in bodies of $http_batch; NATS $nats_events events) at $commit$( ((dirty)) && echo ' + uncommitted src changes')"
for ((r = 1; r <= rounds; r++)); do
  for scenario in $scenarios; do
    say "stream: round $r/$rounds: $scenario"
    case $scenario in
      http) run_http "$r" || failures=$((failures + 1)) ;;
      nats) run_nats "$r" || failures=$((failures + 1)) ;;
      nats_backlog) run_nats_backlog "$r" || failures=$((failures + 1)) ;;
      *) die "unknown scenario '$scenario' in BENCH_SCENARIOS" ;;
    esac
  done
done

# --- summary -----------------------------------------------------------------------------------
# Medians over the verified rounds; the NATS ratio is per round (the raw publish ran just before
# sluice's run) and then the median.
[ -s "$runs" ] || die "no run succeeded"
"$duckdb_sql" --db :memory: --var RUNS="$runs" --var RESULT="$out/stream.json" --var COMMIT="$commit" \
  --var DIRTY="$dirty" --var ROUNDS="$rounds" --var CONNECTIONS="$http_connections" - \
  >"$work/summary.txt" 2>"$work/summary.err" <<'SQL' || { cat "$work/summary.err" >&2; exit 1; }
CREATE TABLE runs AS
SELECT * FROM read_json('${RUNS}', format = 'newline_delimited',
  columns = {'round': 'INTEGER', 'scenario': 'VARCHAR', 'raw': 'JSON', 'load': 'JSON', 'wait': 'JSON', 'lake': 'JSON',
             'sluice_cpu_s': 'DOUBLE', 'nats_server_cpu_s': 'DOUBLE', 'loadavg_before': 'DOUBLE'});
CREATE TABLE r AS
SELECT round, scenario, (load ->> 'events')::BIGINT AS events,
       CASE scenario WHEN 'http' THEN (load ->> 'seconds')::DOUBLE
            ELSE (wait ->> 'reached_unix_s')::DOUBLE - (load ->> 'started_unix_s')::DOUBLE END AS seconds,
       events / seconds AS events_per_s,
       (raw ->> 'events_per_s')::DOUBLE AS raw_events_per_s,
       (load ->> 'events_per_s')::DOUBLE AS producer_events_per_s,
       (wait ->> 'accept_to_queryable_p50_s')::DOUBLE AS queryable_p50_s,
       (wait ->> 'accept_to_queryable_p99_s')::DOUBLE AS queryable_p99_s,
       (load ->> 'request_p50_s')::DOUBLE AS request_p50_s, (load ->> 'request_p99_s')::DOUBLE AS request_p99_s,
       (load ->> 'rejected_429')::BIGINT AS rejected_429,
       (wait ->> 'batches')::DOUBLE AS batches,
       (wait ->> 'commit_seconds_sum')::DOUBLE / (wait ->> 'commit_count')::DOUBLE AS commit_mean_s,
       (wait ->> 'transform_count')::DOUBLE AS transforms,
       (wait ->> 'transform_seconds_sum')::DOUBLE / (wait ->> 'transform_count')::DOUBLE AS transform_mean_s,
       (wait ->> 'consumer_pauses')::DOUBLE AS consumer_pauses,
       (lake ->> 'batch_rows_p50')::DOUBLE AS batch_rows_p50,
       (lake ->> 'batch_decode_ms_p50')::DOUBLE AS batch_decode_ms_p50,
       (lake ->> 'batch_stage_ms_p50')::DOUBLE AS batch_stage_ms_p50,
       (lake ->> 'curate_s_p50')::DOUBLE AS curate_s_p50, (lake ->> 'last_curate_s')::DOUBLE AS last_curate_s,
       (lake ->> 'publish_s_p50')::DOUBLE AS publish_s_p50, (lake ->> 'last_publish_s')::DOUBLE AS last_publish_s,
       sluice_cpu_s, sluice_cpu_s / events * 1e6 AS sluice_cpu_us_per_event, nats_server_cpu_s, loadavg_before
FROM runs;
CREATE TABLE summary AS
SELECT scenario, count(*) AS runs, median(events) AS events, median(seconds) AS seconds,
       median(events_per_s) AS events_per_s, median(raw_events_per_s) AS raw_events_per_s,
       median(events_per_s / raw_events_per_s) AS ratio_to_raw, median(producer_events_per_s) AS producer_events_per_s,
       median(queryable_p50_s) AS queryable_p50_s, median(queryable_p99_s) AS queryable_p99_s,
       median(request_p50_s) AS request_p50_s, median(request_p99_s) AS request_p99_s,
       median(rejected_429) AS rejected_429, median(batches) AS batches, median(commit_mean_s) AS commit_mean_s,
       median(transforms) AS transforms, median(transform_mean_s) AS transform_mean_s,
       median(consumer_pauses) AS consumer_pauses, median(batch_rows_p50) AS batch_rows_p50,
       median(batch_decode_ms_p50) AS batch_decode_ms_p50, median(batch_stage_ms_p50) AS batch_stage_ms_p50,
       median(curate_s_p50) AS curate_s_p50, median(last_curate_s) AS last_curate_s,
       median(publish_s_p50) AS publish_s_p50, median(last_publish_s) AS last_publish_s,
       median(sluice_cpu_us_per_event) AS sluice_cpu_us_per_event, median(nats_server_cpu_s) AS nats_server_cpu_s,
       median(loadavg_before) AS loadavg_before
FROM r GROUP BY scenario;
SELECT scenario, runs, events::BIGINT AS events, round(seconds, 1) AS seconds, round(events_per_s) AS "events/s",
       round(raw_events_per_s) AS "raw publish ev/s", round(ratio_to_raw, 3) AS "ratio to raw",
       round(queryable_p50_s, 2) AS "queryable p50 s", round(queryable_p99_s, 2) AS "queryable p99 s",
       round(loadavg_before, 1) AS "loadavg before"
FROM summary ORDER BY scenario;
-- Where the engine thread's time went (it commits micro-batches and runs transforms in turn).
SELECT scenario, round(batches) AS batches, round(batch_rows_p50) AS "rows/batch", round(commit_mean_s * 1000) AS "ms/commit",
       round(batch_decode_ms_p50, 1) AS "decode ms", round(batch_stage_ms_p50) AS "stage ms",
       round(transforms) AS transforms, round(transform_mean_s, 2) AS "s/transform",
       round(curate_s_p50, 2) AS "curate s", round(last_curate_s, 2) AS "last curate s",
       round(publish_s_p50, 2) AS "publish s", round(last_publish_s, 2) AS "last publish s",
       round(sluice_cpu_us_per_event, 1) AS "sluice cpu us/event"
FROM summary ORDER BY scenario;
WITH t AS (
  SELECT 1 AS o, 'HTTP push events/s' AS target, events_per_s AS v, '>= 200000' AS goal, events_per_s >= 200000 AS met
  FROM summary WHERE scenario = 'http'
  UNION ALL SELECT 2, 'HTTP accept-to-queryable p99 s', queryable_p99_s, '< 10', queryable_p99_s < 10
  FROM summary WHERE scenario = 'http'
  UNION ALL SELECT 3, 'NATS end-to-end events/s', events_per_s, '>= 100000', events_per_s >= 100000
  FROM summary WHERE scenario = 'nats'
  UNION ALL SELECT 4, 'NATS backlog drained events/s', events_per_s, '>= 100000', events_per_s >= 100000
  FROM summary WHERE scenario = 'nats_backlog'
)
SELECT target, round(v, 2) AS value, goal, CASE WHEN met THEN 'met' ELSE 'MISSED' END AS status FROM t ORDER BY o;
COPY (
  SELECT '${COMMIT}' AS commit, ${DIRTY} > 0 AS uncommitted_src_changes, ${ROUNDS} AS rounds,
         ${CONNECTIONS} AS http_connections,
         (SELECT list(s ORDER BY s.scenario) FROM summary s) AS medians,
         (SELECT list(x ORDER BY x.scenario, x.round) FROM r x) AS runs
) TO '${RESULT}' (FORMAT json);
SQL

say ""
say "sluice streaming benchmark: medians of the verified runs ($commit$( ((dirty)) && echo ', uncommitted src changes'); $(nproc) cores shared by load generator, nats-server and sluice)"
# duckdb_sql prints each result with a header line: one table each.
awk '/^(scenario|target)\t/ { part++ } part { print > (FILENAME "." part) }' "$work/summary.txt"
for part in "$work"/summary.txt.[0-9]; do
  column -t -s $'\t' "$part" >&2
  say ""
done
say "results: $out/stream.json (every run: $runs)"
if ((failures)); then
  say "stream: $failures run(s) failed or did not verify"
  exit 1
fi
