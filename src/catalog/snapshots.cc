#include "catalog/snapshots.h"

#include <algorithm>
#include <cctype>
#include <functional>

namespace sluice {

using duck::Literal;

namespace {

constexpr const char* kColumns =
    "SELECT snapshot, table_name, layer, version, path, rows, epoch_us(committed_at), restored_from, "
    "epoch_us(expired_at) FROM meta.snapshots";

std::vector<SnapshotRecord> ToRecords(const duck::Rows& rows) {
  std::vector<SnapshotRecord> out;
  out.reserve(rows.rows.size());
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    SnapshotRecord s;
    s.snapshot = rows.IntAt(r, 0);
    s.table = rows.At(r, 1);
    s.layer = rows.At(r, 2);
    s.version = rows.IntAt(r, 3);
    s.path = rows.At(r, 4);
    s.rows = rows.IntAt(r, 5);
    s.committed_at_us = rows.IntAt(r, 6);
    if (rows.rows[r][7]) s.restored_from = rows.IntAt(r, 7);
    if (rows.rows[r][8]) s.expired_at_us = rows.IntAt(r, 8);
    out.push_back(std::move(s));
  }
  return out;
}

// Lakes opened only read-only since this release have no meta.snapshots yet: no snapshots.
Result<bool> HasSnapshotTable(duck::Connection& conn) {
  ASSIGN_OR_RETURN(duck::Rows rows, conn.Query("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                                               "current_database() AND schema_name = 'meta' AND "
                                               "table_name = 'snapshots'"));
  return rows.IntAt(0, 0) > 0;
}

std::string Timestamp(int64_t micros) { return "make_timestamp(" + std::to_string(micros) + ")"; }

}  // namespace

Status CreateSnapshotTable(duck::Connection& conn) {
  return conn.Execute(
      "CREATE TABLE IF NOT EXISTS meta.snapshots ("
      "snapshot BIGINT NOT NULL, table_name VARCHAR NOT NULL, layer VARCHAR NOT NULL, version BIGINT NOT "
      "NULL,"
      " path VARCHAR NOT NULL, rows BIGINT NOT NULL, committed_at TIMESTAMP NOT NULL, restored_from BIGINT,"
      " expired_at TIMESTAMP, PRIMARY KEY (snapshot, table_name));"
      "ALTER TABLE meta.tables ADD COLUMN IF NOT EXISTS restored_from BIGINT");
}

Status SetRestoredFrom(Catalog& catalog, const std::string& table, std::optional<int64_t> snapshot) {
  return catalog.conn().Execute("UPDATE meta.tables SET restored_from = " +
                                (snapshot ? std::to_string(*snapshot) : std::string("NULL")) +
                                " WHERE table_name = " + Literal(table));
}

Result<std::optional<int64_t>> RestoredFrom(Catalog& catalog, const std::string& table) {
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT restored_from FROM meta.tables WHERE table_name = " + Literal(table)));
  if (rows.rows.empty() || !rows.rows[0][0]) return std::optional<int64_t>();
  return std::optional<int64_t>(rows.IntAt(0, 0));
}

Result<int64_t> NextSnapshot(Catalog& catalog) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT coalesce(max(snapshot), 0) + 1 FROM meta.snapshots"));
  return rows.IntAt(0, 0);
}

Status RecordSnapshot(Catalog& catalog, const SnapshotRecord& s) {
  return catalog.conn()
      .Execute("INSERT INTO meta.snapshots VALUES (" + std::to_string(s.snapshot) + ", " + Literal(s.table) +
               ", " + Literal(s.layer) + ", " + std::to_string(s.version) + ", " + Literal(s.path) + ", " +
               std::to_string(s.rows) + ", " + Timestamp(s.committed_at_us) + ", " +
               (s.restored_from ? std::to_string(*s.restored_from) : std::string("NULL")) + ", NULL)")
      .WithContext("recording snapshot " + std::to_string(s.snapshot) + " of " + s.table);
}

Result<std::vector<SnapshotRecord>> TableSnapshots(Catalog& catalog, const std::string& table) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(std::string(kColumns) + " WHERE table_name = " +
                                                         Literal(table) + " ORDER BY snapshot"));
  return ToRecords(rows);
}

Result<std::vector<SnapshotRecord>> AllSnapshots(Catalog& catalog) { return AllSnapshots(catalog.conn()); }

Result<std::vector<SnapshotRecord>> AllSnapshots(duck::Connection& conn) {
  ASSIGN_OR_RETURN(bool present, HasSnapshotTable(conn));
  if (!present) return std::vector<SnapshotRecord>();
  ASSIGN_OR_RETURN(duck::Rows rows, conn.Query(std::string(kColumns) + " ORDER BY table_name, snapshot"));
  return ToRecords(rows);
}

Status ExpireSnapshots(Catalog& catalog, const std::string& table, const std::vector<int64_t>& snapshots,
                       int64_t now_us) {
  if (snapshots.empty()) return Status::OK();
  std::string list;
  for (int64_t s : snapshots) list += (list.empty() ? "" : ", ") + std::to_string(s);
  return catalog.conn().Execute("UPDATE meta.snapshots SET expired_at = " + Timestamp(now_us) +
                                " WHERE table_name = " + Literal(table) + " AND snapshot IN (" + list + ")");
}

std::vector<int64_t> SnapshotsToExpire(const std::vector<SnapshotRecord>& snapshots,
                                       const SnapshotRetention& keep, int64_t now_us,
                                       const std::function<bool(int64_t version)>& pinned) {
  std::vector<const SnapshotRecord*> live;
  for (const auto& s : snapshots) {
    if (s.live()) live.push_back(&s);
  }
  std::sort(live.begin(), live.end(), [](auto* a, auto* b) { return a->snapshot > b->snapshot; });
  std::vector<int64_t> out;
  for (size_t i = 0; i < live.size(); ++i) {
    const SnapshotRecord& s = *live[i];
    if (i == 0 || static_cast<int64_t>(i) < keep.keep_last) continue;
    if (keep.keep_within_seconds && s.committed_at_us >= now_us - *keep.keep_within_seconds * 1000000)
      continue;
    if (pinned && pinned(s.version)) continue;
    out.push_back(s.snapshot);
  }
  return out;
}

Result<AsOf> ParseAsOf(duck::Connection& conn, const std::string& text) {
  AsOf out;
  out.text = text;
  if (!text.empty() && text.size() <= 18 &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    out.snapshot = std::stoll(text);
    if (*out.snapshot < 1) return Status::InvalidArgument("snapshot numbers start at 1, not '" + text + "'");
    return out;
  }
  // A timestamp: DuckDB's reading of it, the text only ever a quoted literal.
  if (text.size() <= 64) {
    ASSIGN_OR_RETURN(duck::Rows rows,
                     conn.Query("SELECT epoch_us(TRY_CAST(" + Literal(text) + " AS TIMESTAMP))"));
    if (!rows.rows.empty() && rows.rows[0][0]) {
      out.at_us = rows.IntAt(0, 0);
      return out;
    }
  }
  std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
  return Status::InvalidArgument("as of '" + shown +
                                 "': not a snapshot number or a timestamp (e.g. 3 or '2026-01-03 10:15:00')");
}

Result<std::vector<SnapshotRecord>> SnapshotsAsOf(duck::Connection& conn, const AsOf& as_of) {
  ASSIGN_OR_RETURN(bool present, HasSnapshotTable(conn));
  if (!present) return Status::NotFound("the lake has no snapshots yet");
  if (as_of.snapshot) {
    ASSIGN_OR_RETURN(duck::Rows max, conn.Query("SELECT coalesce(max(snapshot), 0) FROM meta.snapshots"));
    if (*as_of.snapshot > max.IntAt(0, 0)) {
      return Status::NotFound("snapshot " + std::to_string(*as_of.snapshot) +
                              " does not exist (the newest is " + std::to_string(max.IntAt(0, 0)) + ")");
    }
  }
  const std::string cond = as_of.snapshot ? "snapshot <= " + std::to_string(*as_of.snapshot)
                                          : "committed_at <= " + Timestamp(as_of.at_us.value_or(0));
  ASSIGN_OR_RETURN(duck::Rows rows, conn.Query(std::string(kColumns) + " WHERE " + cond +
                                               " QUALIFY row_number() OVER (PARTITION BY table_name "
                                               "ORDER BY snapshot DESC) = 1 ORDER BY table_name"));
  return ToRecords(rows);
}

}  // namespace sluice
