// NatsConsumer: the JetStream pull consumer of one `type: nats` source under `sluice serve`.
//
// Its thread fetches messages and cuts micro-batches at `batch.max_rows` messages or
// `batch.max_wait` after the batch's first message, and hands each to the engine thread. The
// engine commits the batch -- rows and stream sequence range in one catalog transaction -- and
// only then acknowledges it (AckAll on its last message). Exactly-once rests on the catalog,
// not on the broker: on start, and after any failed batch, the consumer is re-created to deliver
// from the last committed sequence + 1, and a message at or below the highest sequence already
// handed over is skipped, so redeliveries never stage a message twice (G2, G3).
//
// While the in-flight budget is exhausted the consumer stops pulling (backpressure).
//
// The committed position belongs to one stream: its name and its identity (JetStream's
// `created` time). On every (re)subscription, and every second while consuming, the stream is
// checked: a stream that was replaced (another identity) or went backwards (its last sequence
// below the committed one) is refused -- the consumer stops for good and says why in error();
// only `sluice streams reset` (with serve stopped) resumes it. A stream that disappears is
// reported and waited for; when it comes back it is checked like any other. See docs/JETSTREAM.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/stream_ledger.h"
#include "engine/stream_batch.h"
#include "serve/budget.h"
#include "spec/spec.h"

struct __natsMsg;
struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;

namespace sluice {

// One micro-batch of messages, owned by whoever holds it; acknowledged through Ack().
struct NatsBatch {
  NatsBatch() = default;
  ~NatsBatch();
  NatsBatch(const NatsBatch&) = delete;
  NatsBatch& operator=(const NatsBatch&) = delete;

  // One part when the batch has new messages: their data, one line per message in stream order
  // (so row N is message first_seq + ..., the N-th new one); none when it has only redeliveries.
  std::vector<StreamPart> parts;
  StreamRange range;
  int64_t bytes = 0;                        // reserved in the in-flight budget
  uint64_t generation = 0;                  // the consumer's subscription it came from (see Reset)
  std::atomic<int>* outstanding = nullptr;  // decremented when destroyed (see NatsConsumer)
  int64_t oldest_publish_us = 0;            // publish time of the batch's first message (UTC micros)
  std::vector<__natsMsg*>
      messages;  // the last message fetched (acknowledged for all); destroyed with the batch
};

class NatsConsumer {
 public:
  using Deliver = std::function<void(std::unique_ptr<NatsBatch>)>;
  using Log = std::function<void(const std::string&)>;

  // `position`: where the catalog says the source stands in its configured stream; nullopt
  // when nothing was committed from a stream of that name (it is read from its first message).
  NatsConsumer(const SourceSpec& source, InflightBudget& budget,
               const std::optional<StreamPosition>& position, Deliver deliver, Log log);
  ~NatsConsumer();  // Stop()s

  void Start();
  // Stops pulling: the batch being cut is delivered (so nothing fetched waits for redelivery),
  // then the thread ends. Blocks until it has.
  void Stop();

  // Engine thread: `batch` is committed; acknowledges it (unless !ack) and advances the
  // committed sequence.
  void Committed(const NatsBatch& batch, bool ack = true);
  // Engine thread: a batch failed to commit. Every batch fetched through the current
  // subscription -- queued, or still being cut -- is stale from now on (Stale() says so) and
  // must be dropped uncommitted; once all are destroyed, the consumer re-subscribes from the
  // committed sequence + 1, and its batches are current again.
  void Reset();
  bool Stale(const NatsBatch& batch) const { return batch.generation <= stale_through_.load(); }

  // For metrics and `sluice status`.
  struct Lag {
    uint64_t messages = 0;  // in the stream after the last committed message, for this subject
    double seconds = 0;     // age of the oldest message fetched and not yet committed
    bool paused = false;    // not pulling: the in-flight budget is exhausted
    bool connected = false;
    bool ever_connected = false;  // a lost connection is only reported once there was one
    uint64_t committed_seq = 0;
    uint64_t pauses = 0;   // times it has paused
    std::string error;     // why it is not consuming (setup error, stream gone, refused); ""
    bool refused = false;  // the stream was replaced or went backwards: stopped until a reset
  };
  // Non-blocking: from what the consumer thread last saw. With `ask_broker` (a /metrics scrape),
  // `messages` is current: the consumer's pending count asked of the broker now (at most
  // ~500 ms) plus the messages fetched and not committed.
  Lag lag(bool ask_broker = false) const;

 private:
  void Loop();
  bool Setup();  // connect, check the stream, (re)create the durable consumer; false: retry
  // Compares the stream's identity and last sequence with the committed position; "" when it
  // may be consumed, else the reason to refuse it.
  std::string CheckIdentity(int64_t created, uint64_t last_seq);
  // Every second while consuming: the stream and the consumer still exist and are the same;
  // false when the consumer must be set up again (or is refused).
  bool StillConsuming();
  bool Refuse(const std::string& why);  // logs once, stops the consumer for good; false
  void Teardown();
  void Flush(std::unique_ptr<NatsBatch>& batch);
  void WaitForOutstanding();

  const SourceSpec& source_;
  InflightBudget& budget_;
  Deliver deliver_;
  Log log_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reset_{false};
  std::atomic<uint64_t> generation_{0};     // +1 per subscription (Setup)
  std::atomic<uint64_t> stale_through_{0};  // batches of generations up to this are dropped
  // Batches handed to the engine and not yet destroyed: their messages belong to the current
  // connection, which is only torn down once none is left.
  std::atomic<int> outstanding_{0};
  std::atomic<bool> connected_flag_{false};  // the connection's status, polled by Loop
  std::atomic<bool> ever_connected_{false};
  std::atomic<uint64_t> committed_seq_;
  std::atomic<int64_t> stream_created_;  // identity of the stream the position is in; 0 unknown
  const int64_t resets_;                 // of the position (StreamPosition::resets)
  std::atomic<bool> refused_{false};
  std::atomic<bool> setting_up_{false};  // lag(ask_broker) answers the last value meanwhile
  std::atomic<uint64_t> handed_seq_;     // highest sequence handed to the engine (written by Loop)
  int64_t avg_message_bytes_ = 0;        // moving average of message sizes (Loop only)

  mutable std::mutex mu_;  // guards the lag fields below
  uint64_t pending_ = 0;
  int64_t uncommitted_ = 0;            // new messages fetched (handed or in the open batch), not committed
  mutable uint64_t last_lag_ = 0;      // the last lag asked of the broker
  int64_t oldest_uncommitted_us_ = 0;  // publish time of the oldest handed-over message
  std::vector<std::pair<uint64_t, int64_t>> inflight_;  // (last seq, oldest publish us) per batch
  bool paused_ = false;
  uint64_t pauses_ = 0;
  std::string error_;

  __natsConnection* conn_ = nullptr;
  __jsCtx* js_ = nullptr;
  __natsSubscription* sub_ = nullptr;
  // A JetStream context for lag(ask_broker) from other threads; guarded by info_mu_, created at
  // the end of Setup and destroyed first in Teardown.
  mutable std::mutex info_mu_;
  __jsCtx* info_js_ = nullptr;
};

}  // namespace sluice
