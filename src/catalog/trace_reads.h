// Reads for `sluice trace <correlation-id>` and for the OpenLineage run events (ops/): which
// batch a correlation id belongs to, which tables merged it and when, the runs around it, and
// the quality tests of a run.
//
// A correlation id names a batch (meta.batches.correlation_id) or one HTTP request of a
// micro-batch (its rows, DLQ rows and Idempotency-Key answer carry it; the batch has its own).
// Functions run on the catalog's connection (a read-only one is enough) and open no
// transaction. Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/ledger.h"
#include "catalog/runs.h"
#include "catalog/test_results.h"
#include "common/status.h"

namespace sluice {

// The batches `correlation_id` belongs to: the batch with that id in the ledger, else the batch
// holding a request with it (meta.idempotency, then the DLQ and curated rows that carry it).
// Empty when nothing in the lake carries it.
Result<std::vector<BatchRecord>> BatchesOfCorrelationId(Catalog& catalog, const std::string& correlation_id);

// One merge of a batch into a curated table (meta.applied).
struct AppliedMerge {
  std::string table;  // curated table name, without "curated."
  std::string source;
  std::string batch_id;
  std::string correlation_id;  // the batch's
  int64_t applied_us = 0;
};

// The merges of batch (source, batch_id), in time order.
Result<std::vector<AppliedMerge>> MergesOfBatch(Catalog& catalog, const std::string& source,
                                                const std::string& batch_id);
// The merges recorded at or after `since_us` (a transform's start), in time order.
Result<std::vector<AppliedMerge>> MergesSince(Catalog& catalog, int64_t since_us);

// A test result of one run (meta.test_results), with the table it checked.
struct RunTestResult {
  std::string layer;  // curated | marts
  std::string table;
  TestResultRow result;
  std::string batch_ids;  // ", "-joined; "" when none
};

// Every test result recorded for the run started at `run_started_us`, in check order. Empty for
// a lake without meta.test_results.
Result<std::vector<RunTestResult>> TestResultsOfRun(Catalog& catalog, int64_t run_started_us);

// The dead letters of batch (source, batch_id): count per reason, with `correlation_id`
// non-empty only the rows carrying it.
Result<std::vector<std::pair<std::string, int64_t>>> DeadLettersOfBatch(Catalog& catalog,
                                                                        const std::string& source,
                                                                        const std::string& batch_id,
                                                                        const std::string& correlation_id);

// The columns of lake table `schema`.`table` with their DuckDB types, in order; empty when the
// table does not exist (yet).
Result<std::vector<std::pair<std::string, std::string>>> LakeColumnTypes(Catalog& catalog,
                                                                         const std::string& schema,
                                                                         const std::string& table);

}  // namespace sluice
