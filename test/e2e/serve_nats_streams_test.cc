// Which stream a nats source's committed position belongs to (docs/JETSTREAM.md, "Streams and
// positions"), through the real binary and a real nats-server on 127.0.0.1:
//  - a source switched to another stream reads the new stream from its first message, and
//    switching back resumes the old stream's own position;
//  - a stream deleted and re-created while `sluice serve` runs is reported within seconds
//    (/v1/health degraded, metrics, `sluice status`, the log) and refused, also after a restart,
//    until `sluice streams reset`; then the new stream is staged exactly once;
//  - a stream that went backwards (its store restored from an older copy) is refused; after
//    `sluice streams reset --from-start` (killed before and after its commit, recorded in
//    meta.stream_resets and in each later batch's lineage) and a kill -9 of serve mid-way, every
//    message of the stream is staged exactly once after the reset;
//  - the consumer-lag gauge is current when scraped.
// Every payload is one order event with a unique order_id, so staged rows map to messages.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "serve_harness.h"
#include "support/nats_server.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test::NatsServer;

// `n` valid order events with order_ids "<prefix>-1".."<prefix>-n".
std::vector<std::string> Events(const std::string& prefix, int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) {
    out.push_back(R"({"order_id":")" + prefix + "-" + std::to_string(i) +
                  R"(","tenant_id":"t01","status":"created","amount":1.00,)"
                  R"("created_at":"2026-01-02T10:00:00Z","seq":1})");
  }
  return out;
}

// order_id -> times staged, for ids starting with `prefix-`.
std::map<std::string, int> Staged(const Project& p, const std::string& prefix) {
  std::map<std::string, int> out;
  for (const auto& r : p.Rows("SELECT order_id, count(*) FROM staging.orders WHERE order_id LIKE '" + prefix +
                              "-%' GROUP BY order_id ORDER BY order_id")) {
    out[r[0]] = std::stoi(r[1]);
  }
  return out;
}

std::map<std::string, int> Want(const std::string& prefix, int first, int last, int times = 1) {
  std::map<std::string, int> out;
  for (int i = first; i <= last; ++i) out[prefix + "-" + std::to_string(i)] = times;
  return out;
}

struct StreamsSetup {
  std::unique_ptr<TempDir> tmp;
  std::unique_ptr<NatsServer> nats;
  std::unique_ptr<Project> project;
};

// A project whose `orders` source reads `stream` (subject `subject`) of its own nats-server.
void MakeProject(StreamsSetup* s) {
  s->tmp = std::make_unique<TempDir>("sluice-e2e-streams");
  s->nats = NatsServer::Start(s->tmp->path() + "/jetstream");
  ASSERT_NE(s->nats, nullptr);
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  s->project = std::make_unique<Project>(MakeExampleProject(s->tmp->path() + "/shop", o));
  ASSERT_NO_FATAL_FAILURE(
      MakeStreamSource(*s->project, "    type: nats\n    nats: {url: " + s->nats->url() +
                                        ", stream: ORDERS, subject: orders.>, durable: sluice_orders}\n"
                                        "    batch: {max_rows: 4, max_wait: 100ms}\n"));
  ASSERT_NO_FATAL_FAILURE(test::CreateStream(s->nats->url(), "ORDERS", {"orders.>"}));
}

// Points the source at another stream and subject.
void SwitchStream(const Project& p, const std::string& from, const std::string& to,
                  const std::string& to_subject) {
  std::string spec = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string old = "stream: " + from + ", subject: ";
  size_t pos = spec.find(old);
  ASSERT_NE(pos, std::string::npos) << spec;
  size_t end = spec.find(',', pos + old.size());
  spec.replace(pos, end - pos, "stream: " + to + ", subject: " + to_subject);
  WriteFileOrDie(p.Path("sluice.yaml"), spec);
}

Json OrdersOf(const Json& j) {
  if (!j.is_object() || !j.contains("sources") || !j["sources"].contains("orders")) return Json::object();
  return j["sources"]["orders"];
}

// Polls /v1/stats until the orders source has committed `seq` of its stream (bounded).
bool WaitCommitted(ServeProcess& serve, uint64_t seq, seconds timeout, Json* last) {
  const auto deadline = Clock::now() + timeout;
  HttpClient http(serve.port(), 10);
  while (Clock::now() < deadline && serve.running()) {
    *last = http.Get("/v1/stats").json();
    if (OrdersOf(*last).value("committed_seq", uint64_t{0}) >= seq) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

// Polls /v1/health until the orders source reports refused (bounded); the last answer.
HttpResponse WaitRefused(ServeProcess& serve, seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  HttpClient http(serve.port(), 10);
  HttpResponse r;
  while (Clock::now() < deadline && serve.running()) {
    r = http.Get("/v1/health");
    if (OrdersOf(r.json()).value("refused", false)) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return r;
}

// Runs serve until `seq` of the configured stream is committed, then stops it cleanly.
void ServeUntil(const Project& p, uint64_t seq) {
  auto serve = ServeProcess::Start(p);
  ASSERT_NE(serve, nullptr);
  Json stats;
  const bool reached = WaitCommitted(*serve, seq, seconds(30), &stats);
  ProcessResult stopped = serve->Terminate();
  ASSERT_TRUE(reached) << "sequence " << seq << " not committed in 30 s: " << stats.dump() << "\nstderr:\n"
                       << stopped.err;
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();
}

// ---- 1: another stream ---------------------------------------------------------------------

TEST(ServeNatsStreams, SwitchingToAnotherStreamReadsItFromItsFirstMessage) {
  StreamsSetup s;
  ASSERT_NO_FATAL_FAILURE(MakeProject(&s));
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("a", 1, 10)));
  ASSERT_NO_FATAL_FAILURE(ServeUntil(*s.project, 10));

  // The operator points the source at ORDERS2, which holds 3 messages: the lake committed ORDERS
  // up to 10, beyond ORDERS2's end.
  ASSERT_NO_FATAL_FAILURE(test::CreateStream(s.nats->url(), "ORDERS2", {"orders2.>"}));
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders2.events", Events("b", 1, 3)));
  ASSERT_NO_FATAL_FAILURE(SwitchStream(*s.project, "ORDERS", "ORDERS2", "orders2.>"));
  {
    auto serve = ServeProcess::Start(*s.project);
    ASSERT_NE(serve, nullptr);
    Json stats;
    const bool first = WaitCommitted(*serve, 3, seconds(30), &stats);
    EXPECT_TRUE(first) << "ORDERS2's 3 messages were not committed: " << stats.dump();
    // More messages after the switch: read after the first three, nothing skipped.
    ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders2.events", Events("b", 4, 20)));
    const bool all = WaitCommitted(*serve, 20, seconds(30), &stats);
    ProcessResult stopped = serve->Terminate();
    ASSERT_TRUE(all) << stats.dump() << "\nstderr:\n" << stopped.err;
    ASSERT_TRUE(stopped.ok()) << stopped.Describe();
    EXPECT_NE(stopped.err.find("nothing committed from stream ORDERS2"), std::string::npos)
        << "the log says the new stream is read from its first message:\n"
        << stopped.err;
  }
  EXPECT_EQ(Staged(*s.project, "b"), Want("b", 1, 20)) << "every ORDERS2 message staged once";
  EXPECT_EQ(Staged(*s.project, "a"), Want("a", 1, 10));

  // Back to ORDERS: it resumes ORDERS's own position (10), not ORDERS2's.
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("a", 11, 12)));
  ASSERT_NO_FATAL_FAILURE(SwitchStream(*s.project, "ORDERS2", "ORDERS", "orders.>"));
  ASSERT_NO_FATAL_FAILURE(ServeUntil(*s.project, 12));
  EXPECT_EQ(Staged(*s.project, "a"), Want("a", 1, 12));
  EXPECT_EQ(Staged(*s.project, "b"), Want("b", 1, 20));
  EXPECT_EQ(s.project->Rows("SELECT stream, CAST(last_seq AS VARCHAR), stream_created IS NOT NULL "
                            "FROM meta.stream_positions ORDER BY stream"),
            (std::vector<std::vector<std::string>>{{"ORDERS", "12", "true"}, {"ORDERS2", "20", "true"}}));
}

// ---- 2: deleted and re-created while serving -------------------------------------------------

TEST(ServeNatsStreams, StreamReplacedWhileServingIsReportedRefusedAndReset) {
  StreamsSetup s;
  ASSERT_NO_FATAL_FAILURE(MakeProject(&s));
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("a", 1, 10)));
  {
    auto serve = ServeProcess::Start(*s.project);
    ASSERT_NE(serve, nullptr);
    Json stats;
    ASSERT_TRUE(WaitCommitted(*serve, 10, seconds(30), &stats)) << stats.dump();
    ASSERT_NO_FATAL_FAILURE(test::DeleteStream(s.nats->url(), "ORDERS"));
    ASSERT_NO_FATAL_FAILURE(test::CreateStream(s.nats->url(), "ORDERS", {"orders.>"}));
    ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("c", 1, 4)));
    const auto t0 = Clock::now();
    HttpResponse health = WaitRefused(*serve, seconds(15));
    const double seconds_to_detect = std::chrono::duration<double>(Clock::now() - t0).count();
    ASSERT_EQ(health.status, 503) << "not reported within 15 s: " << health.body << "\nstderr:\n"
                                  << serve->Stderr();
    const Json h = health.json();
    EXPECT_EQ(h.value("status", ""), "degraded") << health.body;
    const std::string error = OrdersOf(h).value("error", "");
    EXPECT_NE(error.find("ORDERS was replaced"), std::string::npos) << error;
    EXPECT_LT(seconds_to_detect, 10) << "detected after " << seconds_to_detect << " s";
    HttpClient http(serve->port(), 10);
    const std::string metrics = http.Get("/metrics").body;
    EXPECT_EQ(MetricValue(metrics, "sluice_consumer_refused{source=\"orders\"}"), 1) << metrics;
    EXPECT_EQ(MetricValue(metrics, "sluice_consumer_error{source=\"orders\"}"), 1) << metrics;
    // `sluice status` while serve holds the lake (its status file, written every second).
    bool status_says = false;
    std::string status_out;
    for (auto deadline = Clock::now() + seconds(10); Clock::now() < deadline && !status_says;) {
      status_out = s.project->Sluice("status").out;
      status_says = status_out.find("REFUSED") != std::string::npos;
      if (!status_says) std::this_thread::sleep_for(milliseconds(200));
    }
    EXPECT_TRUE(status_says) << status_out;
    EXPECT_EQ(OrdersOf(http.Get("/v1/stats").json()).value("committed_seq", 0), 10);
    ProcessResult stopped = serve->Terminate();
    ASSERT_TRUE(stopped.ok()) << stopped.Describe();
    EXPECT_NE(stopped.err.find("REFUSED: stream ORDERS was replaced"), std::string::npos) << stopped.err;
  }
  EXPECT_EQ(Staged(*s.project, "c"), (std::map<std::string, int>{})) << "nothing of the new stream";

  // A restart does not decide for the operator: still refused.
  {
    auto serve = ServeProcess::Start(*s.project);
    ASSERT_NE(serve, nullptr);
    HttpResponse health = WaitRefused(*serve, seconds(15));
    EXPECT_EQ(health.status, 503) << health.body;
    ASSERT_TRUE(serve->Terminate().ok());
  }
  EXPECT_EQ(Staged(*s.project, "c"), (std::map<std::string, int>{}));

  ProcessResult reset = s.project->Sluice("streams", {"reset", "orders", "--from-start"});
  ASSERT_TRUE(reset.ok()) << reset.Describe() << reset.err;
  ASSERT_NO_FATAL_FAILURE(ServeUntil(*s.project, 4));
  EXPECT_EQ(Staged(*s.project, "c"), Want("c", 1, 4));
  EXPECT_EQ(Staged(*s.project, "a"), Want("a", 1, 10));
  EXPECT_EQ(s.project->Rows("SELECT stream, CAST(from_seq AS VARCHAR), CAST(to_seq AS VARCHAR), mode,"
                            " from_stream_created IS NOT NULL FROM meta.stream_resets"),
            (std::vector<std::vector<std::string>>{{"ORDERS", "10", "0", "from-start", "true"}}));
  const std::string status = s.project->Sluice("status").out;
  EXPECT_NE(status.find("reset from-start of ORDERS"), std::string::npos) << status;
}

// ---- 3: went backwards ----------------------------------------------------------------------

TEST(ServeNatsStreams, StreamThatWentBackwardsIsRefusedUntilResetThenExactlyOnce) {
  StreamsSetup s;
  ASSERT_NO_FATAL_FAILURE(MakeProject(&s));
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("a", 1, 5)));
  // A copy of the broker's store holding 5 messages (a backup).
  const std::string backup = s.tmp->path() + "/backup";
  s.nats->Kill();
  fs::copy(s.nats->store_dir(), backup, fs::copy_options::recursive);
  ASSERT_NO_FATAL_FAILURE(s.nats->Restart());
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("a", 6, 10)));
  ASSERT_NO_FATAL_FAILURE(ServeUntil(*s.project, 10));

  // The broker is restored from the backup: same stream (same identity), ending at 5 < 10.
  s.nats->Kill();
  fs::remove_all(s.nats->store_dir());
  fs::copy(backup, s.nats->store_dir(), fs::copy_options::recursive);
  ASSERT_NO_FATAL_FAILURE(s.nats->Restart());
  ASSERT_EQ(test::GetStreamState(s.nats->url(), "ORDERS"), (test::StreamState{5, 5}));
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("d", 1, 3)));
  {
    auto serve = ServeProcess::Start(*s.project);
    ASSERT_NE(serve, nullptr);
    HttpResponse health = WaitRefused(*serve, seconds(15));
    ASSERT_EQ(health.status, 503) << health.body << "\nstderr:\n" << serve->Stderr();
    const std::string error = OrdersOf(health.json()).value("error", "");
    EXPECT_NE(error.find("went backwards: it ends at sequence 8 but the lake committed up to 10"),
              std::string::npos)
        << error;
    ASSERT_TRUE(serve->Terminate().ok());
  }
  EXPECT_EQ(Staged(*s.project, "d"), (std::map<std::string, int>{}));

  std::set<std::string> before_reset;
  for (auto& r : s.project->Rows("SELECT batch_id FROM meta.stream_offsets")) before_reset.insert(r[0]);
  const std::string position = "SELECT CAST(last_seq AS VARCHAR) FROM meta.stream_positions";
  const std::string resets = "SELECT CAST(count(*) AS VARCHAR) FROM meta.stream_resets";
  // The reset killed before its commit: the old position, no record of it.
  ProcessResult killed = s.project->Sluice("streams", {"reset", "orders", "--from-start"},
                                           {{"SLUICE_FAILPOINTS", "streams.before_reset_commit=crash"}});
  ASSERT_TRUE(killed.signaled) << killed.Describe();
  EXPECT_EQ(s.project->Rows(position), (std::vector<std::vector<std::string>>{{"10"}}));
  EXPECT_EQ(s.project->Rows(resets), (std::vector<std::vector<std::string>>{{"0"}}));
  // Killed right after its commit: done, and doing it again (the operator saw no answer) is
  // harmless: a second reset to the same place.
  killed = s.project->Sluice("streams", {"reset", "orders", "--from-start"},
                             {{"SLUICE_FAILPOINTS", "streams.after_reset_commit=crash"}});
  ASSERT_TRUE(killed.signaled) << killed.Describe();
  EXPECT_EQ(s.project->Rows(position), (std::vector<std::vector<std::string>>{{"0"}}));
  EXPECT_EQ(s.project->Rows(resets), (std::vector<std::vector<std::string>>{{"1"}}));
  ProcessResult reset = s.project->Sluice("streams", {"reset", "orders", "--from-start"});
  ASSERT_TRUE(reset.ok()) << reset.Describe() << reset.err;
  EXPECT_NE(reset.out.find("sequence 1"), std::string::npos) << reset.out;
  // kill -9 of serve while it reads the stream again, then a restart: exactly once.
  {
    auto serve = ServeProcess::Start(*s.project);
    ASSERT_NE(serve, nullptr);
    Json stats;
    ASSERT_TRUE(WaitCommitted(*serve, 4, seconds(30), &stats)) << stats.dump();
    serve->Kill9();
  }
  ASSERT_NO_FATAL_FAILURE(ServeUntil(*s.project, 8));
  // From the start: sequences 1..5 (a-1..a-5, staged once before) are read again, as asked;
  // every message of the stream is in exactly one batch committed since the reset.
  EXPECT_EQ(Staged(*s.project, "d"), Want("d", 1, 3));
  std::map<std::string, int> a = Want("a", 1, 5, 2);
  for (auto& [k, v] : Want("a", 6, 10)) a[k] = v;
  EXPECT_EQ(Staged(*s.project, "a"), a);
  std::vector<std::vector<std::string>> ranges;
  for (auto& r : s.project->Rows("SELECT batch_id, CAST(first_seq AS VARCHAR), CAST(last_seq AS VARCHAR),"
                                 " CAST(messages AS VARCHAR) FROM meta.stream_offsets ORDER BY first_seq")) {
    if (!before_reset.count(r[0])) ranges.push_back({r[1], r[2], r[3]});
  }
  // Disjoint batches covering 1..8, each holding every sequence of its range.
  uint64_t next = 1;
  for (const auto& r : ranges) {
    EXPECT_EQ(std::stoull(r[0]), next) << ::testing::PrintToString(ranges);
    EXPECT_EQ(std::stoll(r[2]), static_cast<int64_t>(std::stoull(r[1]) - std::stoull(r[0]) + 1));
    next = std::stoull(r[1]) + 1;
  }
  EXPECT_EQ(next, 9u) << ::testing::PrintToString(ranges);

  // Lineage: each batch names its sequences and the reset it was read after (the second).
  ProcessResult listed = s.project->Sluice("batches", {"list", "--json"});
  ASSERT_TRUE(listed.ok()) << listed.Describe() << listed.err;
  size_t after = 0;
  for (const Json& b : Json::parse(listed.out)) {
    const Json& stream = b["stream"];
    ASSERT_TRUE(stream.is_object()) << b.dump();
    EXPECT_EQ(stream["name"], "ORDERS") << b.dump();
    if (before_reset.count(b["batch_id"].get<std::string>()) != 0) {
      EXPECT_TRUE(stream["after_reset"].is_null()) << b.dump();
      continue;
    }
    ++after;
    const Json& r = stream["after_reset"];
    ASSERT_TRUE(r.is_object()) << b.dump();
    EXPECT_EQ(r["number"], 2) << b.dump();
    EXPECT_EQ(r["mode"], "from-start") << b.dump();
    EXPECT_EQ(r["to_seq"], 0) << b.dump();
    EXPECT_FALSE(r["reset_by"].get<std::string>().empty()) << b.dump();
    EXPECT_NE(b["batch_id"].get<std::string>().find(".r2-"), std::string::npos) << b.dump();
  }
  EXPECT_EQ(after, ranges.size());
  ProcessResult human = s.project->Sluice("batches", {"list"});
  ASSERT_TRUE(human.ok()) << human.Describe();
  EXPECT_NE(human.out.find("read after reset 2 (from-start by "), std::string::npos) << human.out;
}

// ---- 4: lag when scraped ----------------------------------------------------------------------

TEST(ServeNatsStreams, LagIsCurrentWhenScraped) {
  StreamsSetup s;
  ASSERT_NO_FATAL_FAILURE(MakeProject(&s));
  auto serve = ServeProcess::Start(*s.project);
  ASSERT_NE(serve, nullptr);
  HttpClient http(serve->port(), 10);
  for (auto deadline = Clock::now() + seconds(15);
       Clock::now() < deadline && http.Get("/v1/health").status != 200;) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  // Commits fail while a file stands where the staging temp directories go: nothing is committed.
  const std::string obstacle = s.project->Lake() + "/staging/orders/_tmp";
  fs::create_directories(fs::path(obstacle).parent_path());
  std::error_code ec;
  fs::remove_all(obstacle, ec);
  WriteFileOrDie(obstacle, "not a directory\n");
  constexpr int kN = 37;
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(s.nats->url(), "orders.events", Events("l", 1, kN)));
  double lag = -1;
  for (auto deadline = Clock::now() + seconds(15); Clock::now() < deadline && lag != kN;) {
    lag = MetricValue(http.Get("/metrics").body, "sluice_consumer_lag_messages{source=\"orders\"}");
    if (lag != kN) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(lag, kN) << "lag while " << kN << " messages wait uncommitted";
  fs::remove(obstacle);
  Json stats;
  ASSERT_TRUE(WaitCommitted(*serve, kN, seconds(30), &stats)) << stats.dump();
  // The answer that first shows everything committed shows no lag: not one refresh later.
  EXPECT_EQ(OrdersOf(stats).value("lag_messages", -1.0), 0) << stats.dump();
  EXPECT_EQ(MetricValue(http.Get("/metrics").body, "sluice_consumer_lag_messages{source=\"orders\"}"), 0);
  ASSERT_TRUE(serve->Terminate().ok());
  EXPECT_EQ(Staged(*s.project, "l"), Want("l", 1, kN));
}

}  // namespace
}  // namespace sluice::e2e
