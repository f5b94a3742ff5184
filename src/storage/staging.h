// Staging: a batch's valid rows as immutable Parquet files, one file per (batch, day), whatever
// the number of tenants — a file batch and a stream micro-batch alike:
//   <lake>/staging/<source>/v<contract version>/day=2026-01-03/<batch_id>_0.parquet
//   <lake>/staging/<source>/v<contract version>/<batch_id>_0.parquet    (no day partition)
// Rows are sorted by tenant within a file and written in row groups of kStagingRowGroupRows, so
// a tenant filter skips row groups by their Parquet statistics, while a day filter skips whole
// files by their hive path. The number of files grows with batches (and the days each spans),
// not with batches x tenants. Every file under one v<N> directory has the same columns (those of
// contract version N), so the staging view reads each version's directory through one glob
// (catalog.h, RefreshStagingView) and never lists files.
// meta.files has one row per file (day set, tenant NULL); meta.file_partitions indexes which
// (day, tenant) partitions each file holds, with row counts.
// Each row carries its contract columns plus _batch_id, _ingested_at, _correlation_id and
// _source_line. Files are written under the batch's temp directory; the commit protocol
// (catalog/ledger.h) renames them into place after the catalog commit, so a glob sees committed
// batches only (G4).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/ledger.h"
#include "ingest/record_batch.h"

namespace sluice {

struct BatchStamp {
  std::string batch_id;
  std::string correlation_id;
  int64_t ingested_at = 0;  // UTC micros
  // A micro-batch of several requests or messages: (first line, correlation id) of each part,
  // ascending; a row (or dead letter) at line L takes the id of the last part starting at or
  // before L. Empty: every row takes `correlation_id`.
  std::vector<std::pair<int64_t, std::string>> parts;

  const std::string& CorrelationFor(int64_t line) const;
};

// Loads `batch` into the connection's temp table `batch_rows` (contract + meta columns) and
// its dead letters into `batch_dlq` (the dlq.<source> layout). Replaces earlier contents.
Status LoadBatchTables(Catalog& catalog, const SourceSpec& source, const RecordBatch& batch,
                       const BatchStamp& stamp);

// A batch loaded in parts (a large Parquet file, chunk by chunk): CreateBatchTables creates
// `batch_rows` and `batch_dlq` empty (replacing earlier ones), then each part's rows are
// appended with AppendBatchRows and its dead letters with AppendDeadLetters. LoadBatchTables is
// the three for one whole batch. Every part must carry the same stamp.
Status CreateBatchTables(Catalog& catalog, const SourceSpec& source);
Status AppendBatchRows(Catalog& catalog, const SourceSpec& source, const RecordBatch& batch,
                       const BatchStamp& stamp);

// Appends batch.dead[from..] to `batch_dlq` (created by LoadBatchTables): the rows a later
// row-level step (contract checks) moved out of `batch_rows`.
Status AppendDeadLetters(Catalog& catalog, const RecordBatch& batch, size_t from, const BatchStamp& stamp);

// Rows per Parquet row group of a staging file: small enough that a tenant filter skips most
// of a large day's row groups, large enough to keep scans and compression efficient.
inline constexpr int64_t kStagingRowGroupRows = 16384;

// Writes `batch_rows` as Parquet under StagingTmpDir(source, batch id), one file per day, fsyncs
// the files and their directories, and returns them with the final paths they will be renamed
// to, plus their partition index in temp table `batch_partitions`. No file for an empty batch.
Result<StagedBatch> WriteStagingFiles(Catalog& catalog, const SourceSpec& source, const BatchStamp& stamp);

}  // namespace sluice
