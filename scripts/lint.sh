#!/usr/bin/env bash
# `make lint`: the tree is clang-format clean and clang-tidy clean (.clang-format, .clang-tidy).
# Usage: scripts/lint.sh BUILD_DIR   (BUILD_DIR holds compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
JOBS=${JOBS:-$(nproc)}

mapfile -t cxx < <(git ls-files '*.cc' '*.h')
echo "lint: clang-format on ${#cxx[@]} files"
clang-format-14 --dry-run --Werror "${cxx[@]}"

mapfile -t units < <(git ls-files 'src/*.cc')
echo "lint: clang-tidy on ${#units[@]} files of src/"
printf '%s\n' "${units[@]}" |
  xargs -P "$JOBS" -n 4 clang-tidy-14 -p "$BUILD" --quiet --warnings-as-errors='*' \
    --extra-arg=-Wno-unknown-warning-option 2>/dev/null
echo "lint: clean"
