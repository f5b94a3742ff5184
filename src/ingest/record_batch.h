// RecordBatch: the rows of one input batch that passed their contract, as typed columns, plus
// the rows that did not, as dead letters. Produced by DecodeBatch (decoder.h), consumed by the
// staging writer. Not thread-safe; one batch is built by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spec/contract.h"

namespace sluice {

// One typed column. Which vector holds the values depends on the column's TypeKind:
//   kString              -> str_data/str_offsets (value i is [offsets[i], offsets[i+1]))
//   kInt64, kDecimal     -> i64 (decimals scaled by 10^scale), kTimestamp -> i64 (UTC micros)
//   kInt32               -> i32, kDate -> i32 (days since 1970-01-01)
//   kDouble, kFloat      -> f64 (floats are narrowed when staged)
//   kBool                -> u8 (0/1)
// `valid[i]` is 0 for NULL; the value slot then holds a zero / empty string.
struct ColumnData {
  ColumnType type;
  std::vector<int64_t> i64;
  std::vector<int32_t> i32;
  std::vector<double> f64;
  std::vector<uint8_t> u8;
  std::string str_data;
  std::vector<uint64_t> str_offsets{0};
  std::vector<uint8_t> valid;

  size_t size() const { return valid.size(); }
  std::string_view StringAt(size_t i) const {
    return std::string_view(str_data).substr(str_offsets[i], str_offsets[i + 1] - str_offsets[i]);
  }
};

// Machine-readable reasons a row is dead-lettered (the `reason` column of dlq.<source>).
namespace reason {
inline constexpr const char* kMalformedRecord = "malformed_record";  // not a JSON object / bad CSV
inline constexpr const char* kBadEncoding = "bad_encoding";          // invalid UTF-8
inline constexpr const char* kMissingRequired = "missing_required";
inline constexpr const char* kBadType = "bad_type";
inline constexpr const char* kNotInEnum = "not_in_enum";
inline constexpr const char* kOutOfRange = "out_of_range";
inline constexpr const char* kPatternMismatch = "pattern_mismatch";
inline constexpr const char* kFieldTooLarge = "field_too_large";          // > DecodeOptions limit
inline constexpr const char* kTooLong = "too_long";                       // > the column's max_length
inline constexpr const char* kCheckFailed = "check_failed";               // a contract check was false
inline constexpr const char* kBadPartitionValue = "bad_partition_value";  // unsafe in a path
inline constexpr const char* kTenantForbidden = "tenant_forbidden";  // pushed with another tenant's token
// Every reason above, for the commands that filter by one (`sluice dlq list --reason`).
inline constexpr std::array<const char*, 12> kAll = {
    kMalformedRecord, kBadEncoding,   kMissingRequired, kBadType,     kNotInEnum,         kOutOfRange,
    kPatternMismatch, kFieldTooLarge, kTooLong,         kCheckFailed, kBadPartitionValue, kTenantForbidden};
}  // namespace reason

struct DeadLetter {
  int64_t line = 0;     // 1-based line (JSONL, CSV: first line of the record) or row (Parquet)
  std::string reason;   // one of reason::k*
  std::string column;   // the offending contract column; empty for record-level reasons
  std::string message;  // human-readable detail: "expected int64, got \"abc\""
  std::string raw;      // the input record as read; invalid UTF-8 bytes escaped as \xNN
};

// Where a valid row's record is in the decoder's input, so that its raw text can be recovered
// later (a contract check failing after decoding) without copying every record. DecodeJsonl and
// DecodeCsv: a byte range of `data` as passed (a leading BOM included in the offsets);
// DecodeJsonRecords: offset is the element's index and length its size.
struct RawSpan {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct RecordBatch {
  std::vector<ColumnData> columns;   // one per contract column, in contract order
  std::vector<int64_t> source_line;  // per valid row: its line (as DeadLetter::line)
  std::vector<RawSpan> raw_spans;    // per valid row: its record in the input
  std::vector<DeadLetter> dead;
  int64_t rows_read = 0;   // G1: rows_read == rows() + dead.size()
  std::string csv_header;  // DecodeCsv: the header record as read (to re-parse rows)

  size_t rows() const { return source_line.size(); }
};

// Keeps the valid rows i with keep[i] != 0 (keep.size() == rows()), in order: every column,
// source_line and raw_spans. Dead letters and rows_read are the caller's to adjust.
void KeepRows(RecordBatch& batch, const std::vector<uint8_t>& keep);

}  // namespace sluice
