#include "catalog/quarantine_log.h"

namespace sluice {

using duck::Literal;

namespace {

std::string BatchWhere(const std::string& source, const std::string& batch_id) {
  return " WHERE source = " + Literal(source) + " AND batch_id = " + Literal(batch_id);
}

// Ledger rows (`join`: JOIN or LEFT JOIN) with their latest quarantine record, filtered by
// `where` over b, in commit order.
Result<std::vector<BatchListing>> QueryListings(Catalog& catalog, const std::string& join,
                                                const std::string& where) {
  ASSIGN_OR_RETURN(duck::Rows r,
                   catalog.conn().Query(
                       "SELECT b.source, b.batch_id, b.batch_seq, b.status, b.rows_read, b.rows_staged, "
                       "b.rows_dead, "
                       "CAST(b.committed_at AS VARCHAR), q.table_name, q.tests, q.sample, "
                       "CAST(q.quarantined_at AS VARCHAR), CAST(q.released_at AS VARCHAR), "
                       "CAST(q.dropped_at AS VARCHAR), b.file, b.correlation_id FROM meta.batches b " +
                       join +
                       " (SELECT * FROM "
                       "meta.quarantine QUALIFY row_number() OVER (PARTITION BY source, batch_id ORDER BY "
                       "quarantined_at DESC) = 1) q ON q.source = b.source AND q.batch_id = b.batch_id" +
                       where + " ORDER BY b.batch_seq"));
  std::vector<BatchListing> out;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    BatchListing b;
    b.source = r.At(i, 0);
    b.batch_id = r.At(i, 1);
    b.batch_seq = r.IntAt(i, 2);
    b.status = r.At(i, 3);
    b.rows_read = r.IntAt(i, 4);
    b.rows_staged = r.IntAt(i, 5);
    b.rows_dead = r.IntAt(i, 6);
    b.committed_at = r.At(i, 7);
    b.file = r.rows[i][14];
    b.correlation_id = r.At(i, 15);
    if (r.rows[i][8]) {
      b.quarantine =
          QuarantineRecord{r.At(i, 8), r.At(i, 9), r.rows[i][10], r.At(i, 11), r.rows[i][12], r.rows[i][13]};
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

Status RecordQuarantine(Catalog& catalog, const QuarantineEntry& e) {
  const std::string run = e.run_started_us > 0
                              ? "make_timestamp(" + std::to_string(e.run_started_us) + "::BIGINT)"
                              : "now()::TIMESTAMP";
  return catalog.conn().Execute(
      "UPDATE meta.batches SET status = 'quarantined'" + BatchWhere(e.source, e.batch_id) +
      ";"
      "INSERT INTO meta.quarantine (source, batch_id, table_name, tests, failures, sample, "
      "run_started_at, quarantined_at) VALUES (" +
      Literal(e.source) + ", " + Literal(e.batch_id) + ", " + Literal(e.table) + ", " + Literal(e.tests) +
      ", " + Literal(e.failures) + ", " + (e.sample.empty() ? std::string("NULL") : Literal(e.sample)) +
      ", " + run + ", now()::TIMESTAMP)");
}

Result<std::vector<BatchRef>> FindBatchesNamed(Catalog& catalog, const std::optional<std::string>& source,
                                               const std::string& batch_id) {
  std::string where = "batch_id = " + Literal(batch_id);
  if (source) where = "source = " + Literal(*source) + " AND " + where;
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT source, batch_id, status FROM meta.batches WHERE " + where +
                                        " ORDER BY source"));
  std::vector<BatchRef> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back({rows.At(r, 0), rows.At(r, 1), rows.At(r, 2)});
  }
  return out;
}

Status RecordQuarantineExit(Catalog& catalog, const std::string& source, const std::string& batch_id,
                            QuarantineExit exit) {
  const bool released = exit == QuarantineExit::kReleased;
  const std::string where = BatchWhere(source, batch_id);
  return catalog.conn().Execute(
      std::string("UPDATE meta.batches SET status = ") + (released ? "'released'" : "'dropped'") + where +
      ";UPDATE meta.quarantine SET " + (released ? "released_at" : "dropped_at") + " = now()::TIMESTAMP" +
      where + " AND released_at IS NULL AND dropped_at IS NULL");
}

Result<bool> GateTablesExist(Catalog& catalog) {
  ASSIGN_OR_RETURN(int64_t have,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE "
                                           "database_name = 'lake' AND schema_name = 'meta' AND "
                                           "table_name IN ('test_results', 'quarantine')"));
  return have >= 2;
}

Result<std::vector<BatchListing>> ListBatchesWithQuarantine(Catalog& catalog,
                                                            const std::optional<std::string>& status) {
  return QueryListings(catalog, "LEFT JOIN",
                       status ? " WHERE b.status = " + Literal(*status) : std::string());
}

Result<std::vector<BatchListing>> QuarantinedBatches(Catalog& catalog) {
  ASSIGN_OR_RETURN(bool recorded, GateTablesExist(catalog));
  if (!recorded) return std::vector<BatchListing>();
  return QueryListings(catalog, "JOIN", " WHERE b.status = 'quarantined'");
}

}  // namespace sluice
