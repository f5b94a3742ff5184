// The batch ledger (meta.batches) and the commit protocol of one staged batch.
//
// A batch is identified by (source, batch_id) (G2). Its ledger row, its staging files and its
// dead letters become visible in one catalog transaction (G4); files are written under temp
// names first and renamed after that transaction, and RecoverStaging finishes or undoes what a
// crash interrupted (G5).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// The statuses of a batch in the ledger: committed (by ingest), quarantined by a quality gate,
// then released or dropped by `sluice batches release|drop`.
inline constexpr std::array<const char*, 4> kBatchStatuses = {"committed", "quarantined", "released",
                                                              "dropped"};

struct BatchRecord {
  std::string source;
  std::string batch_id;
  int64_t batch_seq = 0;  // commit order of the lake: ties in curate go to the higher seq
  std::string content_hash;
  std::string file;
  int64_t rows_read = 0;
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;
  std::string status = "committed";
  std::string correlation_id;
  int64_t started_at = 0;    // UTC micros
  int64_t committed_at = 0;  // UTC micros
  int64_t decode_ms = 0;
  int64_t stage_ms = 0;
  // A redrive batch: the batches its rows were dead-lettered from, comma-separated; else "".
  std::string parent_batches;
  // A CSV batch: its header record as read, so dead-lettered rows can be re-parsed; else "".
  std::string csv_header;
  // Rows whose event time was behind their partition's watermark when they arrived (streams).
  int64_t rows_late = 0;
  // A micro-batch of a stream source (`sluice serve`): the CPU time of the engine thread that
  // decoded, checked and staged it, and the bytes of its staged files; -1 (NULL in the ledger)
  // for a file's batch, whose cost is in its run's summary (docs/METRICS.md).
  int64_t cpu_us = -1;
  int64_t bytes_written = -1;
};

// A staging file of a batch: written at tmp_path, visible at path (both relative to the lake).
struct StagedFile {
  std::string tmp_path;
  std::string path;
  std::string day;     // "" when the source is not partitioned by day
  std::string tenant;  // "" when not partitioned by tenant
  int64_t rows = 0;
};

// What staging wrote for a batch: its files, and the temp table (path, day, tenant, rows) that
// says which (day, tenant) partitions each file holds ("" when there is no file).
struct StagedBatch {
  std::vector<StagedFile> files;
  std::string partitions_table;
};

// True for batch ids usable in paths and SQL: [A-Za-z0-9_.:-]{1,128}, not starting with '.'.
bool IsValidBatchId(const std::string& id);

// The batch with this id, if committed.
Result<std::optional<BatchRecord>> FindBatch(Catalog& catalog, const std::string& source,
                                             const std::string& batch_id);
// A committed batch of `source` with this content hash, if any.
Result<std::optional<BatchRecord>> FindBatchByHash(Catalog& catalog, const std::string& source,
                                                   const std::string& content_hash);
// All committed batches, in commit order.
Result<std::vector<BatchRecord>> ListBatches(Catalog& catalog);
// The `limit` latest batches of the ledger (any status), newest first (the dashboard's list).
Result<std::vector<BatchRecord>> RecentBatches(Catalog& catalog, int64_t limit);

// Staging directory of a source's in-flight batch, relative to the lake.
std::string StagingTmpDir(const std::string& source, const std::string& batch_id);

// The commit protocol: in one transaction, assigns record.batch_seq and inserts the ledger row,
// the files and their partition index (staged.partitions_table), and the dead letters held in
// temp table `dlq_table` (may be empty: none); then
// renames every file from tmp_path to path, fsyncs, and removes the batch's temp directory.
// On error before the transaction commits nothing is visible; after it, RecoverStaging completes.
// Dead letters get the next dlq_ids of the lake (meta.counters), in line order, status 'open'.
// `in_transaction`, when given, runs inside the same transaction after the inserts (a redrive
// marks its DLQ rows there); its error rolls everything back.
Status CommitBatch(Catalog& catalog, BatchRecord& record, const StagedBatch& staged,
                   const std::string& dlq_table, const std::function<Status()>& in_transaction = {});

// Run at open: for each leftover temp directory, finishes the renames of a committed batch or
// deletes the files of an uncommitted one. Corruption when a committed file is missing entirely.
Status RecoverStaging(Catalog& catalog);

}  // namespace sluice
