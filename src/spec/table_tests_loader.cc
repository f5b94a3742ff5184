// `tests:` of a table: the test kinds, their options and severities.
#include <cctype>

#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ParseTests(const YamlEntry& entry, const std::string& field, const Contract* contract,
                                 std::vector<TableTest>* tests,
                                 std::vector<OutputColumnRef>* output_columns) {
  if (entry.value.IsNull()) return Status::OK();
  if (!entry.value.IsSequence()) {
    return file_.Error(entry.value, field, "expected a list such as [{not_null: id}, {unique: id}]");
  }
  const std::vector<std::string> kinds = {"not_null", "unique",    "accepted_values",  "relationships",
                                          "range",    "freshness", "row_count_change", "sql"};
  for (size_t i = 0; i < entry.value.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    YAML::Node item = entry.value[i];
    if (!item.IsMap() || item.size() < 1 || item.size() > 2) {
      return file_.Error(item, f,
                         "expected one test such as {not_null: id}, {unique: [a, b]} or "
                         "{range: {column: c, min: 0}, severity: warn}");
    }
    ASSIGN_OR_RETURN(auto kv, file_.Entries(item, f));
    TableTest test;
    const YamlEntry* test_entry = nullptr;
    for (const auto& e : kv) {
      if (e.key == "severity") {
        ASSIGN_OR_RETURN(std::string sev, file_.String(e.value, f + ".severity"));
        if (sev != "error" && sev != "warn") {
          return file_.Error(e.value, f + ".severity", "unknown severity '" + sev + "' (known: error, warn)");
        }
        test.severity = sev == "warn" ? Severity::kWarn : Severity::kError;
      } else if (test_entry != nullptr) {
        return file_.Error(e.key_node, f,
                           "one test per list item: '" + test_entry->key + "' and '" + e.key +
                               "' (only `severity` may sit beside a test)");
      } else {
        test_entry = &e;
      }
    }
    if (test_entry == nullptr) {
      return file_.Error(item, f, "names no test, only a severity (known tests: " + JoinNames(kinds) + ")");
    }
    const YamlEntry& e = *test_entry;
    test.kind = e.key;
    test.line = e.key_node.Mark().line + 1;
    const std::string tf = f + "." + e.key;
    // The options mapping of a test written as {kind: {...}}, with its required keys.
    std::vector<YamlEntry> opts;
    auto options = [&](const std::vector<std::string>& known,
                       const std::vector<std::string>& required) -> Status {
      ASSIGN_OR_RETURN(opts, file_.Entries(e.value, tf));
      RETURN_IF_ERROR(file_.CheckKeys(opts, tf, known));
      for (const auto& r : required) {
        if (FindEntry(opts, r) == nullptr) {
          return file_.Error(e.value, tf, "missing `" + r + "` (needs: " + JoinNames(required) + ")");
        }
      }
      return Status::OK();
    };
    std::vector<YAML::Node> column_nodes;  // where each of test.columns was written
    auto column_option = [&]() -> Status {
      const YamlEntry* column = FindEntry(opts, "column");
      ASSIGN_OR_RETURN(std::string col, file_.String(column->value, tf + ".column"));
      test.columns.push_back(std::move(col));
      column_nodes.push_back(column->value);
      return Status::OK();
    };
    if (e.key == "not_null") {
      ASSIGN_OR_RETURN(std::string col, file_.String(e.value, tf));
      test.columns.push_back(std::move(col));
      column_nodes.push_back(e.value);
    } else if (e.key == "unique") {
      ASSIGN_OR_RETURN(test.columns, file_.StringList(e.value, tf, /*allow_single=*/true));
      if (test.columns.empty()) return file_.Error(e.value, tf, "names no columns");
      for (size_t c = 0; c < test.columns.size(); ++c) {
        column_nodes.push_back(e.value.IsSequence() ? e.value[c] : e.value);
      }
    } else if (e.key == "accepted_values") {
      RETURN_IF_ERROR(options({"column", "values"}, {"column", "values"}));
      RETURN_IF_ERROR(column_option());
      const YamlEntry* values = FindEntry(opts, "values");
      ASSIGN_OR_RETURN(test.values, file_.StringList(values->value, tf + ".values", false));
      if (test.values.empty()) return file_.Error(values->value, tf + ".values", "lists no values");
    } else if (e.key == "relationships") {
      RETURN_IF_ERROR(options({"column", "to", "field"}, {"column", "to", "field"}));
      RETURN_IF_ERROR(column_option());
      const YamlEntry* to = FindEntry(opts, "to");
      ASSIGN_OR_RETURN(test.to_table, file_.String(to->value, tf + ".to"));
      const size_t dot = test.to_table.find('.');
      const std::string layer = dot == std::string::npos ? "" : test.to_table.substr(0, dot);
      if ((layer != "curated" && layer != "marts") || !IsValidIdentifier(test.to_table.substr(dot + 1))) {
        return file_.Error(to->value, tf + ".to",
                           "'" + test.to_table + "' is not a table; write curated.<table> or marts.<table>");
      }
      const YamlEntry* to_field = FindEntry(opts, "field");
      ASSIGN_OR_RETURN(test.to_field, file_.String(to_field->value, tf + ".field"));
      RETURN_IF_ERROR(CheckColumn(to_field->value, tf + ".field", test.to_field, nullptr));
      relationship_refs_.push_back({to->value, to_field->value, tf, test.to_table, test.to_field});
    } else if (e.key == "range") {
      RETURN_IF_ERROR(options({"column", "min", "max"}, {"column"}));
      RETURN_IF_ERROR(column_option());
      for (const char* bound : {"min", "max"}) {
        if (const YamlEntry* b = FindEntry(opts, bound)) {
          ASSIGN_OR_RETURN(std::string v, file_.String(b->value, tf + "." + bound));
          if (v.empty()) return file_.Error(b->value, tf + "." + bound, "is empty");
          (std::string(bound) == "min" ? test.min : test.max) = std::move(v);
        }
      }
      if (test.min.empty() && test.max.empty()) {
        return file_.Error(e.value, tf, "needs `min`, `max` or both");
      }
    } else if (e.key == "freshness") {
      RETURN_IF_ERROR(options({"column", "max_age"}, {"column", "max_age"}));
      RETURN_IF_ERROR(column_option());
      const YamlEntry* age = FindEntry(opts, "max_age");
      ASSIGN_OR_RETURN(test.max_age, file_.String(age->value, tf + ".max_age"));
      std::optional<int64_t> secs = ParseDuration(test.max_age);
      if (!secs || *secs <= 0) {
        return file_.Error(age->value, tf + ".max_age",
                           "'" + test.max_age + "' is not a duration; write e.g. 30m, 24h or 7d");
      }
      test.max_age_seconds = *secs;
      if (contract != nullptr && contract->Find(test.columns[0]) >= 0) {
        TypeKind k = contract->columns[static_cast<size_t>(contract->Find(test.columns[0]))].type.kind;
        if (k != TypeKind::kDate && k != TypeKind::kTimestamp) {
          return file_.Error(column_nodes[0], tf + ".column",
                             "column '" + test.columns[0] + "' is not a date or timestamp");
        }
      }
    } else if (e.key == "row_count_change") {
      RETURN_IF_ERROR(options({"max_pct"}, {"max_pct"}));
      const YamlEntry* pct = FindEntry(opts, "max_pct");
      ASSIGN_OR_RETURN(test.max_pct, file_.Number(pct->value, tf + ".max_pct"));
      if (test.max_pct < 0) return file_.Error(pct->value, tf + ".max_pct", "must be >= 0");
    } else if (e.key == "sql") {
      ASSIGN_OR_RETURN(test.sql, file_.String(e.value, tf));
      while (!test.sql.empty() &&
             (std::isspace(static_cast<unsigned char>(test.sql.back())) || test.sql.back() == ';')) {
        test.sql.pop_back();
      }
      if (test.sql.empty()) {
        return file_.Error(e.value, tf, "is empty; write a query returning the failing rows");
      }
      ASSIGN_OR_RETURN(duck::ParsedSql parsed, ParseSql(test.sql));
      if (std::string why = NotOneSelect(parsed); !why.empty()) {
        return file_.Error(e.value, tf, "the query " + why);
      }
      for (const auto& ref : parsed.tables) {
        if (LakeSchema(ref) == "staging") AddOnce(test.reads_staging, ref.name);
      }
    } else {
      return file_.Error(e.key_node, tf, "unknown test '" + e.key + "' (known: " + JoinNames(kinds) + ")");
    }
    for (size_t c = 0; c < test.columns.size(); ++c) {
      RETURN_IF_ERROR(CheckColumn(column_nodes[c], tf, test.columns[c], contract));
      if (output_columns != nullptr) {
        output_columns->push_back(OutputColumn(column_nodes[c], tf, test.columns[c]));
      }
    }
    tests->push_back(std::move(test));
  }
  return Status::OK();
}

std::string TableTest::Describe() const {
  if (kind == "row_count_change") return kind;
  if (kind == "sql") {
    // The query itself, on one line and shortened: it is the test's only name.
    std::string q;
    for (char c : sql) {
      bool space = std::isspace(static_cast<unsigned char>(c));
      if (space && (q.empty() || q.back() == ' ')) continue;
      q += space ? ' ' : c;
    }
    if (q.size() > 60) q = q.substr(0, 57) + "...";
    return "sql(" + q + ")";
  }
  std::string out = kind + "(";
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + columns[i];
  return out + ")";
}

}  // namespace sluice
