// Decoding and contract validation of one input file's bytes into a RecordBatch.
//
// Every record is classified exactly once: it either becomes a row of the batch's typed columns
// or a DeadLetter with a reason, so rows_read == rows() + dead.size() always holds (G1). No bulk
// reader's error skipping is involved. Never throws; bad input is data, not an error. A Status
// error is returned only when the input cannot be read as a whole (e.g. a CSV without a header).
#pragma once

#include <string_view>

#include "common/status.h"
#include "ingest/record_batch.h"
#include "spec/spec.h"

namespace sluice {

struct DecodeOptions {
  size_t max_field_bytes = 1 << 20;  // longer string values -> field_too_large
  char csv_delimiter = ',';
  // Columns whose values become path segments (the source's partition_by.tenant): values must
  // match [A-Za-z0-9_.=-]{1,128}, not start with '.', else bad_partition_value.
  std::vector<std::string> path_columns;
};

// Validator for one contract: compiled once (enum sets, RE2 patterns), then used per batch.
// Thread-compatible: use one per thread, or share const after construction.
class ContractValidator {
 public:
  static Result<ContractValidator> Create(const Contract& contract, DecodeOptions options);
  ~ContractValidator();
  ContractValidator(ContractValidator&&) noexcept;
  ContractValidator& operator=(ContractValidator&&) noexcept;

  // JSON Lines: one object per line; blank lines (only whitespace) are skipped and not counted.
  Result<RecordBatch> DecodeJsonl(std::string_view data) const;
  // CSV with a header row naming the columns (RFC 4180 quoting; records may span lines).
  // Unquoted empty fields are NULL. A record with the wrong number of fields is malformed_record.
  // A header missing a required contract column is not an error: those rows dead-letter
  // with missing_required, so the batch reconciles.
  Result<RecordBatch> DecodeCsv(std::string_view data) const;
  // Records given as one JSON object per element (used for Parquet, read via DuckDB's to_json),
  // numbered 1..n.
  Result<RecordBatch> DecodeJsonRecords(const std::vector<std::string>& records) const;

  const Contract& contract() const;

  struct Impl;  // internal (ingest/decoder_impl.h), shared by the per-format decoders

 private:
  explicit ContractValidator(Impl* impl);
  Impl* impl_ = nullptr;
};

}  // namespace sluice
