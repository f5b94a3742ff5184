#include "catalog/test_results.h"

#include "catalog/quarantine_log.h"

namespace sluice {

using duck::Literal;

Status RecordTestResultRows(Catalog& catalog, const TestResultOrigin& origin,
                            const std::vector<TestResultRow>& results) {
  if (results.empty()) return Status::OK();
  std::string batches;
  for (const auto& b : origin.batch_ids) batches += (batches.empty() ? "" : ", ") + b;
  const std::string run = origin.run_started_us > 0
                              ? "make_timestamp(" + std::to_string(origin.run_started_us) + "::BIGINT)"
                              : "now()::TIMESTAMP";
  std::string values;
  for (const auto& r : results) {
    values += std::string(values.empty() ? "" : ", ") + "(" + run + ", " + Literal(origin.layer) + ", " +
              Literal(origin.table) + ", " + Literal(r.test) + ", " + Literal(r.severity) + ", " +
              Literal(r.status) + ", " + std::to_string(r.failing_rows) + ", " +
              (r.sample.empty() ? std::string("NULL") : Literal(r.sample)) + ", " +
              (batches.empty() ? std::string("NULL") : Literal(batches)) + ", now()::TIMESTAMP)";
  }
  return catalog.conn().Execute(
      "INSERT INTO meta.test_results (run_started_at, layer, table_name, test, severity, status, "
      "failing_rows, sample, batch_ids, checked_at) VALUES " +
      values);
}

Result<std::vector<LatestTestResult>> LatestTestResults(Catalog& catalog) {
  std::vector<LatestTestResult> out;
  ASSIGN_OR_RETURN(bool recorded, GateTablesExist(catalog));
  if (!recorded) return out;
  ASSIGN_OR_RETURN(
      duck::Rows t,
      catalog.conn().Query(
          "SELECT r.layer, r.table_name, r.test, any_value(r.severity), CASE max(CASE r.status "
          "WHEN "
          "'fail' THEN 4 WHEN 'bypassed' THEN 3 WHEN 'warn' THEN 2 ELSE 1 END) WHEN 4 THEN 'fail' "
          "WHEN 3 "
          "THEN 'bypassed' WHEN 2 THEN 'warn' ELSE 'pass' END, max(r.failing_rows), "
          "string_agg(DISTINCT r.sample, '; ') FILTER (WHERE r.status <> 'pass'), "
          "string_agg(DISTINCT r.batch_ids, ', ') FILTER (WHERE r.status <> 'pass'), "
          "CAST(max(r.checked_at) AS VARCHAR) FROM meta.test_results r JOIN (SELECT layer, "
          "table_name, "
          "test, max(run_started_at) AS run FROM meta.test_results GROUP BY ALL) l ON l.layer = "
          "r.layer "
          "AND l.table_name = r.table_name AND l.test = r.test AND l.run = r.run_started_at "
          "GROUP BY r.layer, r.table_name, r.test ORDER BY r.layer, r.table_name, r.test"));
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out.push_back({t.At(r, 0), t.At(r, 1), t.At(r, 2), t.At(r, 3), t.At(r, 4), t.IntAt(r, 5), t.rows[r][6],
                   t.rows[r][7], t.At(r, 8)});
  }
  return out;
}

}  // namespace sluice
