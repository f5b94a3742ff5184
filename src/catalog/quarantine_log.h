// Quarantine in the catalog: the status of a batch in the ledger (meta.batches.status:
// committed | quarantined | released | dropped) and the record of why and when
// (meta.quarantine: the failing tests, samples, and the times of quarantine, release, drop).
// The policy (which batch is quarantined, which transitions are allowed) is transform's
// (transform/quarantine.h); this file only reads and writes the rows.
//
// Writes run on the catalog's connection inside the caller's transaction. Errors: DuckDB's.
// Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

struct BatchRef {
  std::string source;
  std::string batch_id;
  std::string status;  // committed | quarantined | released | dropped
};

// What a batch is quarantined for.
struct QuarantineEntry {
  std::string source;
  std::string batch_id;
  std::string table;           // the curated table whose gate failed
  std::string tests;           // ", "-joined names of the failed tests
  std::string failures;        // one line describing them
  std::string sample;          // "; "-joined samples of failing keys; "" when none
  int64_t run_started_us = 0;  // the run's id; 0: now
};

// Sets the batch's status to quarantined and records `entry` (now).
Status RecordQuarantine(Catalog& catalog, const QuarantineEntry& entry);

// The ledger's batches with id `batch_id` (of `source` only, when given), ordered by source.
Result<std::vector<BatchRef>> FindBatchesNamed(Catalog& catalog, const std::optional<std::string>& source,
                                               const std::string& batch_id);

enum class QuarantineExit { kReleased, kDropped };
// Sets the batch's status to released | dropped and stamps released_at | dropped_at (now) on
// its open quarantine record. Does not check the current status.
Status RecordQuarantineExit(Catalog& catalog, const std::string& source, const std::string& batch_id,
                            QuarantineExit exit);

// True when the lake has the tables of quality gates (meta.test_results, meta.quarantine); a
// lake written before them, opened read-only, has not.
Result<bool> GateTablesExist(Catalog& catalog);

// The latest quarantine record of a batch.
struct QuarantineRecord {
  std::string table;
  std::string tests;
  std::optional<std::string> sample;
  std::string quarantined_at;  // "2026-01-03 10:15:00.123456" (UTC)
  std::optional<std::string> released_at;
  std::optional<std::string> dropped_at;
};

// A ledger row with its latest quarantine record, if it has one.
struct BatchListing {
  std::string source;
  std::string batch_id;
  int64_t batch_seq = 0;
  std::string status;
  int64_t rows_read = 0;
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;
  std::string committed_at;
  std::optional<std::string> file;
  std::optional<QuarantineRecord> quarantine;
  std::string correlation_id;  // `sluice trace` takes it
};

// Every batch (with status `status` only, when given), in commit order.
Result<std::vector<BatchListing>> ListBatchesWithQuarantine(Catalog& catalog,
                                                            const std::optional<std::string>& status);
// The batches now quarantined, in commit order, each with its latest quarantine record.
Result<std::vector<BatchListing>> QuarantinedBatches(Catalog& catalog);

}  // namespace sluice
