#!/usr/bin/env bash
# The benchmark's PostgreSQL reference run (bench/README.md).
#
#   bash bench/postgres.sh DATA_DIR RESULT_JSON [TIMINGS_TSV]
#
# Creates a throw-away PostgreSQL cluster in a temp directory (unix socket only, no TCP), loads
# DATA_DIR/batch-*.jsonl one batch at a time with bench/postgres.sql, writes the final results
# (a JSON array of {metric, key, value}) to RESULT_JSON, then stops and deletes the cluster.
# TIMINGS_TSV gets lines `section batch step seconds` like duckdb_sql's, a line
# `total 0 total SECONDS` (from the first batch to the results, without initdb/start/stop) and
# `memory 0 peak_pss_kb KB`: the peak, sampled every 0.2 s, of the summed proportional set size
# of the server's processes (a sum of RSS would count shared buffers once per process).
# Server binaries: PG_BIN, default the newest /usr/lib/postgresql/*/bin. As root, the server
# runs as the `postgres` user (it refuses to run as root); psql runs as the caller.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 2 ]; then
  echo "usage: $0 DATA_DIR RESULT_JSON [TIMINGS_TSV]" >&2
  exit 2
fi
data_dir=$(cd "$1" && pwd)
result=$2
timings=${3:-/dev/null}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null; then
  echo "postgres.sh: no PostgreSQL server binaries (set PG_BIN) or no psql; run scripts/setup.sh" >&2
  exit 1
fi
shopt -s nullglob
batches=("$data_dir"/batch-*.jsonl)
shopt -u nullglob
if [ ${#batches[@]} -eq 0 ]; then
  echo "postgres.sh: no batch-*.jsonl in $data_dir" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-pg.XXXXXX")
as_server=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$tmp"
  as_server=(runuser -u postgres --)
fi
sampler=
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
  if [ -f "$tmp/data/postmaster.pid" ]; then
    "${as_server[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"${as_server[@]}" "$PG_BIN/initdb" -D "$tmp/data" -U bench -A trust -E SQL_ASCII --locale=C \
  --no-sync >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
# No TCP at all: the socket lives in the temp dir. Settings for a bulk load on a small machine;
# durability as a real warehouse would have it (fsync on), commits not waited for.
cat >>"$tmp/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp'
port = 5432
timezone = 'UTC'
shared_buffers = 512MB
work_mem = 128MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
checkpoint_timeout = 30min
synchronous_commit = off
wal_level = minimal
max_wal_senders = 0
max_parallel_workers_per_gather = 2
EOF
"${as_server[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w start >/dev/null ||
  { cat "$tmp/server.log" >&2; exit 1; }
postmaster=$(head -1 "$tmp/data/postmaster.pid")

# Peak memory: summed PSS of the postmaster and its children, sampled.
( peak=0
  while :; do
    sum=0
    for pid in "$postmaster" $(ps -o pid= --ppid "$postmaster" 2>/dev/null); do
      kb=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
      sum=$((sum + ${kb:-0}))
    done
    if ((sum > peak)); then peak=$sum; echo "$peak" >"$tmp/peak_pss_kb"; fi
    sleep 0.2
  done ) &
sampler=$!

run_psql() {  # run_psql PHASE [psql args...] — one session of postgres.sql
  local phase=$1
  shift
  psql -X -q -h "$tmp" -p 5432 -U bench -d postgres -v phase="$phase" "$@" -f "$here/postgres.sql"
}
# Sums psql's `Time: X ms` lines per `@step NAME` into TSV lines of the given batch.
step_times() {
  awk -v batch="$1" -F'\t' '
    /^@step / { step = substr($0, 7); if (!(step in t)) order[++n] = step; next }
    /^Time: / { split($0, w, " "); t[step == "" ? "session" : step] += w[2] / 1000; next }
    { print > "/dev/stderr" }
    END { for (i = 1; i <= n; i++) printf "batch\t%d\t%s\t%.6f\n", batch, order[i], t[order[i]] }'
}

elapsed() {  # elapsed START [END] — seconds between two `date +%s.%N` stamps
  awk -v a="$1" -v b="${2:-$(date +%s.%N)}" 'BEGIN { printf "%.3f", b - a }'
}

: >"$timings"
run_psql setup >/dev/null
start=$(date +%s.%N)
n=0
for f in "${batches[@]}"; do
  n=$((n + 1))
  b0=$(date +%s.%N)
  run_psql batch -v batch_no="$n" <"$f" | step_times "$n" >>"$timings"
  printf '  postgres batch %2d  %-20s %8.3f s\n' "$n" "$(basename "$f")" "$(elapsed "$b0")" >&2
done
run_psql final >"$result"
end=$(date +%s.%N)
total=$(elapsed "$start" "$end")
printf '  postgres total %.3f s\n' "$total" >&2
kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null || true
sampler=
printf 'total\t0\ttotal\t%s\n' "$total" >>"$timings"
printf 'memory\t0\tpeak_pss_kb\t%s\n' "$(cat "$tmp/peak_pss_kb" 2>/dev/null || echo 0)" >>"$timings"
