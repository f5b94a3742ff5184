// A deterministic generator of order events with a known ground truth, for `sluice init`,
// `sluice generate`, the demo, the end-to-end tests and the benchmark.
//
// It writes landing files (one batch each) and, beside them, expected.json: the results a
// correct pipeline must produce, computed here independently of the engine.
//
// The data: `orders` orders o0000001.., each in a tenant (t00 holds ~30% of them), created in the
// first `days` days of January 2026 (UTC; a few timestamps carry a "+02:00" offset). Each order
// has a lifecycle of events with increasing seq (created, then paid/shipped/delivered or
// cancelled; ~2.5 events per order); an update may change the amount. Mixed in: exact duplicate
// lines (~2%), late re-sends of an older seq after a newer one (~2%), and, for each dead-letter
// reason, ~invalid_rate extra invalid lines (never replacing a valid event):
//   missing_required  order_id or seq absent/null (CSV: empty unquoted field)
//   bad_type          seq "abc" or amount true
//   not_in_enum       status "lost"
//   out_of_range      amount < 0
//   malformed_record  a truncated JSON line (CSV: a record with the wrong number of fields)
//   bad_encoding      invalid UTF-8 bytes inside the order_id string
// Every other column of an invalid line is valid, so a validator checking columns in contract
// order (order_id, tenant_id, status, amount, created_at, seq) finds exactly that reason.
//
// expected.json (money as exact decimal strings with 2 places, timestamps as UTC
// "2026-01-03 10:15:00"):
//   {"orders": distinct valid order ids, "events_valid": n, "lines_total": n,
//    "batches": [{"file", "rows_read", "rows_valid", "rows_dead", "dead_by_reason": {...}}, ...],
//    "dead_by_reason": {...}, "final_status_counts": {...}, "revenue_by_tenant": {...},
//    "mart_daily_revenue": [{"day", "tenant_id", "orders", "revenue"}, ...],  // by day, tenant
//    "final_state": {"o0000001": {"status", "seq", "amount", "tenant_id", "created_at"}, ...}}
// The final state per order is its valid event with the highest seq (ties are exact
// duplicates); final_state is written only when orders <= 50000.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace sluice {

struct OrderGeneratorOptions {
  int64_t orders = 1000;  // distinct order_id values among the valid events
  int batches = 5;        // landing files: batch-0001.jsonl, ...
  uint64_t seed = 42;
  std::string format = "jsonl";  // jsonl | csv
  double invalid_rate = 0.01;    // per invalid kind, relative to valid events
  int tenants = 8;               // t00..t07; t00 is skewed (~30% of orders)
  int days = 7;                  // created_at spread over this many days from 2026-01-01
};

// Writes <landing_dir>/batch-NNNN.<format> and <expected_path>. Creates landing_dir.
// The same options (seed included) always give byte-identical files, on any platform.
// InvalidArgument for options out of range (orders < 1, batches outside 1..9999, tenants
// outside 1..100, days outside 1..31, invalid_rate outside 0..1, unknown format);
// IOError if a file cannot be written.
Status GenerateOrders(const OrderGeneratorOptions& options, const std::string& landing_dir,
                      const std::string& expected_path);

// True for the names GenerateOrders writes into a directory: batch-NNNN.jsonl, batch-NNNN.csv
// (four digits or more) and expected.json. `sluice generate --force` removes exactly these.
bool IsGeneratedFileName(const std::string& name);

}  // namespace sluice
