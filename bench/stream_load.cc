// sluice_stream_load: the load generator and probe of the streaming benchmark (bench/stream.sh,
// bench/README.md "Streaming"). Not a test.
//
//   http          POSTs pre-generated NDJSON bodies of valid order events to a running
//                 `sluice serve` over C keep-alive connections, as fast as it answers (429 is
//                 retried after its Retry-After; a request whose connection broke without an
//                 answer is sent again with the same Idempotency-Key, counted as
//                 transport_retries); prints JSON {events, seconds, events_per_s, ...}.
//   nats-stream   (re)creates a file-storage JetStream stream with one replica, empty
//                 (--delete-only yes: deletes it).
//   nats-publish  publishes pre-generated events to a JetStream subject with async publishes in a
//                 bounded window and waits for every ack: the broker's publish rate, the ceiling.
//   wait          polls GET /v1/stats until the source has staged (http) or committed up to
//                 stream sequence (nats) N rows, then waits for the transform after that and
//                 prints the times, accept-to-queryable p50/p99 and the engine's time split.
//
// Every subcommand prints one JSON object on stdout and exits 0, or prints why on stderr and
// exits 1. Only the events are generated here (not sluice_sample's files): every event is valid,
// so that the figures are about throughput, not the dead-letter path.
#include <httplib.h>
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load_args.h"
#include "sample/rng.h"

namespace {

using sluice::Rng;

using Json = nlohmann::json;
using sluice::bench::Args;
using sluice::bench::Clock;
using sluice::bench::Die;
using sluice::bench::kRequired;
using sluice::bench::Since;

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- arguments ------------------------------------------------------------------------------

// ---- events ---------------------------------------------------------------------------------

// Valid order events as sluice init's example contract wants them (order_id, tenant_id, status,
// amount, created_at, seq; ~120 bytes as JSON): 80% create a new order (distinct keys), 20%
// advance an order created recently (seq + 1, the next status, sometimes a new amount).
class OrderEvents {
 public:
  // Order ids start at `first_id` (distinct ids across runs that should not overlap).
  explicit OrderEvents(uint64_t seed, uint64_t first_id = 1) : rng_(seed), first_id_(first_id) {}
  // Distinct order_id values so far: the row count curated.orders must end with.
  int64_t orders() const { return static_cast<int64_t>(orders_.size()); }

  void Append(std::string* out) {
    Order* o;
    if (!orders_.empty() && rng_.Chance(0.2)) {
      const size_t window = std::min<size_t>(orders_.size(), 50000);
      o = &orders_[orders_.size() - 1 - rng_.Below(window)];
      if (o->status < 3) {
        o->status = rng_.Chance(0.1) ? 4 : o->status + 1;  // paid/shipped/delivered or cancelled
        ++o->seq;
        if (rng_.Chance(0.3)) o->cents = static_cast<int64_t>(rng_.Below(500000));
      } else {
        o = New();  // already final: a new order instead
      }
    } else {
      o = New();
    }
    static const char* kStatus[] = {"created", "paid", "shipped", "delivered", "cancelled"};
    // 2026-01-01T00:00:00Z + up to 7 days.
    const int64_t t = o->created;
    const int day = static_cast<int>(t / 86400), rem = static_cast<int>(t % 86400);
    char buf[256];
    int n =
        std::snprintf(buf, sizeof buf,
                      "{\"order_id\":\"o%09" PRIu64
                      "\",\"tenant_id\":\"t%02d\",\"status\":\"%s\","
                      "\"amount\":%" PRId64
                      ".%02d,\"created_at\":\"2026-01-%02dT%02d:%02d:%02dZ\","
                      "\"seq\":%d}\n",
                      o->id, o->tenant, kStatus[o->status], o->cents / 100, static_cast<int>(o->cents % 100),
                      day + 1, rem / 3600, rem / 60 % 60, rem % 60, o->seq);
    out->append(buf, static_cast<size_t>(n));
  }

 private:
  struct Order {
    uint64_t id;
    int64_t created;  // seconds after 2026-01-01
    int64_t cents;
    int tenant;
    int seq;
    int status;
  };
  Order* New() {
    Order o;
    o.id = first_id_ + orders_.size();
    o.created = static_cast<int64_t>(rng_.Below(7 * 86400));
    o.cents = static_cast<int64_t>(rng_.Below(500000));
    o.tenant = rng_.Chance(0.3) ? 0 : 1 + static_cast<int>(rng_.Below(7));  // t00 is skewed
    o.seq = 1;
    o.status = 0;
    orders_.push_back(o);
    return &orders_.back();
  }
  Rng rng_;
  uint64_t first_id_;
  std::vector<Order> orders_;
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

// ---- http -----------------------------------------------------------------------------------

// Times one request is sent again after its connection broke without an answer.
constexpr int kMaxTransportRetries = 5;

int Http(const Args& args) {
  const int port = static_cast<int>(args.Int("port"));
  const std::string source = args.Str("source");
  const int64_t events = args.Int("events"), per_request = args.Int("batch");
  const int connections = static_cast<int>(args.Int("connections"));
  const bool keys = args.Str("idempotency-keys") == "on";
  if (per_request < 1 || connections < 1) Die("--batch and --connections must be >= 1");

  std::vector<std::string> bodies;
  OrderEvents gen(static_cast<uint64_t>(args.Int("seed")), static_cast<uint64_t>(args.Int("first-order")));
  int64_t bytes = 0;
  for (int64_t done = 0; done < events;) {
    std::string body;
    body.reserve(static_cast<size_t>(per_request) * 130);
    const int64_t n = std::min(per_request, events - done);
    for (int64_t i = 0; i < n; ++i) gen.Append(&body);
    done += n;
    bytes += static_cast<int64_t>(body.size());
    bodies.push_back(std::move(body));
  }
  const std::string path = "/v1/sources/" + source + "/events";
  const std::string run_tag = std::to_string(static_cast<int64_t>(UnixSeconds() * 1000));

  std::atomic<size_t> next{0};
  std::atomic<int64_t> rejected{0}, accepted{0}, dead{0}, retried{0}, replayed{0};
  std::mutex mu;
  std::string failure;
  std::vector<double> latencies(bodies.size());
  auto worker = [&] {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_connection_timeout(10, 0);
    client.set_read_timeout(600, 0);
    client.set_write_timeout(60, 0);
    for (size_t i; (i = next.fetch_add(1)) < bodies.size();) {
      httplib::Headers headers;
      if (keys) headers.emplace("Idempotency-Key", "bench-" + run_tag + "-" + std::to_string(i));
      const auto t0 = Clock::now();
      int attempts = 0;
      while (true) {
        auto r = client.Post(path, headers, bodies[i], "application/x-ndjson");
        if (r && r->status == 429) {
          rejected.fetch_add(1);
          int after = std::atoi(r->get_header_value("Retry-After").c_str());
          std::this_thread::sleep_for(std::chrono::milliseconds(after > 0 ? after * 1000 : 100));
          continue;
        }
        // No answer (the connection broke before the response): the body may or may not have
        // been committed. Sent again with the same Idempotency-Key, as a log shipper does, it is
        // committed once either way (a replay answers with the first commit's counts). Without
        // keys a retry could count rows twice: fail instead.
        if (!r && keys && attempts < kMaxTransportRetries) {
          ++attempts;
          retried.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempts));
          continue;
        }
        if (!r || r->status != 200) {
          std::lock_guard<std::mutex> lock(mu);
          if (failure.empty()) {
            failure = "request " + std::to_string(i) + ": " +
                      (r ? "HTTP " + std::to_string(r->status) + " " + r->body
                         : "transport error " + httplib::to_string(r.error()));
          }
          next = bodies.size();  // stop everyone
          return;
        }
        Json j = Json::parse(r->body, nullptr, false);
        if (j.is_discarded()) {
          std::lock_guard<std::mutex> lock(mu);
          if (failure.empty()) failure = "request " + std::to_string(i) + ": unreadable answer " + r->body;
          next = bodies.size();
          return;
        }
        if (j.value("replayed", false)) replayed.fetch_add(1);
        accepted.fetch_add(j.value("accepted", int64_t{0}));
        dead.fetch_add(j.value("dead_lettered", int64_t{0}));
        break;
      }
      latencies[i] = Since(t0);
    }
  };
  const double started_unix = UnixSeconds();
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double seconds = Since(t0);
  if (!failure.empty()) Die("http: " + failure);

  Json out = {{"events", events},
              {"distinct_orders", gen.orders()},
              {"bytes", bytes},
              {"seconds", seconds},
              {"events_per_s", static_cast<double>(events) / seconds},
              {"mib_per_s", static_cast<double>(bytes) / seconds / (1 << 20)},
              {"requests", static_cast<int64_t>(bodies.size())},
              {"connections", connections},
              {"idempotency_keys", keys},
              {"rejected_429", rejected.load()},
              {"transport_retries", retried.load()},
              {"replayed", replayed.load()},
              {"accepted", accepted.load()},
              {"dead_lettered", dead.load()},
              {"request_p50_s", Quantile(latencies, 0.5)},
              {"request_p99_s", Quantile(latencies, 0.99)},
              {"started_unix_s", started_unix},
              {"finished_unix_s", started_unix + seconds}};
  std::printf("%s\n", out.dump().c_str());
  if (accepted.load() + dead.load() != events) {
    Die("http: the server accounted for " + std::to_string(accepted.load() + dead.load()) + " of " +
        std::to_string(events) + " events");
  }
  return 0;
}

// ---- nats -----------------------------------------------------------------------------------

std::string NatsText(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0')
    text += ": " + std::string(last);
  return text;
}

struct NatsClient {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  NatsClient(const std::string& url, jsOptions* jo) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) Die("connect to " + url + ": " + NatsText(s));
    s = natsConnection_JetStream(&js, nc, jo);
    if (s != NATS_OK) Die("JetStream context: " + NatsText(s));
  }
  ~NatsClient() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
};

int NatsStream(const Args& args) {
  const std::string stream = args.Str("stream"), subject = args.Str("subject");
  NatsClient c(args.Str("url"), nullptr);
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(c.js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
    Die("delete stream " + stream + ": " + NatsText(s, code));
  }
  if (args.Str("delete-only") == "yes") {
    std::printf("%s\n", Json{{"deleted", stream}}.dump().c_str());
    return 0;
  }
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = 1;
  jsStreamInfo* si = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&si, c.js, &cfg, nullptr, &code);
  jsStreamInfo_Destroy(si);
  if (s != NATS_OK) Die("add stream " + stream + ": " + NatsText(s, code));
  std::printf("%s\n", Json{{"stream", stream}, {"subject", subject}}.dump().c_str());
  return 0;
}

struct Acks {
  std::atomic<int64_t> ok{0}, failed{0};
  std::mutex mu;
  std::string first_error;
};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* acks = static_cast<Acks*>(closure);
  if (pa != nullptr && pae == nullptr) {
    acks->ok.fetch_add(1, std::memory_order_relaxed);
  } else if (acks->failed.fetch_add(1) == 0) {
    std::lock_guard<std::mutex> lock(acks->mu);
    acks->first_error = pae == nullptr            ? "no ack"
                        : pae->ErrText != nullptr ? pae->ErrText
                                                  : NatsText(pae->Err);
  }
  natsMsg_Destroy(msg);  // the ack handler owns the message
}

int NatsPublish(const Args& args) {
  const std::string subject = args.Str("subject");
  const int64_t events = args.Int("events"), window = args.Int("window");
  if (window < 1) Die("--window must be >= 1");
  // One payload per event: the NDJSON line without its newline.
  std::string all;
  all.reserve(static_cast<size_t>(events) * 125);
  std::vector<size_t> ends;
  ends.reserve(static_cast<size_t>(events));
  OrderEvents gen(static_cast<uint64_t>(args.Int("seed")));
  for (int64_t i = 0; i < events; ++i) {
    gen.Append(&all);
    all.pop_back();
    ends.push_back(all.size());
  }
  Acks acks;  // outlives the client, whose thread calls OnAck
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = window;
  jo.PublishAsync.AckHandler = OnAck;
  jo.PublishAsync.AckHandlerClosure = &acks;
  jo.PublishAsync.StallWait = 60000;  // a full window waits for acks
  int64_t unacked = 0;
  double seconds = 0, started_unix = 0;
  {
    NatsClient c(args.Str("url"), &jo);
    started_unix = UnixSeconds();
    const auto t0 = Clock::now();
    size_t begin = 0;
    for (int64_t i = 0; i < events; ++i) {
      natsStatus s = js_PublishAsync(c.js, subject.c_str(), all.data() + begin,
                                     static_cast<int>(ends[i] - begin), nullptr);
      if (s != NATS_OK) Die("publish #" + std::to_string(i) + ": " + NatsText(s));
      begin = ends[i];
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 120000;
    natsStatus s = js_PublishAsyncComplete(c.js, &po);
    seconds = Since(t0);
    if (s != NATS_OK) Die("waiting for acks: " + NatsText(s));
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, c.js) == NATS_OK) {
      unacked = pending.Count;
      natsMsgList_Destroy(&pending);
    }
  }
  if (acks.failed > 0 || unacked > 0 || acks.ok != events) {
    Die("nats-publish: " + std::to_string(acks.ok.load()) + " of " + std::to_string(events) +
        " acknowledged, " + std::to_string(acks.failed.load()) + " failed (first: " + acks.first_error + ")");
  }
  Json out = {{"events", events},
              {"distinct_orders", gen.orders()},
              {"bytes", static_cast<int64_t>(all.size())},
              {"seconds", seconds},
              {"events_per_s", static_cast<double>(events) / seconds},
              {"window", window},
              {"started_unix_s", started_unix},
              {"finished_unix_s", started_unix + seconds}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// ---- wait -----------------------------------------------------------------------------------

// The value of the Prometheus series `series` (name{labels} exactly as rendered); 0 if absent.
double Metric(const std::string& text, const std::string& series) {
  size_t pos = 0;
  while ((pos = text.find(series, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    pos += series.size();
    if (line_start && pos < text.size() && text[pos] == ' ') return std::atof(text.c_str() + pos + 1);
  }
  return 0;
}

int Wait(const Args& args) {
  const int port = static_cast<int>(args.Int("port"));
  const std::string source = args.Str("source");
  const int64_t rows = args.Int("rows");
  const double timeout = static_cast<double>(args.Int("timeout-s"));
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_read_timeout(30, 0);
  const std::string src = "{source=\"" + source + "\"}";

  auto stats = [&]() -> Json {
    auto r = client.Get("/v1/stats");
    if (!r || r->status != 200)
      Die("GET /v1/stats failed" + (r ? ": HTTP " + std::to_string(r->status) : ""));
    Json j = Json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j["sources"].contains(source)) Die("no source '" + source + "' in /v1/stats");
    return j["sources"][source];
  };
  auto metrics = [&]() -> std::string {
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) Die("GET /metrics failed");
    return r->body;
  };
  // rows_staged for http; for nats the committed stream sequence (the stream starts empty).
  auto progress = [&](const Json& s) -> int64_t {
    if (s.value("type", "") == "nats") return s.value("committed_seq", int64_t{0});
    return static_cast<int64_t>(s.value("rows_staged", 0.0));
  };

  const double started_unix = UnixSeconds();
  const auto t0 = Clock::now();
  Json s = stats();
  while (progress(s) < rows) {
    if (Since(t0) > timeout) {
      Die("wait: " + std::to_string(progress(s)) + " of " + std::to_string(rows) + " after " +
          std::to_string(static_cast<int64_t>(timeout)) + " s: " + s.dump());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s = stats();
  }
  const double reached_unix = UnixSeconds();
  // The engine thread commits and transforms one after the other: a transform that completes
  // after this read started after the last commit, so it made every row queryable.
  const double transforms = Metric(metrics(), "sluice_transforms_total{status=\"ok\"}");
  std::string m = metrics();
  while (Metric(m, "sluice_transforms_total{status=\"ok\"}") < transforms + 1) {
    if (Since(t0) > timeout) Die("wait: no transform within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    m = metrics();
  }
  const double queryable_unix = UnixSeconds();
  s = stats();
  Json out = {{"rows", rows},
              {"progress", progress(s)},
              {"started_unix_s", started_unix},
              {"reached_unix_s", reached_unix},
              {"queryable_unix_s", queryable_unix},
              {"seconds", reached_unix - started_unix},
              {"rows_staged", s.value("rows_staged", 0.0)},
              {"rows_dead_lettered", s.value("rows_dead_lettered", 0.0)},
              {"batches", s.value("batches", 0.0)},
              {"rejected_429", s.value("rejected_429", 0.0)},
              {"accept_to_queryable_p50_s", s.value("accept_to_queryable_p50_s", 0.0)},
              {"accept_to_queryable_p99_s", s.value("accept_to_queryable_p99_s", 0.0)},
              // Where the engine thread's time went (sums over the server's life).
              {"commit_seconds_sum", Metric(m, "sluice_batch_commit_seconds_sum" + src)},
              {"commit_count", Metric(m, "sluice_batch_commit_seconds_count" + src)},
              {"transform_seconds_sum", Metric(m, "sluice_transform_seconds_sum")},
              {"transform_count", Metric(m, "sluice_transform_seconds_count")},
              {"consumer_pauses", Metric(m, "sluice_consumer_pauses_total" + src)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

void Usage() {
  std::fprintf(stderr,
               "usage: sluice_stream_load http --port P [--source orders] --events N [--batch 1000]\n"
               "                          [--connections 8] [--idempotency-keys on|off] [--seed 1]\n"
               "                          [--first-order 1]\n"
               "       sluice_stream_load nats-stream --url nats://127.0.0.1:P --stream S --subject X\n"
               "                          [--delete-only yes]\n"
               "       sluice_stream_load nats-publish --url nats://127.0.0.1:P --stream S --subject X\n"
               "                          --events N [--window 4096] [--seed 1]\n"
               "       sluice_stream_load wait --port P [--source orders] --rows N [--timeout-s 900]\n");
}

}  // namespace

int main(int argc, char** argv) {
  sluice::bench::ProgramName() = "sluice_stream_load";
  if (argc < 2) {
    Usage();
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "http") {
    return Http(Args(argc, argv,
                     {{"port", kRequired},
                      {"source", "orders"},
                      {"events", kRequired},
                      {"batch", "1000"},
                      {"connections", "8"},
                      {"idempotency-keys", "on"},
                      {"seed", "1"},
                      {"first-order", "1"}}));
  }
  if (cmd == "nats-stream") {
    return NatsStream(
        Args(argc, argv,
             {{"url", kRequired}, {"stream", kRequired}, {"subject", kRequired}, {"delete-only", "no"}}));
  }
  if (cmd == "nats-publish") {
    return NatsPublish(Args(argc, argv,
                            {{"url", kRequired},
                             {"stream", kRequired},
                             {"subject", kRequired},
                             {"events", kRequired},
                             {"window", "4096"},
                             {"seed", "1"}}));
  }
  if (cmd == "wait") {
    return Wait(Args(argc, argv,
                     {{"port", kRequired}, {"source", "orders"}, {"rows", kRequired}, {"timeout-s", "900"}}));
  }
  Usage();
  return 2;
}
