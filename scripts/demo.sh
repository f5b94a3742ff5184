#!/usr/bin/env bash
# `make demo`: a fresh example project in ./demo with generated orders, the whole pipeline run
# twice (the second run finds nothing new), then a look at what landed.
set -euo pipefail
SLUICE=${1:-build/src/cli/sluice}
DEMO=${DEMO_DIR:-demo}
ORDERS=${DEMO_ORDERS:-100000}

rm -rf "$DEMO"
"$SLUICE" init "$DEMO" >/dev/null
rm -f "$DEMO"/landing/orders/*
"$SLUICE" generate "$DEMO/landing/orders" --orders "$ORDERS" --batches 5 >/dev/null
echo "== sluice run   ($ORDERS orders in 5 JSONL batches with duplicates, late and invalid events)"
"$SLUICE" run --project "$DEMO"
echo
echo "== sluice run   (again: every file is in the ledger)"
"$SLUICE" run --project "$DEMO"
echo
echo "== dead-lettered rows by reason"
"$SLUICE" query --project "$DEMO" \
  "SELECT reason, column_name, count(*) AS rows FROM dlq.orders GROUP BY ALL ORDER BY rows DESC"
echo
echo "== revenue per tenant (marts.daily_revenue)"
"$SLUICE" query --project "$DEMO" \
  "SELECT tenant_id, sum(orders) AS orders, sum(revenue) AS revenue FROM marts.daily_revenue GROUP BY ALL ORDER BY tenant_id"
echo
echo "== sluice status"
"$SLUICE" status --project "$DEMO"
echo
echo "published Parquet (readable by any engine while sluice runs):"
echo "  $DEMO/lake/published/curated/orders/current/  $DEMO/lake/published/marts/daily_revenue/current/"
