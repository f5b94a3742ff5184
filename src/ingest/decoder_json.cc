// JSON records (JSONL lines, or one object per element for Parquet rows) -> RecordBatch.
//
// Each record is parsed once with simdjson On Demand. On Demand only validates what is consumed,
// so every value of the object is consumed: contract columns by their typed getters, all other
// values by Consume(), which walks them fully (bounded depth). Together with the check for
// content after the object, a record is a row only if it is entirely valid JSON.
#include <simdjson.h>

#include <cstring>
#include <utility>

#include "ingest/decoder.h"
#include "ingest/decoder_impl.h"

namespace sluice {
namespace {

namespace od = simdjson::ondemand;

// Deeper values are rejected as malformed instead of recursing further (stack safety).
constexpr int kMaxDepth = 256;

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  }
  return true;
}

class JsonRecordDecoder {
 public:
  JsonRecordDecoder(const ContractValidator::Impl& impl, RecordBatch* batch)
      : impl_(impl), batch_(batch), row_(impl, batch) {}

  // Classifies one record (without its line ending) as a row or a dead letter; `offset` is
  // where it is in the input (RawSpan).
  void Decode(std::string_view record, int64_t line, uint64_t offset) {
    ++batch_->rows_read;
    if (!simdjson::validate_utf8(record.data(), record.size())) {
      row_.DeadRecord(line, reason::kBadEncoding, "invalid UTF-8", record);
      return;
    }
    std::string error;
    if (!ParseRecord(record, &error)) {
      row_.DeadRecord(line, reason::kMalformedRecord, std::move(error), record);
      return;
    }
    row_.Finish(line, record, RawSpan{offset, record.size()});
  }

 private:
  // Fills the row's slots from `record`; false with *error set if it is not one JSON object.
  bool ParseRecord(std::string_view record, std::string* error) {
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy.
    const size_t needed = record.size() + simdjson::SIMDJSON_PADDING;
    if (buffer_.size() < needed) buffer_.resize(needed);
    std::memcpy(buffer_.data(), record.data(), record.size());
    std::memset(buffer_.data() + record.size(), ' ', simdjson::SIMDJSON_PADDING);

    od::document doc;
    auto err = parser_.iterate(buffer_.data(), record.size(), buffer_.size()).get(doc);
    od::object object;
    if (!err) err = doc.get_object().get(object);
    if (err == simdjson::INCORRECT_TYPE) {
      *error = "not a JSON object";
      return false;
    }
    row_.Reset();
    size_t hint = 0;
    if (!err) {
      for (auto field_result : object) {
        od::field field;
        std::string_view key;
        if ((err = std::move(field_result).get(field)) || (err = field.unescaped_key().get(key))) break;
        const int col = impl_.Find(key, hint);
        od::value value = field.value();
        if (col < 0) {
          err = Consume(value, 1);
        } else {
          hint = static_cast<size_t>(col) + 1;
          err = ParseColumn(col, value);
        }
        if (err) break;
      }
    }
    if (!err && doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      *error = "invalid JSON: unexpected content after the object";
      return false;
    }
    if (err) {
      *error = std::string("invalid JSON: ") + simdjson::error_message(err);
      return false;
    }
    return true;
  }

  // Reads `value` into column `col`'s slot. A JSON error (malformed record) is returned; a value
  // of the wrong type is recorded in the slot, after validating it.
  simdjson::error_code ParseColumn(int col, od::value& value) {
    od::json_type type;
    if (auto err = value.type().get(type)) return err;
    Slot& slot = row_.slot(col);
    const TypeKind kind = row_.rule(col).spec->type.kind;
    switch (type) {
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = value.is_null().get(is_null)) return err;
        if (!is_null) return simdjson::N_ATOM_ERROR;
        slot.state = Slot::State::kNull;
        return simdjson::SUCCESS;
      }
      case od::json_type::string: {
        if (kind != TypeKind::kString && kind != TypeKind::kDecimal && kind != TypeKind::kDate &&
            kind != TypeKind::kTimestamp) {
          break;
        }
        std::string_view s;
        if (auto err = value.get_string().get(s)) return err;
        if (kind == TypeKind::kString) {
          slot.state = Slot::State::kValue;
          slot.str = slot.text = s;
        } else {
          row_.SetFromText(col, s, /*quoted=*/true, /*bool_digits=*/false);
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::number: {
        if (kind != TypeKind::kInt32 && kind != TypeKind::kInt64 && kind != TypeKind::kFloat &&
            kind != TypeKind::kDouble && kind != TypeKind::kDecimal) {
          break;
        }
        const std::string_view text = TrimJsonSpace(value.raw_json_token());
        bool is_integer = false;
        if (!ScanJsonNumber(text, &is_integer)) return simdjson::NUMBER_ERROR;
        if ((kind == TypeKind::kInt64 || kind == TypeKind::kInt32) && !is_integer) {
          row_.SetTypeError(col, text);
        } else {
          row_.SetFromText(col, text, /*quoted=*/false, /*bool_digits=*/false);
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        if (kind != TypeKind::kBool) break;
        bool b = false;
        if (auto err = value.get_bool().get(b)) return err;
        slot.state = Slot::State::kValue;
        slot.i64 = b;
        return simdjson::SUCCESS;
      }
      case od::json_type::object:
      case od::json_type::array:
        break;
    }
    // Wrong JSON type for the column: validate the value, then record bad_type.
    std::string got;
    if (auto err = Consume(value, 1, &got)) return err;
    row_.SetTypeError(col, got);
    return simdjson::SUCCESS;
  }

  // Walks `value` completely so that all of it is validated. With `got`, also describes it for
  // a bad_type message: the JSON token for scalars, "object" or "array" for containers.
  simdjson::error_code Consume(od::value& value, int depth, std::string* got = nullptr) {
    if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
    od::json_type type;
    if (auto err = value.type().get(type)) return err;
    switch (type) {
      case od::json_type::object: {
        if (got) *got = "object";
        od::object object;
        if (auto err = value.get_object().get(object)) return err;
        for (auto field_result : object) {
          od::field field;
          std::string_view key;
          if (auto err = std::move(field_result).get(field)) return err;
          if (auto err = field.unescaped_key().get(key)) return err;
          od::value child = field.value();
          if (auto err = Consume(child, depth + 1)) return err;
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::array: {
        if (got) *got = "array";
        od::array array;
        if (auto err = value.get_array().get(array)) return err;
        for (auto element : array) {
          od::value child;
          if (auto err = element.get(child)) return err;
          if (auto err = Consume(child, depth + 1)) return err;
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto err = value.get_string().get(s)) return err;
        if (got) *got = QuoteForMessage(s);
        return simdjson::SUCCESS;
      }
      case od::json_type::number: {
        const std::string_view text = TrimJsonSpace(value.raw_json_token());
        bool is_integer;
        if (!ScanJsonNumber(text, &is_integer)) return simdjson::NUMBER_ERROR;
        if (got) *got = TruncateForMessage(text);
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto err = value.get_bool().get(b)) return err;
        if (got) *got = b ? "true" : "false";
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = value.is_null().get(is_null)) return err;
        if (got) *got = "null";
        return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
      }
    }
    return simdjson::TAPE_ERROR;
  }

  const ContractValidator::Impl& impl_;
  RecordBatch* batch_;
  RowBuilder row_;
  od::parser parser_;
  std::string buffer_;  // padded copy of the current record
};

}  // namespace

Result<RecordBatch> ContractValidator::DecodeJsonl(std::string_view data) const {
  RecordBatch batch = impl_->NewBatch();
  JsonRecordDecoder decoder(*impl_, &batch);
  const char* const input = data.data();
  if (data.starts_with("\xEF\xBB\xBF")) data.remove_prefix(3);  // UTF-8 byte order mark
  int64_t line = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    ++line;
    const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
    const size_t end = nl ? static_cast<const char*>(nl) - data.data() : data.size();
    std::string_view record = data.substr(pos, end - pos);
    pos = end + 1;
    if (record.ends_with('\r')) record.remove_suffix(1);
    if (IsBlank(record)) continue;
    decoder.Decode(record, line, static_cast<uint64_t>(record.data() - input));
  }
  return batch;
}

Result<RecordBatch> ContractValidator::DecodeJsonRecords(const std::vector<std::string>& records,
                                                         int64_t first_line) const {
  RecordBatch batch = impl_->NewBatch();
  JsonRecordDecoder decoder(*impl_, &batch);
  // Every element is a record the caller counted: even a blank one is classified (malformed).
  for (size_t i = 0; i < records.size(); ++i) {
    decoder.Decode(records[i], first_line + static_cast<int64_t>(i), i);
  }
  return batch;
}

}  // namespace sluice
