#include "catalog/lifecycle_log.h"

namespace sluice {

using duck::Literal;

const char* LifecycleActionName(LifecycleAction action) {
  switch (action) {
    case LifecycleAction::kMoved:
      return "moved";
    case LifecycleAction::kDeleted:
      return "deleted";
    case LifecycleAction::kCompacted:
      return "compacted";
    case LifecycleAction::kExpired:
      return "expired";
    case LifecycleAction::kRestored:
      return "restored";
  }
  return "moved";
}

namespace {

LifecycleAction ActionNamed(const std::string& name) {
  for (auto a : {LifecycleAction::kMoved, LifecycleAction::kDeleted, LifecycleAction::kCompacted,
                 LifecycleAction::kExpired, LifecycleAction::kRestored}) {
    if (name == LifecycleActionName(a)) return a;
  }
  return LifecycleAction::kMoved;
}

}  // namespace

Status CreateLifecycleTables(duck::Connection& conn) {
  return conn.Execute(
      "CREATE TABLE IF NOT EXISTS meta.lifecycle (acted_at TIMESTAMP NOT NULL, action VARCHAR NOT NULL,"
      " target VARCHAR NOT NULL, files BIGINT NOT NULL, bytes BIGINT NOT NULL, rows BIGINT NOT NULL,"
      " detail VARCHAR)");
}

Status RecordLifecycle(Catalog& catalog, const LifecycleEntry& entry) {
  const int64_t at = entry.at_us ? entry.at_us : catalog.env()->NowMicros();
  return catalog.conn().Execute("INSERT INTO meta.lifecycle VALUES (make_timestamp(" + std::to_string(at) +
                                "::BIGINT), " + Literal(LifecycleActionName(entry.action)) + ", " +
                                Literal(entry.target) + ", " + std::to_string(entry.files) + ", " +
                                std::to_string(entry.bytes) + ", " + std::to_string(entry.rows) + ", " +
                                Literal(entry.detail) + ")");
}

Result<std::vector<LifecycleEntry>> RecentLifecycle(Catalog& catalog, int64_t limit) {
  ASSIGN_OR_RETURN(int64_t have, catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE "
                                                         "database_name = 'lake' AND schema_name = 'meta' "
                                                         "AND table_name = 'lifecycle'"));
  std::vector<LifecycleEntry> out;
  if (have == 0) return out;
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT epoch_us(acted_at), action, target, files, bytes, rows, "
                           "coalesce(detail, '') FROM meta.lifecycle ORDER BY acted_at DESC, rowid DESC "
                           "LIMIT " +
                           std::to_string(limit)));
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    LifecycleEntry e;
    e.at_us = rows.IntAt(i, 0);
    e.action = ActionNamed(rows.At(i, 1));
    e.target = rows.At(i, 2);
    e.files = rows.IntAt(i, 3);
    e.bytes = rows.IntAt(i, 4);
    e.rows = rows.IntAt(i, 5);
    e.detail = rows.At(i, 6);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace sluice
