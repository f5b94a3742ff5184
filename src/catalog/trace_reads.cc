#include "catalog/trace_reads.h"

#include <set>

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string DlqTable(const std::string& source) { return "dlq." + Ident(source); }

// Whether `schema`.`table` exists in the lake (older lakes, read-only catalogs).
Result<bool> HasTable(Catalog& catalog, const std::string& schema, const std::string& table) {
  ASSIGN_OR_RETURN(int64_t n,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE schema_name = " +
                                           Literal(schema) + " AND table_name = " + Literal(table)));
  return n > 0;
}

std::vector<AppliedMerge> ToMerges(const duck::Rows& rows) {
  std::vector<AppliedMerge> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back({rows.At(r, 0), rows.At(r, 1), rows.At(r, 2), rows.At(r, 3), rows.IntAt(r, 4)});
  }
  return out;
}

constexpr const char* kMergeSelect =
    "SELECT a.table_name, a.source, a.batch_id, coalesce(b.correlation_id, ''), epoch_us(a.applied_at) "
    "FROM meta.applied a LEFT JOIN meta.batches b ON a.source = b.source AND a.batch_id = b.batch_id ";

}  // namespace

Result<std::vector<BatchRecord>> BatchesOfCorrelationId(Catalog& catalog, const std::string& correlation_id) {
  const std::string id = Literal(correlation_id);
  // (source, batch_id) pairs, first from the ledger, then from what carries a request's id.
  std::vector<std::pair<std::string, std::string>> keys;
  ASSIGN_OR_RETURN(duck::Rows own, catalog.conn().Query("SELECT source, batch_id FROM meta.batches WHERE "
                                                        "correlation_id = " +
                                                        id + " ORDER BY batch_seq"));
  for (size_t r = 0; r < own.rows.size(); ++r) keys.emplace_back(own.At(r, 0), own.At(r, 1));
  if (keys.empty()) {
    std::string sql;
    ASSIGN_OR_RETURN(bool idempotency, HasTable(catalog, "meta", "idempotency"));
    if (idempotency) {
      sql = "SELECT source, batch_id FROM meta.idempotency WHERE correlation_id = " + id;
    }
    for (const auto& source : catalog.spec().sources) {
      ASSIGN_OR_RETURN(bool has, HasTable(catalog, "dlq", source.name));
      if (!has) continue;
      sql += std::string(sql.empty() ? "" : " UNION ") + "SELECT " + Literal(source.name) +
             ", batch_id FROM " + DlqTable(source.name) + " WHERE correlation_id = " + id;
    }
    for (const auto& table : catalog.spec().tables) {
      if (table.kind != TableKind::kCurated) continue;
      ASSIGN_OR_RETURN(bool has, HasTable(catalog, "curated", table.name));
      if (!has) continue;
      sql += std::string(sql.empty() ? "" : " UNION ") + "SELECT " + Literal(table.from) +
             ", _batch_id FROM curated." + Ident(table.name) + " WHERE _correlation_id = " + id;
    }
    if (!sql.empty()) {
      ASSIGN_OR_RETURN(duck::Rows found, catalog.conn().Query("SELECT DISTINCT * FROM (" + sql + ")"));
      for (size_t r = 0; r < found.rows.size(); ++r) keys.emplace_back(found.At(r, 0), found.At(r, 1));
    }
  }
  std::vector<BatchRecord> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& [source, batch_id] : keys) {
    if (!seen.insert({source, batch_id}).second) continue;
    ASSIGN_OR_RETURN(auto batch, FindBatch(catalog, source, batch_id));
    if (batch) out.push_back(std::move(*batch));
  }
  return out;
}

Result<std::vector<AppliedMerge>> MergesOfBatch(Catalog& catalog, const std::string& source,
                                                const std::string& batch_id) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(std::string(kMergeSelect) + "WHERE a.source = " + Literal(source) +
                                        " AND a.batch_id = " + Literal(batch_id) +
                                        " ORDER BY a.applied_at, a.table_name"));
  return ToMerges(rows);
}

Result<std::vector<AppliedMerge>> MergesSince(Catalog& catalog, int64_t since_us) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(std::string(kMergeSelect) +
                                        "WHERE epoch_us(a.applied_at) >= " + std::to_string(since_us) +
                                        " ORDER BY a.applied_at, a.table_name, a.batch_id"));
  return ToMerges(rows);
}

Result<std::vector<RunTestResult>> TestResultsOfRun(Catalog& catalog, int64_t run_started_us) {
  std::vector<RunTestResult> out;
  ASSIGN_OR_RETURN(bool has, HasTable(catalog, "meta", "test_results"));
  if (!has) return out;
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT layer, table_name, test, severity, status, failing_rows, "
                           "coalesce(sample, ''), coalesce(batch_ids, '') FROM meta.test_results "
                           "WHERE epoch_us(run_started_at) = " +
                           std::to_string(run_started_us) + " ORDER BY checked_at, layer, table_name"));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    RunTestResult t;
    t.layer = rows.At(r, 0);
    t.table = rows.At(r, 1);
    t.result = {rows.At(r, 2), rows.At(r, 3), rows.At(r, 4), rows.IntAt(r, 5), rows.At(r, 6)};
    t.batch_ids = rows.At(r, 7);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> DeadLettersOfBatch(Catalog& catalog,
                                                                        const std::string& source,
                                                                        const std::string& batch_id,
                                                                        const std::string& correlation_id) {
  std::vector<std::pair<std::string, int64_t>> out;
  ASSIGN_OR_RETURN(bool has, HasTable(catalog, "dlq", source));
  if (!has) return out;
  std::string where = "batch_id = " + Literal(batch_id);
  if (!correlation_id.empty()) where += " AND correlation_id = " + Literal(correlation_id);
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT reason, count(*) FROM " + DlqTable(source) + " WHERE " +
                                        where + " GROUP BY reason ORDER BY reason"));
  for (size_t r = 0; r < rows.rows.size(); ++r) out.emplace_back(rows.At(r, 0), rows.IntAt(r, 1));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> LakeColumnTypes(Catalog& catalog,
                                                                         const std::string& schema,
                                                                         const std::string& table) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(
                       "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = " +
                       Literal(schema) + " AND table_name = " + Literal(table) + " ORDER BY column_index"));
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) out.emplace_back(rows.At(r, 0), rows.At(r, 1));
  return out;
}

}  // namespace sluice
