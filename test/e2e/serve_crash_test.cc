// sluice serve's own failpoints (common/failpoint.h, serve.*): a crash after a micro-batch is
// committed but before its HTTP requests are answered or its NATS messages acknowledged.
// The client's retry (same Idempotency-Key) and the broker's redelivery must not double a row.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "serve_harness.h"
#include "support/nats_server.h"

namespace sluice::e2e {
namespace {

std::string Event(int i) {
  return "{\"order_id\":\"o" + std::to_string(i) + "\",\"tenant_id\":\"t" + std::to_string(i % 3) +
         "\",\"status\":\"paid\",\"amount\":" + std::to_string(i) +
         ".5,"
         "\"created_at\":\"2026-01-05T10:00:00Z\",\"seq\":1}";
}

std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i) out += Event(i) + "\n";
  return out;
}

Project StreamProject(const TempDir& tmp, const std::string& source_lines) {
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  MakeStreamSource(p, source_lines);
  return p;
}

// Waits until the server exits (a failpoint's SIGKILL) or `seconds` pass.
bool WaitForExit(ServeProcess& s, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (s.running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !s.running();
}

TEST(ServeCrash, KilledBeforeAnsweringThenRetriedIsExactlyOnce) {
  TempDir tmp;
  Project p = StreamProject(tmp, "    type: http\n");
  auto crashing = ServeProcess::Start(p, {}, {{"SLUICE_FAILPOINTS", "serve.before_answer=crash"}});
  ASSERT_NE(crashing, nullptr);
  const std::string body = Lines(0, 50);
  {
    HttpClient client(crashing->port(), 30);
    HttpResponse r = client.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", "k-1"}});
    EXPECT_EQ(r.status, 0) << "answered although the server was to die first: " << r.body;
  }
  ASSERT_TRUE(WaitForExit(*crashing, 30)) << "serve.before_answer was not reached";
  crashing.reset();

  auto server = ServeProcess::Start(p);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  HttpResponse retry = client.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.json()["replayed"], true) << retry.body;
  EXPECT_EQ(retry.json()["accepted"], 50) << retry.body;
  HttpResponse next = client.Post("/v1/sources/orders/events", Lines(50, 80), {{"Idempotency-Key", "k-2"}});
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.json()["replayed"], false) << next.body;
  ProcessResult stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();

  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), "80");
  EXPECT_EQ(p.Scalar("SELECT count(DISTINCT order_id) FROM staging.orders"), "80");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "80");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.idempotency"), "2");
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << ::testing::PrintToString(TempLeftovers(p.Lake()));
}

TEST(ServeCrash, KilledBeforeAcknowledgingThenRedeliveredIsExactlyOnce) {
  auto nats = test::NatsServer::Start();
  ASSERT_NE(nats, nullptr);
  ASSERT_NO_FATAL_FAILURE(test::CreateStream(nats->url(), "ORDERS", {"orders.>"}));
  std::vector<std::string> events;
  for (int i = 0; i < 300; ++i) events.push_back(Event(i));

  TempDir tmp;
  Project p = StreamProject(tmp, "    type: nats\n    nats: {url: " + nats->url() +
                                     ", stream: ORDERS, subject: orders.>}\n"
                                     "    batch: {max_rows: 100, max_wait: 100ms}\n");
  auto crashing = ServeProcess::Start(p, {}, {{"SLUICE_FAILPOINTS", "serve.before_ack=crash"}});
  ASSERT_NE(crashing, nullptr);
  // Published once serve is up, so that its first commit (and the crash) comes after the start.
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(nats->url(), "orders.new", events));
  ASSERT_TRUE(WaitForExit(*crashing, 60)) << "serve.before_ack was not reached; stderr:\n"
                                          << crashing->Stderr();
  crashing.reset();

  auto server = ServeProcess::Start(p);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t committed = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    Json stats = client.Get("/v1/stats").json();
    if (stats.is_object()) committed = stats["sources"]["orders"].value("committed_seq", int64_t{0});
    if (committed >= 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(committed, 300) << server->Stderr();
  ProcessResult stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();

  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), "300");
  EXPECT_EQ(p.Scalar("SELECT count(DISTINCT order_id) FROM staging.orders"), "300");
  // Each stream sequence in exactly one committed batch.
  EXPECT_EQ(p.Scalar("SELECT sum(messages) FROM meta.stream_offsets"), "300");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM (SELECT first_seq, last_seq, lag(last_seq) OVER "
                     "(ORDER BY first_seq) AS prev FROM meta.stream_offsets) WHERE first_seq <= prev"),
            "0");
  EXPECT_EQ(p.Scalar("SELECT min(first_seq) || '-' || max(last_seq) FROM meta.stream_offsets"), "1-300");
}

}  // namespace
}  // namespace sluice::e2e
