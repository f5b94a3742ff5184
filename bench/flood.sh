#!/usr/bin/env bash
# The memory flood (bench/README.md, "Memory under a flood"): `sluice serve` with a memory limit
# under an HTTP flood for FLOOD_SECONDS while curated.orders grows past the limit; its resident
# memory (VmRSS, VmHWM) is sampled every FLOOD_SAMPLE_S seconds to show that it plateaus.
#
#   bash bench/flood.sh [BUILD_DIR]      (default: build; needs src/cli/sluice and
#                                         bench/sluice_stream_load built there)
#
# Environment: FLOOD_SECONDS (600), FLOOD_MEMORY_LIMIT (512MiB), FLOOD_CONNECTIONS (8),
# FLOOD_BATCH (3300 events a request, ~400 KB), FLOOD_CHUNK (300000 events per load-generator
# run; runs follow each other with new order ids until the time is up), FLOOD_SAMPLE_S (5),
# BENCH_OUT (bench/out), BENCH_KEEP_TMP (unset; set: keep the temp dir).
#
# Output: BENCH_OUT/flood-rss.tsv (every sample: seconds since start, VmRSS MiB, VmHWM MiB, rows
# staged so far), BENCH_OUT/flood.json (the summary: per minute median and max VmRSS, peak VmHWM,
# rows accepted, curated.orders rows, database and lake size at the end, the limit) and the summary as a
# Markdown table on stderr. Only 127.0.0.1 is used; serve is stopped (SIGTERM, drained) at the
# end and its lake verified: curated.orders = the distinct orders posted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
seconds=${FLOOD_SECONDS:-600}
limit=${FLOOD_MEMORY_LIMIT:-512MiB}
connections=${FLOOD_CONNECTIONS:-8}
batch=${FLOOD_BATCH:-3300}
chunk=${FLOOD_CHUNK:-300000}
sample_s=${FLOOD_SAMPLE_S:-5}
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { printf '%s\n' "$*" >&2; }
die() { say "flood: $*"; exit 1; }

sluice=$build/src/cli/sluice
load=$build/bench/sluice_stream_load
for b in "$sluice" "$load"; do [ -x "$b" ] || die "no $b (cmake --build $build --target sluice sluice_stream_load)"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-flood.XXXXXX")
serve_pid="" sampler_pid=""
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill -KILL "$serve_pid" 2>/dev/null || true
  if [ -n "${BENCH_KEEP_TMP:-}" ]; then say "flood: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The `sluice init` example with its files source turned into an http source.
dir=$tmp/shop
"$sluice" init "$dir" >/dev/null
rm -rf "$dir/landing"
awk '$0 == "    type: files" { print "    type: http"; next }
     $0 ~ /^    path: landing\// || $0 == "    format: jsonl" { next } { print }' \
  "$dir/sluice.yaml" >"$dir/sluice.yaml.new"
mv "$dir/sluice.yaml.new" "$dir/sluice.yaml"
printf 'transform: {interval: 1s}\n' >>"$dir/sluice.yaml"

"$sluice" serve --project "$dir" --listen 127.0.0.1:0 --port-file "$dir/.port" --memory-limit "$limit" \
  2>"$tmp/serve.log" &
serve_pid=$!
for ((i = 0; i < 300; i++)); do
  kill -0 "$serve_pid" 2>/dev/null || die "sluice serve exited: $(tail -5 "$tmp/serve.log")"
  [ -s "$dir/.port" ] && break
  sleep 0.1
done
[ -s "$dir/.port" ] || die "sluice serve wrote no port file"
port=$(cat "$dir/.port")
say "flood: $(grep 'memory limit' "$tmp/serve.log" | sed 's/.*sluice serve: //')"

start=$(date +%s)
rss_file=$out/flood-rss.tsv
printf 'second\tvmrss_mib\tvmhwm_mib\trows_staged\n' >"$rss_file"
(
  while kill -0 "$serve_pid" 2>/dev/null; do
    staged=$(sed -n 's/.*"rows_staged": *\([0-9.e+]*\).*/\1/p' "$dir/lake/serve.json" 2>/dev/null | head -1 || true)
    awk -v t=$(($(date +%s) - start)) -v s="${staged:-0}" \
      '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { if (r) printf "%d\t%d\t%d\t%d\n", t, r / 1024, h / 1024, s }' \
      "/proc/$serve_pid/status" 2>/dev/null >>"$rss_file" || true
    sleep "$sample_s"
  done
) &
sampler_pid=$!

# Load-generator runs of FLOOD_CHUNK new orders each until the time is up.
accepted=0 distinct=0 run=0 retries=0
while (($(date +%s) - start < seconds)); do
  "$load" http --port "$port" --events "$chunk" --batch "$batch" --connections "$connections" \
    --seed "$((run + 1))" --first-order "$((run * 100000000 + 1))" >"$tmp/load-$run.json" 2>"$tmp/load-$run.err" ||
    die "load run $run failed: $(tail -3 "$tmp/load-$run.err")"
  accepted=$((accepted + $(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$tmp/load-$run.json")))
  distinct=$((distinct + $(sed -n 's/.*"distinct_orders":\([0-9]*\).*/\1/p' "$tmp/load-$run.json")))
  retries=$((retries + $(sed -n 's/.*"transport_retries":\([0-9]*\).*/\1/p' "$tmp/load-$run.json")))
  run=$((run + 1))
done
flood_s=$(($(date +%s) - start))
say "flood: $accepted events in $run runs over $flood_s s; stopping serve (drains and publishes)"
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
serve_pid=""
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
((rc == 0)) || die "sluice serve exited with status $rc: $(tail -3 "$tmp/serve.log")"
stop_s=$(($(date +%s) - start - flood_s))
curated=$("$sluice" query "SELECT count(*) FROM curated.orders" --format csv --project "$dir" | tail -1)
lake_mib=$(du -sm "$dir/lake" | cut -f1)
db_mib=$(du -sm "$dir/lake/sluice.duckdb" | cut -f1)  # curated.orders and the catalog
failed=$(grep -c 'transform failed' "$tmp/serve.log" || true)
[ "$curated" = "$distinct" ] || die "curated.orders has $curated rows, expected $distinct distinct orders"

# Per minute of the run: median and max VmRSS; the stop (drain) counted as its own row.
summary=$(awk -F'\t' -v flood="$flood_s" 'NR > 1 {
    m = $1 >= flood ? "stop" : int($1 / 60); n[m]++; v[m, n[m]] = $2; if ($2 > mx[m]) mx[m] = $2
    if ($3 > hwm) hwm = $3; if (!(m in seen)) { seen[m] = 1; order[++k] = m } }
  END {
    for (i = 1; i <= k; i++) {
      m = order[i]; c = n[m]
      for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (v[m, b] < v[m, a]) { t = v[m, a]; v[m, a] = v[m, b]; v[m, b] = t }
      med = c % 2 ? v[m, (c + 1) / 2] : (v[m, c / 2] + v[m, c / 2 + 1]) / 2
      printf "%s{\"minute\":\"%s\",\"samples\":%d,\"rss_median_mib\":%d,\"rss_max_mib\":%d}", (i > 1 ? "," : ""), m, c, med, mx[m]
    }
    printf "\t%d", hwm
  }' "$rss_file")
per_minute=${summary%$'\t'*}
peak_hwm=${summary##*$'\t'}
printf '{"memory_limit":"%s","seconds":%d,"stop_seconds":%d,"connections":%d,"events_accepted":%d,"load_runs":%d,"transport_retries":%d,"curated_rows":%s,"database_mib":%s,"lake_mib":%s,"transforms_failed":%s,"peak_vmhwm_mib":%s,"per_minute":[%s],"commit":"%s","loadavg_end":"%s"}\n' \
  "$limit" "$flood_s" "$stop_s" "$connections" "$accepted" "$run" "$retries" "$curated" "$db_mib" "$lake_mib" \
  "$failed" "$peak_hwm" "$per_minute" "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" >"$out/flood.json"
say "flood: limit $limit, $accepted events accepted, curated.orders $curated rows, database $db_mib MiB, lake $lake_mib MiB, peak VmHWM $peak_hwm MiB, $failed failed transforms"
say "| minute | samples | VmRSS median MiB | VmRSS max MiB |"
say "|---|---|---|---|"
awk -v s="$per_minute" 'BEGIN { n = split(s, a, "},"); for (i = 1; i <= n; i++) { gsub(/[{}"]/, "", a[i]); split(a[i], f, ","); for (j in f) { split(f[j], kv, ":"); x[kv[1]] = kv[2] }
  printf "| %s | %s | %s | %s |\n", x["minute"], x["samples"], x["rss_median_mib"], x["rss_max_mib"] } }' >&2
say "flood: results in $out/flood.json, samples in $rss_file"
