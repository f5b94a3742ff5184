#include "catalog/stream_ledger.h"

#include "common/failpoint.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string Timestamp(int64_t micros) { return "make_timestamp(" + std::to_string(micros) + "::BIGINT)"; }

// A lake opened read-only is not migrated: one from before positions and resets were recorded
// lacks their tables.
Result<bool> HasMetaTable(Catalog& catalog, const std::string& table) {
  ASSIGN_OR_RETURN(int64_t n,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                                           "current_database() AND schema_name = 'meta' AND table_name = " +
                                           Literal(table)));
  return n > 0;
}

}  // namespace

Result<uint64_t> LastCommittedSeq(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(int64_t seq, catalog.conn().QueryInt("SELECT coalesce(max(last_seq), 0) FROM "
                                                        "meta.stream_offsets WHERE source = " +
                                                        Literal(source)));
  return static_cast<uint64_t>(seq);
}

Status RecordStreamRange(Catalog& catalog, const std::string& source, const std::string& batch_id,
                         const StreamRange& range) {
  const std::string created =
      range.stream_created != 0 ? std::to_string(range.stream_created) : std::string("NULL");
  return catalog.conn().Execute(
      "INSERT INTO meta.stream_offsets (source, batch_id, stream, first_seq, last_seq, messages,"
      " redelivered, committed_at, stream_created, resets) VALUES (" +
      Literal(source) + ", " + Literal(batch_id) + ", " + Literal(range.stream) + ", " +
      std::to_string(range.first_seq) + ", " + std::to_string(range.last_seq) + ", " +
      std::to_string(range.messages) + ", " + std::to_string(range.redelivered) + ", now()::TIMESTAMP, " +
      created + ", " + std::to_string(range.resets) +
      ");"
      "DELETE FROM meta.stream_positions WHERE source = " +
      Literal(source) + " AND stream = " + Literal(range.stream) +
      ";"
      "INSERT INTO meta.stream_positions VALUES (" +
      Literal(source) + ", " + Literal(range.stream) + ", " + created + ", " +
      std::to_string(range.last_seq) + ", now()::TIMESTAMP)");
}

Result<std::vector<StreamPosition>> CommittedPositions(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(bool migrated, HasMetaTable(catalog, "stream_positions"));
  const std::string table =
      migrated ? "meta.stream_positions"
               : "(SELECT source, stream, NULL AS stream_created, max(last_seq) AS last_seq FROM "
                 "meta.stream_offsets GROUP BY source, stream)";
  ASSIGN_OR_RETURN(bool resets, HasMetaTable(catalog, "stream_resets"));
  const std::string count = resets
                                ? "(SELECT count(*) FROM meta.stream_resets r WHERE r.source = p.source AND "
                                  "r.stream = p.stream)"
                                : "0";
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT stream, coalesce(stream_created, 0), last_seq, " + count + " FROM " +
                           table + " p WHERE source = " + Literal(source) + " ORDER BY stream"));
  std::vector<StreamPosition> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back(
        {rows.At(r, 0), rows.IntAt(r, 1), static_cast<uint64_t>(rows.IntAt(r, 2)), rows.IntAt(r, 3)});
  }
  return out;
}

Result<std::optional<StreamPosition>> CommittedPosition(Catalog& catalog, const std::string& source,
                                                        const std::string& stream) {
  ASSIGN_OR_RETURN(std::vector<StreamPosition> all, CommittedPositions(catalog, source));
  for (auto& p : all) {
    if (p.stream == stream) return std::optional<StreamPosition>(std::move(p));
  }
  return std::optional<StreamPosition>();
}

Status ResetStreamPosition(Catalog& catalog, const std::string& source, const std::string& stream,
                           uint64_t to_seq, const std::string& mode, const std::string& reset_by,
                           int64_t now_micros) {
  const std::string src = Literal(source), st = Literal(stream);
  RETURN_IF_ERROR(catalog.Begin());
  Status s = catalog.conn().Execute(
      "INSERT INTO meta.stream_resets SELECT " + src + ", " + st + ", p.stream_created, p.last_seq, " +
      std::to_string(to_seq) + ", " + Literal(mode) + ", " + Literal(reset_by) + ", " +
      Timestamp(now_micros) + " FROM (SELECT 1) LEFT JOIN meta.stream_positions p ON p.source = " + src +
      " AND p.stream = " + st +
      ";"
      "DELETE FROM meta.stream_positions WHERE source = " +
      src + " AND stream = " + st +
      ";"
      "INSERT INTO meta.stream_positions VALUES (" +
      src + ", " + st + ", NULL, " + std::to_string(to_seq) + ", " + Timestamp(now_micros) + ")");
  if (s.ok()) s = Failpoint("streams.before_reset_commit");
  if (!s.ok()) {
    (void)catalog.Rollback();
    return s.WithContext("resetting the position of " + source + " in stream " + stream);
  }
  RETURN_IF_ERROR(catalog.Commit());
  SLUICE_FAILPOINT("streams.after_reset_commit");
  return Status::OK();
}

Result<std::vector<StreamReset>> StreamResets(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(bool migrated, HasMetaTable(catalog, "stream_resets"));
  if (!migrated) return std::vector<StreamReset>();
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT stream, CASE WHEN from_seq IS NULL THEN 1 ELSE 0 END,"
                           " coalesce(from_stream_created, 0), coalesce(from_seq, 0), to_seq, mode,"
                           " reset_by, CAST(reset_at AS VARCHAR) FROM meta.stream_resets WHERE source = " +
                           Literal(source) + " ORDER BY reset_at"));
  std::vector<StreamReset> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    StreamReset x;
    x.source = source;
    x.stream = rows.At(r, 0);
    if (rows.IntAt(r, 1) == 0) {
      x.from = StreamPosition{x.stream, rows.IntAt(r, 2), static_cast<uint64_t>(rows.IntAt(r, 3))};
    }
    x.to_seq = static_cast<uint64_t>(rows.IntAt(r, 4));
    x.mode = rows.At(r, 5);
    x.reset_by = rows.At(r, 6);
    x.reset_at = rows.At(r, 7);
    out.push_back(std::move(x));
  }
  return out;
}

Result<std::map<std::string, StreamBatchOrigin>> StreamBatchOrigins(Catalog& catalog,
                                                                    const std::string& source) {
  std::map<std::string, StreamBatchOrigin> out;
  // A lake opened read-only is not migrated: one from before resets were recorded has none.
  ASSIGN_OR_RETURN(int64_t has_resets,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_columns() WHERE database_name = "
                                           "current_database() AND schema_name = 'meta' AND table_name = "
                                           "'stream_offsets' AND column_name = 'resets'"));
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(
                       std::string("SELECT batch_id, stream, first_seq, last_seq, messages, redelivered, ") +
                       (has_resets > 0 ? "coalesce(resets, 0)" : "0") +
                       " FROM meta.stream_offsets WHERE source = " + Literal(source)));
  if (rows.rows.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<StreamReset> resets, StreamResets(catalog, source));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    StreamBatchOrigin o;
    o.range.stream = rows.At(r, 1);
    o.range.first_seq = static_cast<uint64_t>(rows.IntAt(r, 2));
    o.range.last_seq = static_cast<uint64_t>(rows.IntAt(r, 3));
    o.range.messages = rows.IntAt(r, 4);
    o.range.redelivered = rows.IntAt(r, 5);
    o.range.resets = rows.IntAt(r, 6);
    // The k-th reset of this stream, k = the resets the batch was read after.
    int64_t k = 0;
    for (const StreamReset& x : resets) {
      if (x.stream == o.range.stream && ++k == o.range.resets) o.after_reset = x;
    }
    out.emplace(rows.At(r, 0), std::move(o));
  }
  return out;
}

Status MigrateStreamLedger(Catalog& catalog) {
  return catalog.conn().Execute(
      "ALTER TABLE meta.stream_offsets ADD COLUMN IF NOT EXISTS stream_created BIGINT;"
      "ALTER TABLE meta.stream_offsets ADD COLUMN IF NOT EXISTS resets BIGINT;"
      "CREATE TABLE IF NOT EXISTS meta.stream_positions (source VARCHAR NOT NULL,"
      " stream VARCHAR NOT NULL, stream_created BIGINT, last_seq UBIGINT NOT NULL,"
      " updated_at TIMESTAMP NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta.stream_resets (source VARCHAR NOT NULL,"
      " stream VARCHAR NOT NULL, from_stream_created BIGINT, from_seq UBIGINT,"
      " to_seq UBIGINT NOT NULL, mode VARCHAR NOT NULL, reset_by VARCHAR NOT NULL,"
      " reset_at TIMESTAMP NOT NULL);"
      // Offsets committed before positions existed: one position per stream, identity unknown.
      "INSERT INTO meta.stream_positions SELECT o.source, o.stream, NULL, max(o.last_seq),"
      " max(o.committed_at) FROM meta.stream_offsets o WHERE NOT EXISTS (SELECT 1 FROM"
      " meta.stream_positions p WHERE p.source = o.source AND p.stream = o.stream)"
      " GROUP BY o.source, o.stream");
}

Result<std::map<std::string, IdempotentAnswer>> FindIdempotentAnswers(Catalog& catalog,
                                                                      const std::string& source,
                                                                      const std::vector<std::string>& keys) {
  std::map<std::string, IdempotentAnswer> out;
  if (keys.empty()) return out;
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + Literal(k);
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT idempotency_key, batch_id, content_hash, correlation_id, accepted,"
                           " dead_lettered FROM meta.idempotency WHERE source = " +
                           Literal(source) + " AND idempotency_key IN (" + list + ")"));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    IdempotentAnswer a;
    a.key = rows.At(r, 0);
    a.batch_id = rows.At(r, 1);
    a.content_hash = rows.At(r, 2);
    a.correlation_id = rows.At(r, 3);
    a.accepted = rows.IntAt(r, 4);
    a.dead_lettered = rows.IntAt(r, 5);
    out[a.key] = std::move(a);
  }
  return out;
}

Status RecordIdempotentAnswers(Catalog& catalog, const std::string& source,
                               const std::vector<IdempotentAnswer>& answers, int64_t now_micros) {
  if (answers.empty()) return Status::OK();
  std::string values;
  for (const auto& a : answers) {
    values += std::string(values.empty() ? "" : ", ") + "(" + Literal(source) + ", " + Literal(a.key) + ", " +
              Literal(a.batch_id) + ", " + Literal(a.content_hash) + ", " + std::to_string(a.accepted) +
              ", " + std::to_string(a.dead_lettered) + ", " + Literal(a.correlation_id) + ", " +
              Timestamp(now_micros) + ")";
  }
  return catalog.conn().Execute("INSERT INTO meta.idempotency VALUES " + values);
}

Result<int64_t> ExpireIdempotentAnswers(Catalog& catalog, int64_t before_micros) {
  const std::string where = " WHERE accepted_at < " + Timestamp(before_micros);
  ASSIGN_OR_RETURN(int64_t n, catalog.conn().QueryInt("SELECT count(*) FROM meta.idempotency" + where));
  if (n > 0) RETURN_IF_ERROR(catalog.conn().Execute("DELETE FROM meta.idempotency" + where));
  return n;
}

Result<EventTimeStats> MeasureEventTime(Catalog& catalog, const SourceSpec& source) {
  EventTimeStats stats;
  if (source.event_time.empty()) return stats;
  const std::string part =
      source.partition_by.tenant.empty() ? "''" : "b." + Ident(source.partition_by.tenant);
  const std::string ev = "b." + Ident(source.event_time);
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT " + part + " AS p, epoch_us(max(" + ev +
                                        ")), count(*) FILTER (WHERE " + ev +
                                        " < w.watermark) FROM batch_rows b LEFT JOIN meta.watermarks w ON "
                                        "w.source = " +
                                        Literal(source.name) + " AND w.partition = " + part + " WHERE " + ev +
                                        " IS NOT NULL GROUP BY p"));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    stats[rows.At(r, 0)] = PartitionEventTime{rows.IntAt(r, 1), rows.IntAt(r, 2)};
  }
  return stats;
}

Status AdvanceWatermarks(Catalog& catalog, const SourceSpec& source, const EventTimeStats& stats,
                         int64_t now_micros) {
  if (stats.empty()) return Status::OK();
  // Two statements whatever the number of partitions: move the known ones, add the new ones.
  std::string values;
  for (const auto& [partition, s] : stats) {
    values += std::string(values.empty() ? "" : ", ") + "(" + Literal(partition) + ", " +
              Timestamp(s.max_event_time) + ", " + std::to_string(s.late_rows) + ")";
  }
  const std::string batch = "(VALUES " + values + ") v(p, max_event_time, late_rows)";
  const std::string lateness =
      "to_microseconds(" + std::to_string(source.allowed_lateness_ms * 1000) + "::BIGINT)";
  const std::string src = Literal(source.name);
  return catalog.conn().Execute(
      "UPDATE meta.watermarks w SET max_event_time = greatest(w.max_event_time, v.max_event_time),"
      " watermark = greatest(w.max_event_time, v.max_event_time) - " +
      lateness + ", late_rows = w.late_rows + v.late_rows, updated_at = " + Timestamp(now_micros) + " FROM " +
      batch + " WHERE w.source = " + src +
      " AND w.partition = v.p;"
      "INSERT INTO meta.watermarks SELECT " +
      src + ", v.p, v.max_event_time, v.max_event_time - " + lateness + ", v.late_rows, " +
      Timestamp(now_micros) + " FROM " + batch +
      " WHERE NOT EXISTS (SELECT 1 FROM meta.watermarks w WHERE w.source = " + src +
      " AND w.partition = v.p)");
}

Result<std::vector<Watermark>> ListWatermarks(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query("SELECT partition, CAST(watermark AS VARCHAR), "
                                                         "CAST(max_event_time AS VARCHAR), late_rows FROM "
                                                         "meta.watermarks WHERE source = " +
                                                         Literal(source) + " ORDER BY partition"));
  std::vector<Watermark> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back({rows.At(r, 0), rows.At(r, 1), rows.At(r, 2), rows.IntAt(r, 3)});
  }
  return out;
}

}  // namespace sluice
