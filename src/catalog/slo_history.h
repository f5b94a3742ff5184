// The history of sluice's own SLOs (ops/slo_runner.h), so that evaluations add up across
// processes (a batch run in cron, then another, then `sluice serve`):
//
//   meta.slo_samples  one row per SLO and evaluation: good and total events counted since the
//                     previous one, and the value measured; kept for the SLO window
//   meta.slo_states   per SLO: its state (ok | warning | breach), since when, and the last
//                     evaluation as JSON (for `sluice status`)
//
// Also the catalog reads the SLIs are computed from: rows per source from the batch ledger and
// the last commit of each table. Functions run on the catalog's connection, in auto-commit
// unless the caller opened a transaction. Errors: DuckDB's. Not safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// Creates the tables when missing (an additive migration; Catalog::Open calls it).
Status CreateSloTables(duck::Connection& conn);

struct SloSampleRow {
  std::string slo;
  int64_t at_us = 0;  // UTC micros
  double good = 0;
  double total = 0;
  double value = 0;
};

Status AppendSloSamples(Catalog& catalog, const std::vector<SloSampleRow>& samples);

// Good and total events of `slo` in (now - span, now] for each of `spans` (seconds).
struct SloSums {
  double good = 0;
  double total = 0;
};
Result<std::vector<SloSums>> SloWindowSums(Catalog& catalog, const std::string& slo, int64_t now_us,
                                           const std::vector<int64_t>& spans);
// The same for every SLO that has samples, in one scan: slo -> sums per span.
Result<std::map<std::string, std::vector<SloSums>>> AllSloWindowSums(Catalog& catalog, int64_t now_us,
                                                                     const std::vector<int64_t>& spans);

// Deletes samples taken at or before `before_us`.
Status PruneSloSamples(Catalog& catalog, int64_t before_us);

// The time of each SLO's latest sample.
Result<std::map<std::string, int64_t>> LastSloSampleTimes(Catalog& catalog);

struct SloStateRow {
  std::string slo;
  std::string state;  // ok | warning | breach
  int64_t since_us = 0;
  int64_t evaluated_at_us = 0;
  std::string evaluation;  // JSON, as GET /v1/slo shows the SLO
};

// Every SLO's state row; empty when the lake has none (or predates the tables: a read-only
// open creates nothing).
Result<std::vector<SloStateRow>> LoadSloStates(Catalog& catalog);
// Replaces the row of `row.slo`.
Status SaveSloState(Catalog& catalog, const SloStateRow& row);

// The rows read and dead-lettered by the batches of `source` committed in (from_us, to_us].
struct BatchRows {
  int64_t read = 0;
  int64_t dead = 0;
};
Result<BatchRows> BatchRowsBetween(Catalog& catalog, const std::string& source, int64_t from_us,
                                   int64_t to_us);

// The last commit of every curated table and mart that has one: "curated.orders" -> UTC micros.
Result<std::map<std::string, int64_t>> TableCommitTimes(Catalog& catalog);

}  // namespace sluice
