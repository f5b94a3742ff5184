#include "transform/quality.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "catalog/test_results.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

// A range bound as SQL: numbers as written, anything else (dates, timestamps) as a literal that
// DuckDB casts to the column's type.
std::string Bound(const std::string& v) {
  char* end = nullptr;
  std::strtod(v.c_str(), &end);
  bool number = !v.empty() && end == v.c_str() + v.size() && std::isfinite(std::strtod(v.c_str(), nullptr));
  return number ? v : Literal(v);
}

// "<layer>.<name>" of a relationships target, quoted.
std::string TargetRelation(const std::string& to_table) {
  size_t dot = to_table.find('.');
  return to_table.substr(0, dot) + "." + Ident(to_table.substr(dot + 1));
}

Result<bool> TableExists(Catalog& catalog, const std::string& to_table) {
  size_t dot = to_table.find('.');
  ASSIGN_OR_RETURN(
      int64_t n, catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' "
                                         "AND schema_name = " +
                                         Literal(to_table.substr(0, dot)) +
                                         " AND table_name = " + Literal(to_table.substr(dot + 1))));
  return n > 0;
}

// SQL selecting one text column `v` per offending row of a row-level test on `rel`.
Result<std::string> FailingRowsSql(Catalog& catalog, const TableTest& test, const TableSpec& table,
                                   const std::string& rel) {
  if (test.kind == "not_null") {
    std::string cond, key;
    for (const auto& c : test.columns) cond += (cond.empty() ? "" : " OR ") + Ident(c) + " IS NULL";
    // Name offending rows by their key where the table has one.
    for (const auto& k : table.key) {
      key += (key.empty() ? "" : " || '|' || ") + ("coalesce(CAST(" + Ident(k) + " AS VARCHAR), 'NULL')");
    }
    return "SELECT " + (key.empty() ? std::string("'NULL'") : key) + " AS v FROM " + rel + " WHERE " + cond;
  }
  if (test.kind == "unique") {
    std::string cols, concat;
    for (const auto& c : test.columns) {
      cols += (cols.empty() ? "" : ", ") + Ident(c);
      concat +=
          (concat.empty() ? "" : " || '|' || ") + ("coalesce(CAST(" + Ident(c) + " AS VARCHAR), 'NULL')");
    }
    return "SELECT " + concat + " AS v FROM " + rel + " GROUP BY " + cols + " HAVING count(*) > 1";
  }
  if (test.kind == "accepted_values") {
    std::string list;
    for (const auto& v : test.values) list += (list.empty() ? "" : ", ") + Literal(v);
    const std::string col = Ident(test.columns.at(0));
    return "SELECT CAST(" + col + " AS VARCHAR) AS v FROM " + rel + " WHERE " + col +
           " IS NOT NULL AND CAST(" + col + " AS VARCHAR) NOT IN (" + list + ")";
  }
  if (test.kind == "relationships") {
    const std::string col = Ident(test.columns.at(0));
    std::string base =
        "SELECT CAST(t." + col + " AS VARCHAR) AS v FROM " + rel + " t WHERE t." + col + " IS NOT NULL";
    // A target not created yet has no rows: every non-null value dangles.
    ASSIGN_OR_RETURN(bool exists, TableExists(catalog, test.to_table));
    if (!exists) return base;
    return base + " AND NOT EXISTS (SELECT 1 FROM " + TargetRelation(test.to_table) + " r WHERE r." +
           Ident(test.to_field) + " = t." + col + ")";
  }
  if (test.kind == "range") {
    const std::string col = Ident(test.columns.at(0));
    std::string cond;
    if (!test.min.empty()) cond = col + " < " + Bound(test.min);
    if (!test.max.empty()) cond += (cond.empty() ? "" : " OR ") + col + " > " + Bound(test.max);
    return "SELECT CAST(" + col + " AS VARCHAR) AS v FROM " + rel + " WHERE " + col + " IS NOT NULL AND (" +
           cond + ")";
  }
  // sql: every row the query returns is a failing row.
  return "SELECT CAST(t AS VARCHAR) AS v FROM (" + test.sql + "\n) t";
}

// "3d 4h", "2h 5m", "40s".
std::string Age(int64_t s) {
  if (s >= 86400) return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
  if (s >= 3600) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

Result<TestOutcome> RunTest(Catalog& catalog, const TableTest& test, const TableSpec& table,
                            const std::string& rel, const TestContext& context) {
  TestOutcome out;
  out.test = test.Describe();
  out.severity = test.severity;
  auto& conn = catalog.conn();
  if (test.kind == "freshness") {
    const std::string col = Ident(test.columns.at(0));
    ASSIGN_OR_RETURN(duck::Rows r,
                     conn.Query("SELECT CAST(max(" + col + ") AS VARCHAR), CAST(epoch(make_timestamp(" +
                                std::to_string(catalog.env()->NowMicros()) + "::BIGINT) - CAST(max(" + col +
                                ") AS TIMESTAMP)) AS BIGINT) FROM " + rel));
    if (r.rows.empty() || !r.rows[0][1]) return out;  // no rows: nothing is stale
    int64_t age = r.IntAt(0, 1);
    if (age > test.max_age_seconds) {
      out.failing_rows = 1;
      out.sample = "max(" + test.columns[0] + ") = " + r.At(0, 0) + ", " + Age(age) + " old (max_age " +
                   test.max_age + ")";
    }
    return out;
  }
  if (test.kind == "row_count_change") {
    ASSIGN_OR_RETURN(int64_t after, conn.QueryInt("SELECT count(*) FROM " + rel));
    const int64_t before = context.rows_before;
    if (before <= 0) return out;  // the first load from empty (or unknown) never fails
    double pct = 100.0 * static_cast<double>(after - before) / static_cast<double>(before);
    if (std::fabs(pct) > test.max_pct) {
      out.failing_rows = after > before ? after - before : before - after;
      char buf[128];
      std::snprintf(buf, sizeof buf, "%lld -> %lld rows (%+.1f%%, max %g%%)", static_cast<long long>(before),
                    static_cast<long long>(after), pct, test.max_pct);
      out.sample = buf;
    }
    return out;
  }
  ASSIGN_OR_RETURN(std::string sql, FailingRowsSql(catalog, test, table, rel));
  // The count of failing rows and up to five distinct offending values, in order.
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT count(*), array_to_string(list_slice(list(DISTINCT v ORDER BY v), "
                              "1, 5), ', ') FROM (" +
                              sql + ")"));
  out.failing_rows = rows.IntAt(0, 0);
  if (out.failed()) out.sample = rows.At(0, 1);
  return out;
}

}  // namespace

Result<std::vector<TestOutcome>> RunTableTests(Catalog& catalog, const std::string& layer,
                                               const TableSpec& table, const TestContext& context) {
  std::vector<TestOutcome> outcomes;
  const std::string rel = layer + "." + Ident(table.name);
  for (const auto& test : table.tests) {
    Result<TestOutcome> o = RunTest(catalog, test, table, rel, context);
    if (!o.ok()) {
      return o.status().WithContext("test " + test.Describe() + " on " + layer + "." + table.name +
                                    " (sluice.yaml:" + std::to_string(test.line) + ")");
    }
    outcomes.push_back(std::move(*o));
  }
  return outcomes;
}

std::vector<TestOutcome> BlockingFailures(const std::vector<TestOutcome>& outcomes) {
  std::vector<TestOutcome> out;
  for (const auto& o : outcomes) {
    if (o.blocking()) out.push_back(o);
  }
  return out;
}

std::string DescribeFailures(const std::string& layer, const std::string& table,
                             const std::vector<TestOutcome>& failures) {
  std::string out = "quality gate failed on " + layer + "." + table + ": ";
  for (size_t i = 0; i < failures.size(); ++i) {
    const auto& f = failures[i];
    out += (i ? "; " : "") + f.test + ": " + std::to_string(f.failing_rows) + " failing rows";
    if (!f.sample.empty()) out += " (e.g. " + f.sample + ")";
  }
  return out;
}

Status RecordTestResults(Catalog& catalog, const TestRecord& record,
                         const std::vector<TestOutcome>& outcomes) {
  std::vector<TestResultRow> rows;
  for (const auto& o : outcomes) {
    const char* status = !o.failed()                     ? "pass"
                         : o.severity == Severity::kWarn ? "warn"
                         : record.bypassed               ? "bypassed"
                                                         : "fail";
    rows.push_back(
        {o.test, o.severity == Severity::kWarn ? "warn" : "error", status, o.failing_rows, o.sample});
  }
  return RecordTestResultRows(catalog, {record.run_started_us, record.layer, record.table, record.batch_ids},
                              rows);
}

}  // namespace sluice
