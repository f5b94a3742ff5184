// `sluice serve` HTTP push, end to end against the real binary: exactly-once through retries
// and kill -9 (G2, G3, G5), reconciliation per batch and per request (G1), correlation ids
// carried into rows and dead letters, refusals that leave nothing behind, backpressure (429 +
// bounded memory), graceful SIGTERM under load, and the Prometheus exposition.
//
// Ground truth is independent of the engine: the generator's expected.json (final_state of
// curated.orders, DLQ per reason) and the answers the clients themselves received.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "harness.h"
#include "prometheus_text.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const char kEvents[] = "/v1/sources/orders/events";

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::string body;
  for (size_t i = from; i < to; ++i) body += lines[i] + "\n";
  return body;
}

// One request of a test: an NDJSON body with its own Idempotency-Key and X-Correlation-ID.
struct Chunk {
  std::string body;
  std::string key;
  std::string correlation;
  int64_t lines = 0;
};

// What a 200 said.
struct Answer {
  std::string batch_id;
  std::string correlation_id;
  std::string key;
  int64_t accepted = -1;
  int64_t dead = -1;
  bool replayed = false;
  std::string text;  // the body, for messages
};

Answer ParseAnswer(const HttpResponse& r) {
  Answer a;
  a.text = r.body;
  Json j = r.json();
  if (!j.is_object()) return a;
  a.batch_id = j.value("batch_id", "");
  a.correlation_id = j.value("correlation_id", "");
  a.key = j.value("idempotency_key", "");
  if (j.contains("accepted") && j["accepted"].is_number_integer()) a.accepted = j["accepted"].get<int64_t>();
  if (j.contains("dead_lettered") && j["dead_lettered"].is_number_integer()) {
    a.dead = j["dead_lettered"].get<int64_t>();
  }
  a.replayed = j.value("replayed", false);
  return a;
}

// The same answer as far as G2 goes (everything but `replayed`).
bool SameAnswer(const Answer& a, const Answer& b) {
  return a.batch_id == b.batch_id && a.correlation_id == b.correlation_id && a.key == b.key &&
         a.accepted == b.accepted && a.dead == b.dead;
}

HttpResponse PostChunk(HttpClient& client, const Chunk& c) {
  return client.Post(kEvents, c.body, {{"Idempotency-Key", c.key}, {"X-Correlation-ID", c.correlation}});
}

// Checks the 200 answer to the first send of `c` and returns it.
Answer ExpectFirstAnswer(const HttpResponse& r, const Chunk& c, const std::string& server_err) {
  Answer a = ParseAnswer(r);
  EXPECT_EQ(r.status, 200) << c.key << ": " << Describe(r) << "\nserver stderr:\n" << server_err;
  EXPECT_EQ(Header(r, "X-Correlation-ID"), c.correlation) << c.key << ": " << Describe(r);
  EXPECT_EQ(a.correlation_id, c.correlation) << c.key << ": " << a.text;
  EXPECT_EQ(a.key, c.key) << a.text;
  EXPECT_FALSE(a.batch_id.empty()) << a.text;
  EXPECT_EQ(a.accepted + a.dead, c.lines) << c.key << ": every line is either staged or dead: " << a.text;
  return a;
}

// The chunks of the generator's landing files, in file order, `per_chunk` lines each (a chunk
// never spans two files). Keys and correlation ids are `<prefix>-k-<n>` / `<prefix>-c-<n>`.
std::vector<Chunk> LandingChunks(const Project& p, size_t per_chunk, const std::string& prefix) {
  auto jsonl = [](const std::string& rel) {
    return rel.size() > 6 && rel.compare(rel.size() - 6, 6, ".jsonl") == 0;
  };
  std::vector<std::string> files = FindFiles(p.Landing(), jsonl);
  std::sort(files.begin(), files.end());
  EXPECT_FALSE(files.empty()) << "no landing files in " << p.Landing();
  std::vector<Chunk> out;
  for (const auto& f : files) {
    std::string path = f.rfind('/', 0) == 0 ? f : p.Landing() + "/" + f;
    std::vector<std::string> lines = SplitLines(ReadFileOrDie(path));
    for (size_t i = 0; i < lines.size(); i += per_chunk) {
      size_t to = std::min(lines.size(), i + per_chunk);
      Chunk c;
      c.body = JoinLines(lines, i, to);
      c.lines = static_cast<int64_t>(to - i);
      c.key = prefix + "-k-" + std::to_string(out.size());
      c.correlation = prefix + "-c-" + std::to_string(out.size());
      out.push_back(std::move(c));
    }
  }
  return out;
}

// An example project (generator data) whose `orders` source is `type: http`.
Project MakeHttpProject(const std::string& dir, const OrderGeneratorOptions& o,
                        const std::string& extra_top = "transform: {interval: 500ms}") {
  Project p = MakeExampleProject(dir, o);
  MakeStreamSource(p, "    type: http\n", extra_top);
  return p;
}

Json Expected(const Project& p) { return Json::parse(ReadFileOrDie(p.Landing() + "/expected.json")); }

// curated.orders (every key's final state), the mart and the DLQ per reason equal expected.json.
void ExpectGroundTruth(const Project& p, const Json& ex, const std::string& what) {
  ExpectCuratedOrdersEqualFinalState(p, ex, what);

  std::vector<std::vector<std::string>> want;
  for (const Json& row : ex["mart_daily_revenue"]) {
    want.push_back({Str(row["day"]), Str(row["tenant_id"]), Str(row["orders"]), Str(row["revenue"])});
  }
  EXPECT_TRUE(p.Rows("SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), "
                     "CAST(revenue AS VARCHAR) FROM marts.daily_revenue ORDER BY day, tenant_id") == want)
      << what << ": marts.daily_revenue differs from expected.json";

  want.clear();
  for (auto& [reason, n] : ex["dead_by_reason"].items()) {
    if (n.get<int64_t>() > 0) want.push_back({reason, Str(n)});
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(p.Rows("SELECT reason, count(*) FROM dlq.orders GROUP BY reason ORDER BY reason"), want)
      << what << ": DLQ per reason";
}

// G1/G2 against what the clients were told. `answers` holds one answer per acknowledged
// request, by correlation id (every request sent its own). Checks, from the rows themselves:
// the rows of each request are in staging exactly once, in the batch its answer named, as many
// as it said were accepted, and its dead letters likewise; no (batch, line) is staged twice;
// every ledger entry reconciles (read = staged + dead) and matches the rows it holds; nothing
// else is in staging or the DLQ.
void ExpectExactlyOnce(const Project& p, const std::map<std::string, Answer>& answers,
                       const std::string& what) {
  int64_t accepted = 0, dead = 0;
  std::vector<std::vector<std::string>> want_staged, want_dead;
  for (const auto& [corr, a] : answers) {
    accepted += a.accepted;
    dead += a.dead;
    if (a.accepted > 0) want_staged.push_back({corr, std::to_string(a.accepted), "1", a.batch_id});
    if (a.dead > 0) want_dead.push_back({corr, std::to_string(a.dead), "1", a.batch_id});
  }
  auto totals = p.Rows(
      "SELECT (SELECT count(*) FROM staging.orders), (SELECT count(*) FROM dlq.orders), "
      "(SELECT count(*) FROM (SELECT _batch_id, _source_line FROM staging.orders GROUP BY ALL "
      "HAVING count(*) > 1)), "
      "(SELECT count(*) FROM meta.batches WHERE source = 'orders' AND "
      "rows_read <> rows_staged + rows_dead), "
      "(SELECT count(*) FROM meta.batches b LEFT JOIN (SELECT _batch_id, count(*) AS n FROM "
      "staging.orders GROUP BY 1) s ON s._batch_id = b.batch_id WHERE b.source = 'orders' AND "
      "coalesce(s.n, 0) <> b.rows_staged), "
      "(SELECT count(*) FROM meta.batches b LEFT JOIN (SELECT batch_id, count(*) AS n FROM "
      "dlq.orders GROUP BY 1) d ON d.batch_id = b.batch_id WHERE b.source = 'orders' AND "
      "coalesce(d.n, 0) <> b.rows_dead), "
      "(SELECT coalesce(sum(rows_read), 0) FROM meta.batches WHERE source = 'orders')");
  ASSERT_EQ(totals.size(), 1u) << what;
  const auto& t = totals[0];
  ASSERT_EQ(t.size(), 7u) << what;
  EXPECT_EQ(t[0], std::to_string(accepted)) << what << ": staged rows vs the sum of `accepted` answered";
  EXPECT_EQ(t[1], std::to_string(dead)) << what << ": DLQ rows vs the sum of `dead_lettered` answered";
  EXPECT_EQ(t[2], "0") << what << ": (batch, line) pairs staged more than once";
  EXPECT_EQ(t[3], "0") << what << ": ledger entries with rows_read <> rows_staged + rows_dead (G1)";
  EXPECT_EQ(t[4], "0") << what << ": ledger entries whose rows_staged differs from their staged rows";
  EXPECT_EQ(t[5], "0") << what << ": ledger entries whose rows_dead differs from their DLQ rows";
  EXPECT_EQ(t[6], std::to_string(accepted + dead)) << what << ": rows read by the ledger";

  auto staged = p.Rows(
      "SELECT _correlation_id, count(*), count(DISTINCT _batch_id), min(_batch_id) "
      "FROM staging.orders GROUP BY 1 ORDER BY 1");
  auto dlq = p.Rows(
      "SELECT correlation_id, count(*), count(DISTINCT batch_id), min(batch_id) "
      "FROM dlq.orders GROUP BY 1 ORDER BY 1");
  auto first_diff = [](const std::vector<std::vector<std::string>>& got,
                       const std::vector<std::vector<std::string>>& want) {
    std::string out;
    size_t n = std::max(got.size(), want.size());
    for (size_t i = 0; i < n; ++i) {
      auto g = i < got.size() ? ::testing::PrintToString(got[i]) : "<none>";
      auto w = i < want.size() ? ::testing::PrintToString(want[i]) : "<none>";
      if (g != w) return "first difference at #" + std::to_string(i) + ": got " + g + ", want " + w;
    }
    return out;
  };
  EXPECT_TRUE(staged == want_staged)
      << what << ": staged rows per request (correlation id, rows, batches, batch id) differ from "
      << "the answers (" << staged.size() << " vs " << want_staged.size() << " requests); "
      << first_diff(staged, want_staged);
  EXPECT_TRUE(dlq == want_dead)
      << what << ": dead letters per request (correlation id, rows, batches, batch id) differ from "
      << "the answers (" << dlq.size() << " vs " << want_dead.size() << " requests); "
      << first_diff(dlq, want_dead);
}

// The value of the Prometheus sample `name{...}` whose labels include every one of `labels`;
// NaN when there is none.
double MetricValue(const std::string& text, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const std::string& line : SplitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind(name, 0) != 0) continue;
    if (line.size() <= name.size() || (line[name.size()] != '{' && line[name.size()] != ' ')) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      match = match && line.find(k + "=\"" + v + "\"") != std::string::npos;
    }
    if (!match) continue;
    return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return std::nan("");
}

// Polls /metrics until every micro-batch of `source` committed so far has been merged by a
// transform (one accept-to-queryable sample per committed batch); false after `timeout`.
bool WaitAllQueryable(int port, const std::string& source, seconds timeout = seconds(120)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const std::string m = HttpClient(port, 10).Get("/metrics").body;
    const double batches = MetricValue(m, "sluice_batches_committed_total", {{"source", source}});
    const double merged = MetricValue(m, "sluice_accept_to_queryable_seconds_count", {{"source", source}});
    if (batches > 0 && merged == batches) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

// A synthetic valid order line (~120 bytes), for load that needs no ground truth.
std::string OrderLine(const std::string& id, int tenant, int64_t seq) {
  char tenant_id[8];
  std::snprintf(tenant_id, sizeof tenant_id, "t%02d", tenant % 8);
  return std::string("{\"order_id\":\"") + id + "\",\"tenant_id\":\"" + tenant_id +
         "\",\"status\":\"created\",\"amount\":12.34,\"created_at\":\"2026-01-0" +
         std::to_string(1 + tenant % 7) + "T10:00:00Z\",\"seq\":" + std::to_string(seq) + "}";
}

// A request body of `rows` distinct orders; the last `invalid` lines are dead letters
// (status not in the enum).
Chunk SyntheticChunk(const std::string& tag, int64_t rows, int64_t invalid) {
  Chunk c;
  c.key = tag + "-k";
  c.correlation = tag + "-c";
  c.lines = rows;
  c.body.reserve(static_cast<size_t>(rows) * 130);
  for (int64_t i = 0; i < rows; ++i) {
    std::string line = OrderLine(tag + "-" + std::to_string(i), static_cast<int>(i), 1);
    if (i >= rows - invalid) line.replace(line.find("created\""), 8, "lost\"");
    c.body += line + "\n";
  }
  return c;
}

// ---- 1 ----------------------------------------------------------------------------------------

// The generator's files pushed through HTTP by three concurrent clients, with retries that race
// their first attempt and retries after the answer: exactly once, by the ground truth.
TEST(ServeHttp, ExactlyOnceThroughHttp) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 2000;
  o.batches = 3;
  o.seed = 71;
  Project p = MakeHttpProject(tmp.path() + "/shop", o);
  const Json ex = Expected(p);
  std::vector<Chunk> chunks = LandingChunks(p, 200, "x1");
  ASSERT_GT(chunks.size(), 20u);
  int64_t total_lines = 0;
  for (const auto& c : chunks) total_lines += c.lines;
  ASSERT_EQ(total_lines, ex["lines_total"].get<int64_t>());

  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();

  std::vector<Answer> first(chunks.size());
  std::atomic<size_t> next{0};
  std::atomic<int> raced_replays{0};
  auto worker = [&] {
    HttpClient client(port);
    while (true) {
      size_t i = next.fetch_add(1);
      if (i >= chunks.size()) return;
      const Chunk& c = chunks[i];
      if (i % 5 == 0) {
        // A retry racing its first attempt (a client that timed out too early): one of the two
        // stages the rows, the other gets the same answer, replayed.
        HttpResponse other;
        std::thread racer([&] {
          HttpClient second(port);
          other = PostChunk(second, c);
        });
        HttpResponse mine = PostChunk(client, c);
        racer.join();
        Answer a = ParseAnswer(mine), b = ParseAnswer(other);
        EXPECT_EQ(mine.status, 200) << Describe(mine) << "\n" << server->Stderr();
        EXPECT_EQ(other.status, 200) << Describe(other) << "\n" << server->Stderr();
        EXPECT_TRUE(SameAnswer(a, b)) << c.key << ": racing attempts answered differently:\n"
                                      << a.text << b.text;
        EXPECT_NE(a.replayed, b.replayed)
            << c.key << ": exactly one of two racing attempts must stage the rows:\n"
            << a.text << b.text;
        const HttpResponse& staged = a.replayed ? other : mine;
        const HttpResponse& replay = a.replayed ? mine : other;
        EXPECT_EQ(Header(replay, "Idempotent-Replayed"), "true") << Describe(replay);
        EXPECT_EQ(Header(staged, "Idempotent-Replayed"), "") << Describe(staged);
        first[i] = ExpectFirstAnswer(staged, c, "");
        ++raced_replays;
      } else {
        HttpResponse r = PostChunk(client, c);
        first[i] = ExpectFirstAnswer(r, c, server->Stderr());
        EXPECT_FALSE(first[i].replayed) << first[i].text;
        EXPECT_EQ(Header(r, "Idempotent-Replayed"), "") << Describe(r);
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  ASSERT_FALSE(HasFailure()) << "server stderr:\n" << server->Stderr();

  // Retries after the answer (and after transforms ran): the same answer, replayed.
  ASSERT_TRUE(WaitAllQueryable(port, "orders")) << "no transform merged the batches; stderr:\n"
                                                << server->Stderr();
  auto client = std::make_unique<HttpClient>(port);
  int replays = 0;
  for (size_t i = 0; i < chunks.size(); i += 3) {
    HttpResponse r = PostChunk(*client, chunks[i]);
    Answer a = ParseAnswer(r);
    ASSERT_EQ(r.status, 200) << Describe(r) << "\n" << server->Stderr();
    EXPECT_TRUE(a.replayed) << chunks[i].key << ": " << a.text;
    EXPECT_EQ(Header(r, "Idempotent-Replayed"), "true") << Describe(r);
    EXPECT_TRUE(SameAnswer(a, first[i])) << chunks[i].key << ": retry answered\n"
                                         << a.text << "first answer was\n"
                                         << first[i].text;
    ++replays;
  }
  // A retry under a new correlation id still gets the first answer, and never stamps rows.
  {
    HttpResponse r = client->Post(kEvents, chunks[1].body,
                                  {{"Idempotency-Key", chunks[1].key}, {"X-Correlation-ID", "x1-other"}});
    Answer a = ParseAnswer(r);
    ASSERT_EQ(r.status, 200) << Describe(r);
    EXPECT_TRUE(a.replayed) << a.text;
    EXPECT_TRUE(SameAnswer(a, first[1])) << a.text << " vs first " << first[1].text;
  }
  Json stats = client->Get("/v1/stats").json();
  client.reset();  // an idle keep-alive connection holds up the server's exit by seconds
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << "SIGTERM must drain and exit 0: " << stop.Describe();

  std::map<std::string, Answer> answers;
  int64_t accepted = 0, dead = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    answers[chunks[i].correlation] = first[i];
    accepted += first[i].accepted;
    dead += first[i].dead;
  }
  EXPECT_EQ(accepted, ex["events_valid"].get<int64_t>()) << "sum of accepted over first answers";
  EXPECT_EQ(dead, ex["lines_total"].get<int64_t>() - ex["events_valid"].get<int64_t>())
      << "sum of dead_lettered over first answers";
  EXPECT_EQ(stats["sources"]["orders"]["rows_staged"], accepted) << stats.dump();
  EXPECT_EQ(stats["sources"]["orders"]["rows_dead_lettered"], dead) << stats.dump();

  ExpectGroundTruth(p, ex, "HTTP push with retries");
  ExpectExactlyOnce(p, answers, "HTTP push with retries");
  // One idempotency record per request; the ledger's batches are exactly the answered ones.
  std::set<std::string> batches;
  for (const auto& a : first) batches.insert(a.batch_id);
  EXPECT_EQ(p.Rows("SELECT count(*), count(DISTINCT batch_id) FROM meta.idempotency "
                   "WHERE source = 'orders'"),
            (std::vector<std::vector<std::string>>{
                {std::to_string(chunks.size()), std::to_string(batches.size())}}));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE source = 'orders'"),
            std::to_string(batches.size()));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders WHERE _correlation_id = 'x1-other'"), "0");
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << ::testing::PrintToString(TempLeftovers(p.Lake()));
  // Publishing waits for transform.publish_interval (30 s here, longer than the test): the
  // publish at stop must still leave the published copies equal to the tables.
  DuckReader duck;
  ExpectPublishedEqualsTables(duck, p, "after serve stopped");
  std::printf(
      "[ ExactlyOnceThroughHttp ] %zu requests, %d racing retries, %d retries after the "
      "answer, %zu batches\n",
      chunks.size(), raced_replays.load(), replays, batches.size());
}

// ---- 2 ----------------------------------------------------------------------------------------

TEST(ServeHttp, IdempotencyConflictAndBadRequests) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 300;
  o.batches = 1;
  o.seed = 72;
  Project p = MakeHttpProject(tmp.path() + "/shop", o);
  std::vector<std::string> lines = SplitLines(ReadFileOrDie(p.Landing() + "/batch-0001.jsonl"));
  ASSERT_GT(lines.size(), 200u);
  // Lines that are JSON documents (valid or not for the contract), for the JSON array bodies.
  std::vector<std::string> docs;
  for (const auto& l : lines) {
    if (Json::parse(l, nullptr, false).is_object()) docs.push_back(l);
  }
  ASSERT_GT(docs.size(), 150u);

  auto server = ServeProcess::Start(p, {"--max-inflight-mb", "1"});
  ASSERT_TRUE(server);
  const int port = server->port();
  auto client = std::make_unique<HttpClient>(port);  // one keep-alive connection, as clients do
  std::map<std::string, Answer> ok;                  // by correlation id: what must be in the lake
  std::set<std::string> refused;                     // correlation ids of refused requests
  auto post = [&](const std::string& body, const std::string& key, const std::string& corr,
                  const std::string& type = "application/x-ndjson") {
    std::map<std::string, std::string> h = {{"X-Correlation-ID", corr}};
    if (!key.empty()) h["Idempotency-Key"] = key;
    HttpResponse r = client->Post(kEvents, body, h, type);
    if (r.status == 200) {
      Answer a = ParseAnswer(r);
      if (!a.replayed) ok[corr] = a;
    } else {
      refused.insert(corr);
    }
    return r;
  };
  // After any answer the same keep-alive connection must carry the next request. A refusal
  // sent before the body was read must not leave that body in the connection, where it would
  // be parsed as the next request (a bare 400, and every later answer one request late).
  auto expect_in_step = [&](const std::string& after) {
    HttpResponse h = client->Get("/v1/health");
    const bool in_step = h.status == 200 && h.json().is_object() && h.json().value("status", "") == "ok";
    EXPECT_TRUE(in_step) << "after " << after << ", the next request on the same keep-alive "
                         << "connection (GET /v1/health) was answered " << Describe(h)
                         << ": the connection is out of step";
    if (!in_step) client = std::make_unique<HttpClient>(port);  // the rest on a fresh one
  };
  auto expect_error = [&](const HttpResponse& r, int status, const std::string& mentions,
                          const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << Describe(r) << "\n" << server->Stderr();
    Json j = r.json();
    EXPECT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string())
        << what << ": the error body must be JSON {\"error\": ...}: " << Describe(r);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      EXPECT_NE(j["error"].get<std::string>().find(mentions), std::string::npos)
          << what << ": the error should name '" << mentions << "': " << Describe(r);
    }
    expect_in_step("a " + std::to_string(status) + " for " + what);
  };
  // ~250 KB of events: big enough that a refusal answers before the body has all arrived.
  std::string medium;
  for (size_t i = 0; medium.size() < 250000; ++i) medium += lines[i % lines.size()] + "\n";

  // The first use of a key, then the same key with another body: 422, nothing staged.
  const std::string a_body = JoinLines(lines, 0, 40);
  HttpResponse first = post(a_body, "key-a", "c-a");
  ASSERT_EQ(first.status, 200) << Describe(first) << "\n" << server->Stderr();
  Answer a = ParseAnswer(first);
  HttpResponse conflict = post(JoinLines(lines, 40, 80), "key-a", "c-a-conflict");
  EXPECT_EQ(Header(conflict, "Idempotent-Replayed"), "") << Describe(conflict);
  expect_error(conflict, 422, "key-a", "same key, other body");
  // A body that differs by one byte is another body too.
  expect_error(post(a_body + "\n", "key-a", "c-a-conflict2"), 422, "Idempotency-Key",
               "same key, body plus a newline");
  // And the original request is still answered as the first time.
  HttpResponse again = post(a_body, "key-a", "c-a-again");
  ASSERT_EQ(again.status, 200) << Describe(again);
  Answer ag = ParseAnswer(again);
  EXPECT_TRUE(ag.replayed && SameAnswer(ag, a)) << ag.text << " vs first " << a.text;
  refused.insert("c-a-again");  // answered from the record: no rows of its own

  // A broken JSON array: 400 naming JSON; its key is not used up by the refusal.
  std::string broken = "[" + docs[0] + "," + docs[1] + ",{\"order_id\": \"o9\", ";
  expect_error(post(broken, "key-broken", "c-broken"), 400, "JSON", "a broken JSON array");
  expect_error(post("{\"order_id\": ", "key-broken", "c-broken2", "application/json"), 400, "JSON",
               "a broken JSON object with Content-Type application/json");
  HttpResponse reuse = post(JoinLines(lines, 80, 100), "key-broken", "c-after-broken");
  EXPECT_EQ(reuse.status, 200) << "a key whose request was refused with 400 must still be free: "
                               << Describe(reuse);
  EXPECT_FALSE(ParseAnswer(reuse).replayed) << reuse.body;

  // Bad headers: 400 naming the header.
  expect_error(post(medium, "has space", "c-badkey1"), 400, "Idempotency-Key",
               "an Idempotency-Key with a space");
  expect_error(post(medium, std::string(256, 'k'), "c-badkey2"), 400, "Idempotency-Key",
               "an Idempotency-Key of 256 characters");
  refused.insert("bad id!");
  expect_error(post(medium, "key-badcorr", "bad id!"), 400, "X-Correlation-ID",
               "an X-Correlation-ID with a space");
  // Unknown source: 404 naming it and the known ones.
  {
    HttpResponse r = client->Post("/v1/sources/nope/events", medium,
                                  {{"Idempotency-Key", "key-404"}, {"X-Correlation-ID", "c-404"}});
    refused.insert("c-404");
    // The very next request on that connection is a good one: it must get its own answer (and
    // be staged only if that answer is a 200).
    HttpResponse next = post(JoinLines(lines, 110, 130), "key-after-404", "c-after-404");
    EXPECT_EQ(next.status, 200) << "a good request right after a 404 on the same keep-alive "
                                << "connection: " << Describe(next);
    EXPECT_EQ(Header(next, "X-Correlation-ID"), "c-after-404") << Describe(next);
    EXPECT_NE(r.body.find("orders"), std::string::npos) << "404 should list the http sources: " << r.body;
    expect_error(r, 404, "nope", "an unknown source");
  }
  // Larger than the in-flight budget (1 MiB here): 413.
  {
    std::string big;
    for (size_t i = 0; big.size() < (1u << 20) + 1000; ++i) big += lines[i % lines.size()] + "\n";
    expect_error(post(big, "key-big", "c-big"), 413, "larger", "a body larger than the budget");
  }
  // 429: most of the budget held by a request whose body is still arriving; a body that does
  // not fit beside it is refused at once with Retry-After, and its key stays free.
  {
    std::string held;
    for (size_t i = 0; held.size() < 900000; ++i) held += lines[(i * 7) % lines.size()] + "\n";
    RawConnection hold(port);
    ASSERT_TRUE(
        hold.Send("POST /v1/sources/orders/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Content-Type: application/x-ndjson\r\nIdempotency-Key: key-hold\r\n"
                  "X-Correlation-ID: c-hold\r\nContent-Length: " +
                  std::to_string(held.size()) + "\r\n\r\n" + held.substr(0, 1000)));
    HttpClient observer(port);
    double inflight = 0;
    for (int i = 0; i < 250 && !(inflight >= static_cast<double>(held.size())); ++i) {
      inflight = MetricValue(observer.Get("/metrics").body, "sluice_inflight_bytes", {});
      if (!(inflight >= static_cast<double>(held.size()))) std::this_thread::sleep_for(milliseconds(20));
    }
    ASSERT_GE(inflight, static_cast<double>(held.size())) << "the half-sent request should hold the budget";
    HttpResponse r = post(medium, "key-429", "c-429");
    const std::string after = Header(r, "Retry-After");
    EXPECT_TRUE(!after.empty() && after.find_first_not_of("0123456789") == std::string::npos &&
                std::stoi(after) >= 1)
        << "a 429 carries Retry-After in whole seconds: " << Describe(r);
    expect_error(r, 429, "budget", "a body that does not fit the in-flight budget");
    ASSERT_TRUE(hold.Send(held.substr(1000)));
    HttpResponse h = hold.Read(30);
    ASSERT_EQ(h.status, 200) << "the request holding the budget: " << Describe(h);
    ok["c-hold"] = ParseAnswer(h);
    EXPECT_EQ(ok["c-hold"].accepted + ok["c-hold"].dead, static_cast<int64_t>(SplitLines(held).size()));
    HttpResponse retry = post(medium, "key-429", "c-429-retry");
    EXPECT_EQ(retry.status, 200) << "a key refused with 429 must still be free: " << Describe(retry);
    EXPECT_FALSE(ParseAnswer(retry).replayed) << retry.body;
    EXPECT_EQ(MetricValue(observer.Get("/metrics").body, "sluice_backpressure_rejections_total",
                          {{"source", "orders"}}),
              1);
  }

  // Without X-Correlation-ID one is generated: echoed in the header, the answer and the rows.
  {
    HttpResponse r = client->Post(kEvents, JoinLines(lines, 130, 140), {{"Idempotency-Key", "key-nocorr"}});
    ASSERT_EQ(r.status, 200) << Describe(r);
    Answer nc = ParseAnswer(r);
    EXPECT_FALSE(nc.correlation_id.empty()) << r.body;
    EXPECT_EQ(Header(r, "X-Correlation-ID"), nc.correlation_id) << Describe(r);
    ok[nc.correlation_id] = nc;
  }

  // A JSON array body is equivalent to the same events as NDJSON: 40 events, plus events that
  // parse but break the contract (status not in the enum, seq or amount of the wrong type).
  std::vector<std::string> sample(docs.begin() + 100, docs.begin() + 140);
  for (const auto& d : docs) {
    if (d.find("\"lost\"") != std::string::npos || d.find("\"abc\"") != std::string::npos ||
        d.find("true") != std::string::npos) {
      sample.push_back(d);
    }
  }
  std::string nd, arr = "[";
  for (size_t i = 0; i < sample.size(); ++i) {
    nd += sample[i] + "\n";
    arr += (i ? ",\n  " : "") + sample[i];
  }
  arr += "]";
  HttpResponse r_nd = post(nd, "key-nd", "c-nd");
  HttpResponse r_arr = post(arr, "key-arr", "c-arr", "application/json");
  ASSERT_EQ(r_nd.status, 200) << Describe(r_nd);
  ASSERT_EQ(r_arr.status, 200) << Describe(r_arr);
  Answer and_ = ParseAnswer(r_nd), aarr = ParseAnswer(r_arr);
  EXPECT_EQ(aarr.accepted, and_.accepted) << r_arr.body << r_nd.body;
  EXPECT_EQ(aarr.dead, and_.dead) << r_arr.body << r_nd.body;
  EXPECT_EQ(aarr.accepted + aarr.dead, static_cast<int64_t>(sample.size())) << r_arr.body;
  EXPECT_GT(and_.dead, 0) << "the sample should hold events the contract refuses: " << r_nd.body;
  // A JSON array without the JSON content type is recognised by its '[' too.
  HttpResponse r_arr2 = post(arr, "key-arr2", "c-arr2");
  ASSERT_EQ(r_arr2.status, 200) << Describe(r_arr2);
  EXPECT_EQ(ParseAnswer(r_arr2).accepted, and_.accepted) << r_arr2.body;
  // One pretty-printed object with Content-Type application/json is one event.
  Json one = Json::parse(docs[0]);
  HttpResponse r_one = post(one.dump(2), "key-one", "c-one", "application/json");
  ASSERT_EQ(r_one.status, 200) << Describe(r_one);
  EXPECT_EQ(ParseAnswer(r_one).accepted + ParseAnswer(r_one).dead, 1) << r_one.body;

  client.reset();  // an idle keep-alive connection holds up the server's exit by seconds
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();

  ExpectExactlyOnce(p, ok, "accepted requests among refused ones");
  // Nothing of a refused request anywhere: rows, dead letters, idempotency records, ledger.
  std::set<std::string> in_lake;
  for (const auto& r : p.Rows("SELECT DISTINCT _correlation_id FROM staging.orders UNION "
                              "SELECT DISTINCT correlation_id FROM dlq.orders UNION "
                              "SELECT DISTINCT correlation_id FROM meta.batches UNION "
                              "SELECT DISTINCT correlation_id FROM meta.idempotency")) {
    in_lake.insert(r[0]);
  }
  for (const auto& c : refused) {
    EXPECT_FALSE(in_lake.count(c)) << "refused request " << c << " left a trace in the lake";
  }
  std::vector<std::vector<std::string>> keys;
  for (const char* k : {"key-429", "key-a", "key-after-404", "key-arr", "key-arr2", "key-broken", "key-hold",
                        "key-nd", "key-nocorr", "key-one"}) {
    keys.push_back({k});
  }
  EXPECT_EQ(p.Rows("SELECT idempotency_key FROM meta.idempotency WHERE source = 'orders' ORDER BY 1"), keys);
  // Array and NDJSON forms stage the same rows and the same dead letters.
  auto rows_of = [&](const std::string& corr) {
    return p.Rows(
        "SELECT order_id, tenant_id, status, CAST(amount AS VARCHAR), "
        "CAST(created_at AS VARCHAR), CAST(seq AS VARCHAR), _source_line FROM staging.orders "
        "WHERE _correlation_id = " +
        Quote(corr) + " ORDER BY _source_line");
  };
  auto nd_rows = rows_of("c-nd"), arr_rows = rows_of("c-arr");
  auto strip_line = [](std::vector<std::vector<std::string>> v) {
    for (auto& r : v) r.pop_back();
    return v;
  };
  EXPECT_EQ(strip_line(arr_rows), strip_line(nd_rows)) << "JSON array vs NDJSON: staged rows";
  EXPECT_EQ(nd_rows.size(), static_cast<size_t>(and_.accepted));
  auto reasons = [&](const std::string& corr) {
    return p.Rows(
        "SELECT reason, coalesce(column_name, ''), count(*) FROM dlq.orders WHERE correlation_id "
        "= " +
        Quote(corr) + " GROUP BY ALL ORDER BY ALL");
  };
  EXPECT_EQ(reasons("c-arr"), reasons("c-nd")) << "JSON array vs NDJSON: dead letters";
}

// ---- 3 ----------------------------------------------------------------------------------------

// A client that retries every request with its Idempotency-Key until it gets a 200, against a
// server killed (SIGKILL, or a failpoint of the commit protocol) again and again while
// requests are in flight. The end state is exactly once.
TEST(ServeHttp, KillNineWithRetryingClientIsExactlyOnce) {
  const auto test_start = Clock::now();
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 1500;
  o.batches = 3;
  o.seed = 73;
  // Published every cycle, so that publish.after_swap is reached while requests are in flight.
  Project p = MakeHttpProject(tmp.path() + "/shop", o, "transform: {interval: 1s, publish_interval: 1s}");
  const Json ex = Expected(p);
  std::vector<Chunk> chunks = LandingChunks(p, 60, "x3");
  ASSERT_GT(chunks.size(), 60u);

  std::atomic<int> port{0};  // of the server up now; 0 while none
  std::atomic<bool> main_done{false}, client_done{false}, abort{false}, in_flight{false};
  std::atomic<int> chunks_done{0};
  std::atomic<int64_t> attempts{0}, no_answer{0};
  std::mutex mu;
  std::string server_log;  // stderr of every server run so far, for failure messages
  std::vector<Answer> answer(chunks.size());
  std::vector<int> answered_first_as_replay;  // committed by a run killed before it answered
  int replays_checked = 0;                    // retries after the last crash

  // Sends c until a 200 (any server, any number of restarts); false on a 4xx or after 60 s.
  HttpResponse last;
  std::unique_ptr<HttpClient> http;
  int http_port = 0;
  auto send_until_ok = [&](const Chunk& c, Answer* out) {
    const auto deadline = Clock::now() + seconds(60);
    while (Clock::now() < deadline && !abort) {
      int now_port = port.load();
      if (now_port == 0) {
        std::this_thread::sleep_for(milliseconds(5));
        continue;
      }
      if (now_port != http_port || !http) {
        http = std::make_unique<HttpClient>(now_port, 20);
        http_port = now_port;
      }
      in_flight = true;
      ++attempts;
      last = PostChunk(*http, c);
      in_flight = false;
      if (last.status == 200) {
        *out = ParseAnswer(last);
        return true;
      }
      if (last.status >= 400 && last.status < 500) return false;
      if (last.status == 0) {
        ++no_answer;
        http.reset();  // a fresh connection for the retry
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  };

  std::thread client([&] {
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (!send_until_ok(chunks[i], &answer[i])) {
        std::lock_guard<std::mutex> lock(mu);
        ADD_FAILURE() << chunks[i].key << " never got a 200: " << Describe(last) << "\n" << server_log;
        break;
      }
      const Answer& a = answer[i];
      EXPECT_EQ(a.correlation_id, chunks[i].correlation) << a.text;
      EXPECT_EQ(a.accepted + a.dead, chunks[i].lines) << a.text;
      if (a.replayed) answered_first_as_replay.push_back(static_cast<int>(i));
      ++chunks_done;
      // A little pacing, so that the kills below land while the data is still being pushed.
      std::this_thread::sleep_for(milliseconds(15));
    }
    main_done = true;
    // Then every request once more, against the last run: the first answer, replayed, through
    // all the crashes.
    for (size_t i = 0; i < chunks.size() && !abort; ++i) {
      Answer a;
      if (!send_until_ok(chunks[i], &a)) {
        ADD_FAILURE() << "retry of " << chunks[i].key << " never got a 200: " << Describe(last);
        break;
      }
      EXPECT_TRUE(a.replayed) << chunks[i].key << ": " << a.text;
      EXPECT_TRUE(SameAnswer(a, answer[i]))
          << chunks[i].key << ": retry answered " << a.text << " but the first answer was " << answer[i].text;
      ++replays_checked;
    }
    client_done = true;
  });
  // Whatever happens below, the client stops and is joined before what it uses goes away.
  struct StopClient {
    std::atomic<bool>& abort;
    std::thread& thread;
    ~StopClient() {
      abort = true;
      if (thread.joinable()) thread.join();
    }
  } stop_client{abort, client};

  // The schedule of crashes: failpoints of the commit protocol (the server dies there by
  // itself, deterministically) and SIGKILLs at a random 0-300 ms after a request is in flight.
  std::vector<std::string> schedule = {"ingest.after_catalog_commit",
                                       "",
                                       "ingest.after_fsync",
                                       "",
                                       "ingest.after_stage_write",
                                       "",
                                       "ingest.after_rename",
                                       "",
                                       "curate.before_commit",
                                       "",
                                       "publish.after_swap",
                                       "",
                                       "",
                                       "",
                                       "",
                                       "",
                                       "",
                                       "",
                                       "",
                                       "",
                                       "",
                                       ""};
  std::mt19937 rng(1234);
  int crashes = 0, random_kills = 0, failpoint_crashes = 0;
  std::unique_ptr<ServeProcess> server;
  for (const std::string& fp : schedule) {
    std::vector<std::pair<std::string, std::string>> env;
    if (!fp.empty()) env.push_back({"SLUICE_FAILPOINTS", fp + "=crash"});
    server = ServeProcess::Start(p, {}, env);
    if (!server) break;
    const int chunks_before = chunks_done.load();
    port = server->port();
    if (!fp.empty()) {
      const auto deadline = Clock::now() + seconds(15);
      while (server->running() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
      port = 0;
      if (server->running()) {
        ADD_FAILURE() << "failpoint " << fp << " was not reached within 15 s of pushing; stderr:\n"
                      << server->Stderr();
        server->Kill9();
      } else {
        ProcessResult r = server->Terminate(5);  // already exited: just its status
        EXPECT_TRUE(r.signaled && r.term_signal == SIGKILL)
            << "failpoint " << fp << " should kill -9 the server: " << r.Describe();
        ++failpoint_crashes;
      }
    } else {
      const auto deadline = Clock::now() + seconds(5);
      while (!in_flight && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(1));
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
      port = 0;
      server->Kill9();
      ++random_kills;
    }
    ++crashes;
    {
      std::lock_guard<std::mutex> lock(mu);
      server_log += "---- run " + std::to_string(crashes) + " (" + (fp.empty() ? "kill -9" : fp) + ") at " +
                    std::to_string(std::chrono::duration<double>(Clock::now() - test_start).count()) +
                    " s (" +
                    "), requests answered during it: " + std::to_string(chunks_done.load() - chunks_before) +
                    "\n" + server->Stderr();
    }
  }
  const int chunks_when_killing_stopped = chunks_done.load();
  // The last run is left alone: the client finishes, then SIGTERM drains and exits 0.
  server = ServeProcess::Start(p);
  ASSERT_TRUE(server) << server_log;
  port = server->port();
  const auto deadline = Clock::now() + seconds(60);
  while (!client_done && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
  const bool finished = client_done;
  abort = true;
  client.join();
  http.reset();  // an idle keep-alive connection holds up the server's exit by seconds
  ASSERT_TRUE(finished) << "the client did not finish within 60 s of the last restart (main part "
                        << (main_done ? "done" : "not done") << ")\n"
                        << server_log;
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  server_log += "---- last run\n" + stop.err;
  ASSERT_FALSE(HasFailure()) << server_log;

  EXPECT_GE(crashes, 10);
  EXPECT_EQ(replays_checked, static_cast<int>(chunks.size())) << "every request retried after the last crash";
  EXPECT_EQ(crashes, static_cast<int>(schedule.size())) << server_log;
  EXPECT_EQ(failpoint_crashes, 6) << server_log;
  EXPECT_LT(chunks_when_killing_stopped, static_cast<int>(chunks.size()))
      << "the data was all pushed before the killing ended: the kills hit only retries";

  std::map<std::string, Answer> answers;
  for (size_t i = 0; i < chunks.size(); ++i) answers[chunks[i].correlation] = answer[i];
  ExpectGroundTruth(p, ex, "after " + std::to_string(crashes) + " crashes");
  ExpectExactlyOnce(p, answers, "after " + std::to_string(crashes) + " crashes");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.idempotency WHERE source = 'orders'"),
            std::to_string(chunks.size()));
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << ::testing::PrintToString(TempLeftovers(p.Lake()));
  if (HasFailure() || getenv("SHOWLOG")) std::printf("%s\n", server_log.c_str());
  std::printf(
      "[ KillNine ] %d crashes (%d failpoints, %d SIGKILL), %zu requests, %lld attempts, "
      "%lld without an answer, %zu first answered as a replay (committed, then killed "
      "before answering), %d retries checked, %d requests answered before the last "
      "crash, %.1f s\n",
      crashes, failpoint_crashes, random_kills, chunks.size(), static_cast<long long>(attempts.load()),
      static_cast<long long>(no_answer.load()), answered_first_as_replay.size(), replays_checked,
      chunks_when_killing_stopped, std::chrono::duration<double>(Clock::now() - test_start).count());
}

// ---- 4 ----------------------------------------------------------------------------------------

// Eight producers of ~400 KB bodies against a 1 MiB in-flight budget.
TEST(ServeHttp, BackpressureAnswers429AndKeepsMemoryBounded) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeHttpProject(tmp.path() + "/shop", o, "transform: {interval: 1s}");
  // A fixed memory limit: DuckDB's share does not depend on the machine's RAM.
  auto server = ServeProcess::Start(p, {"--memory-limit", "512MiB", "--max-inflight-mb", "1"});
  ASSERT_TRUE(server);
  const int port = server->port();
  const int64_t kBudget = int64_t{1} << 20;
  constexpr int kProducers = 8;
  constexpr int kRounds = 4;
  constexpr int kBodiesPerRound = 2;  // per producer
  constexpr int64_t kRows = 3300;     // ~120 bytes a line: ~400 KB a body
  // Generous for a loaded CI machine and ASan; a healthy server needs a few seconds.
  const auto stop_at = Clock::now() + seconds(kSanitizedBuild ? 180 : 90);

  std::mutex mu;
  std::map<std::string, Answer> answers;
  std::atomic<int> rejected{0}, bad_429{0}, other{0};
  std::atomic<int64_t> body_bytes{0};
  std::vector<int64_t> peaks;  // VmHWM after each round
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> producers;
    for (int t = 0; t < kProducers; ++t) {
      producers.emplace_back([&, t, round] {
        auto client = std::make_unique<HttpClient>(port, 60);
        for (int b = 0; b < kBodiesPerRound && Clock::now() < stop_at; ++b) {
          Chunk c = SyntheticChunk(
              "bp" + std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(b), kRows, 3);
          body_bytes = static_cast<int64_t>(c.body.size());
          while (Clock::now() < stop_at) {
            HttpResponse r = PostChunk(*client, c);
            if (r.status == 429) {
              // A fresh connection for the retry: whether a 429 leaves its keep-alive connection
              // usable is IdempotencyConflictAndBadRequests' question; this test is about
              // memory and counts.
              client = std::make_unique<HttpClient>(port, 60);
              ++rejected;
              const std::string after = Header(r, "Retry-After");
              if (after.empty() || after.find_first_not_of("0123456789") != std::string::npos ||
                  std::stoi(after) < 1 || !r.json().contains("error")) {
                ++bad_429;
              }
              std::this_thread::sleep_for(milliseconds(20));
              continue;
            }
            if (r.status == 200) {
              Answer a = ParseAnswer(r);
              EXPECT_FALSE(a.replayed) << a.text;
              EXPECT_EQ(a.accepted, kRows - 3) << a.text;
              std::lock_guard<std::mutex> lock(mu);
              answers[c.correlation] = a;
            } else {
              ++other;
              ADD_FAILURE() << "producer " << t << ": " << Describe(r);
            }
            break;
          }
        }
      });
    }
    for (auto& t : producers) t.join();
    // Each round's peak includes the transform of that round's rows (curate + marts of ~50k
    // rows, DuckDB's largest working set here): two more cycles, the second started after the
    // round ended. Otherwise a round's peak depends on how many rounds one transform caught.
    const auto transforms = [&] {
      return MetricValue(HttpClient(port).Get("/metrics").body, "sluice_transforms_total",
                         {{"status", "ok"}});
    };
    const double before = transforms();
    ASSERT_FALSE(std::isnan(before)) << "no sluice_transforms_total{status=\"ok\"} in /metrics";
    while (transforms() < before + 2 && Clock::now() < stop_at) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    peaks.push_back(server->PeakRssBytes());
  }
  ASSERT_GT(body_bytes.load(), 350000);
  ASSERT_LT(body_bytes.load(), kBudget / 2) << "two bodies must fit the budget, three not";

  const std::string metrics = HttpClient(port).Get("/metrics").body;
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();

  EXPECT_EQ(answers.size(), static_cast<size_t>(kRounds * kProducers * kBodiesPerRound))
      << "every body should get through in time (429s are retried)\n"
      << stop.err;
  EXPECT_GT(rejected.load(), 0) << "8 producers of 400 KB against a 1 MiB budget must see 429s";
  EXPECT_EQ(bad_429.load(), 0) << "every 429 carries Retry-After (whole seconds >= 1) and a JSON error";
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(MetricValue(metrics, "sluice_backpressure_rejections_total", {{"source", "orders"}}),
            static_cast<double>(rejected.load()))
      << "sluice_backpressure_rejections_total must count the 429s the clients saw\n"
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_inflight_limit_bytes", {}), static_cast<double>(kBudget));

  ExpectExactlyOnce(p, answers, "under backpressure");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), std::to_string(answers.size() * (kRows - 3)))
      << "every accepted row is curated at shutdown";

  // Memory. The stream data in memory is bounded by the 1 MiB budget (two bodies at most, each
  // copied a few times: body, joined micro-batch, decoded columns: a few MB). The rest should
  // be a fixed overhead: DuckDB's working memory for one micro-batch commit and one curate /
  // marts / publish cycle, the ledger's pages, the threads' stacks and malloc arenas. Measured
  // here (2 cores, 24 GB, this test's load): an idle server is ~45 MB. As built, the rounds
  // peak at ~105-220, 275-355, 370-420, 465-525 MB: DuckDB 1.4 keeps every Parquet file it reads
  // (curate reads each micro-batch's staging files) in its external file cache, bounded only
  // by memory_limit (80% of RAM). With `SET enable_external_file_cache = false` (as serve sets
  // it) and each round's peak taken after a transform of that round: ~131, 170, 187, 204 MB --
  // still creeping by ~17 MB a round (the curated table's pages, ledger pages, arenas).
  // Bound: budget + 384 MB, ~100 MB above that. Growth with the data pushed is checked directly
  // too: after a warm-up round, two more equal rounds may add at most 128 MB (twice the creep
  // measured above); memory that grows with the data is not bounded, whatever its level today.
  const int64_t kFixedOverhead = int64_t{384} << 20;
  const int64_t kGrowthAllowed = int64_t{128} << 20;
  std::string per_round;
  for (int64_t peak : peaks) per_round += " " + std::to_string(peak >> 20) + " MB";
  std::printf(
      "[ Backpressure ] %zu bodies of %lld bytes accepted, %d answered 429, peak RSS after "
      "each round:%s\n",
      answers.size(), static_cast<long long>(body_bytes.load()), rejected.load(), per_round.c_str());
  ASSERT_EQ(peaks.size(), static_cast<size_t>(kRounds));
  ASSERT_GT(peaks.front(), 0) << "VmHWM could not be read";
  if (!kSanitizedBuild) {
    EXPECT_LT(peaks.back(), kBudget + kFixedOverhead)
        << "peak RSS with a 1 MiB in-flight budget, per round:" << per_round;
    EXPECT_LT(peaks.back() - peaks[1], kGrowthAllowed)
        << "peak RSS keeps growing with the data pushed, per round of equal load:" << per_round;
  }
}

// ---- 5 ----------------------------------------------------------------------------------------

TEST(ServeHttp, SigtermDuringLoadLosesNothingAccepted) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeHttpProject(tmp.path() + "/shop", o);
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();

  std::mutex mu;
  std::map<std::string, Answer> ok;
  std::map<std::string, int> refused;  // correlation id -> status (0: no answer)
  std::atomic<int> answered{0};
  std::atomic<bool> give_up{false};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      HttpClient client(port, 60);
      for (int b = 0; !give_up; ++b) {
        Chunk c = SyntheticChunk("st" + std::to_string(t) + "-" + std::to_string(b), 300, 2);
        HttpResponse r = PostChunk(client, c);
        std::lock_guard<std::mutex> lock(mu);
        if (r.status == 200) {
          ok[c.correlation] = ParseAnswer(r);
          ++answered;
          continue;
        }
        refused[c.correlation] = r.status;
        if (r.status == 503 && Header(r, "Retry-After").empty()) {
          ADD_FAILURE() << "503 while stopping should carry Retry-After: " << Describe(r);
        }
        if (r.status != 503 && r.status != 0) ADD_FAILURE() << "unexpected " << Describe(r);
        return;  // the server is stopping
      }
    });
  }
  const auto deadline = Clock::now() + seconds(kSanitizedBuild ? 120 : 60);  // loaded CI, ASan
  while (answered < 40 && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
  ProcessResult stop = server->Terminate();
  give_up = true;
  for (auto& t : producers) t.join();
  ASSERT_TRUE(stop.ok()) << "SIGTERM under load must drain and exit 0: " << stop.Describe();
  ASSERT_GE(answered.load(), 40) << stop.err;

  int no_answer = 0, unavailable = 0;
  for (const auto& [c, s] : refused) (s == 0 ? no_answer : unavailable)++;
  std::printf("[ Sigterm ] %zu requests answered 200, %d answered 503, %d without an answer\n", ok.size(),
              unavailable, no_answer);

  ExpectExactlyOnce(p, ok, "SIGTERM under load");
  std::set<std::string> in_lake;
  for (const auto& r : p.Rows("SELECT DISTINCT _correlation_id FROM staging.orders UNION "
                              "SELECT DISTINCT correlation_id FROM dlq.orders UNION "
                              "SELECT DISTINCT correlation_id FROM meta.idempotency")) {
    in_lake.insert(r[0]);
  }
  for (const auto& [c, s] : refused) {
    EXPECT_FALSE(in_lake.count(c)) << "request " << c << " was answered " << s
                                   << " (0: not at all) but its rows are in the lake";
  }
  // What was staged before the exit was also curated by the final transform.
  int64_t accepted = 0;
  for (const auto& [c, a] : ok) accepted += a.accepted;
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), std::to_string(accepted));
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << ::testing::PrintToString(TempLeftovers(p.Lake()));
}

// ---- 6 ----------------------------------------------------------------------------------------

TEST(ServeHttp, MetricsPassPromtoolAndMatch) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 300;
  o.batches = 1;
  o.seed = 76;
  Project p = MakeHttpProject(tmp.path() + "/shop", o);
  std::vector<Chunk> chunks = LandingChunks(p, 100, "x6");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  auto client = std::make_unique<HttpClient>(server->port());
  int64_t accepted = 0, dead = 0, replayed = 0;
  for (const Chunk& c : chunks) {
    Answer a = ExpectFirstAnswer(PostChunk(*client, c), c, server->Stderr());
    accepted += a.accepted;
    dead += a.dead;
  }
  for (size_t i = 0; i < chunks.size(); i += 2) {
    HttpResponse r = PostChunk(*client, chunks[i]);
    ASSERT_EQ(r.status, 200) << Describe(r);
    replayed += ParseAnswer(r).accepted;
  }
  ASSERT_GT(dead, 0) << "the generator's data should hold invalid lines";
  ASSERT_TRUE(WaitAllQueryable(server->port(), "orders")) << "no transform merged the batches; stderr:\n"
                                                          << server->Stderr();

  HttpResponse health = client->Get("/v1/health");
  EXPECT_EQ(health.status, 200) << Describe(health);
  EXPECT_EQ(health.json().value("status", ""), "ok") << Describe(health);

  HttpResponse m = client->Get("/metrics");
  ASSERT_EQ(m.status, 200) << Describe(m);
  EXPECT_EQ(Header(m, "Content-Type").rfind("text/plain", 0), 0u) << Header(m, "Content-Type");
  const std::string file = tmp.path() + "/metrics.txt";
  WriteFileOrDie(file, m.body);
  // promtool comes with the Debian package `prometheus`; without it this test fails: an
  // exposition nobody checked is not a passing one.
  ProcessResult check = RunProcess("/bin/sh", {"-c", "promtool check metrics < '" + file + "'"}, {});
  EXPECT_NE(check.exit_code, 127) << "promtool is not installed (apt-get install prometheus): "
                                  << check.Describe();
  EXPECT_TRUE(check.ok()) << "promtool check metrics: " << check.Describe() << "\n" << m.body;

  // The pipeline metrics read from the catalog (docs/METRICS.md) come in the same scrape, read
  // again at most every 5 s: scraped until they show every batch, then parsed as Prometheus does.
  const std::map<std::string, std::string> staged = {
      {"stage", "ingest"}, {"table", "staging.orders"}, {"outcome", "ok"}};
  std::string pipeline = m.body;
  for (int i = 0;
       i < 150 && MetricValue(pipeline, "sluice_rows_total", staged) != static_cast<double>(accepted); ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    pipeline = client->Get("/metrics").body;
  }
  WriteFileOrDie(file, pipeline);
  ExpectPromtoolAccepts(file);
  const Json parsed = ParseExposition(file);
  EXPECT_EQ(Sample(parsed, "sluice_rows_total", staged), static_cast<double>(accepted)) << pipeline;
  EXPECT_EQ(Sample(parsed, "sluice_rows_total",
                   {{"stage", "ingest"}, {"table", "staging.orders"}, {"outcome", "dead_lettered"}}),
            static_cast<double>(dead));
  double open_dead = 0;
  for (const auto& [labels, v] : Samples(parsed, "sluice_dlq_rows")) open_dead += v;
  EXPECT_EQ(open_dead, static_cast<double>(dead)) << pipeline;
  EXPECT_GE(Sample(parsed, "sluice_merge_seconds_count", {{"table", "curated.orders"}}), 1) << pipeline;
  EXPECT_GT(Sample(parsed, "sluice_table_last_commit_timestamp_seconds", {{"table", "curated.orders"}}), 0);
  EXPECT_GE(
      Sample(parsed, "sluice_table_freshness_seconds", {{"table", "curated.orders"}, {"basis", "commit"}}),
      0);
  EXPECT_GE(Sample(parsed, "sluice_stage_cpu_seconds_total", {{"stage", "curate"}}), 0);
  EXPECT_EQ(Sample(parsed, "sluice_quarantined_batches", {{"source", "orders"}}), 0);
  EXPECT_GE(Sample(parsed, "sluice_partition_skew_ratio", {{"table", "curated.orders"}}), 1) << pipeline;
  // One sluice_batch_commit_seconds family: serve's own, per source.
  EXPECT_EQ(parsed["families"].value("sluice_batch_commit_seconds", ""), "histogram");

  const std::map<std::string, std::string> src = {{"source", "orders"}};
  auto rows = [&](const char* outcome) {
    return MetricValue(m.body, "sluice_ingest_rows_total", {{"source", "orders"}, {"outcome", outcome}});
  };
  EXPECT_EQ(rows("staged"), static_cast<double>(accepted)) << m.body;
  EXPECT_EQ(rows("dead_lettered"), static_cast<double>(dead)) << m.body;
  EXPECT_EQ(rows("replayed"), static_cast<double>(replayed)) << m.body;
  EXPECT_EQ(MetricValue(m.body, "sluice_backpressure_rejections_total", src), 0) << m.body;
  EXPECT_EQ(MetricValue(m.body, "sluice_ingest_latency_seconds_count", src),
            static_cast<double>(chunks.size() + (chunks.size() + 1) / 2))
      << "one latency sample per answered request\n"
      << m.body;
  EXPECT_GE(MetricValue(m.body, "sluice_batches_committed_total", src), 1) << m.body;
  EXPECT_LE(MetricValue(m.body, "sluice_batches_committed_total", src), static_cast<double>(chunks.size()))
      << m.body;
  EXPECT_EQ(MetricValue(m.body, "sluice_queue_depth", src), 0) << m.body;
  EXPECT_EQ(MetricValue(m.body, "sluice_inflight_bytes", {}), 0) << m.body;
  EXPECT_GE(MetricValue(m.body, "sluice_transforms_total", {{"status", "ok"}}), 1) << m.body;
  for (const char* family : {"sluice_batch_commit_seconds_bucket", "sluice_accept_to_queryable_seconds_count",
                             "sluice_consumer_lag_messages", "sluice_consumer_lag_seconds"}) {
    EXPECT_FALSE(std::isnan(MetricValue(m.body, family, src))) << family << " missing\n" << m.body;
  }
  Json stats = client->Get("/v1/stats").json();
  EXPECT_EQ(stats["sources"]["orders"]["rows_staged"], accepted) << stats.dump();

  client.reset();  // an idle keep-alive connection holds up the server's exit by seconds
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), std::to_string(accepted));
}

// Issue 9 defect 1: HTTP push goes through the same validator as files, so an empty or blank
// key is dead-lettered (missing_required) and the good rows of the same request are staged and
// curated; the answer and the ledger reconcile.
TEST(ServeHttp, EmptyAndBlankKeysAreDeadLettered) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 20;
  o.batches = 1;
  o.seed = 77;
  Project p = MakeHttpProject(tmp.path() + "/shop", o);
  auto line = [](const std::string& id) {
    return "{\"order_id\":\"" + id +
           "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1,"
           "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
  };
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  HttpResponse r = client.Post(kEvents, line("h1") + line("") + line("   ") + line("h2"),
                               {{"Idempotency-Key", "empty-keys"}, {"X-Correlation-ID", "c-empty"}});
  ASSERT_EQ(r.status, 200) << Describe(r) << "\n" << server->Stderr();
  Answer a = ParseAnswer(r);
  EXPECT_EQ(a.accepted, 2) << a.text;
  EXPECT_EQ(a.dead, 2) << a.text;
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Rows("SELECT reason, column_name, count(*) FROM dlq.orders WHERE batch_id = " +
                   Quote(a.batch_id) + " GROUP BY ALL"),
            (std::vector<std::vector<std::string>>{{"missing_required", "order_id", "2"}}));
  EXPECT_EQ(p.Rows("SELECT order_id FROM curated.orders WHERE order_id IN ('h1', 'h2') OR "
                   "trim(order_id) = '' ORDER BY ALL"),
            (std::vector<std::vector<std::string>>{{"h1"}, {"h2"}}));
  EXPECT_EQ(p.Rows("SELECT rows_read, rows_staged, rows_dead FROM meta.batches WHERE batch_id = " +
                   Quote(a.batch_id)),
            (std::vector<std::vector<std::string>>{{"4", "2", "2"}}));
}

}  // namespace
}  // namespace sluice::e2e
