// Slow and hostile HTTP clients against the real `sluice serve` (docs/HTTP.md): none of them
// stalls the server or crashes it. Each test sets short `serve.limits` in its sluice.yaml so that
// it runs in seconds; loopback only (127.0.0.2 plays a second client address).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const char kHealth[] = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// The example project with an http source `orders` and `serve.limits: {<limits>}`.
Project MakeProject(const std::string& dir, const std::string& limits) {
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(dir, o);
  MakeStreamSource(p, "    type: http\n", "transform: {interval: 500ms}\nserve:\n  limits: {" + limits + "}");
  return p;
}

std::string OrderLine(const std::string& id) {
  return "{\"order_id\":\"" + id +
         "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1.5,"
         "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
}

// GET /v1/health on a new connection: its status and how long the answer took.
std::pair<int, double> TimedHealth(int port) {
  const auto start = Clock::now();
  HttpClient client(port, 5);
  const int status = client.Get("/v1/health").status;
  return {status, SecondsSince(start)};
}

// (a) Slowloris: 80 connections each send one header line a second for 10 s and never finish
// their request. A server with a thread per connection (64 of them) has none left; here every
// poll of /v1/health from another client is answered within 1 s.
TEST(ServeHostile, SlowlorisDoesNotStallHealth) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop",
                          "max_connections_per_client: 200, idle_timeout: 5s, request_timeout: 60s");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();

  constexpr int kSlow = 80;
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port));
    ASSERT_TRUE(slow.back()->connected()) << "slow connection " << i;
    ASSERT_TRUE(slow.back()->Send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")) << i;
  }
  std::atomic<bool> done{false};
  std::atomic<int> send_failures{0};
  std::thread trickle([&] {
    for (int second = 0; second < 10 && !done; ++second) {
      const auto tick = Clock::now();
      for (int i = 0; i < kSlow; ++i) {
        if (!slow[i]->Send("X-Slow-" + std::to_string(second) + ": 1\r\n")) ++send_failures;
      }
      std::this_thread::sleep_until(tick + std::chrono::seconds(1));
    }
  });
  const auto start = Clock::now();
  int polls = 0;
  double worst = 0;
  std::vector<std::string> slow_polls;
  while (SecondsSince(start) < 10) {
    auto [status, seconds] = TimedHealth(port);
    ++polls;
    worst = std::max(worst, seconds);
    if (status != 200 || seconds >= 1.0) {
      slow_polls.push_back("HTTP " + std::to_string(status) + " after " + std::to_string(seconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  done = true;
  trickle.join();
  EXPECT_TRUE(slow_polls.empty()) << slow_polls.size() << " of " << polls
                                  << " polls of /v1/health were not answered 200 within 1 s, e.g. "
                                  << slow_polls.front();
  EXPECT_EQ(send_failures.load(), 0) << "the slow connections were all held open (none refused) meanwhile";
  std::printf("[ Slowloris ] %d polls, slowest %.3f s, %d slow connections held\n", polls, worst, kSlow);
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

// (b) One client address may hold `max_connections_per_client` connections: the next one is
// closed at once, while the held ones still get their answers and another address is served.
TEST(ServeHostile, ConnectionsPerClientAreLimited) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop", "max_connections_per_client: 4, idle_timeout: 30s");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();

  // From 127.0.0.3: the connections ServeProcess::Start polled readiness on (from 127.0.0.1)
  // may not be closed yet on the server's side, and would count against the limit.
  const std::string client = "127.0.0.3";
  // Each held connection is answered once first: then the server has accepted and counted it
  // (its pollers accept concurrently, so a connection opened later could otherwise be counted
  // before it and take its place). It then sends half of a second request and waits.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(port, client));
    ASSERT_TRUE(held.back()->Send(kHealth)) << i;
    ASSERT_EQ(held.back()->Read(10).status, 200) << "held connection " << i << " before the limit";
    ASSERT_TRUE(held.back()->Send("GET /v1/health HTTP/1.1\r\n")) << i;  // half a request
  }
  // A fifth connection is closed without an answer.
  {
    RawConnection extra(port, client);
    if (extra.connected()) {
      (void)extra.Send(kHealth);
      EXPECT_EQ(extra.Read(5).status, 0) << "a fifth connection from " << client << " should be refused";
    }
  }

  // Another client address is served meanwhile.
  RawConnection other(port, "127.0.0.2");
  ASSERT_TRUE(other.connected()) << "connect from 127.0.0.2";
  ASSERT_TRUE(other.Send(kHealth));
  EXPECT_EQ(other.Read(5).status, 200) << "a request from another address";

  // The held connections finish their requests and are answered.
  for (size_t i = 0; i < held.size(); ++i) {
    ASSERT_TRUE(held[i]->Send("Host: 127.0.0.1\r\n\r\n")) << i;
    EXPECT_EQ(held[i]->Read(5).status, 200) << "held connection " << i;
  }
  // Once one of them closes, that address may connect again (when the server has seen the
  // close: a refused attempt is answered at once, so poll for a while).
  held.pop_back();
  bool served = false;
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !served && std::chrono::steady_clock::now() < until;) {
    RawConnection again(port, client);
    served = again.Send(kHealth) && again.Read(2).status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served) << "a new connection after one of the four closed";
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

// (c) Headers over `max_header_bytes` are answered 431 (or the connection dropped), a little
// over the limit as far over it; the server goes on serving.
TEST(ServeHostile, OversizedHeadersAreRefused) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop", "max_header_bytes: 4KiB");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();
  for (size_t size : {size_t{5000}, size_t{200000}}) {
    RawConnection c(port);
    ASSERT_TRUE(c.connected());
    (void)c.Send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(size, 'a') +
                 "\r\n\r\n");
    HttpResponse r = c.Read(5);
    EXPECT_TRUE(r.status == 431 || (r.status == 0 && c.ClosedWithin(5)))
        << "a header of " << size << " bytes: " << Describe(r);
  }
  // Just under the limit is served.
  RawConnection fits(port);
  ASSERT_TRUE(fits.Send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fits: " + std::string(3000, 'a') +
                        "\r\n\r\n"));
  EXPECT_EQ(fits.Read(5).status, 200);
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

// (d) A request whose headers (or body) trickle in without end is dropped at `request_timeout`,
// although bytes keep coming more often than `idle_timeout`.
TEST(ServeHostile, TricklingRequestIsDroppedAtRequestTimeout) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop", "request_timeout: 2s, idle_timeout: 5s");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();
  struct Case {
    std::string what, head, drip;
  };
  const std::vector<Case> cases = {
      {"headers", "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Drip: 1\r\n"},
      {"a body",
       "POST /v1/sources/orders/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n",
       "{\"x\":1}\n"},
  };
  for (const auto& c : cases) {
    RawConnection conn(port);
    const auto start = Clock::now();
    ASSERT_TRUE(conn.Send(c.head)) << c.what;
    bool closed = false;
    while (!closed && SecondsSince(start) < 10) {
      closed = conn.ClosedWithin(0.3) || !conn.Send(c.drip);
    }
    const double seconds = SecondsSince(start);
    EXPECT_TRUE(closed) << c.what << ": still open after " << seconds << " s of trickling";
    EXPECT_GE(seconds, 1.5) << c.what << ": dropped before request_timeout";
    EXPECT_LT(seconds, 4.5) << c.what << ": dropped well after request_timeout (2 s)";
  }
  auto [status, seconds] = TimedHealth(port);
  EXPECT_EQ(status, 200) << "after " << seconds << " s";
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

// (e) A body over `max_body` is answered 413 from its Content-Length: the client sends headers
// only and gets the answer (nothing of the body was needed, nothing was committed).
TEST(ServeHostile, BodyOverMaxBodyIs413BeforeReadingIt) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop", "max_body: 1MiB");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();
  for (const std::string length : {"2000000", "1000000000000"}) {
    RawConnection c(port);
    ASSERT_TRUE(
        c.Send("POST /v1/sources/orders/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/x-ndjson\r\nContent-Length: " +
               length + "\r\n\r\n"));
    HttpResponse r = c.Read(5);
    EXPECT_EQ(r.status, 413) << "Content-Length " << length << ": " << Describe(r);
    EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
  }
  HttpClient client(port);
  HttpResponse ok = client.Post("/v1/sources/orders/events", OrderLine("small"));
  EXPECT_EQ(ok.status, 200) << Describe(ok);
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), "1");
}

// (f) Bodies built to hurt a parser: 100,000 nested '[' as a JSON document and as an NDJSON
// line, and one NDJSON line of 8 MB. Each gets a clean answer (4xx, or 200 with the line
// dead-lettered), and the server goes on serving.
TEST(ServeHostile, HostileBodiesGetCleanAnswers) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop", "max_body: 16MiB");
  auto server = ServeProcess::Start(p, {"--max-inflight-mb", "64"});
  ASSERT_TRUE(server);
  const int port = server->port();
  HttpClient client(port);
  const std::string nested(100000, '[');

  HttpResponse json = client.Post("/v1/sources/orders/events", nested, {}, "application/json");
  EXPECT_EQ(json.status, 400) << "nested JSON document: " << Describe(json);

  HttpResponse line = client.Post("/v1/sources/orders/events", "{\"a\":" + nested + "\n");
  EXPECT_EQ(line.status, 200) << "nested NDJSON line: " << Describe(line);
  EXPECT_EQ(line.json().value("dead_lettered", -1), 1) << line.body;

  const std::string huge = "{\"order_id\":\"huge\",\"note\":\"" + std::string(8 << 20, 'x') + "\"}\n";
  HttpResponse big = client.Post("/v1/sources/orders/events", huge);
  EXPECT_TRUE(big.status == 200 || (big.status >= 400 && big.status < 500)) << "8 MB line: " << Describe(big);
  if (big.status == 200) {
    EXPECT_EQ(big.json().value("accepted", 0) + big.json().value("dead_lettered", 0), 1) << big.body;
  }
  auto [status, seconds] = TimedHealth(port);
  EXPECT_EQ(status, 200) << "after " << seconds << " s";
  EXPECT_TRUE(server->running());
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

}  // namespace
}  // namespace sluice::e2e
