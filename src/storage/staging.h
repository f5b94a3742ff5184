// Staging: a batch's valid rows as immutable Parquet files. A file batch is hive-partitioned by
// day and tenant; a stream micro-batch (thousands of rows spread over every partition) is one
// file, since a file per partition would make staging a heap of tiny files:
//   <lake>/staging/<source>/day=2026-01-03/tenant=t07/<batch_id>_0.parquet   (StagingLayout::kPartitioned)
//   <lake>/staging/<source>/stream/<batch_id>_0.parquet                      (StagingLayout::kOneFile)
// Readers list files in meta.files, whose day and tenant are NULL for a one-file batch: the
// staging view takes day and tenant from the hive path of a partitioned file (so that a query on
// them reads only that partition's files) and computes them from the rows of the others
// (catalog.h, StagingPartitionColumns).
// Each row carries its contract columns plus _batch_id, _ingested_at, _correlation_id and
// _source_line. Files are written under the batch's temp directory; the commit protocol
// (catalog/ledger.h) makes them visible.
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

enum class StagingLayout { kPartitioned, kOneFile };

// Writes `batch_rows` as Parquet under StagingTmpDir(source, batch id), fsyncs the files and
// their directories, and returns them with the final paths they will be renamed to.
Result<std::vector<StagedFile>> WriteStagingFiles(Catalog& catalog, const SourceSpec& source,
                                                  const BatchStamp& stamp,
                                                  StagingLayout layout = StagingLayout::kPartitioned);

}  // namespace sluice
