#include "transform/quality.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

// SQL selecting one text column `v` per offending row of `test` on `rel`.
std::string FailingRowsSql(const TableTest& test, const TableSpec& table, const std::string& rel) {
  if (test.kind == "not_null") {
    std::string cond, key;
    for (const auto& c : test.columns) cond += (cond.empty() ? "" : " OR ") + Ident(c) + " IS NULL";
    // Name offending rows by their key where the table has one.
    for (const auto& k : table.key) {
      key += (key.empty() ? "" : " || '|' || ") + ("coalesce(CAST(" + Ident(k) + " AS VARCHAR), 'NULL')");
    }
    return "SELECT " + (key.empty() ? std::string("'NULL'") : key) + " AS v FROM " + rel +
           " WHERE " + cond;
  }
  if (test.kind == "unique") {
    std::string cols, concat;
    for (const auto& c : test.columns) {
      cols += (cols.empty() ? "" : ", ") + Ident(c);
      concat += (concat.empty() ? "" : " || '|' || ") + ("coalesce(CAST(" + Ident(c) + " AS VARCHAR), 'NULL')");
    }
    return "SELECT " + concat + " AS v FROM " + rel + " GROUP BY " + cols + " HAVING count(*) > 1";
  }
  // accepted_values
  std::string list;
  for (const auto& v : test.values) list += (list.empty() ? "" : ", ") + Literal(v);
  const std::string col = Ident(test.columns.at(0));
  return "SELECT CAST(" + col + " AS VARCHAR) AS v FROM " + rel + " WHERE " + col +
         " IS NOT NULL AND CAST(" + col + " AS VARCHAR) NOT IN (" + list + ")";
}

}  // namespace

Result<std::vector<TestFailure>> RunTableTests(Catalog& catalog, const std::string& layer,
                                               const TableSpec& table) {
  std::vector<TestFailure> failures;
  const std::string rel = layer + "." + Ident(table.name);
  for (const auto& test : table.tests) {
    std::string sql = FailingRowsSql(test, table, rel);
    // The count of failing rows and up to five distinct offending values, in order.
    ASSIGN_OR_RETURN(duck::Rows rows,
                     catalog.conn().Query("SELECT count(*), array_to_string(list_slice("
                                          "list(DISTINCT v ORDER BY v), 1, 5), ', ') FROM (" +
                                          sql + ")"));
    int64_t n = rows.IntAt(0, 0);
    if (n > 0) failures.push_back({test.Describe(), n, rows.At(0, 1)});
  }
  return failures;
}

std::string DescribeFailures(const std::string& layer, const std::string& table,
                             const std::vector<TestFailure>& failures) {
  std::string out = "quality gate failed on " + layer + "." + table + ": ";
  for (size_t i = 0; i < failures.size(); ++i) {
    const auto& f = failures[i];
    out += (i ? "; " : "") + f.test + ": " + std::to_string(f.failing_rows) + " failing rows";
    if (!f.sample.empty()) out += " (e.g. " + f.sample + ")";
  }
  return out;
}

}  // namespace sluice
