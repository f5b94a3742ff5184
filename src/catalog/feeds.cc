#include "catalog/feeds.h"

namespace sluice {

using duck::Literal;

namespace {

std::string TenantFilter(const std::optional<std::vector<std::string>>& tenants) {
  if (!tenants) return "";
  std::string list;
  for (const auto& t : *tenants) list += (list.empty() ? "" : ", ") + Literal(t);
  return list.empty() ? " AND false" : " AND tenant IN (" + list + ")";
}

}  // namespace

Status CreateFeedTables(duck::Connection& conn) {
  return conn.Execute(
      "CREATE TABLE IF NOT EXISTS meta.feed_changes (table_name VARCHAR NOT NULL, seq BIGINT NOT NULL, "
      "op VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, version BIGINT NOT NULL, tenant VARCHAR, "
      "row_json VARCHAR NOT NULL, prev_json VARCHAR, changed_at_us BIGINT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta.feed_heads (table_name VARCHAR NOT NULL, last_seq BIGINT NOT NULL, "
      "started_at_us BIGINT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta.feed_positions (consumer VARCHAR NOT NULL, table_name VARCHAR NOT "
      "NULL, position BIGINT NOT NULL, committed_at_us BIGINT NOT NULL)");
}

Status ForgetFeedsWithoutConsumers(duck::Connection& conn,
                                   const std::vector<std::pair<std::string, std::string>>& consumers) {
  // meta.feed_heads stays: a table's sequences never go back, even across a time without consumers.
  if (consumers.empty())
    return conn.Execute("DELETE FROM meta.feed_positions; DELETE FROM meta.feed_changes");
  std::string pairs, tables;
  for (const auto& [consumer, table] : consumers) {
    pairs += (pairs.empty() ? "(" : ", (") + Literal(consumer) + ", " + Literal(table) + ")";
    tables += (tables.empty() ? "" : ", ") + Literal(table);
  }
  return conn.Execute(
      "DELETE FROM meta.feed_positions WHERE NOT EXISTS (SELECT 1 FROM (VALUES " + pairs +
      ") v(consumer, table_name) WHERE v.consumer = feed_positions.consumer AND v.table_name = "
      "feed_positions.table_name); DELETE FROM meta.feed_changes WHERE table_name NOT IN (" +
      tables + ")");
}

Status StartFeedConsumers(duck::Connection& conn, const std::string& table,
                          const std::vector<std::string>& consumers, int64_t now_us) {
  const std::string t = Literal(table);
  RETURN_IF_ERROR(conn.Execute("INSERT INTO meta.feed_heads SELECT " + t + ", 0, " + std::to_string(now_us) +
                               " WHERE NOT EXISTS (SELECT 1 FROM meta.feed_heads WHERE table_name = " + t +
                               ")"));
  for (const auto& c : consumers) {
    RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO meta.feed_positions SELECT " + Literal(c) + ", " + t + ", last_seq, " +
        std::to_string(now_us) + " FROM meta.feed_heads WHERE table_name = " + t +
        " AND NOT EXISTS (SELECT 1 FROM meta.feed_positions WHERE consumer = " + Literal(c) + ")"));
  }
  return Status::OK();
}

Result<int64_t> AppendFeedChanges(duck::Connection& conn, const std::string& table,
                                  const std::string& changes, int64_t version, int64_t now_us) {
  const std::string t = Literal(table);
  ASSIGN_OR_RETURN(int64_t head,
                   conn.QueryInt("SELECT last_seq FROM meta.feed_heads WHERE table_name = " + t));
  ASSIGN_OR_RETURN(int64_t n, conn.QueryInt("SELECT count(*) FROM " + changes));
  if (n == 0) return int64_t{0};
  RETURN_IF_ERROR(conn.Execute("INSERT INTO meta.feed_changes SELECT " + t + ", " + std::to_string(head) +
                               " + row_number() OVER (ORDER BY batch_seq, source_line), op, batch_id, " +
                               std::to_string(version) + ", tenant, row_json, prev_json, " +
                               std::to_string(now_us) + " FROM " + changes));
  RETURN_IF_ERROR(conn.Execute("UPDATE meta.feed_heads SET last_seq = " + std::to_string(head + n) +
                               " WHERE table_name = " + t));
  return n;
}

Result<int64_t> PruneFeedChanges(duck::Connection& conn, const std::string& table,
                                 const std::vector<std::string>& consumers, int64_t max_rows) {
  const std::string t = Literal(table);
  std::string names;
  for (const auto& c : consumers) names += (names.empty() ? "" : ", ") + Literal(c);
  if (names.empty()) return int64_t{0};
  // Every change at or below the lowest committed position is delivered to every consumer;
  // bounded by sequence so one call deletes at most max_rows.
  ASSIGN_OR_RETURN(
      duck::Rows bound,
      conn.Query("SELECT least((SELECT min(position) FROM meta.feed_positions WHERE table_name = " + t +
                 " AND consumer IN (" + names +
                 ")), (SELECT min(seq) FROM meta.feed_changes WHERE table_name = " + t + ") + " +
                 std::to_string(max_rows - 1) + ")"));
  if (bound.rows.empty() || !bound.rows[0][0]) return int64_t{0};
  ASSIGN_OR_RETURN(int64_t n, conn.QueryInt("SELECT count(*) FROM meta.feed_changes WHERE table_name = " + t +
                                            " AND seq <= " + *bound.rows[0][0]));
  if (n == 0) return int64_t{0};
  RETURN_IF_ERROR(conn.Execute("DELETE FROM meta.feed_changes WHERE table_name = " + t +
                               " AND seq <= " + *bound.rows[0][0]));
  return n;
}

Result<FeedPosition> ReadFeedPosition(duck::Connection& conn, const std::string& consumer) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT table_name, position, committed_at_us FROM meta.feed_positions "
                              "WHERE consumer = " +
                              Literal(consumer)));
  FeedPosition out;
  if (rows.rows.empty()) return out;
  out.started = true;
  out.table = rows.At(0, 0);
  out.position = rows.IntAt(0, 1);
  out.committed_at_us = rows.IntAt(0, 2);
  return out;
}

Result<std::vector<FeedChange>> ReadFeedChanges(duck::Connection& conn, const std::string& table,
                                                int64_t after,
                                                const std::optional<std::vector<std::string>>& tenants,
                                                int64_t limit) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT seq, op, batch_id, version, tenant, row_json, prev_json, changed_at_us "
                              "FROM meta.feed_changes WHERE table_name = " +
                              Literal(table) + " AND seq > " + std::to_string(after) + TenantFilter(tenants) +
                              " ORDER BY seq LIMIT " + std::to_string(limit)));
  std::vector<FeedChange> out;
  out.reserve(rows.rows.size());
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    FeedChange c;
    c.seq = rows.IntAt(r, 0);
    c.op = rows.At(r, 1);
    c.batch_id = rows.At(r, 2);
    c.version = rows.IntAt(r, 3);
    c.tenant = rows.rows[r][4];
    c.row_json = rows.At(r, 5);
    c.prev_json = rows.rows[r][6];
    c.changed_at_us = rows.IntAt(r, 7);
    out.push_back(std::move(c));
  }
  return out;
}

Result<FeedLag> MeasureFeedLag(duck::Connection& conn, const std::string& table, int64_t after,
                               const std::optional<std::vector<std::string>>& tenants) {
  const std::string t = Literal(table);
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT count(*), min(changed_at_us), max(seq), (SELECT max(last_seq) FROM "
                              "meta.feed_heads WHERE table_name = " +
                              t + ") FROM meta.feed_changes WHERE table_name = " + t + " AND seq > " +
                              std::to_string(after) + TenantFilter(tenants)));
  FeedLag lag;
  lag.changes = rows.IntAt(0, 0);
  if (rows.rows[0][1]) lag.oldest_uncommitted_us = rows.IntAt(0, 1);
  lag.newest_seq = rows.IntAt(0, 2);
  lag.head_seq = rows.IntAt(0, 3);
  return lag;
}

Status WriteFeedPosition(duck::Connection& conn, const std::string& consumer, int64_t position,
                         int64_t now_us) {
  ASSIGN_OR_RETURN(int64_t n, conn.QueryInt("SELECT count(*) FROM meta.feed_positions WHERE consumer = " +
                                            Literal(consumer)));
  if (n == 0) return Status::NotFound("consumer " + consumer + " has no position yet");
  return conn.Execute("UPDATE meta.feed_positions SET position = " + std::to_string(position) +
                      ", committed_at_us = " + std::to_string(now_us) +
                      " WHERE consumer = " + Literal(consumer));
}

}  // namespace sluice
