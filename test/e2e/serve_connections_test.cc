// `sluice serve` answers every request of a burst of new connections: none is dropped because
// the connections arrived together (the bench's 64 keep-alive connections opening at once).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

// 256 clients connect at the same moment and each POSTs one small body on its new connection,
// without any retry: every one must be answered 200 and its rows committed once. A server whose
// listen backlog overflows drops handshakes; the requests of those connections then reach it
// (retransmitted) only after it gave up waiting for a first request on them, and it closes them
// unanswered (before the fix, the bench's `transport error Read`).
TEST(ServeConnections, BurstOfNewConnectionsIsAnswered) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  MakeStreamSource(p, "    type: http\n", "transform: {interval: 1s}\nmemory_limit: 1GB");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();

  constexpr int kClients = 256;
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(port, 120);
      const std::string id = "burst-" + std::to_string(c);
      const std::string body = "{\"order_id\":\"" + id +
                               "\",\"tenant_id\":\"t01\",\"status\":\"created\",\"amount\":1.5,"
                               "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      HttpResponse r = client.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", id}});
      if (r.status == 200) {
        ++ok;
      } else {
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back(id + ": HTTP " + std::to_string(r.status) + (r.status == 0 ? " (no answer)" : "") +
                           " " + r.body.substr(0, 200));
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready == kClients; });
    go = true;
  }
  cv.notify_all();
  for (auto& t : clients) t.join();
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  std::string first;
  for (size_t i = 0; i < failures.size() && i < 5; ++i) first += "\n  " + failures[i];
  EXPECT_EQ(ok.load(), kClients) << failures.size() << " of " << kClients
                                 << " requests were not answered 200, e.g.:" << first;
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), std::to_string(ok.load()));
}

}  // namespace
}  // namespace sluice::e2e
