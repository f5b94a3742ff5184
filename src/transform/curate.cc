#include "transform/curate.h"

#include "common/failpoint.h"
#include "transform/quality.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string Join(const std::vector<std::string>& cols, const std::string& prefix,
                 const std::string& sep) {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : sep) + prefix + Ident(c);
  return out;
}

// Creates curated.<table> if missing, and its row in meta.tables.
Status EnsureTable(Catalog& catalog, const TableSpec& table, const SourceSpec& source) {
  RETURN_IF_ERROR(catalog.conn().Execute(
      "CREATE TABLE IF NOT EXISTS curated." + Ident(table.name) + " (" +
      ColumnDefinitions(source.contract) +
      ", _batch_id VARCHAR, _batch_seq BIGINT, _source_line BIGINT, _ingested_at TIMESTAMP,"
      " _correlation_id VARCHAR)"));
  return catalog.conn().Execute(
      "INSERT INTO meta.tables (table_name, layer, version, published_version) VALUES (" +
      Literal(table.name) + ", 'curated', 0, 0) ON CONFLICT DO NOTHING");
}

// The day/tenant partition of a curated row, as SQL over alias `t`.
std::string DayExpr(const SourceSpec& s, const std::string& t) {
  return s.partition_by.day.empty() ? "CAST(NULL AS DATE)"
                                    : "CAST(" + t + "." + Ident(s.partition_by.day) + " AS DATE)";
}
std::string TenantExpr(const SourceSpec& s, const std::string& t) {
  return s.partition_by.tenant.empty() ? "CAST(NULL AS VARCHAR)"
                                       : "CAST(" + t + "." + Ident(s.partition_by.tenant) + " AS VARCHAR)";
}

}  // namespace

Result<CurateResult> CurateTable(Catalog& catalog, const TableSpec& table, bool full_refresh) {
  auto& conn = catalog.conn();
  const SourceSpec* source = catalog.spec().FindSource(table.from);
  if (source == nullptr) return Status::InvalidArgument("table " + table.name + ": unknown source");
  RETURN_IF_ERROR(EnsureTable(catalog, table, *source));
  CurateResult result;

  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    const std::string target = "curated." + Ident(table.name);
    if (full_refresh) {
      RETURN_IF_ERROR(conn.Execute("DELETE FROM " + target + "; DELETE FROM meta.applied WHERE "
                                   "table_name = " + Literal(table.name)));
    }
    ASSIGN_OR_RETURN(duck::Rows pending,
                     conn.Query("SELECT b.batch_id, b.batch_seq FROM meta.batches b WHERE b.source = " +
                                Literal(source->name) + " AND b.status = 'committed' AND NOT EXISTS "
                                "(SELECT 1 FROM meta.applied a WHERE a.table_name = " +
                                Literal(table.name) + " AND a.batch_id = b.batch_id) ORDER BY b.batch_seq"));
    result.batches = static_cast<int64_t>(pending.rows.size());
    if (pending.rows.empty() && !full_refresh) return Status::OK();

    std::string seqs;
    for (size_t r = 0; r < pending.rows.size(); ++r) {
      seqs += (r ? ", (" : "(") + Literal(pending.At(r, 0)) + ", " + pending.At(r, 1) + ")";
    }
    ASSIGN_OR_RETURN(duck::Rows files,
                     conn.Query("SELECT f.path FROM meta.files f WHERE f.source = " +
                                Literal(source->name) + " AND f.batch_id IN (SELECT batch_id FROM (VALUES " +
                                (seqs.empty() ? "(NULL, 0)" : seqs) + ") v(batch_id, seq)) ORDER BY f.path"));
    std::string cols = Join([&] {
      std::vector<std::string> names;
      for (const auto& c : source->contract.columns) names.push_back(c.name);
      return names;
    }(), "s.", ", ");
    std::string incoming;
    if (files.rows.empty()) {
      incoming = "SELECT * FROM " + target + " WHERE false";
    } else {
      std::string list;
      for (size_t r = 0; r < files.rows.size(); ++r) {
        list += (r ? ", " : "") + Literal(catalog.lake() + "/" + files.At(r, 0));
      }
      // The winner per key among the incoming rows (ties: later batch, then later line).
      incoming = "SELECT " + cols + ", s._batch_id, v.seq AS _batch_seq, s._source_line, "
                 "s._ingested_at, s._correlation_id FROM read_parquet([" + list + "], "
                 "hive_partitioning = false) s JOIN (VALUES " + seqs + ") v(batch_id, seq) "
                 "ON s._batch_id = v.batch_id QUALIFY row_number() OVER (PARTITION BY " +
                 Join(table.key, "s.", ", ") + " ORDER BY s." + Ident(table.version) +
                 " DESC, v.seq DESC, s._source_line DESC) = 1";
    }
    RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP TABLE curate_incoming AS " + incoming));
    ASSIGN_OR_RETURN(result.rows_in, conn.QueryInt("SELECT count(*) FROM curate_incoming"));

    // Rows that beat the current state: new keys, higher versions, or equal versions from a
    // later batch. Late and duplicate events lose here and change nothing (G3).
    std::string on = [&] {
      std::string s;
      for (const auto& k : table.key) s += (s.empty() ? "" : " AND ") + ("c." + Ident(k) + " = i." + Ident(k));
      return s;
    }();
    const std::string ver = Ident(table.version);
    RETURN_IF_ERROR(conn.Execute(
        "CREATE OR REPLACE TEMP TABLE curate_winners AS SELECT i.*, " + DayExpr(*source, "c") +
        " AS _old_day, " + TenantExpr(*source, "c") + " AS _old_tenant, c._batch_seq IS NOT NULL "
        "AS _replaces FROM curate_incoming i LEFT JOIN " + target + " c ON " + on +
        " WHERE c._batch_seq IS NULL OR i." + ver + " > c." + ver + " OR (i." + ver + " = c." + ver +
        " AND i._batch_seq > c._batch_seq)"));
    ASSIGN_OR_RETURN(result.rows_merged, conn.QueryInt("SELECT count(*) FROM curate_winners"));

    // Partitions changed: where winners land, and where the rows they replace were.
    RETURN_IF_ERROR(conn.Execute(
        "CREATE OR REPLACE TEMP TABLE curate_touched AS SELECT DISTINCT day, tenant FROM ("
        "SELECT " + DayExpr(*source, "w") + " AS day, " + TenantExpr(*source, "w") +
        " AS tenant FROM curate_winners w UNION ALL SELECT _old_day, _old_tenant FROM "
        "curate_winners WHERE _replaces)"));
    ASSIGN_OR_RETURN(result.partitions, conn.QueryInt("SELECT count(*) FROM curate_touched"));

    std::string del_on;
    for (const auto& k : table.key) {
      del_on += (del_on.empty() ? "" : " AND ") + (target + "." + Ident(k) + " = w." + Ident(k));
    }
    RETURN_IF_ERROR(conn.Execute(
        "DELETE FROM " + target + " USING curate_winners w WHERE w._replaces AND " + del_on + ";"
        "INSERT INTO " + target + " SELECT * EXCLUDE (_old_day, _old_tenant, _replaces) FROM "
        "curate_winners;"
        "INSERT INTO meta.pending_partitions SELECT day, tenant FROM curate_touched;"
        "INSERT INTO meta.publish_pending SELECT " + Literal(table.name) +
        ", day, tenant FROM curate_touched;"
        "INSERT INTO meta.applied SELECT " + Literal(table.name) + ", " + Literal(source->name) +
        ", batch_id, seq, now()::TIMESTAMP FROM (VALUES " + (seqs.empty() ? "(NULL, 0)" : seqs) +
        ") v(batch_id, seq) WHERE batch_id IS NOT NULL;"
        "UPDATE meta.tables SET version = version + 1, updated_at = now()::TIMESTAMP, rows = "
        "(SELECT count(*) FROM " + target + ") WHERE table_name = " + Literal(table.name)));

    ASSIGN_OR_RETURN(auto failures, RunTableTests(catalog, "curated", table));
    if (!failures.empty()) {
      return Status::Aborted(DescribeFailures("curated", table.name, failures));
    }
    SLUICE_FAILPOINT("curate.before_commit");
    return Status::OK();
  };
  Status st = body();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());
  if (result.batches > 0 || full_refresh) SLUICE_FAILPOINT("curate.after_commit");
  return result;
}

}  // namespace sluice
