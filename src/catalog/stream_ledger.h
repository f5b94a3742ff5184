// What the catalog keeps about stream sources, beside the batch ledger: the JetStream sequence
// range of each committed batch, the answers given to HTTP requests with an Idempotency-Key,
// and the event-time watermark of each (source, tenant) partition.
//
// The Record*/Advance* calls run inside a batch's commit transaction (CommitBatch's
// `in_transaction`), so this state is exactly as durable as the rows it describes: a stream
// offset is committed if and only if the rows of its messages are (G2, G5).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// The JetStream messages a batch holds: stream sequences first_seq..last_seq (gaps are
// messages of other subjects), `messages` of them new, `redelivered` skipped as already
// committed by an earlier batch.
struct StreamRange {
  std::string stream;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t messages = 0;
  int64_t redelivered = 0;
  int64_t stream_created = 0;  // the stream's identity: JetStream's `created` (UTC ns); 0 unknown
  int64_t resets = 0;          // `sluice streams reset`s of this (source, stream) before it
};

// The highest stream sequence committed for `source`, whatever the stream; 0 when none.
Result<uint64_t> LastCommittedSeq(Catalog& catalog, const std::string& source);
// Inside a batch's commit transaction: the batch's range (meta.stream_offsets) and the source's
// position in `range.stream` (meta.stream_positions), which becomes (stream_created, last_seq).
Status RecordStreamRange(Catalog& catalog, const std::string& source, const std::string& batch_id,
                         const StreamRange& range);

// Where a nats source stands in one stream (meta.stream_positions): the last sequence committed
// from it, and the identity (JetStream's `created`, UTC ns) of the stream it was committed from;
// 0 when unknown (a lake from before identities were recorded, or right after a reset: the
// stream found at the next start is taken as that stream, and its identity is recorded with the
// next commit).
struct StreamPosition {
  std::string stream;
  int64_t stream_created = 0;
  uint64_t last_seq = 0;
  int64_t resets = 0;  // how many times an operator reset it (batch ids differ after each)
};
// The source's position in `stream`; nullopt when nothing was ever committed from a stream of
// that name (nor reset to).
Result<std::optional<StreamPosition>> CommittedPosition(Catalog& catalog, const std::string& source,
                                                        const std::string& stream);
// Every stream the source has a position in, by stream name.
Result<std::vector<StreamPosition>> CommittedPositions(Catalog& catalog, const std::string& source);

// An operator's decision about where a source resumes in its stream (`sluice streams reset`),
// as recorded in meta.stream_resets.
struct StreamReset {
  std::string source;
  std::string stream;
  std::optional<StreamPosition> from;  // the position before; nullopt when there was none
  uint64_t to_seq = 0;                 // the new position: the next message read is to_seq + 1
  std::string mode;                    // "from-start" | "from-seq N"
  std::string reset_by;                // user@host
  std::string reset_at;                // UTC, as the catalog prints a TIMESTAMP
};
// In one transaction (failpoints streams.before_reset_commit / streams.after_reset_commit
// around its commit): sets the source's position in `stream` to `to_seq` with an unknown
// identity, and records who asked, when, and what the position was. Not inside another
// transaction.
Status ResetStreamPosition(Catalog& catalog, const std::string& source, const std::string& stream,
                           uint64_t to_seq, const std::string& mode, const std::string& reset_by,
                           int64_t now_micros);
// The resets of `source`, oldest first.
Result<std::vector<StreamReset>> StreamResets(Catalog& catalog, const std::string& source);

// A committed batch's lineage in its stream: the messages it holds and, when it was read after
// `sluice streams reset`s of that stream, the last of them (the operator's decision that made
// its messages be read again, or skipped).
struct StreamBatchOrigin {
  StreamRange range;                       // stream_created is not filled in
  std::optional<StreamReset> after_reset;  // nullopt: read before any reset of its stream
};
// The stream origins of `source`'s committed batches, by batch id (none for HTTP batches).
Result<std::map<std::string, StreamBatchOrigin>> StreamBatchOrigins(Catalog& catalog,
                                                                    const std::string& source);

// At open (writable): adds stream_offsets.stream_created and the tables meta.stream_positions and
// meta.stream_resets to lakes created before them; a lake's existing offsets give one position
// per (source, stream) with an unknown identity.
Status MigrateStreamLedger(Catalog& catalog);

// The answer an HTTP request with an Idempotency-Key got; a retry gets the same one (G2).
struct IdempotentAnswer {
  std::string key;
  std::string batch_id;
  std::string content_hash;  // of the request body: a retry with other content is refused
  std::string correlation_id;
  int64_t accepted = 0;
  int64_t dead_lettered = 0;
};

// The committed answers among `keys` of `source`, by key.
Result<std::map<std::string, IdempotentAnswer>> FindIdempotentAnswers(Catalog& catalog,
                                                                      const std::string& source,
                                                                      const std::vector<std::string>& keys);
Status RecordIdempotentAnswers(Catalog& catalog, const std::string& source,
                               const std::vector<IdempotentAnswer>& answers, int64_t now_micros);
// Where the answers live, as `sluice query` names them (messages, meta.lifecycle's target).
inline constexpr const char* kIdempotencyKeysName = "meta.idempotency";

// Forgets the answers recorded before `before_micros` (retention.idempotency_keys): a retry of
// such a request is loaded again. Returns how many were deleted.
Result<int64_t> ExpireIdempotentAnswers(Catalog& catalog, int64_t before_micros);

// Per tenant partition of a batch ("" when the source has no tenant partition): the batch's
// largest event time and how many of its rows were behind the partition's watermark.
struct PartitionEventTime {
  int64_t max_event_time = 0;  // UTC micros
  int64_t late_rows = 0;
};
using EventTimeStats = std::map<std::string, PartitionEventTime>;

// Reads the temp table `batch_rows` (storage/staging.h) of `source`, whose event_time is set.
Result<EventTimeStats> MeasureEventTime(Catalog& catalog, const SourceSpec& source);
// Moves each partition's watermark to max(old max, batch max) - allowed_lateness and adds the
// late rows; never moves a watermark back.
Status AdvanceWatermarks(Catalog& catalog, const SourceSpec& source, const EventTimeStats& stats,
                         int64_t now_micros);

// A partition's watermark as stored, for `sluice status`.
struct Watermark {
  std::string partition;       // the tenant; "" when the source has no tenant partition
  std::string watermark;       // "2026-01-03 10:15:00" (UTC)
  std::string max_event_time;  // likewise
  int64_t late_rows = 0;
};
// Every partition's watermark of `source`, ordered by partition.
Result<std::vector<Watermark>> ListWatermarks(Catalog& catalog, const std::string& source);

}  // namespace sluice
