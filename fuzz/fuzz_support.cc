#include "fuzz_support.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sluice::fuzz {
namespace {

bool KnownReason(const std::string& r) {
  for (const char* k :
       {reason::kMalformedRecord, reason::kBadEncoding, reason::kMissingRequired, reason::kBadType,
        reason::kNotInEnum, reason::kOutOfRange, reason::kPatternMismatch, reason::kFieldTooLarge,
        reason::kTooLong, reason::kCheckFailed, reason::kBadPartitionValue}) {
    if (r == k) return true;
  }
  return false;
}

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool SafePathValue(std::string_view v) {
  if (v.empty() || v.size() > 128 || v[0] == '.') return false;
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string Where(const ColumnSpec& spec, size_t row) {
  return "column " + spec.name + " row " + std::to_string(row);
}

// The value of numeric column `c` at `row` as a double, for min/max.
double Numeric(const ColumnData& c, size_t row) {
  switch (c.type.kind) {
    case TypeKind::kInt32:
      return c.i32[row];
    case TypeKind::kInt64:
      return static_cast<double>(c.i64[row]);
    case TypeKind::kDecimal:
      return static_cast<double>(c.i64[row]) / std::pow(10.0, c.type.scale);
    default:
      return c.f64[row];
  }
}

}  // namespace

void Fail(const std::string& what) {
  std::fprintf(stderr, "invariant violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void CheckBatch(const Contract& contract, const DecodeOptions& options, const RecordBatch& batch) {
  const size_t rows = batch.rows();
  if (batch.rows_read < 0 || static_cast<uint64_t>(batch.rows_read) != rows + batch.dead.size()) {
    Fail("G1: rows_read " + std::to_string(batch.rows_read) + " != rows " + std::to_string(rows) +
         " + dead " + std::to_string(batch.dead.size()));
  }
  if (batch.columns.size() != contract.columns.size()) Fail("column count != contract columns");
  for (int64_t line : batch.source_line) {
    if (line < 1) Fail("row line " + std::to_string(line) + " < 1");
  }
  for (const DeadLetter& d : batch.dead) {
    if (d.line < 1) Fail("dead letter line " + std::to_string(d.line) + " < 1");
    if (!KnownReason(d.reason)) Fail("unknown dead-letter reason '" + d.reason + "'");
    if (!d.column.empty() && contract.Find(d.column) < 0) Fail("dead letter names column " + d.column);
    if (!ValidUtf8(d.raw)) Fail("dead letter raw text is not valid UTF-8");
    if (!ValidUtf8(d.message)) Fail("dead letter message is not valid UTF-8: " + d.message);
  }
  for (size_t c = 0; c < contract.columns.size(); ++c) {
    const ColumnSpec& spec = contract.columns[c];
    const ColumnData& col = batch.columns[c];
    if (!(col.type == spec.type)) Fail("column " + spec.name + " has the wrong type");
    if (col.valid.size() != rows) Fail("column " + spec.name + ": valid.size() != rows()");
    size_t values = 0;
    switch (spec.type.kind) {
      case TypeKind::kString:
        values = col.str_offsets.size() - 1;
        break;
      case TypeKind::kInt64:
      case TypeKind::kDecimal:
      case TypeKind::kTimestamp:
        values = col.i64.size();
        break;
      case TypeKind::kInt32:
      case TypeKind::kDate:
        values = col.i32.size();
        break;
      case TypeKind::kFloat:
      case TypeKind::kDouble:
        values = col.f64.size();
        break;
      case TypeKind::kBool:
        values = col.u8.size();
        break;
    }
    if (values != rows) {
      Fail("column " + spec.name + " has " + std::to_string(values) + " values for " + std::to_string(rows) +
           " rows");
    }
    if (spec.type.kind == TypeKind::kString && (col.str_offsets.empty() || col.str_offsets.front() != 0 ||
                                                col.str_offsets.back() != col.str_data.size())) {
      Fail("column " + spec.name + ": string offsets do not cover str_data");
    }
    for (size_t r = 0; r < rows; ++r) {
      if (col.valid[r] > 1) Fail(Where(spec, r) + ": valid flag is not 0/1");
      if (!col.valid[r]) {
        if (spec.required) Fail(Where(spec, r) + ": NULL in a required column");
        continue;
      }
      switch (spec.type.kind) {
        case TypeKind::kString: {
          if (col.str_offsets[r] > col.str_offsets[r + 1]) Fail(Where(spec, r) + ": offsets decrease");
          const std::string_view v = col.StringAt(r);
          if (!ValidUtf8(v)) Fail(Where(spec, r) + ": string value is not valid UTF-8");
          if (v.size() > options.max_field_bytes) Fail(Where(spec, r) + ": exceeds max_field_bytes");
          if (spec.max_length && static_cast<int64_t>(v.size()) > *spec.max_length) {
            Fail(Where(spec, r) + ": longer than max_length");
          }
          if (!spec.enum_values.empty()) {
            bool found = false;
            for (const auto& e : spec.enum_values) found = found || e == v;
            if (!found) Fail(Where(spec, r) + ": value not in enum");
          }
          for (const auto& p : options.path_columns) {
            if (p == spec.name && !SafePathValue(v)) Fail(Where(spec, r) + ": unsafe path value");
          }
          break;
        }
        case TypeKind::kBool:
          if (col.u8[r] > 1) Fail(Where(spec, r) + ": bool is not 0/1");
          break;
        case TypeKind::kFloat:
        case TypeKind::kDouble:
          if (!std::isfinite(col.f64[r])) Fail(Where(spec, r) + ": non-finite number");
          if (spec.type.kind == TypeKind::kFloat && std::fabs(col.f64[r]) > 3.4028234663852886e38) {
            Fail(Where(spec, r) + ": float out of range");
          }
          [[fallthrough]];
        case TypeKind::kInt32:
        case TypeKind::kInt64:
        case TypeKind::kDecimal: {
          if (spec.type.kind == TypeKind::kDecimal) {
            int64_t limit = 1;
            for (int i = 0; i < spec.type.precision; ++i) limit *= 10;
            if (col.i64[r] <= -limit || col.i64[r] >= limit) {
              Fail(Where(spec, r) + ": decimal exceeds its precision");
            }
          }
          const double v = Numeric(col, r);
          if (spec.min && v < *spec.min) Fail(Where(spec, r) + ": below min");
          if (spec.max && v > *spec.max) Fail(Where(spec, r) + ": above max");
          break;
        }
        default:
          break;
      }
    }
  }
}

ContractValidator MustCreateValidator(const std::string& yaml, DecodeOptions options) {
  Result<Contract> contract = ParseContract(yaml, "fuzz_contract.yaml");
  if (!contract.ok()) Fail("embedded contract does not parse: " + contract.status().ToString());
  Result<ContractValidator> validator = ContractValidator::Create(*contract, std::move(options));
  if (!validator.ok()) Fail("embedded contract does not compile: " + validator.status().ToString());
  return std::move(*validator);
}

}  // namespace sluice::fuzz
