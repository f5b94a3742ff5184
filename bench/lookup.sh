#!/usr/bin/env bash
# The mart lookup benchmark (bench/README.md, "Mart lookups"; issue 12, Performance):
# a one-tenant, one-day lookup of marts.daily_revenue by BENCH_CLIENTS concurrent clients while
# ingest runs, against
#   sluice    GET /v1/tables/marts.daily_revenue/rows?tenant=T&day_from=D&day_to=D over HTTP
#             keep-alive connections to `sluice serve` (its published Parquet version)
#   postgres  the same rows from analytics.daily_revenue, which the same `sluice serve`
#             publishes to PostgreSQL (serve.postgres), through libpq with a prepared statement
# by the same client program (bench/sluice_lookup_load), on the same keys, in the same round.
#
#   bash bench/lookup.sh [BUILD_DIR]   (default build; needs src/cli/sluice,
#                                       bench/sluice_stream_load, bench/sluice_lookup_load)
#
# Per round: a writer pushes BENCH_WRITE_EVENTS events to the HTTP source every
# BENCH_WRITE_PAUSE seconds (sluice_stream_load http, one request each), and while it runs each
# target gets BENCH_SECONDS of lookups (the order of the two alternates by round). Then the
# writer stops and, once every event pushed is staged and transformed and the mart's lake version
# is both the published one and the one PostgreSQL holds, every key is read from both and the
# rows compared (sluice_lookup_load compare); the same comparison runs once before the rounds.
#
# Environment: BENCH_ROUNDS (3), BENCH_CLIENTS (50), BENCH_SECONDS (20), BENCH_ORDERS (200000,
# the events pushed before the rounds), BENCH_WRITE_EVENTS (1000), BENCH_WRITE_PAUSE (0.5),
# BENCH_MAX_CONCURRENT (64: serve.query.max_concurrent, the default 4 would answer 429 to most of
# 50 clients), BENCH_PUBLISH_INTERVAL (5s: transform.publish_interval, so that a phase sees new
# published versions), BENCH_VARY_LIMIT (0; N > 0: each lookup's page size is 1000 + a draw below
# N on both targets, so that sluice's kept answers rarely apply: the cost of a read).
# A throw-away PostgreSQL (newest /usr/lib/postgresql/*/bin) on 127.0.0.1 in a temp dir, default
# durability; everything is stopped and removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
sluice=$build/src/cli/sluice
load=$build/bench/sluice_stream_load
lookup=$build/bench/sluice_lookup_load
rounds=${BENCH_ROUNDS:-3}
clients=${BENCH_CLIENTS:-50}
seconds=${BENCH_SECONDS:-20}
orders=${BENCH_ORDERS:-200000}
write_events=${BENCH_WRITE_EVENTS:-1000}
write_pause=${BENCH_WRITE_PAUSE:-0.5}
max_concurrent=${BENCH_MAX_CONCURRENT:-64}
publish_interval=${BENCH_PUBLISH_INTERVAL:-5s}
vary_limit=${BENCH_VARY_LIMIT:-0}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-lookup.XXXXXX")
as_server=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$tmp"; as_server=(runuser -u postgres --); fi
serve_pid="" writer_pid=""
cleanup() {
  [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  [ -f "$tmp/pg/postmaster.pid" ] && "${as_server[@]}" "$PG_BIN/pg_ctl" -D "$tmp/pg" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pgport=$(free_port)
"${as_server[@]}" "$PG_BIN/initdb" -D "$tmp/pg" -U bench -A trust --locale=C -E UTF8 >/dev/null
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = ''\nshared_buffers = 512MB\nmax_wal_size = 4GB\n" \
  "$pgport" >>"$tmp/pg/postgresql.conf"
"${as_server[@]}" "$PG_BIN/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w start >/dev/null
export SLUICE_PG_DSN="postgresql://bench@127.0.0.1:$pgport/postgres"
psql_() { psql -XAtq -d "$SLUICE_PG_DSN" -c "SET client_min_messages = warning" -c "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# --- the project: sluice init's, with an HTTP source, the warehouse and the query limits ------
d=$tmp/p
"$sluice" init "$d" >/dev/null
rm -rf "$d/landing"
awk '$0 == "    type: files" { print "    type: http"; next } /^    path: landing\// || $0 == "    format: jsonl" { next } { print }' \
  "$d/sluice.yaml" >"$d/y"
{
  cat "$d/y"
  echo "transform: {publish_interval: $publish_interval}"
  echo "serve:"
  echo "  postgres: {dsn_env: SLUICE_PG_DSN, schema: analytics, publish: [marts.daily_revenue]}"
  echo "  query: {max_concurrent: $max_concurrent}"
} >"$d/sluice.yaml"
"$sluice" serve --project "$d" --listen 127.0.0.1:0 --port-file "$d/.port" 2>"$tmp/serve.log" &
serve_pid=$!
for ((i = 0; i < 300; i++)); do [ -s "$d/.port" ] && break; sleep 0.1; done
[ -s "$d/.port" ] || { cat "$tmp/serve.log" >&2; exit 1; }
port=$(cat "$d/.port")

# --- the data: BENCH_ORDERS events, then the mart in Parquet and in PostgreSQL ----------------
"$load" http --port "$port" --source orders --events "$orders" --batch 1000 --connections 4 --seed 1 >/dev/null
"$load" wait --port "$port" --source orders --rows "$orders" >/dev/null
for ((i = 0; i < 900; i++)); do
  [ "$(psql_ "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'analytics' AND table_name = 'daily_revenue'")" = 1 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/tables/marts.daily_revenue/rows?limit=1")" = 200 ] && break
  sleep 0.2
done
psql_ "SELECT tenant_id || ' ' || day FROM analytics.daily_revenue ORDER BY 1" >"$tmp/keys"
echo "keys: $(wc -l <"$tmp/keys") (tenant, day) of marts.daily_revenue after $orders events" >&2
check=$("$lookup" compare --port "$port" --dsn "$SLUICE_PG_DSN" --keys "$tmp/keys")
echo "  before the rounds: $check" >&2

# --- rounds -----------------------------------------------------------------------------------
# Rows requests answered from a kept answer (src/serve/rows_cache.h) so far; 0 on a build without.
cache_hits() {
  curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "sluice_query_rows_cache_hits_total" { n = $2 } END { printf "%d\n", n }'
}
writer() {  # pushes until $tmp/stop exists; one JSON line per request in $tmp/writer.$1
  local k=0
  while [ ! -e "$tmp/stop" ]; do
    "$load" http --port "$port" --source orders --events "$write_events" --batch "$write_events" --connections 1 \
      --seed $((100 + 1000 * $1 + k)) --first-order $((100000000 * $1 + k * write_events + 1)) >>"$tmp/writer.$1"
    k=$((k + 1))
    sleep "$write_pause"
  done
}
: >"$tmp/results"
for ((r = 1; r <= rounds; r++)); do
  rm -f "$tmp/stop"
  : >"$tmp/writer.$r"
  writer "$r" &
  writer_pid=$!
  sleep 2  # the writer's first commits and transforms are under way
  t0=$(date +%s.%N)
  order=(sluice postgres)
  ((r % 2 == 0)) && order=(postgres sluice)
  for target in "${order[@]}"; do
    hits0=$(cache_hits)
    out=$("$lookup" lookup --target "$target" --port "$port" --dsn "$SLUICE_PG_DSN" --keys "$tmp/keys" \
      --clients "$clients" --seconds "$seconds" --vary-limit "$vary_limit")
    hits=$(($(cache_hits) - hits0))
    echo "$r $out" >>"$tmp/results"
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print("  round %s %-8s %7d requests %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  max %7.1f ms  errors %d (429: %d)  empty %d%s%s" % (sys.argv[2], j["target"], j["requests"], j["req_per_s"], j["p50_ms"], j["p99_ms"], j["max_ms"], j["errors"], j["rejected_429"], j["empty_answers"], ("  answered from kept answers: %s" % sys.argv[3]) if j["target"] == "sluice" else "", ("  first error: " + j["first_error"][:160]) if j["errors"] else ""))' "$out" "$r" "$hits" >&2
  done
  t1=$(date +%s.%N)
  touch "$tmp/stop"
  wait "$writer_pid"
  writer_pid=""
  python3 -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ev = sum(j["events"] for j in rows)
print("  round %s writer: %d events in %d requests, %.0f events/s over the lookups, request p50 %.3f s" % (sys.argv[2], ev, len(rows), ev / float(sys.argv[3]), sorted(j["seconds"] for j in rows)[len(rows) // 2]))' \
    "$tmp/writer.$r" "$r" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >&2
  # Quiescent: every event pushed so far is staged and a transform ran after the last (then
  # compare waits for that version in Parquet and in PostgreSQL).
  pushed=$((orders + $(cat "$tmp"/writer.* | python3 -c 'import json,sys; print(sum(json.loads(l)["events"] for l in sys.stdin if l.strip()))')))
  "$load" wait --port "$port" --source orders --rows "$pushed" >/dev/null
  check=$("$lookup" compare --port "$port" --dsn "$SLUICE_PG_DSN" --keys "$tmp/keys")
  echo "  round $r after the writer: $check" >&2
done

# --- medians of rounds and ratios -------------------------------------------------------------
python3 - "$tmp/results" "$clients" "$seconds" <<'EOF'
import json, statistics, sys
res = {"sluice": [], "postgres": []}
for line in open(sys.argv[1]):
    r, j = line.split(" ", 1)
    j = json.loads(j)
    res[j["target"]].append(j)
med = {t: {k: statistics.median(x[k] for x in v) for k in ("req_per_s", "p50_ms", "p99_ms")} for t, v in res.items()}
err = {t: sum(x["errors"] for x in v) for t, v in res.items()}
print("lookup of one (tenant, day) of marts.daily_revenue, %s clients, %s s per target per round, %d rounds, while ingest runs"
      % (sys.argv[2], sys.argv[3], len(res["sluice"])))
for t in ("sluice", "postgres"):
    m = med[t]
    print("  %-8s median req/s %8.0f  p50 %6.2f ms  p99 %7.2f ms  errors %d" % (t, m["req_per_s"], m["p50_ms"], m["p99_ms"], err[t]))
s, p = med["sluice"], med["postgres"]
print("  sluice / PostgreSQL: req/s %.2fx, p50 %.2fx, p99 %.2fx" % (s["req_per_s"] / p["req_per_s"], s["p50_ms"] / p["p50_ms"], s["p99_ms"] / p["p99_ms"]))
print("  target (issue 12): sluice p99 < 20 ms: %s; sluice req/s >= PostgreSQL's: %s"
      % ("met" if s["p99_ms"] < 20 else "NOT met", "met" if s["req_per_s"] >= p["req_per_s"] else "NOT met"))
EOF
