// Internals of ContractValidator shared by decoder.cc, decoder_json.cc and decoder_csv.cc.
// Not part of the ingest layer's API.
//
// A record is decoded in two steps: the format-specific code fills one Slot per contract column
// (a typed value, NULL, missing, or a type error), then RowBuilder::Finish checks the slots in
// contract order and either appends the whole row to the batch or records one DeadLetter. Values
// reach the columns only after the whole row passed, so a row is all-or-nothing.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ingest/decoder.h"
#include "ingest/value_parser.h"

namespace sluice {

// A contract column compiled for checking.
struct ColumnRule {
  const ColumnSpec* spec = nullptr;
  std::string type_name;                          // "decimal(12,2)", for messages
  std::unordered_set<std::string_view> enum_set;  // views into spec->enum_values
  std::unique_ptr<RE2> pattern;
  bool path_column = false;
};

struct ContractValidator::Impl {
  Contract contract;
  DecodeOptions options;
  std::vector<ColumnRule> rules;                      // parallel to contract.columns
  std::unordered_map<std::string_view, int> by_name;  // views into contract.columns[i].name

  // Column index of `name`, or -1. `hint` is tried first: fields usually come in the same order.
  int Find(std::string_view name, size_t hint) const {
    if (hint < rules.size() && rules[hint].spec->name == name) return static_cast<int>(hint);
    auto it = by_name.find(name);
    return it == by_name.end() ? -1 : it->second;
  }
  // An empty batch with one typed column per contract column.
  RecordBatch NewBatch() const;
};

// One column's value in the record being decoded. Views point into the input or the parser's
// buffers and are valid until the record is finished.
struct Slot {
  enum class State : uint8_t { kMissing, kNull, kValue, kError };
  State state = State::kMissing;
  int64_t i64 = 0;               // int64, decimal (scaled), timestamp, date, bool
  double f64 = 0;                // double
  std::string_view str;          // string value
  std::string_view text;         // the input text of the value, for messages
  const char* reason = nullptr;  // kError only
  std::string message;           // kError only
};

// Collects one record's slots and turns them into a row or a dead letter of `batch`.
class RowBuilder {
 public:
  RowBuilder(const ContractValidator::Impl& impl, RecordBatch* batch)
      : impl_(impl), batch_(batch), slots_(impl.rules.size()) {}

  void Reset() {
    for (Slot& s : slots_) s.state = Slot::State::kMissing;
  }
  Slot& slot(int col) { return slots_[col]; }
  const ColumnRule& rule(int col) const { return impl_.rules[col]; }

  // Parses `text` as a value of column `col` (CSV fields, JSON numbers, JSON strings for decimal,
  // date and timestamp). With `quoted`, messages show the text as a quoted string.
  void SetFromText(int col, std::string_view text, bool quoted, bool bool_digits);
  // Marks column `col` as failed with `reason`: "expected <type>, got <got>" for bad_type.
  void SetTypeError(int col, std::string_view got);
  void SetError(int col, const char* reason, std::string message);

  // Checks the slots in contract order: appends the row, or records the first failure as the
  // record's single DeadLetter. `raw` is the record's input text, `span` where it is in the input
  // (kept with the row: RecordBatch::raw_spans).
  void Finish(int64_t line, std::string_view raw, RawSpan span);
  // Records a record-level failure (malformed_record, bad_encoding).
  void DeadRecord(int64_t line, const char* reason, std::string message, std::string_view raw);

 private:
  // A column with a declared `default` that has no value -- absent, null, or (a required
  // string without allow_empty) empty or blank -- takes the default, required or not.
  void FillDefault(int col);
  bool Check(int col, std::string* message, const char** reason) const;
  void Append();

  const ContractValidator::Impl& impl_;
  RecordBatch* batch_;
  std::vector<Slot> slots_;
};

// `raw` with every byte that is not part of valid UTF-8 replaced by "\xNN".
std::string EscapeInvalidUtf8(std::string_view raw);
// `text` cut to at most `max_bytes` (on a UTF-8 boundary, "..." appended), quoted, with quotes,
// backslashes and control characters escaped: for embedding a value in a message.
std::string QuoteForMessage(std::string_view text, size_t max_bytes = 64);
// `text` cut to at most `max_bytes` on a UTF-8 boundary, "..." appended when cut.
std::string TruncateForMessage(std::string_view text, size_t max_bytes = 64);

}  // namespace sluice
