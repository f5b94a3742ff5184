#include "catalog/stream_ledger.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string Timestamp(int64_t micros) {
  return "make_timestamp(" + std::to_string(micros) + "::BIGINT)";
}

}  // namespace

Result<uint64_t> LastCommittedSeq(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(int64_t seq,
                   catalog.conn().QueryInt("SELECT coalesce(max(last_seq), 0) FROM "
                                           "meta.stream_offsets WHERE source = " + Literal(source)));
  return static_cast<uint64_t>(seq);
}

Status RecordStreamRange(Catalog& catalog, const std::string& source, const std::string& batch_id,
                         const StreamRange& range) {
  return catalog.conn().Execute(
      "INSERT INTO meta.stream_offsets VALUES (" + Literal(source) + ", " + Literal(batch_id) +
      ", " + Literal(range.stream) + ", " + std::to_string(range.first_seq) + ", " +
      std::to_string(range.last_seq) + ", " + std::to_string(range.messages) + ", " +
      std::to_string(range.redelivered) + ", now()::TIMESTAMP)");
}

Result<std::map<std::string, IdempotentAnswer>> FindIdempotentAnswers(
    Catalog& catalog, const std::string& source, const std::vector<std::string>& keys) {
  std::map<std::string, IdempotentAnswer> out;
  if (keys.empty()) return out;
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + Literal(k);
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(
                       "SELECT idempotency_key, batch_id, content_hash, correlation_id, accepted,"
                       " dead_lettered FROM meta.idempotency WHERE source = " + Literal(source) +
                       " AND idempotency_key IN (" + list + ")"));
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
    values += std::string(values.empty() ? "" : ", ") + "(" + Literal(source) + ", " +
              Literal(a.key) + ", " + Literal(a.batch_id) + ", " + Literal(a.content_hash) + ", " +
              std::to_string(a.accepted) + ", " + std::to_string(a.dead_lettered) + ", " +
              Literal(a.correlation_id) + ", " + Timestamp(now_micros) + ")";
  }
  return catalog.conn().Execute("INSERT INTO meta.idempotency VALUES " + values);
}

Result<EventTimeStats> MeasureEventTime(Catalog& catalog, const SourceSpec& source) {
  EventTimeStats stats;
  if (source.event_time.empty()) return stats;
  const std::string part =
      source.partition_by.tenant.empty() ? "''" : "b." + Ident(source.partition_by.tenant);
  const std::string ev = "b." + Ident(source.event_time);
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(
                       "SELECT " + part + " AS p, epoch_us(max(" + ev + ")), count(*) FILTER (WHERE " +
                       ev + " < w.watermark) FROM batch_rows b LEFT JOIN meta.watermarks w ON "
                       "w.source = " + Literal(source.name) + " AND w.partition = " + part +
                       " WHERE " + ev + " IS NOT NULL GROUP BY p"));
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
  const std::string lateness = "to_microseconds(" + std::to_string(source.allowed_lateness_ms * 1000) +
                               "::BIGINT)";
  const std::string src = Literal(source.name);
  return catalog.conn().Execute(
      "UPDATE meta.watermarks w SET max_event_time = greatest(w.max_event_time, v.max_event_time),"
      " watermark = greatest(w.max_event_time, v.max_event_time) - " + lateness +
      ", late_rows = w.late_rows + v.late_rows, updated_at = " + Timestamp(now_micros) + " FROM " +
      batch + " WHERE w.source = " + src + " AND w.partition = v.p;"
      "INSERT INTO meta.watermarks SELECT " + src + ", v.p, v.max_event_time, v.max_event_time - " +
      lateness + ", v.late_rows, " + Timestamp(now_micros) + " FROM " + batch +
      " WHERE NOT EXISTS (SELECT 1 FROM meta.watermarks w WHERE w.source = " + src +
      " AND w.partition = v.p)");
}

Result<std::vector<Watermark>> ListWatermarks(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT partition, CAST(watermark AS VARCHAR), "
                                        "CAST(max_event_time AS VARCHAR), late_rows FROM "
                                        "meta.watermarks WHERE source = " + Literal(source) +
                                        " ORDER BY partition"));
  std::vector<Watermark> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back({rows.At(r, 0), rows.At(r, 1), rows.At(r, 2), rows.IntAt(r, 3)});
  }
  return out;
}

}  // namespace sluice
