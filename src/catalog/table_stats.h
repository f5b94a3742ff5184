// Reads of the catalog for the pipeline's metrics (ops/pipeline_metrics.h): per-table commit and
// event times and partition sizes, open dead letters and quarantined batches, the ledger's rows
// per source and outcome, batch commit durations, and the recorded runs.
//
// Read-only; they run in whatever transaction the caller has open (a reader of `sluice serve`
// sees one snapshot). Which reads scan a table's data, and which only the catalog, is said per
// function: callers cache the scans by table version. Errors: DuckDB's, with context. Not safe
// for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// meta.tables: a table's version and when it last committed one. Catalog only.
struct TableCommit {
  std::string table;  // "curated.orders" | "marts.daily_revenue"
  int64_t version = 0;
  std::optional<int64_t> committed_us;  // UTC micros of updated_at; nullopt: never built
};
Result<std::vector<TableCommit>> ListTableCommits(Catalog& catalog);

// max(`column`) of `table` ("curated.orders") as UTC micros; nullopt when the table is empty or
// missing. Scans the column (DuckDB's min/max statistics skip most of it).
Result<std::optional<int64_t>> MaxEventMicros(Catalog& catalog, const std::string& table,
                                              const std::string& column);

// Rows per partition of `table`: `day_column` (as a date) and `tenant_column`, either "" when
// the table is not partitioned that way. Scans the partition columns.
struct PartitionRows {
  std::string partition;  // "day=2026-01-03/tenant=t01", "day=2026-01-03", "tenant=t01"
  int64_t rows = 0;
};
Result<std::vector<PartitionRows>> CountPartitionRows(Catalog& catalog, const std::string& table,
                                                      const std::string& day_column,
                                                      const std::string& tenant_column);

// meta.batches: per source, the rows of every batch by outcome, the batches quarantined now,
// and the commit durations (committed_at - started_at, seconds) of its batches.
struct SourceLedgerStats {
  std::string source;
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;
  int64_t rows_late = 0;
  int64_t quarantined_batches = 0;  // status 'quarantined' now
};
Result<std::vector<SourceLedgerStats>> LedgerStatsBySource(Catalog& catalog);
// The stream micro-batches of meta.batches (`sluice serve`; BatchRecord::cpu_us), summed over
// every source: their rows read, the engine thread's CPU seconds and the bytes of their staged
// files. Zeros for a lake written before these were recorded (read-only, it lacks the columns).
struct StreamIngestCost {
  double rows = 0;
  double cpu_seconds = 0;
  double bytes_written = 0;
};
Result<StreamIngestCost> StreamIngestCostOf(Catalog& catalog);
// Commit durations of `source`'s batches committed after `after_us` (UTC micros of
// committed_at; 0: all), with the latest committed_at seen (to pass as `after_us` next time).
struct CommitDurations {
  std::vector<double> seconds;
  int64_t last_committed_us = 0;
};
Result<CommitDurations> BatchCommitDurations(Catalog& catalog, const std::string& source, int64_t after_us);

// Per curated table ("orders"): the rows staged of the batches ever quarantined for it
// (meta.quarantine; released and dropped ones included), and of those dropped since.
struct QuarantinedRows {
  std::string table;
  int64_t quarantined = 0;
  int64_t dropped = 0;
};
Result<std::vector<QuarantinedRows>> QuarantinedRowsByTable(Catalog& catalog);

}  // namespace sluice
