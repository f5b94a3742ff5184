// Decoding and contract validation of one input file's bytes into a RecordBatch.
//
// Every record is classified exactly once: it either becomes a row of the batch's typed columns
// or a DeadLetter with a reason, so rows_read == rows() + dead.size() always holds (G1). No bulk
// reader's error skipping is involved. Never throws; bad input is data, not an error. A Status
// error is returned only when the input cannot be read as a whole (e.g. a CSV without a header).
//
// Per record: invalid UTF-8 -> bad_encoding; not one valid JSON object / broken CSV quoting or
// field count -> malformed_record. Otherwise each contract column, in contract order, is typed
// (value_parser.h; decimals exactly, never via double, and never silently rounded) and checked:
// NULL/missing + required -> missing_required (also an empty or whitespace-only value of a
// required string column, unless the column says allow_empty), wrong type -> bad_type, overflow / precision /
// min / max -> out_of_range; for strings: longer than max_field_bytes -> field_too_large, enum ->
// not_in_enum, pattern (RE2, whole value) -> pattern_mismatch, path column -> bad_partition_value.
// The first failing column is the record's one DeadLetter; the row is appended only if all pass.
// A leading UTF-8 byte order mark is ignored. Linear in the input; no recursion on its nesting.
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
  // match [A-Za-z0-9_.-]{1,128} (DuckDB would escape others in paths), not start with '.', else
  // bad_partition_value.
  std::vector<std::string> path_columns;
};

// Validator for one contract: compiled once (enum sets, RE2 patterns), then used per batch.
// Thread-compatible: use one per thread, or share const after construction.
class ContractValidator {
 public:
  // InvalidArgument (naming the contract file, line and column) for a pattern RE2 cannot
  // compile, a decimal type outside 1..18 digits, or a path column not in the contract.
  static Result<ContractValidator> Create(const Contract& contract, DecodeOptions options);
  ~ContractValidator();
  ContractValidator(ContractValidator&&) noexcept;
  ContractValidator& operator=(ContractValidator&&) noexcept;

  // JSON Lines: one object per line ("\n" or "\r\n"; the last may lack one); blank lines (only
  // whitespace) are skipped and not counted, but still numbered. Keys outside the contract are
  // ignored; of duplicate keys the last wins.
  Result<RecordBatch> DecodeJsonl(std::string_view data) const;
  // CSV with a header row naming the columns (RFC 4180 quoting; records may span lines).
  // Unquoted empty fields are NULL. A record with the wrong number of fields is malformed_record.
  // A header missing a required contract column is not an error: those rows dead-letter
  // with missing_required, so the batch reconciles. Header names match contract columns exactly;
  // others are ignored. InvalidArgument for an empty header line or a duplicate header name; an
  // empty input is 0 rows. Empty lines between records are skipped like JSONL's blank lines.
  Result<RecordBatch> DecodeCsv(std::string_view data) const;
  // Records given as one JSON object per element (used for Parquet, read via DuckDB's to_json),
  // numbered first_line, first_line + 1, ... (a chunk of a larger file starts past 1). Every
  // element counts, so an empty one is malformed_record, not skipped. RawSpan::offset is the
  // element's index in `records`.
  Result<RecordBatch> DecodeJsonRecords(const std::vector<std::string>& records,
                                        int64_t first_line = 1) const;

  const Contract& contract() const;

  struct Impl;  // internal (ingest/decoder_impl.h), shared by the per-format decoders

 private:
  explicit ContractValidator(Impl* impl);
  Impl* impl_ = nullptr;
};

}  // namespace sluice
