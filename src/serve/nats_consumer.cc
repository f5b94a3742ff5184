#include "serve/nats_consumer.h"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>

#include "common/env.h"

namespace sluice {

namespace {

// The wall clock, to compare with the broker's publish times (the consumer has no lake Env).
int64_t NowMicros() { return Env::Default()->NowMicros(); }

// Appends one message to `out` as one NDJSON line: line breaks (only valid JSON whitespace)
// become spaces; an empty message becomes "" so that it is a record (dead-lettered as
// malformed), not a blank line.
void AppendLine(const char* data, int length, std::string* out) {
  if (length <= 0) {
    *out += "\"\"\n";
    return;
  }
  const size_t at = out->size();
  out->append(data, static_cast<size_t>(length));
  for (size_t i = at; i < out->size(); ++i) {
    if ((*out)[i] == '\n' || (*out)[i] == '\r') (*out)[i] = ' ';
  }
  *out += '\n';
}

std::string NatsError(const char* what, natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string m = std::string(what) + ": " + natsStatus_GetText(s);
  if (code != 0) m += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') m += " - " + std::string(last);
  return m;
}

// Fetches up to `count` messages, waiting at most `wait_ms`, clear of a heap overflow in
// libnats 3.4.1 (Debian 12's; fixed upstream in nats.c 3.9.0): its fetch writes past the
// message array it allocated when messages of an earlier pull request are already waiting in
// the subscription and make up more than half of the batch. Two rules keep that from happening:
//  - pull requests are no_wait: the server sends what it has at once and ends the request with
//    a status message that the fetch reads before it returns, so no request outlives its fetch;
//  - messages waiting anyway (a fetch that gave up just before the server's answer) are taken
//    one per fetch, for which the overflow cannot happen.
// NATS_NOT_FOUND or NATS_TIMEOUT: nothing to fetch now.
natsStatus FetchMessages(natsSubscription* sub, int64_t count, int64_t wait_ms, natsMsgList* list) {
  int waiting = 0;
  if (natsSubscription_GetPending(sub, &waiting, nullptr) != NATS_OK) waiting = 0;
  jsFetchRequest req;
  jsFetchRequest_Init(&req);
  req.Batch = waiting > 0 ? 1 : static_cast<int>(count);
  req.NoWait = true;
  req.Expires = std::max<int64_t>(wait_ms, 20) * 1000 * 1000;  // ns; the fetch's own deadline
  return natsSubscription_FetchRequest(list, sub, &req);
}

}  // namespace

NatsBatch::~NatsBatch() {
  for (natsMsg* m : messages) natsMsg_Destroy(m);
  if (outstanding != nullptr) outstanding->fetch_sub(1);
}

NatsConsumer::NatsConsumer(const SourceSpec& source, InflightBudget& budget,
                           const std::optional<StreamPosition>& position, Deliver deliver, Log log)
    : source_(source),
      budget_(budget),
      deliver_(std::move(deliver)),
      log_(std::move(log)),
      committed_seq_(position ? position->last_seq : 0),
      stream_created_(position ? position->stream_created : 0),
      resets_(position ? position->resets : 0),
      handed_seq_(position ? position->last_seq : 0) {}

NatsConsumer::~NatsConsumer() {
  Stop();
  Teardown();
}

void NatsConsumer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void NatsConsumer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void NatsConsumer::Committed(const NatsBatch& batch, bool ack) {
  // AckAll: acknowledging the last message acknowledges every earlier one of the consumer.
  if (ack && !batch.messages.empty()) (void)natsMsg_Ack(batch.messages.back(), nullptr);
  std::lock_guard<std::mutex> lock(mu_);  // with uncommitted_: lag() sees both or neither
  uint64_t seq = committed_seq_.load();
  while (batch.range.last_seq > seq && !committed_seq_.compare_exchange_weak(seq, batch.range.last_seq)) {
  }
  while (!inflight_.empty() && inflight_.front().first <= batch.range.last_seq) {
    inflight_.erase(inflight_.begin());
  }
  uncommitted_ = std::max<int64_t>(0, uncommitted_ - batch.range.messages);
}

void NatsConsumer::Reset() {
  stale_through_ = generation_.load();
  reset_ = true;
}

void NatsConsumer::WaitForOutstanding() {
  while (outstanding_.load() > 0 && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

NatsConsumer::Lag NatsConsumer::lag(bool ask_broker) const {
  Lag l;
  l.committed_seq = committed_seq_.load();
  // The broker's count of messages not yet delivered to the consumer, asked now: while paused
  // (or between fetches) nothing else knows how many were published since.
  std::optional<uint64_t> undelivered;
  if (ask_broker && !setting_up_.load() && !refused_.load()) {
    std::lock_guard<std::mutex> info_lock(info_mu_);
    if (info_js_ != nullptr) {
      jsConsumerInfo* ci = nullptr;
      if (js_GetConsumerInfo(&ci, info_js_, source_.nats.stream.c_str(), source_.nats.durable.c_str(),
                             nullptr, nullptr) == NATS_OK) {
        undelivered = ci->NumPending;
        jsConsumerInfo_Destroy(ci);
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  l.committed_seq = committed_seq_.load();
  if (undelivered) {
    l.messages = *undelivered + static_cast<uint64_t>(std::max<int64_t>(uncommitted_, 0));
    last_lag_ = l.messages;
  } else if (ask_broker && (setting_up_.load() || refused_.load())) {
    l.messages = last_lag_;
  } else {
    l.messages = pending_ + static_cast<uint64_t>(std::max<int64_t>(uncommitted_, 0));
  }
  if (!inflight_.empty()) l.seconds = static_cast<double>(NowMicros() - inflight_.front().second) / 1e6;
  if (l.seconds < 0) l.seconds = 0;
  l.paused = paused_;
  l.connected = connected_flag_.load();
  l.ever_connected = ever_connected_.load();
  l.pauses = pauses_;
  l.error = error_;
  l.refused = refused_.load();
  return l;
}

void NatsConsumer::Teardown() {
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    if (info_js_ != nullptr) jsCtx_Destroy(info_js_);
    info_js_ = nullptr;
  }
  if (sub_ != nullptr) natsSubscription_Destroy(sub_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (conn_ != nullptr) {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
  sub_ = nullptr;
  js_ = nullptr;
  conn_ = nullptr;
  connected_flag_ = false;
}

bool NatsConsumer::Refuse(const std::string& why) {
  refused_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (error_ != why) {
    log_("source " + source_.name + ": REFUSED: " + why +
         "; nothing more is consumed from it until "
         "`sluice streams reset " +
         source_.name + " --from-start|--from-seq N` (serve stopped)");
  }
  error_ = why;
  return false;
}

std::string NatsConsumer::CheckIdentity(int64_t created, uint64_t last_seq) {
  const NatsSourceSpec& n = source_.nats;
  const uint64_t committed = committed_seq_.load();
  const int64_t known = stream_created_.load();
  if (known != 0 && created != known) {
    return "stream " + n.stream + " was replaced: it was created at " + std::to_string(created) +
           " ns, but the lake's position (sequence " + std::to_string(committed) +
           ") was committed from the stream created at " + std::to_string(known) +
           " ns; it ends at sequence " + std::to_string(last_seq) + " (see docs/JETSTREAM.md)";
  }
  if (last_seq < committed) {
    // The broker lost messages sluice already committed: resuming would skip or double-count
    // new messages under reused sequence numbers.
    return "stream " + n.stream + " went backwards: it ends at sequence " + std::to_string(last_seq) +
           " but the lake committed up to " + std::to_string(committed) +
           "; the stream was reset or lost acknowledged messages (see docs/JETSTREAM.md)";
  }
  return "";
}

bool NatsConsumer::Setup() {
  struct SettingUp {
    std::atomic<bool>& flag;
    explicit SettingUp(std::atomic<bool>& f) : flag(f) { flag = true; }
    ~SettingUp() { flag = false; }
  } setting_up(setting_up_);
  Teardown();
  const NatsSourceSpec& n = source_.nats;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uncommitted_ = 0;  // every batch of the last subscription is gone (WaitForOutstanding)
  }
  auto fail = [&](const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_ != why) log_("source " + source_.name + ": " + why + " (retrying)");
    error_ = why;
    return false;
  };
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, n.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // ride out broker restarts
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 200);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK) s = natsConnection_Connect(&conn_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return fail(NatsError(("connecting to " + n.url).c_str(), s));
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&js_, conn_, &jo);
  if (s != NATS_OK) return fail(NatsError("JetStream context", s));

  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  s = js_GetStreamInfo(&si, js_, n.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return fail(NatsError(("stream " + n.stream).c_str(), s, jerr));
  const uint64_t last_seq = si->State.LastSeq;
  const int64_t created = si->Created;
  jsStreamInfo_Destroy(si);
  const uint64_t committed = committed_seq_.load();
  if (std::string why = CheckIdentity(created, last_seq); !why.empty()) return Refuse(why);
  // The position is in this stream from now on (a position of unknown identity -- an older
  // lake's, or a reset's -- belongs to the stream found here; the next commit records it).
  stream_created_ = created;

  // The catalog, not the broker, knows what was committed: re-create the durable consumer to
  // deliver from there.
  s = js_DeleteConsumer(js_, n.stream.c_str(), n.durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return fail(NatsError(("removing consumer " + n.durable).c_str(), s, jerr));
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = n.durable.c_str();
  cc.AckPolicy = js_AckAll;
  cc.DeliverPolicy = js_DeliverByStartSequence;
  cc.OptStartSeq = committed + 1;
  if (!n.subject.empty()) cc.FilterSubject = n.subject.c_str();
  cc.AckWait = int64_t{120} * 1000 * 1000 * 1000;  // ns: redelivery only after a stall this long
  cc.MaxAckPending = 1000000;
  jsConsumerInfo* ci = nullptr;
  s = js_AddConsumer(&ci, js_, n.stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) return fail(NatsError(("creating consumer " + n.durable).c_str(), s, jerr));
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = n.stream.c_str();
  so.Consumer = n.durable.c_str();
  s = js_PullSubscribe(&sub_, js_, n.subject.empty() ? nullptr : n.subject.c_str(), n.durable.c_str(),
                       nullptr, &so, &jerr);
  if (s != NATS_OK) return fail(NatsError("pull subscription", s, jerr));
  {
    jsCtx* info = nullptr;
    jsOptions io;
    jsOptions_Init(&io);
    io.Wait = 500;  // a scrape waits at most this long for the broker
    if (natsConnection_JetStream(&info, conn_, &io) == NATS_OK) {
      std::lock_guard<std::mutex> lock(info_mu_);
      info_js_ = info;
    }
  }
  handed_seq_ = committed;
  generation_.fetch_add(1);  // batches from now on are current again
  connected_flag_ = true;
  ever_connected_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.empty()) log_("source " + source_.name + ": consuming " + n.stream + " again");
  error_.clear();
  inflight_.clear();
  return true;
}

bool NatsConsumer::StillConsuming() {
  const NatsSourceSpec& n = source_.nats;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js_, n.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) {
    if (jerr == JSStreamNotFoundErr || s == NATS_NOT_FOUND) {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string why = "stream " + n.stream +
                              " disappeared while consuming (deleted?); "
                              "waiting for it, and checking it when it is back";
      if (error_ != why) log_("source " + source_.name + ": " + why);
      error_ = why;
      return false;
    }
    return true;  // the connection: the client reconnects, the next check asks again
  }
  const uint64_t last_seq = si->State.LastSeq;
  const int64_t created = si->Created;
  jsStreamInfo_Destroy(si);
  if (std::string why = CheckIdentity(created, last_seq); !why.empty()) return Refuse(why);
  jsConsumerInfo* ci = nullptr;
  s = js_GetConsumerInfo(&ci, js_, n.stream.c_str(), n.durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    return true;
  }
  if (jerr == JSConsumerNotFoundErr || s == NATS_NOT_FOUND) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string why =
        "consumer " + n.durable + " of stream " + n.stream + " disappeared while consuming; re-creating it";
    log_("source " + source_.name + ": " + why);
    error_ = why;
    return false;
  }
  return true;
}

void NatsConsumer::Flush(std::unique_ptr<NatsBatch>& batch) {
  if (!batch) return;
  if (batch->messages.empty()) {
    batch.reset();
    return;
  }
  if (batch->range.messages > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    inflight_.emplace_back(batch->range.last_seq, batch->oldest_publish_us);
    outstanding_.fetch_add(1);
    batch->outstanding = &outstanding_;
  } else {
    // Only redeliveries of committed messages: acknowledge them here, nothing to stage.
    (void)natsMsg_Ack(batch->messages.back(), nullptr);
    budget_.Release(batch->bytes);
    batch.reset();
    return;
  }
  deliver_(std::move(batch));
}

void NatsConsumer::Loop() {
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<NatsBatch> batch;
  Clock::time_point batch_started;
  int errors = 0;
  bool ready = false;
  Clock::time_point next_check = Clock::now();
  while (!stop_) {
    if (refused_) {  // for good: only an operator's reset (and a restart) resumes it
      if (batch) Flush(batch);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (ready && Clock::now() >= next_check) {
      next_check = Clock::now() + std::chrono::seconds(1);
      if (!StillConsuming()) {
        if (batch) Flush(batch);  // messages of the stream as it was: still committed
        ready = false;
        continue;
      }
    }
    if (!ready || reset_.exchange(false)) {
      if (batch) {
        budget_.Release(batch->bytes);
        batch.reset();
      }
      // The engine drops what it still holds of this subscription; only then may its
      // connection go (its messages refer to it).
      WaitForOutstanding();
      if (stop_) break;
      ready = Setup();
      if (!ready) {
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      errors = 0;
      next_check = Clock::now() + std::chrono::seconds(1);
    }
    // The client reconnects by itself; the status is polled (no callbacks: they may run after
    // the connection, and this consumer, are gone).
    const bool connected = natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
    if (connected_flag_.exchange(connected) != connected) {
      log_("source " + source_.name + (connected ? ": reconnected to " : ": lost the connection to ") +
           source_.nats.url + (connected ? "" : "; reconnecting"));
    }
    if (budget_.exhausted()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!paused_) ++pauses_;
        paused_ = true;
      }
      if (batch) Flush(batch);  // what was fetched goes to the engine; stop pulling more
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      paused_ = false;
    }
    int64_t wait_ms = source_.batch.max_wait_ms;
    if (batch) {
      wait_ms -= std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - batch_started).count();
      if (wait_ms <= 0) {
        Flush(batch);
        continue;
      }
    }
    const int64_t want = source_.batch.max_rows - (batch ? static_cast<int64_t>(batch->range.messages) : 0);
    // At most what the budget has left, in messages of the average size seen so far (at least
    // one, or a large message could never be fetched).
    int64_t count = 1;  // the first fetch learns the size
    if (avg_message_bytes_ > 0) {
      count = std::clamp<int64_t>((budget_.limit() - budget_.used()) / avg_message_bytes_, 1,
                                  std::min<int64_t>(want, 1000));
    }
    natsMsgList list{};
    natsStatus s = FetchMessages(sub_, count, std::min<int64_t>(wait_ms, 200), &list);
    if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) {  // nothing more to fetch now
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_ = 0;
      }
      // A no_wait pull answers at once: poll again shortly (sooner while a batch is open).
      std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp<int64_t>(wait_ms, 1, batch ? 5 : 20)));
      continue;
    }
    if (s != NATS_OK) {
      if (++errors >= 25) {  // ~5 s without a fetch: start over (the broker may have lost us)
        log_("source " + source_.name + ": " + NatsError("fetch", s) + "; re-creating the consumer");
        ready = false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    errors = 0;
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      list.Msgs[i] = nullptr;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
        natsMsg_Destroy(m);  // not a JetStream message (cannot happen on a pull subscription)
        continue;
      }
      if (!batch) {
        batch = std::make_unique<NatsBatch>();
        batch->generation = generation_.load();
        batch->range.stream = source_.nats.stream;
        batch->range.stream_created = stream_created_.load();
        batch->range.resets = resets_;
        batch_started = Clock::now();
      }
      const uint64_t seq = meta->Sequence.Stream;
      const int len = natsMsg_GetDataLength(m);
      avg_message_bytes_ =
          avg_message_bytes_ == 0 ? std::max(len, 1) : (avg_message_bytes_ * 15 + std::max(len, 1)) / 16;
      budget_.Force(len);  // fetched data is in memory already; the budget pauses the next fetch
      batch->bytes += len;
      const bool fresh = seq > handed_seq_;
      if (!fresh) {
        ++batch->range.redelivered;
      } else {
        if (batch->range.messages == 0) {
          batch->range.first_seq = seq;
          batch->oldest_publish_us = meta->Timestamp / 1000;
          batch->parts.emplace_back();
        }
        batch->range.last_seq = seq;
        ++batch->range.messages;
        handed_seq_ = seq;
        AppendLine(natsMsg_GetData(m), len, &batch->parts[0].data);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_ = meta->NumPending;
        if (fresh) ++uncommitted_;
      }
      jsMsgMetaData_Destroy(meta);
      // Only the last message is kept: acknowledging it acknowledges all before it (AckAll).
      if (!batch->messages.empty()) natsMsg_Destroy(batch->messages.back());
      batch->messages.assign(1, m);
    }
    natsMsgList_Destroy(&list);
    if (batch && batch->range.messages >= source_.batch.max_rows) Flush(batch);
  }
  Flush(batch);
}

}  // namespace sluice
