// Loading a Parquet file as one batch in bounded memory.
//
// The file's rows are read as JSON objects (DuckDB's to_json of each row, so that one validator
// serves every format), streamed on a second connection to the catalog's database, and decoded,
// appended to the temp tables batch_rows / batch_dlq (storage/staging.h) and checked against the
// contract's checks (row_checks.h) one chunk at a time: at most kParquetChunkRows rows or
// kParquetChunkBytes of JSON text, whichever comes first. What sluice holds outside DuckDB is one
// chunk's records and typed columns plus the batch's dead letters (with their raw text); the
// valid rows live in batch_rows, under DuckDB's memory_limit, which spills beyond it.
//
// The result is the same batch a whole-file decode gives: rows numbered 1..n in file order
// (DeadLetter::line, _source_line), the same rows staged, the same dead letters and messages.
// Not safe for concurrent use (it uses the catalog's connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "ingest/decoder.h"
#include "ingest/record_batch.h"
#include "spec/spec.h"
#include "storage/staging.h"

namespace sluice {

inline constexpr size_t kParquetChunkRows = size_t{128} * 1024;
inline constexpr size_t kParquetChunkBytes = size_t{16} << 20;

struct ParquetLoad {
  int64_t rows_read = 0;
  int64_t rows_staged = 0;       // the rows left in batch_rows (contract checks passed)
  std::vector<DeadLetter> dead;  // every dead letter of the file, in line order
};

// Replaces batch_rows and batch_dlq with the rows and dead letters of the Parquet file at `path`,
// stamped with `stamp`. InvalidArgument "not a readable Parquet file: ..." when DuckDB refuses
// the file's content; Unavailable when DuckDB ran out of memory (which says nothing about the
// file); the errors of loading and of the contract's checks (ApplyContractChecks) as they are.
// On error the temp tables hold part of the file: nothing is committed from them.
Result<ParquetLoad> LoadParquetBatch(Catalog& catalog, const SourceSpec& source,
                                     const ContractValidator& validator, const std::string& path,
                                     const BatchStamp& stamp);

}  // namespace sluice
