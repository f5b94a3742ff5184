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
};

// The highest stream sequence committed for `source`; 0 when none.
Result<uint64_t> LastCommittedSeq(Catalog& catalog, const std::string& source);
Status RecordStreamRange(Catalog& catalog, const std::string& source, const std::string& batch_id,
                         const StreamRange& range);

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
Result<std::map<std::string, IdempotentAnswer>> FindIdempotentAnswers(
    Catalog& catalog, const std::string& source, const std::vector<std::string>& keys);
Status RecordIdempotentAnswers(Catalog& catalog, const std::string& source,
                               const std::vector<IdempotentAnswer>& answers, int64_t now_micros);

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
