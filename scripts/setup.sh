#!/usr/bin/env bash
# Installs what sluice needs to build and test, and nothing that is already there.
#  - Debian packages (apt-get, when run as root and a package is missing)
#  - DuckDB 1.4.4: duckdb.h from the `duckdb` npm package's sources and libduckdb.so from
#    `@duckdb/node-bindings-linux-<arch>`, both pinned by SHA-256, cached in ~/.cache/sluice and
#    unpacked into third_party/duckdb (ignored by git).
#  - Ajv 8.17.1 and ajv-formats 3.0.1 from npm into third_party/node: the JSON-schema validator
#    of the e2e tests (OpenLineage facets); playwright-core 1.65.2 there too, which drives
#    Debian's headless Chromium in the dashboard's browser test (it downloads no browser).
# Set SLUICE_DUCKDB_DIR to a directory with include/duckdb.h and lib/libduckdb.so (an official
# libduckdb release) to skip the npm download.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config git ca-certificates
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libsimdjson-dev
  libxxhash-dev libre2-dev libgtest-dev libgmock-dev
  clang-14 libclang-rt-14-dev llvm-14  # libFuzzer targets (fuzz/); llvm-14 for llvm-symbolizer
  clang-format-14 clang-tidy-14        # make lint
  libmicrohttpd-dev libnats-dev   # sluice serve: HTTP(S) server and NATS JetStream
  libcpp-httplib-dev openssl      # tests and bench: HTTP(S) client; the TLS test's certificate
  nats-server prometheus          # test servers: JetStream, promtool for /metrics
  python3-prometheus-client faketime  # metrics tests: a real text parser; a moved clock
  prometheus-alertmanager         # the SLO test compares sluice's webhook with a real Alertmanager's
  postgresql postgresql-client procps
  libpq-dev                       # the PostgreSQL warehouse (serve.postgres)
  curl                            # the docs' HTTP push example, run as written by the tests
  chromium)                       # the dashboard's browser test (headless, driven by playwright-core)

missing=()
command -v npm >/dev/null || missing+=(nodejs npm)  # npm may come with a non-Debian nodejs
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root or install them): ${missing[*]}" >&2
    exit 1
  fi
fi

# Ajv (with ajv-formats), the JSON-schema validator the e2e tests check the OpenLineage facets
# sluice writes with (test/e2e/validate_json_schema.js), and playwright-core, which drives
# /usr/bin/chromium in test/e2e/dashboard_test.cc (test/e2e/dashboard_check.js), at pinned
# versions, into third_party/node. playwright-core is the library without browsers: nothing
# else is downloaded.
NODE_DEST=third_party/node
NODE_PACKAGES=(ajv@8.17.1 ajv-formats@3.0.1 playwright-core@1.65.2)
node_missing=0
for p in "${NODE_PACKAGES[@]}"; do
  name=${p%@*}
  version=${p##*@}
  grep -qs "\"version\": \"$version\"" "$NODE_DEST/node_modules/$name/package.json" || node_missing=1
done
if ((node_missing)); then
  mkdir -p "$NODE_DEST"
  npm install --prefix "$NODE_DEST" --no-audit --no-fund --silent \
    --cache "${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sluice/npm" "${NODE_PACKAGES[@]}" >/dev/null
fi

DEST=third_party/duckdb
if [ -n "${SLUICE_DUCKDB_DIR:-}" ]; then
  mkdir -p third_party && rm -rf "$DEST" && ln -s "$SLUICE_DUCKDB_DIR" "$DEST"
  exit 0
fi
[ -f "$DEST/include/duckdb.h" ] && [ -f "$DEST/lib/libduckdb.so" ] && exit 0

VERSION=1.4.4
BINDINGS=1.4.4-r.1
SRC_SHA=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed
case "$(uname -m)" in
  x86_64) ARCH=x64; LIB_SHA=8ac460b152cd05a95065a414879bb09e40534b1fb7a80a7afe6969b6ce039029 ;;
  aarch64) ARCH=arm64; LIB_SHA=d3a1dec3ffba3fcefa8a15480c80dc244b109cc004e3414a32fa23681e89b0c5 ;;
  *) echo "setup: no pinned libduckdb for $(uname -m); set SLUICE_DUCKDB_DIR" >&2; exit 1 ;;
esac
CACHE="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sluice"
mkdir -p "$CACHE"

fetch() {  # fetch NPM_SPEC TARBALL SHA256
  local spec=$1 file=$CACHE/$2 sha=$3
  if [ ! -f "$file" ] || ! echo "$sha  $file" | sha256sum -c --status; then
    echo "setup: fetching $spec"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mv "$tmp"/*.tgz "$file.part" && rm -rf "$tmp"
    if ! echo "$sha  $file.part" | sha256sum -c --status; then
      echo "setup: checksum mismatch for $spec" >&2; rm -f "$file.part"; exit 1
    fi
    mv "$file.part" "$file"
  fi
}
fetch "duckdb@$VERSION" "duckdb-$VERSION.tgz" "$SRC_SHA"
fetch "@duckdb/node-bindings-linux-$ARCH@$BINDINGS" "duckdb-bindings-$ARCH-$BINDINGS.tgz" "$LIB_SHA"

rm -rf "$DEST" && mkdir -p "$DEST/include" "$DEST/lib"
tar -xzf "$CACHE/duckdb-$VERSION.tgz" -O package/src/duckdb/src/include/duckdb.h > "$DEST/include/duckdb.h"
tar -xzf "$CACHE/duckdb-bindings-$ARCH-$BINDINGS.tgz" -O package/libduckdb.so > "$DEST/lib/libduckdb.so"
echo "setup: DuckDB $VERSION in $DEST"
