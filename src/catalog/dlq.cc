#include "catalog/dlq.h"

#include <algorithm>

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string DlqTable(const std::string& source) { return "dlq." + Ident(source); }

// Replaces temp table `table` (dlq_id BIGINT) with `ids`.
Status LoadIds(duck::Connection& conn, const std::string& table, const std::vector<int64_t>& ids) {
  RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP TABLE " + table + " (dlq_id BIGINT)"));
  ASSIGN_OR_RETURN(auto app, duck::ChunkAppender::Create(conn, "main", table, {"BIGINT"}));
  const size_t cap = duck::ChunkAppender::Capacity();
  for (size_t begin = 0; begin < ids.size(); begin += cap) {
    const size_t n = std::min(cap, ids.size() - begin);
    std::copy_n(ids.begin() + static_cast<std::ptrdiff_t>(begin), n, static_cast<int64_t*>(app->Data(0)));
    RETURN_IF_ERROR(app->FlushChunk(n));
  }
  return app->Close();
}

// Replaces temp table dlq_failed with `updates`.
Status LoadUpdates(duck::Connection& conn, const std::vector<DeadLetterUpdate>& updates) {
  RETURN_IF_ERROR(
      conn.Execute("CREATE OR REPLACE TEMP TABLE dlq_failed (dlq_id BIGINT, reason VARCHAR,"
                   " column_name VARCHAR, message VARCHAR)"));
  ASSIGN_OR_RETURN(auto app, duck::ChunkAppender::Create(conn, "main", "dlq_failed",
                                                         {"BIGINT", "VARCHAR", "VARCHAR", "VARCHAR"}));
  const size_t cap = duck::ChunkAppender::Capacity();
  for (size_t begin = 0; begin < updates.size(); begin += cap) {
    const size_t n = std::min(cap, updates.size() - begin);
    for (size_t r = 0; r < n; ++r) {
      const DeadLetterUpdate& u = updates[begin + r];
      static_cast<int64_t*>(app->Data(0))[r] = u.dlq_id;
      app->SetString(1, r, u.reason);
      if (u.column_name.empty())
        app->SetNull(2, r);
      else
        app->SetString(2, r, u.column_name);
      app->SetString(3, r, u.message);
    }
    RETURN_IF_ERROR(app->FlushChunk(n));
  }
  return app->Close();
}

std::optional<int64_t> OptInt(const duck::Rows& rows, size_t r, size_t c) {
  if (!rows.rows[r][c]) return std::nullopt;
  return rows.IntAt(r, c);
}

}  // namespace

std::string DlqName(const std::string& source) { return "dlq." + source; }

Result<std::vector<DeadLetterRow>> ListDeadLetters(Catalog& catalog, const std::vector<std::string>& sources,
                                                   const DeadLetterFilter& filter) {
  std::vector<DeadLetterRow> out;
  if (sources.empty()) return out;
  std::string where = "true";
  if (filter.dlq_id) where += " AND dlq_id = " + std::to_string(*filter.dlq_id);
  if (filter.reason) where += " AND reason = " + Literal(*filter.reason);
  if (filter.batch_id) where += " AND batch_id = " + Literal(*filter.batch_id);
  if (filter.status) where += " AND status = " + Literal(*filter.status);
  std::string sql;
  for (const auto& s : sources) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT dlq_id, " + Literal(s) +
           " AS source, batch_id, line, reason, column_name, message, raw, status, redriven_batch,"
           " correlation_id, CAST(ingested_at AS VARCHAR) FROM " +
           DlqTable(s) + " WHERE " + where;
  }
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query("SELECT * FROM (" + sql + ") ORDER BY dlq_id"));
  out.reserve(rows.rows.size());
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    auto& x = rows.rows[r];
    out.push_back({OptInt(rows, r, 0), rows.At(r, 1), rows.At(r, 2), OptInt(rows, r, 3), rows.At(r, 4), x[5],
                   x[6], x[7], x[8], x[9], x[10], x[11]});
  }
  return out;
}

Result<DeadLetterCounts> CountDeadLetters(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows r,
                   catalog.conn().Query("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM " +
                                        DlqTable(source)));
  return DeadLetterCounts{r.IntAt(0, 0), r.IntAt(0, 1)};
}

Result<std::vector<DeadLetterReasonCount>> CountDeadLettersByReason(Catalog& catalog,
                                                                    const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows r,
                   catalog.conn().Query("SELECT reason, count(*) AS n, count(*) FILTER (WHERE "
                                        "status = 'open') FROM " +
                                        DlqTable(source) + " GROUP BY reason ORDER BY n DESC, reason"));
  std::vector<DeadLetterReasonCount> out;
  for (size_t i = 0; i < r.rows.size(); ++i) out.push_back({r.At(i, 0), r.IntAt(i, 1), r.IntAt(i, 2)});
  return out;
}

Result<std::vector<DeadLetterOrigin>> DeadLetterOrigins(Catalog& catalog, const std::string& source,
                                                        const std::vector<int64_t>& ids) {
  auto& conn = catalog.conn();
  RETURN_IF_ERROR(LoadIds(conn, "dlq_ids", ids));
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT DISTINCT d.batch_id, d.dlq_id FROM " + DlqTable(source) +
                              " d WHERE d.dlq_id IN (SELECT dlq_id FROM dlq_ids) ORDER BY d.dlq_id"));
  std::vector<DeadLetterOrigin> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) out.push_back({rows.IntAt(r, 1), rows.At(r, 0)});
  return out;
}

Status MarkRedriven(Catalog& catalog, const std::string& source, const std::string& batch_id,
                    const std::vector<int64_t>& redriven,
                    const std::vector<DeadLetterUpdate>& still_failing) {
  auto& conn = catalog.conn();
  RETURN_IF_ERROR(LoadIds(conn, "dlq_ids", redriven));
  RETURN_IF_ERROR(LoadUpdates(conn, still_failing));
  const std::string t = DlqTable(source);
  return conn.Execute("UPDATE " + t + " SET status = 'redriven', redriven_batch = " + Literal(batch_id) +
                      " WHERE dlq_id IN (SELECT dlq_id FROM dlq_ids);"
                      "UPDATE " +
                      t +
                      " AS d SET reason = f.reason, column_name = f.column_name,"
                      " message = f.message FROM dlq_failed f WHERE d.dlq_id = f.dlq_id");
}

Result<int64_t> DeleteDeadLettersBefore(Catalog& catalog, const std::string& source, int64_t cutoff_us) {
  const std::string t = DlqTable(source);
  const std::string expired =
      " WHERE ingested_at < make_timestamp(" + std::to_string(cutoff_us) + "::BIGINT)";
  ASSIGN_OR_RETURN(int64_t n, catalog.conn().QueryInt("SELECT count(*) FROM " + t + expired));
  RETURN_IF_ERROR(catalog.conn().Execute("DELETE FROM " + t + expired));
  return n;
}

}  // namespace sluice
