#!/usr/bin/env bash
# The warehouse benchmark (bench/README.md, "PostgreSQL warehouse"):
#   publish  rows/s of a full publish of curated.orders and marts.daily_revenue built from
#            BENCH_ORDERS generated orders (`sluice generate`, as bench/run.sh), by `sluice run`
#            with serve.postgres once the lake is built (nothing else to do in that run)
#   lag      under HTTP streaming load (bench/stream.sh's load generator, BENCH_HTTP_EVENTS
#            events), the time from a transform's commit in the lake to its rows being visible
#            in PostgreSQL, p50/p99 over the table versions published (serve's /v1/stats)
#
#   bash bench/warehouse.sh [BUILD_DIR]    (default build; needs src/cli/sluice, bench/sluice_stream_load)
#
# Environment: BENCH_ROUNDS (3), BENCH_ORDERS (1000000), BENCH_HTTP_EVENTS (1000000).
# A throw-away PostgreSQL (the newest /usr/lib/postgresql/*/bin) on 127.0.0.1 in a temp dir,
# default durability (fsync on, synchronous_commit on); stopped and removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
sluice=$build/src/cli/sluice
load=$build/bench/sluice_stream_load
rounds=${BENCH_ROUNDS:-3}
orders=${BENCH_ORDERS:-1000000}
events=${BENCH_HTTP_EVENTS:-1000000}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-wh.XXXXXX")
as_server=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$tmp"; as_server=(runuser -u postgres --); fi
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
  [ -f "$tmp/pg/postmaster.pid" ] && "${as_server[@]}" "$PG_BIN/pg_ctl" -D "$tmp/pg" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_server[@]}" "$PG_BIN/initdb" -D "$tmp/pg" -U bench -A trust --locale=C -E UTF8 >/dev/null
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = ''\nshared_buffers = 512MB\nmax_wal_size = 4GB\n" \
  "$port" >>"$tmp/pg/postgresql.conf"
"${as_server[@]}" "$PG_BIN/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w start >/dev/null
export SLUICE_PG_DSN="postgresql://bench@127.0.0.1:$port/postgres"
psql_() { psql -XAtq -d "$SLUICE_PG_DSN" -c "SET client_min_messages = warning" -c "$1"; }
warehouse_yaml="serve:
  postgres: {dsn_env: SLUICE_PG_DSN, schema: analytics, publish: [marts.daily_revenue, curated.orders]}"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- publish: rows/s of a full publish ------------------------------------------------------
"$sluice" init "$tmp/p" >/dev/null
rm -rf "$tmp/p/landing/orders"
"$sluice" generate "$tmp/p/landing/orders" --orders "$orders" --batches 10 >/dev/null
"$sluice" run --project "$tmp/p" >/dev/null
cp "$tmp/p/sluice.yaml" "$tmp/plain.yaml"
: >"$tmp/rates"
for ((r = 1; r <= rounds; r++)); do
  psql_ "DROP SCHEMA IF EXISTS analytics CASCADE"
  { cat "$tmp/plain.yaml"; echo "$warehouse_yaml"; } >"$tmp/p/sluice.yaml"
  t0=$(date +%s.%N)
  "$sluice" run --project "$tmp/p" >/dev/null
  t1=$(date +%s.%N)
  cp "$tmp/plain.yaml" "$tmp/p/sluice.yaml"
  rows=$(psql_ "SELECT sum(rows_copied) FROM analytics._sluice_publish")
  awk -v a="$t0" -v b="$t1" -v n="$rows" 'BEGIN { printf "%.3f %d %.0f\n", b - a, n, n / (b - a) }' | tee -a "$tmp/rates" |
    awk -v r="$r" '{ printf "  publish round %d: %d rows in %.3f s = %.0f rows/s\n", r, $2, $1, $3 }' >&2
done
echo "publish: median $(cut -d' ' -f3 "$tmp/rates" | median) rows/s ($(cut -d' ' -f2 "$tmp/rates" | head -1) rows; seconds: $(cut -d' ' -f1 "$tmp/rates" | tr '\n' ' '))"

# --- lag: commit -> visible in PostgreSQL under HTTP load -----------------------------------
: >"$tmp/lags"
for ((r = 1; r <= rounds; r++)); do
  psql_ "DROP SCHEMA IF EXISTS analytics CASCADE"
  d=$tmp/s$r
  "$sluice" init "$d" >/dev/null
  rm -rf "$d/landing"
  awk '$0 == "    type: files" { print "    type: http"; next } /^    path: landing\// || $0 == "    format: jsonl" { next } { print }' \
    "$d/sluice.yaml" >"$d/y" && { cat "$d/y"; echo "$warehouse_yaml"; } >"$d/sluice.yaml"
  "$sluice" serve --project "$d" --listen 127.0.0.1:0 --port-file "$d/.port" 2>"$d/serve.log" &
  serve_pid=$!
  for ((i = 0; i < 300; i++)); do [ -s "$d/.port" ] && break; sleep 0.1; done
  sport=$(cat "$d/.port")
  "$load" http --port "$sport" --source orders --events "$events" --batch 1000 --connections 16 --seed "$r" >"$d/load.json"
  "$load" wait --port "$sport" --source orders --rows "$events" >/dev/null
  for ((i = 0; i < 600; i++)); do
    stats=$(curl -s "http://127.0.0.1:$sport/v1/stats")
    python3 -c 'import json,sys; w=json.loads(sys.argv[1])["warehouse"]; sys.exit(0 if w["lag_versions"] == 0 else 1)' "$stats" && break
    sleep 0.2
  done
  python3 -c 'import json,sys; w=json.loads(sys.argv[1])["warehouse"]; print(w["publish_lag_p50_s"], w["publish_lag_p99_s"], w["versions_published"])' "$stats" |
    tee -a "$tmp/lags" | awk -v r="$r" '{ printf "  lag round %d: p50 %.3f s, p99 %.3f s over %d table versions\n", r, $1, $2, $3 }' >&2
  kill -TERM "$serve_pid"; wait "$serve_pid" || true; serve_pid=""
done
echo "lag: median p50 $(cut -d' ' -f1 "$tmp/lags" | median) s, median p99 $(cut -d' ' -f2 "$tmp/lags" | median) s ($events HTTP events per round)"
