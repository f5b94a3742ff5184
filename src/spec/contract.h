// A data contract: the columns a source's records must have, their types and rules.
//
// Parsed from the user's contracts/<name>.yaml. The validator (ingest/) enforces it row by row;
// the schema registry (catalog/) compares versions of it. Plain data, safe to share read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

enum class TypeKind { kString, kInt32, kInt64, kFloat, kDouble, kDecimal, kBool, kDate, kTimestamp };

struct ColumnType {
  TypeKind kind = TypeKind::kString;
  int precision = 0;  // decimal only: 1..18
  int scale = 0;      // decimal only: 0..precision

  // The contract spelling: "string", "int32", "int64", "float", "decimal(12,2)", ...
  std::string Name() const;
  // The DuckDB type used in staging, curated and published tables: "VARCHAR", "INTEGER",
  // "BIGINT", "FLOAT", "DOUBLE", "DECIMAL(12,2)", "BOOLEAN", "DATE", "TIMESTAMP".
  std::string DuckType() const;
  bool operator==(const ColumnType&) const = default;
};

// Parses "string", "int32", "int64", "float", "double", "decimal(p,s)", "bool", "date",
// "timestamp".
// InvalidArgument names the known types when `text` is none of them.
Result<ColumnType> ParseColumnType(const std::string& text);

struct ColumnSpec {
  std::string name;
  ColumnType type;
  bool required = false;
  std::vector<std::string> enum_values;  // empty: any value
  std::optional<double> min;             // numeric types only
  std::optional<double> max;
  std::optional<std::string> pattern;  // RE2 syntax, must match the whole string value
  std::optional<int64_t> max_length;   // string only: at most this many bytes
  // The value old rows read when this column did not exist yet (schema evolution), as YAML
  // text; a column without one that is not `required` defaults to NULL.
  std::optional<std::string> default_value;
  // A required string column refuses "" and whitespace-only values (missing_required) unless
  // this is set; never allowed on a key column (spec validation refuses that).
  bool allow_empty = false;
  int line = 0;  // 1-based line in the contract file, for messages
  // 1-based position of the `default:` value, for messages (0: none, or not from a file).
  int default_line = 0, default_column = 0;

  // True when old data can be read with this column absent: a declared default, or nullable.
  bool HasDefault() const { return default_value.has_value() || !required; }
  bool operator==(const ColumnSpec&) const = default;
};

// A row-level rule across columns, as a SQL boolean expression over the contract's columns:
// `checks: [{name: small_or_jpy, expr: "amount <= 10000 OR currency = 'JPY'"}]`. A row for which
// it is false is dead-lettered with reason `check_failed` naming the check; NULL passes (as in
// SQL CHECK constraints).
struct ContractCheck {
  std::string name;
  std::string expr;
  int line = 0;
  bool operator==(const ContractCheck&) const = default;
};

struct Contract {
  std::string name;
  std::string compatibility = "full_transitive";
  std::vector<ColumnSpec> columns;
  std::vector<ContractCheck> checks;
  std::string path;  // the file it was read from, as given
  // 1-based position of the `name:` value in that file, for messages (0: not from a file).
  int name_line = 0, name_column = 0;

  // Index into `columns`, or -1.
  int Find(const std::string& column) const;
};

// Reads and validates a contract file. Errors name the file, line and field:
// "contracts/orders.yaml:7:15: columns.amount.type: unknown type 'money' (known: string, ...)".
Result<Contract> LoadContract(const std::string& path);
// Same, from text already in memory; `path` is used in messages only.
Result<Contract> ParseContract(const std::string& text, const std::string& path);

// True for names usable as table, source and column identifiers: [a-z_][a-z0-9_]{0,62}.
// Everything the user names is checked against this before it reaches SQL or a path.
bool IsValidIdentifier(const std::string& name);

}  // namespace sluice
