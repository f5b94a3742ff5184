// ContractValidator construction and the per-row checks shared by every input format.
// The formats themselves live in decoder_json.cc and decoder_csv.cc.
#include "ingest/decoder.h"

#include <simdjson.h>

#include <cfloat>
#include <charconv>
#include <climits>
#include <cmath>
#include <utility>

#include "common/utf8.h"
#include "ingest/decoder_impl.h"

namespace sluice {
namespace {

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                             1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

std::string FormatDouble(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

// Values of path columns become directory names (tenant=<value>): no separators, no "..".
bool IsSafePathValue(std::string_view v) {
  if (v.empty() || v.size() > 128 || v[0] == '.') return false;
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Empty, or only ASCII whitespace (space, \t, \n, \v, \f, \r).
bool IsBlank(std::string_view v) {
  for (char c : v) {
    if (c != ' ' && (c < '\t' || c > '\r')) return false;
  }
  return true;
}

}  // namespace

std::string EscapeInvalidUtf8(std::string_view raw) {
  if (simdjson::validate_utf8(raw.data(), raw.size())) return std::string(raw);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() + 16);
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  for (size_t i = 0; i < raw.size();) {
    const size_t len = Utf8SequenceLength(p + i, raw.size() - i);
    if (len == 0) {
      out += "\\x";
      out += kHex[p[i] >> 4];
      out += kHex[p[i] & 0xF];
      ++i;
    } else {
      out.append(raw.data() + i, len);
      i += len;
    }
  }
  return out;
}

std::string TruncateForMessage(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string QuoteForMessage(std::string_view text, size_t max_bytes) {
  const std::string cut = TruncateForMessage(text, max_bytes);
  std::string out = "\"";
  for (char c : cut) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------
// ContractValidator

Result<ContractValidator> ContractValidator::Create(const Contract& contract, DecodeOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->contract = contract;
  impl->options = std::move(options);
  impl->rules.resize(impl->contract.columns.size());
  for (size_t i = 0; i < impl->contract.columns.size(); ++i) {
    const ColumnSpec& spec = impl->contract.columns[i];
    ColumnRule& rule = impl->rules[i];
    const std::string where =
        impl->contract.path + ":" + std::to_string(spec.line) + ": columns." + spec.name;
    rule.spec = &spec;
    rule.type_name = spec.type.Name();
    if (spec.type.kind == TypeKind::kDecimal &&
        (spec.type.precision < 1 || spec.type.precision > 18 || spec.type.scale < 0 ||
         spec.type.scale > spec.type.precision)) {
      return Status::InvalidArgument(where +
                                     ".type: decimal precision must be 1..18 and scale "
                                     "0..precision");
    }
    for (const std::string& v : spec.enum_values) rule.enum_set.insert(v);
    if (spec.pattern) {
      RE2::Options re_options;
      re_options.set_log_errors(false);
      rule.pattern = std::make_unique<RE2>(*spec.pattern, re_options);
      if (!rule.pattern->ok()) {
        return Status::InvalidArgument(where + ".pattern: invalid RE2 pattern '" + *spec.pattern +
                                       "': " + rule.pattern->error());
      }
    }
    impl->by_name.emplace(spec.name, static_cast<int>(i));
  }
  {
    // Defaults fill values at decode time (RowBuilder::FillDefault): each must parse as its type.
    RecordBatch scratch = impl->NewBatch();
    RowBuilder builder(*impl, &scratch);
    for (size_t i = 0; i < impl->contract.columns.size(); ++i) {
      const ColumnSpec& spec = impl->contract.columns[i];
      if (!spec.default_value) continue;
      builder.SetFromText(static_cast<int>(i), *spec.default_value, /*quoted=*/true, /*bool_digits=*/true);
      const Slot& slot = builder.slot(static_cast<int>(i));
      if (slot.state != Slot::State::kValue) {
        return Status::InvalidArgument(impl->contract.path + ":" + std::to_string(spec.line) + ": columns." +
                                       spec.name + ".default: " + slot.message);
      }
    }
  }
  for (const std::string& name : impl->options.path_columns) {
    auto it = impl->by_name.find(name);
    if (it == impl->by_name.end()) {
      return Status::InvalidArgument(impl->contract.path + ": partition column '" + name +
                                     "' is not a column of the contract");
    }
    impl->rules[it->second].path_column = true;
  }
  return ContractValidator(impl.release());
}

ContractValidator::ContractValidator(Impl* impl) : impl_(impl) {}
ContractValidator::~ContractValidator() { delete impl_; }
ContractValidator::ContractValidator(ContractValidator&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {}
ContractValidator& ContractValidator::operator=(ContractValidator&& other) noexcept {
  if (this != &other) {
    delete impl_;
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

const Contract& ContractValidator::contract() const { return impl_->contract; }

RecordBatch ContractValidator::Impl::NewBatch() const {
  RecordBatch batch;
  batch.columns.resize(contract.columns.size());
  for (size_t i = 0; i < contract.columns.size(); ++i) batch.columns[i].type = contract.columns[i].type;
  return batch;
}

// ---------------------------------------------------------------------------------------------
// RowBuilder

void RowBuilder::SetFromText(int col, std::string_view text, bool quoted, bool bool_digits) {
  Slot& s = slots_[col];
  const ColumnType& type = rule(col).spec->type;
  s.text = text;
  ParseOutcome outcome = ParseOutcome::kOk;
  switch (type.kind) {
    case TypeKind::kString:
      s.str = text;
      break;
    case TypeKind::kInt32:
      outcome = ParseInt64(text, &s.i64);
      if (outcome == ParseOutcome::kOk && (s.i64 < INT32_MIN || s.i64 > INT32_MAX)) {
        outcome = ParseOutcome::kOutOfRange;
      }
      break;
    case TypeKind::kInt64:
      outcome = ParseInt64(text, &s.i64);
      break;
    case TypeKind::kFloat:
      outcome = ParseDouble(text, &s.f64);
      if (outcome == ParseOutcome::kOk && std::fabs(s.f64) > FLT_MAX) {
        outcome = ParseOutcome::kOutOfRange;
      }
      break;
    case TypeKind::kDouble:
      outcome = ParseDouble(text, &s.f64);
      break;
    case TypeKind::kDecimal:
      outcome = ParseDecimal(text, type.precision, type.scale, &s.i64);
      break;
    case TypeKind::kBool: {
      bool b = false;
      outcome = ParseBool(text, bool_digits, &b);
      s.i64 = b;
      break;
    }
    case TypeKind::kDate: {
      int32_t days = 0;
      outcome = ParseDate(text, &days);
      s.i64 = days;
      break;
    }
    case TypeKind::kTimestamp:
      outcome = ParseTimestamp(text, &s.i64);
      break;
  }
  if (outcome == ParseOutcome::kOk) {
    s.state = Slot::State::kValue;
    return;
  }
  const std::string got = quoted ? QuoteForMessage(text) : TruncateForMessage(text);
  if (outcome == ParseOutcome::kBadSyntax) {
    SetTypeError(col, got);
  } else if (outcome == ParseOutcome::kExcessScale) {
    // A well-formed number the type cannot hold without rounding: the wrong type, not a range.
    SetError(col, reason::kBadType,
             got + " has " + std::to_string(DecimalPlaces(text)) + " decimal places, " + rule(col).type_name +
                 " allows " + std::to_string(type.scale));
  } else {
    SetError(col, reason::kOutOfRange, got + " does not fit " + rule(col).type_name);
  }
}

void RowBuilder::SetTypeError(int col, std::string_view got) {
  SetError(col, reason::kBadType, "expected " + rule(col).type_name + ", got " + TruncateForMessage(got));
}

void RowBuilder::SetError(int col, const char* reason, std::string message) {
  Slot& s = slots_[col];
  s.state = Slot::State::kError;
  s.reason = reason;
  s.message = std::move(message);
}

bool RowBuilder::Check(int col, std::string* message, const char** why) const {
  const Slot& s = slots_[col];
  const ColumnRule& r = rule(col);
  const ColumnSpec& spec = *r.spec;
  switch (s.state) {
    case Slot::State::kMissing:
    case Slot::State::kNull:
      if (!spec.required) return true;
      *why = reason::kMissingRequired;
      *message = s.state == Slot::State::kNull ? "required column is null" : "required column is missing";
      return false;
    case Slot::State::kError:
      *why = s.reason;
      *message = s.message;
      return false;
    case Slot::State::kValue:
      break;
  }
  double numeric;
  switch (spec.type.kind) {
    case TypeKind::kString:
      // An empty or blank value of a required string column (every key column is one) is no
      // value at all: the same in every format, where CSV's unquoted empty field reads NULL.
      if (spec.required && !spec.allow_empty && IsBlank(s.str)) {
        *why = reason::kMissingRequired;
        *message = s.str.empty() ? "required column is empty" : "required column is blank";
        return false;
      }
      if (s.str.size() > impl_.options.max_field_bytes) {
        *why = reason::kFieldTooLarge;
        *message = "value of " + std::to_string(s.str.size()) + " bytes exceeds the limit of " +
                   std::to_string(impl_.options.max_field_bytes) + " bytes";
        return false;
      }
      if (spec.max_length && static_cast<int64_t>(s.str.size()) > *spec.max_length) {
        *why = reason::kTooLong;
        *message = "value of " + std::to_string(s.str.size()) + " bytes is longer than max_length " +
                   std::to_string(*spec.max_length);
        return false;
      }
      if (!r.enum_set.empty() && !r.enum_set.contains(s.str)) {
        *why = reason::kNotInEnum;
        *message = QuoteForMessage(s.str) + " is not one of:";
        for (const std::string& v : spec.enum_values) *message += " " + v;
        return false;
      }
      if (r.pattern && !RE2::FullMatch(s.str, *r.pattern)) {
        *why = reason::kPatternMismatch;
        *message = QuoteForMessage(s.str) + " does not match pattern " + *spec.pattern;
        return false;
      }
      if (r.path_column && !IsSafePathValue(s.str)) {
        *why = reason::kBadPartitionValue;
        *message = QuoteForMessage(s.str) +
                   " cannot be a partition path segment (allowed: [A-Za-z0-9_.-]{1,128}, "
                   "not starting with '.')";
        return false;
      }
      return true;
    case TypeKind::kInt32:
    case TypeKind::kInt64:
      numeric = static_cast<double>(s.i64);
      break;
    case TypeKind::kDecimal:
      numeric = static_cast<double>(s.i64) / kPow10[spec.type.scale];
      break;
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      numeric = s.f64;
      break;
    default:
      return true;
  }
  if (spec.min && numeric < *spec.min) {
    *why = reason::kOutOfRange;
    *message = TruncateForMessage(s.text) + " is below the minimum " + FormatDouble(*spec.min);
    return false;
  }
  if (spec.max && numeric > *spec.max) {
    *why = reason::kOutOfRange;
    *message = TruncateForMessage(s.text) + " is above the maximum " + FormatDouble(*spec.max);
    return false;
  }
  return true;
}

void RowBuilder::FillDefault(int col) {
  const ColumnSpec& spec = *rule(col).spec;
  if (!spec.default_value) return;
  const Slot& s = slots_[col];
  const bool blank = s.state == Slot::State::kValue && spec.type.kind == TypeKind::kString && spec.required &&
                     !spec.allow_empty && IsBlank(s.str);
  if (s.state != Slot::State::kMissing && s.state != Slot::State::kNull && !blank) return;
  // The view points into the validator's own copy of the contract: valid as long as it is.
  SetFromText(col, *spec.default_value, /*quoted=*/true, /*bool_digits=*/true);
}

void RowBuilder::Finish(int64_t line, std::string_view raw, RawSpan span) {
  for (size_t c = 0; c < slots_.size(); ++c) FillDefault(static_cast<int>(c));
  for (size_t c = 0; c < slots_.size(); ++c) {
    std::string message;
    const char* why = nullptr;
    if (!Check(static_cast<int>(c), &message, &why)) {
      batch_->dead.push_back(DeadLetter{line, why, rule(static_cast<int>(c)).spec->name, std::move(message),
                                        EscapeInvalidUtf8(raw)});
      return;
    }
  }
  Append();
  batch_->source_line.push_back(line);
  batch_->raw_spans.push_back(span);
}

void RowBuilder::DeadRecord(int64_t line, const char* why, std::string message, std::string_view raw) {
  batch_->dead.push_back(DeadLetter{line, why, "", std::move(message), EscapeInvalidUtf8(raw)});
}

void RowBuilder::Append() {
  for (size_t c = 0; c < slots_.size(); ++c) {
    const Slot& s = slots_[c];
    ColumnData& col = batch_->columns[c];
    const bool valid = s.state == Slot::State::kValue;
    col.valid.push_back(valid);
    switch (col.type.kind) {
      case TypeKind::kString:
        if (valid) col.str_data.append(s.str);
        col.str_offsets.push_back(col.str_data.size());
        break;
      case TypeKind::kInt64:
      case TypeKind::kDecimal:
      case TypeKind::kTimestamp:
        col.i64.push_back(valid ? s.i64 : 0);
        break;
      case TypeKind::kInt32:
      case TypeKind::kDate:
        col.i32.push_back(valid ? static_cast<int32_t>(s.i64) : 0);
        break;
      case TypeKind::kFloat:
      case TypeKind::kDouble:
        col.f64.push_back(valid ? s.f64 : 0.0);
        break;
      case TypeKind::kBool:
        col.u8.push_back(valid && s.i64 != 0);
        break;
    }
  }
}

}  // namespace sluice
