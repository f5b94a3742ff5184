#!/usr/bin/env bash
# Runs each fuzz target for a bounded time on a copy of its seed corpus (fuzz/corpus/<target>), so
# nothing is written into the repo. Fails on the first crash, leak, timeout or invariant violation;
# the failing input is kept in fuzz/artifacts/ (ignored by git) and the log tail is printed.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1 seconds=$2
shift 2
targets=("$@")
((${#targets[@]})) || targets=(contract jsonl csv value_parser)

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p fuzz/artifacts
for t in "${targets[@]}"; do
  cp -r "fuzz/corpus/$t" "$work/$t"
  start=$SECONDS
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$build/fuzz/${t}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="fuzz/artifacts/${t}-" "$work/$t" >"$work/$t.log" 2>&1; then
    runs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || true)
    echo "fuzz: ${t}_fuzz ok ($((SECONDS - start)) s, ${runs:-?} inputs)"
  else
    tail -n 60 "$work/$t.log" >&2
    echo "fuzz: ${t}_fuzz FAILED; the input is in fuzz/artifacts/ (reproduce: $build/fuzz/${t}_fuzz FILE)" >&2
    exit 1
  fi
done
