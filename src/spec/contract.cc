#include "spec/contract.h"

#include <cctype>

#include "spec/yaml_file.h"

namespace sluice {
namespace {

constexpr const char* kKnownTypes =
    "string, int32, int64, float, double, decimal(p,s), bool, date, timestamp";

// Columns the engine adds to every staged row, or uses as hive partition directories.
const std::vector<std::string>& ReservedColumns() {
  static const std::vector<std::string> kReserved = {"_batch_id",    "_ingested_at", "_correlation_id",
                                                     "_source_line", "day",          "tenant"};
  return kReserved;
}

const std::vector<std::string>& Compatibilities() {
  static const std::vector<std::string> kModes = {
      "backward", "backward_transitive", "forward", "forward_transitive",
      "full",     "full_transitive",     "none",    "none_transitive"};
  return kModes;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A small non-negative decimal integer, or -1.
int ParseSmallInt(const std::string& s) {
  if (s.empty() || s.size() > 3) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsNumeric(TypeKind k) {
  return k == TypeKind::kInt32 || k == TypeKind::kInt64 || k == TypeKind::kFloat || k == TypeKind::kDouble ||
         k == TypeKind::kDecimal;
}

// In a flow mapping, `{type: decimal(12,2)}` reads as type "decimal(12" plus a key "2)" with no
// value, because a comma ends a plain scalar there. The design's own example is written that way,
// so join the two back and drop the stray key. Returns the joined type text, or "".
std::string RejoinFlowDecimal(std::vector<YamlEntry>* entries) {
  for (size_t i = 0; i + 1 < entries->size(); ++i) {
    const YamlEntry& type = (*entries)[i];
    const YamlEntry& rest = (*entries)[i + 1];
    if (type.key != "type" || !type.value.IsScalar() || !rest.value.IsNull()) continue;
    const std::string& head = type.value.Scalar();
    if (head.rfind("decimal", 0) != 0 || head.find('(') == std::string::npos ||
        head.find(')') != std::string::npos) {
      continue;
    }
    std::string tail = Trim(rest.key);
    if (tail.size() < 2 || tail.back() != ')') continue;
    bool digits = true;
    for (size_t k = 0; k + 1 < tail.size(); ++k) {
      digits = digits && (std::isdigit(static_cast<unsigned char>(tail[k])) || tail[k] == ' ');
    }
    if (!digits) continue;
    std::string joined = head + "," + tail;
    entries->erase(entries->begin() + static_cast<std::ptrdiff_t>(i) + 1);
    return joined;
  }
  return "";
}

Result<ColumnSpec> ParseColumn(const YamlFile& file, const YamlEntry& entry) {
  const std::string field = "columns." + entry.key;
  ColumnSpec col;
  col.name = entry.key;
  col.line = entry.key_node.Mark().line + 1;
  if (!IsValidIdentifier(col.name)) {
    return file.Error(entry.key_node, field,
                      "'" + col.name +
                          "' is not a valid column name (use [a-z_][a-z0-9_]*, "
                          "at most 63 characters)");
  }
  for (const auto& r : ReservedColumns()) {
    if (col.name == r) {
      return file.Error(entry.key_node, field,
                        "column name '" + col.name + "' is reserved: the engine adds it (reserved: " +
                            JoinNames(ReservedColumns()) + ")");
    }
  }
  if (!entry.value.IsMap()) {
    return file.Error(entry.value.IsDefined() && !entry.value.IsNull() ? entry.value : entry.key_node, field,
                      "expected a mapping such as {type: string, required: true}");
  }
  ASSIGN_OR_RETURN(auto entries, file.Entries(entry.value, field));
  std::string joined_decimal = RejoinFlowDecimal(&entries);
  RETURN_IF_ERROR(file.CheckKeys(
      entries, field,
      {"type", "required", "enum", "min", "max", "pattern", "max_length", "default", "allow_empty"}));
  const YamlEntry* type_entry = nullptr;
  for (const auto& e : entries) {
    if (e.key == "type") type_entry = &e;
  }
  if (type_entry == nullptr) {
    return file.Error(entry.key_node, field + ".type",
                      std::string("missing; every column needs a type (known: ") + kKnownTypes + ")");
  }
  {
    ASSIGN_OR_RETURN(std::string text, file.String(type_entry->value, field + ".type"));
    if (!joined_decimal.empty()) text = joined_decimal;
    Result<ColumnType> type = ParseColumnType(text);
    if (!type.ok()) return file.Error(type_entry->value, field + ".type", type.status().message());
    col.type = *type;
  }
  const std::string type_name = col.type.Name();
  for (const auto& e : entries) {
    const std::string f = field + "." + e.key;
    if (e.key == "required") {
      ASSIGN_OR_RETURN(col.required, file.Bool(e.value, f));
    } else if (e.key == "enum") {
      if (col.type.kind != TypeKind::kString) {
        return file.Error(e.key_node, f, "enum only applies to string columns, not " + type_name);
      }
      ASSIGN_OR_RETURN(col.enum_values, file.StringList(e.value, f, /*allow_single=*/false));
      if (col.enum_values.empty()) return file.Error(e.value, f, "lists no values");
    } else if (e.key == "min" || e.key == "max") {
      if (!IsNumeric(col.type.kind)) {
        return file.Error(e.key_node, f,
                          e.key + " only applies to int64, double and decimal columns, not " + type_name);
      }
      ASSIGN_OR_RETURN(double v, file.Number(e.value, f));
      (e.key == "min" ? col.min : col.max) = v;
    } else if (e.key == "pattern") {
      if (col.type.kind != TypeKind::kString) {
        return file.Error(e.key_node, f, "pattern only applies to string columns, not " + type_name);
      }
      ASSIGN_OR_RETURN(std::string p, file.String(e.value, f));
      col.pattern = std::move(p);
    } else if (e.key == "max_length") {
      if (col.type.kind != TypeKind::kString) {
        return file.Error(e.key_node, f, "max_length only applies to string columns, not " + type_name);
      }
      ASSIGN_OR_RETURN(double v, file.Number(e.value, f));
      // Compare before converting: a double beyond int64's range does not convert (UB).
      if (!(v >= 1 && v <= 9.0e18) || v != static_cast<double>(static_cast<int64_t>(v))) {
        return file.Error(e.value, f, "must be a positive whole number of bytes");
      }
      col.max_length = static_cast<int64_t>(v);
    } else if (e.key == "allow_empty") {
      if (col.type.kind != TypeKind::kString) {
        return file.Error(e.key_node, f, "allow_empty only applies to string columns, not " + type_name);
      }
      ASSIGN_OR_RETURN(col.allow_empty, file.Bool(e.value, f));
    } else if (e.key == "default") {
      if (!e.value.IsScalar()) return file.Error(e.value, f, "must be a single value");
      ASSIGN_OR_RETURN(std::string d, file.String(e.value, f));
      col.default_value = std::move(d);
      col.default_line = e.value.Mark().line + 1;
      col.default_column = e.value.Mark().column + 1;
    }
  }
  if (col.min && col.max && *col.min > *col.max) {
    return file.Error(entry.value, field, "min is greater than max");
  }
  return col;
}

// `checks: ["a > 0", {name: n, expr: "..."}]`; unnamed checks are called check_1, check_2, ...
Result<std::vector<ContractCheck>> ParseChecks(const YamlFile& file, const YamlEntry& entry) {
  std::vector<ContractCheck> checks;
  if (entry.value.IsNull()) return checks;
  if (!entry.value.IsSequence()) {
    return file.Error(entry.value, "checks",
                      "expected a list such as [{name: positive, expr: \"amount > 0\"}]");
  }
  for (size_t i = 0; i < entry.value.size(); ++i) {
    const std::string f = "checks[" + std::to_string(i) + "]";
    YAML::Node item = entry.value[i];
    ContractCheck check;
    check.line = item.Mark().line + 1;
    check.name = "check_" + std::to_string(i + 1);
    if (item.IsScalar()) {
      ASSIGN_OR_RETURN(check.expr, file.String(item, f));
    } else {
      ASSIGN_OR_RETURN(auto kv, file.Entries(item, f));
      RETURN_IF_ERROR(file.CheckKeys(kv, f, {"name", "expr"}));
      for (const auto& e : kv) {
        if (e.key == "name") {
          ASSIGN_OR_RETURN(check.name, file.String(e.value, f + ".name"));
          if (!IsValidIdentifier(check.name)) {
            return file.Error(e.value, f + ".name", "'" + check.name + "' is not a valid name");
          }
        } else {
          ASSIGN_OR_RETURN(check.expr, file.String(e.value, f + ".expr"));
        }
      }
    }
    if (Trim(check.expr).empty()) return file.Error(item, f, "the check has no expression");
    checks.push_back(std::move(check));
  }
  return checks;
}

Result<Contract> ParseContractDocument(const std::string& text, const std::string& path) {
  ASSIGN_OR_RETURN(YamlFile file, YamlFile::Parse(text, path));
  ASSIGN_OR_RETURN(auto top, file.Entries(file.root(), ""));
  RETURN_IF_ERROR(file.CheckKeys(top, "", {"name", "compatibility", "columns", "checks"}));
  Contract contract;
  contract.path = path;
  const YamlEntry* columns = nullptr;
  bool has_name = false;
  for (const auto& e : top) {
    if (e.key == "name") {
      ASSIGN_OR_RETURN(contract.name, file.String(e.value, "name"));
      if (!IsValidIdentifier(contract.name)) {
        return file.Error(e.value, "name",
                          "'" + contract.name + "' is not a valid contract name (use [a-z_][a-z0-9_]*)");
      }
      has_name = true;
      contract.name_line = e.value.Mark().line + 1;
      contract.name_column = e.value.Mark().column + 1;
    } else if (e.key == "compatibility") {
      ASSIGN_OR_RETURN(contract.compatibility, file.String(e.value, "compatibility"));
      bool known = false;
      for (const auto& m : Compatibilities()) known = known || m == contract.compatibility;
      if (!known) {
        return file.Error(
            e.value, "compatibility",
            "unknown mode '" + contract.compatibility + "' (known: " + JoinNames(Compatibilities()) + ")");
      }
    } else if (e.key == "columns") {
      columns = &e;
    } else if (e.key == "checks") {
      ASSIGN_OR_RETURN(contract.checks, ParseChecks(file, e));
    }
  }
  if (!has_name) return file.Error(file.root(), "name", "missing; a contract needs a name");
  if (columns == nullptr) {
    return file.Error(file.root(), "columns", "missing; a contract needs at least one column");
  }
  if (columns->value.IsNull()) {
    return file.Error(columns->key_node, "columns", "a contract needs at least one column");
  }
  ASSIGN_OR_RETURN(auto cols, file.Entries(columns->value, "columns"));
  if (cols.empty()) {
    return file.Error(columns->value, "columns", "a contract needs at least one column");
  }
  for (const auto& c : cols) {
    ASSIGN_OR_RETURN(ColumnSpec col, ParseColumn(file, c));
    contract.columns.push_back(std::move(col));
  }
  return contract;
}

}  // namespace

std::string ColumnType::Name() const {
  switch (kind) {
    case TypeKind::kString:
      return "string";
    case TypeKind::kInt32:
      return "int32";
    case TypeKind::kInt64:
      return "int64";
    case TypeKind::kFloat:
      return "float";
    case TypeKind::kDouble:
      return "double";
    case TypeKind::kDecimal:
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kDate:
      return "date";
    case TypeKind::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

std::string ColumnType::DuckType() const {
  switch (kind) {
    case TypeKind::kString:
      return "VARCHAR";
    case TypeKind::kInt32:
      return "INTEGER";
    case TypeKind::kInt64:
      return "BIGINT";
    case TypeKind::kFloat:
      return "FLOAT";
    case TypeKind::kDouble:
      return "DOUBLE";
    case TypeKind::kDecimal:
      return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::kBool:
      return "BOOLEAN";
    case TypeKind::kDate:
      return "DATE";
    case TypeKind::kTimestamp:
      return "TIMESTAMP";
  }
  return "VARCHAR";
}

Result<ColumnType> ParseColumnType(const std::string& text) {
  ColumnType t;
  if (text == "string") {
    t.kind = TypeKind::kString;
    return t;
  }
  if (text == "int32") {
    t.kind = TypeKind::kInt32;
    return t;
  }
  if (text == "int64") {
    t.kind = TypeKind::kInt64;
    return t;
  }
  if (text == "float") {
    t.kind = TypeKind::kFloat;
    return t;
  }
  if (text == "double") {
    t.kind = TypeKind::kDouble;
    return t;
  }
  if (text == "bool") {
    t.kind = TypeKind::kBool;
    return t;
  }
  if (text == "date") {
    t.kind = TypeKind::kDate;
    return t;
  }
  if (text == "timestamp") {
    t.kind = TypeKind::kTimestamp;
    return t;
  }
  const std::string prefix = "decimal";
  if (text.compare(0, prefix.size(), prefix) == 0) {
    std::string rest = Trim(text.substr(prefix.size()));
    size_t comma = rest.find(',');
    if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')' || comma == std::string::npos) {
      return Status::InvalidArgument("bad decimal type '" + text +
                                     "' (write decimal(p,s), e.g. decimal(12,2))");
    }
    int p = ParseSmallInt(Trim(rest.substr(1, comma - 1)));
    int s = ParseSmallInt(Trim(rest.substr(comma + 1, rest.size() - comma - 2)));
    if (p < 0 || s < 0) {
      return Status::InvalidArgument("bad decimal type '" + text +
                                     "' (write decimal(p,s), e.g. decimal(12,2))");
    }
    if (p < 1 || p > 18) {
      return Status::InvalidArgument("bad decimal type '" + text + "': precision " + std::to_string(p) +
                                     " is not in 1..18");
    }
    if (s > p) {
      return Status::InvalidArgument("bad decimal type '" + text + "': scale " + std::to_string(s) +
                                     " is not in 0..precision (" + std::to_string(p) + ")");
    }
    t.kind = TypeKind::kDecimal;
    t.precision = p;
    t.scale = s;
    return t;
  }
  return Status::InvalidArgument("unknown type '" + text + "' (known: " + kKnownTypes + ")");
}

int Contract::Find(const std::string& column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

bool IsValidIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Result<Contract> ParseContract(const std::string& text, const std::string& path) {
  Contract contract;
  Status st = CatchYamlErrors(path, [&]() -> Status {
    ASSIGN_OR_RETURN(contract, ParseContractDocument(text, path));
    return Status::OK();
  });
  if (!st.ok()) return st;
  return contract;
}

Result<Contract> LoadContract(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSpecFile(path, kMaxYamlBytes));
  return ParseContract(text, path);
}

}  // namespace sluice
