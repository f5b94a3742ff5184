// Reads of the batch ledger (meta.batches) beyond ledger.h's lookups: per-source totals for
// `sluice status`, and the CSV headers redrive re-parses dead letters with.
//
// Read-only; they run in whatever transaction the caller has open. Errors: DuckDB's.
// Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

struct SourceTotals {
  int64_t batches = 0;
  int64_t rows_read = 0;
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;
  int64_t rows_late = 0;      // rows behind their partition's watermark (streams)
  std::string last_batch_at;  // "2026-01-03 10:15:00.123456" (UTC); "" when no batch
};

// The sums over every batch of `source` (zeros when none).
Result<SourceTotals> TotalsOf(Catalog& catalog, const std::string& source);

// The CSV header of each batch of `source` that recorded one, by batch id.
Result<std::map<std::string, std::string>> CsvHeaders(Catalog& catalog, const std::string& source);

}  // namespace sluice
