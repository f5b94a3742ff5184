// The edges of `sluice serve`'s HTTP API, against the real binary over real sockets: bodies
// without events (400, nothing committed, the key still free), requests without a
// Content-Length (411 at once, chunked ones included, the connection still in step), the
// correlation id of a replayed request (the first one, in the header as in the body), and wrong
// methods on known paths (405 with Allow). docs/STREAMING.md documents each answer.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

const char kEvents[] = "/v1/sources/orders/events";

std::string OrderLine(const std::string& id) {
  return "{\"order_id\":\"" + id +
         "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1.5,"
         "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
}

// An example project whose `orders` source is `type: http`.
Project MakeHttpProject(const std::string& dir) {
  OrderGeneratorOptions o;
  o.orders = 20;
  o.batches = 1;
  o.seed = 91;
  Project p = MakeExampleProject(dir, o);
  MakeStreamSource(p, "    type: http\n");
  return p;
}

// `r` is an error answer: `status`, a JSON body {"error": "<one line>"} naming `mentions`.
void ExpectErrorAnswer(const HttpResponse& r, int status, const std::string& mentions,
                       const std::string& what) {
  EXPECT_EQ(r.status, status) << what << ": " << Describe(r);
  Json j = r.json();
  ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string())
      << what << ": the error body must be JSON {\"error\": ...}: " << Describe(r);
  const std::string error = j["error"].get<std::string>();
  EXPECT_EQ(error.find('\n'), std::string::npos) << what << ": one line: " << error;
  EXPECT_NE(error.find(mentions), std::string::npos)
      << what << ": should mention '" << mentions << "': " << error;
}

// The next request on `client`'s keep-alive connection is answered as itself.
void ExpectInStep(HttpClient& client, const std::string& after) {
  HttpResponse h = client.Get("/v1/health");
  EXPECT_TRUE(h.status == 200 && h.json().is_object() && h.json().value("status", "") == "ok")
      << "after " << after << ", GET /v1/health on the same connection answered " << Describe(h);
}

// A body with no event in it (empty, blank lines, an empty JSON array) is refused with 400 and
// commits nothing: no batch in the ledger, and its Idempotency-Key stays free for real data.
TEST(ServeHttpEdges, BodiesWithoutEventsAreRefusedAndCommitNothing) {
  TempDir tmp;
  Project p = MakeHttpProject(tmp.path() + "/shop");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());

  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"an empty body", ""},
      {"blank lines", "\n  \n\t\r\n"},
      {"an empty JSON array", " [ ] "},
      {"an empty JSON array as application/json", "[]"},
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    const auto& [what, body] = bodies[i];
    const std::string type = i == 3 ? "application/json" : "application/x-ndjson";
    HttpResponse r = client.Post(kEvents, body, {{"Idempotency-Key", "empty-" + std::to_string(i)}}, type);
    ExpectErrorAnswer(r, 400, "no events", what);
    EXPECT_EQ(Header(r, "Idempotent-Replayed"), "") << what;
    ExpectInStep(client, what);
  }
  // The key of a refused empty body is free: the same key with events is new data.
  HttpResponse ok = client.Post(kEvents, OrderLine("e1") + OrderLine("e2"), {{"Idempotency-Key", "empty-0"}});
  ASSERT_EQ(ok.status, 200) << Describe(ok) << "\n" << server->Stderr();
  EXPECT_FALSE(ok.json().value("replayed", true)) << ok.body;
  EXPECT_EQ(ok.json().value("accepted", -1), 2) << ok.body;
  const std::string batch = ok.json().value("batch_id", "");

  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Rows("SELECT batch_id, rows_read, rows_staged, rows_dead FROM meta.batches WHERE source = "
                   "'orders'"),
            (std::vector<std::vector<std::string>>{{batch, "2", "2", "0"}}))
      << "only the request with events is a batch";
}

// A POST without Content-Length is answered 411 Length Required at once (not after the read
// timeout, not as 400), a chunked one too, and the keep-alive connection carries the next
// request. Nothing is committed.
TEST(ServeHttpEdges, PostWithoutContentLengthIs411) {
  TempDir tmp;
  Project p = MakeHttpProject(tmp.path() + "/shop");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const std::string health = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  {
    RawConnection c(server->port());
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(
        c.Send("POST /v1/sources/orders/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/x-ndjson\r\nIdempotency-Key: no-length\r\n\r\n"));
    // The server's read timeout is 30 s: an answer that waits for a body that never comes
    // (there is none without Content-Length) arrives too late here.
    HttpResponse r = c.Read(10);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ExpectErrorAnswer(r, 411, "Content-Length", "a POST without Content-Length");
    EXPECT_LT(seconds, 10) << "answered after " << seconds << " s";
    ASSERT_TRUE(c.Send(health));
    HttpResponse h = c.Read(10);
    EXPECT_EQ(h.status, 200) << "the next request on the connection: " << Describe(h);
  }
  {
    RawConnection c(server->port());
    const std::string event = OrderLine("chunked-1");
    char size[16];
    std::snprintf(size, sizeof size, "%zx", event.size());
    ASSERT_TRUE(
        c.Send("POST /v1/sources/orders/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Transfer-Encoding: chunked\r\nIdempotency-Key: chunked\r\n\r\n" +
               std::string(size) + "\r\n" + event + "\r\n0\r\n\r\n"));
    HttpResponse r = c.Read(10);
    ExpectErrorAnswer(r, 411, "Content-Length", "a chunked POST");
    ASSERT_TRUE(c.Send(health));
    HttpResponse h = c.Read(10);
    EXPECT_EQ(h.status, 200) << "the request after a chunked body: " << Describe(h);
  }
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "0");
}

// A replay answers with the first request's correlation id, in X-Correlation-ID as in the body,
// whatever correlation id (or none) the retry carries.
TEST(ServeHttpEdges, ReplayAnswersTheFirstCorrelationIdInHeaderAndBody) {
  TempDir tmp;
  Project p = MakeHttpProject(tmp.path() + "/shop");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  const std::string body = OrderLine("r1") + OrderLine("r2");

  HttpResponse first =
      client.Post(kEvents, body, {{"Idempotency-Key", "replay"}, {"X-Correlation-ID", "c-first"}});
  ASSERT_EQ(first.status, 200) << Describe(first) << "\n" << server->Stderr();
  EXPECT_EQ(Header(first, "X-Correlation-ID"), "c-first") << Describe(first);
  EXPECT_EQ(first.json().value("correlation_id", ""), "c-first") << first.body;

  const std::vector<std::map<std::string, std::string>> retries = {
      {{"Idempotency-Key", "replay"}, {"X-Correlation-ID", "c-retry"}},
      {{"Idempotency-Key", "replay"}},  // a generated one would differ
  };
  for (const auto& headers : retries) {
    HttpResponse r = client.Post(kEvents, body, headers);
    const std::string what = headers.count("X-Correlation-ID") ? "a retry with another correlation id"
                                                               : "a retry without a correlation id";
    ASSERT_EQ(r.status, 200) << what << ": " << Describe(r);
    EXPECT_TRUE(r.json().value("replayed", false)) << what << ": " << r.body;
    EXPECT_EQ(r.json().value("correlation_id", ""), "c-first") << what << ": " << r.body;
    EXPECT_EQ(Header(r, "X-Correlation-ID"), "c-first") << what << ": the header must agree with the body";
    int copies = 0;
    for (const auto& [k, v] : r.headers) copies += k == "X-Correlation-ID";
    EXPECT_EQ(copies, 1) << what << ": one X-Correlation-ID header";
  }
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Rows("SELECT DISTINCT _correlation_id FROM staging.orders"),
            (std::vector<std::vector<std::string>>{{"c-first"}}));
}

// A known path with a method it does not answer is 405 with Allow (not a bare 404); an unknown
// path is a 404 that says what exists. Each with a JSON error, the connection still in step.
TEST(ServeHttpEdges, WrongMethodOnKnownPathIs405WithAllow) {
  TempDir tmp;
  Project p = MakeHttpProject(tmp.path() + "/shop");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());

  HttpResponse get = client.Get(kEvents);
  ExpectErrorAnswer(get, 405, "POST", "GET on the events path");
  EXPECT_EQ(Header(get, "Allow"), "POST") << Describe(get);
  ExpectInStep(client, "GET on the events path");

  HttpResponse unknown_source = client.Get("/v1/sources/nope/events");
  EXPECT_EQ(unknown_source.status, 405) << Describe(unknown_source);
  EXPECT_EQ(Header(unknown_source, "Allow"), "POST") << Describe(unknown_source);

  for (const std::string path : {"/metrics", "/v1/health", "/v1/stats"}) {
    HttpResponse post = client.Post(path, OrderLine("m1"));
    ExpectErrorAnswer(post, 405, "GET", "POST " + path);
    EXPECT_EQ(Header(post, "Allow"), "GET, HEAD") << path << ": " << Describe(post);
    ExpectInStep(client, "POST " + path);
  }
  for (const std::string method : {"PUT", "DELETE", "PATCH"}) {
    RawConnection c(server->port());
    ASSERT_TRUE(c.Send(method + " /v1/sources/orders/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                       "Content-Length: 2\r\n\r\n{}"));
    HttpResponse r = c.Read(10);
    ExpectErrorAnswer(r, 405, "POST", method + " on the events path");
    EXPECT_EQ(Header(r, "Allow"), "POST") << method << ": " << Describe(r);
    ASSERT_TRUE(c.Send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_EQ(c.Read(10).status, 200) << "the request after " << method;
  }

  HttpResponse none = client.Get("/v1/nothing");
  ExpectErrorAnswer(none, 404, "/v1/health", "an unknown path");
  EXPECT_EQ(Header(none, "Allow"), "") << Describe(none);
  ExpectInStep(client, "an unknown path");

  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "0") << "nothing reached the lake";
}

}  // namespace
}  // namespace sluice::e2e
