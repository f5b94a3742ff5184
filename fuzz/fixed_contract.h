// The contract the JSONL and CSV targets decode against: every type and every row rule, a required
// column of each kind, and a path (partition) column. The seed corpora use these column names.
#pragma once

#include "ingest/decoder.h"

namespace sluice::fuzz {

inline constexpr const char* kFixedContract = R"(name: fuzz_orders
columns:
  order_id: {type: string, required: true, max_length: 16, pattern: "[A-Z]{1,3}-[0-9]+"}
  status: {type: string, enum: [new, paid, shipped, "ünï"]}
  shop: {type: string, required: true}
  note: {type: string}
  qty: {type: int32, min: 0, max: 1000}
  seq: {type: int64, required: true}
  weight: {type: float, min: -1.5}
  score: {type: double, max: 1e300}
  amount: {type: decimal(12,2), min: 0, max: 10000}
  paid: {type: bool}
  order_date: {type: date, required: true}
  created_at: {type: timestamp}
)";

// Small enough that long values reach field_too_large; `shop` becomes a path segment.
inline DecodeOptions FixedOptions(char delimiter) {
  DecodeOptions options;
  options.max_field_bytes = 64;
  options.csv_delimiter = delimiter;
  options.path_columns = {"shop"};
  return options;
}

}  // namespace sluice::fuzz
