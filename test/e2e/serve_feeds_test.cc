// Change feeds of `sluice serve` (docs/FEEDS.md), end to end through the real binary: the
// changes a consumer reads are exactly those the test computes from what it pushed (inserts,
// updates with a higher seq, an older seq that does not win and so is no change, duplicates in
// a batch); re-reading without a commit returns the same changes; commits move each consumer's
// own position, survive a restart, and refuse going backwards or past what exists; a consumer
// past feeds.max_lag answers 410 until reset.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

struct Event {
  std::string order_id, tenant, status;
  int64_t seq = 0;
  std::string amount;  // "12.50"
};

std::string Line(const Event& e) {
  return "{\"order_id\":\"" + e.order_id + "\",\"tenant_id\":\"" + e.tenant + "\",\"status\":\"" + e.status +
         "\",\"amount\":" + e.amount +
         ",\"created_at\":\"2026-01-03T10:00:00Z\",\"seq\":" + std::to_string(e.seq) + "}\n";
}

// A change as the test expects it.
struct Expect {
  std::string op;
  Event row;
  std::optional<Event> prev;
  std::string batch_id;
};

// The model of curate the test holds: per key the highest seq wins, within a batch ties go to
// the later line, against the table a row must have a strictly higher seq (the batches here
// never repeat a seq across batches). Returns the changes of `batch` in line order.
std::vector<Expect> Apply(std::map<std::string, Event>& state, const std::vector<Event>& batch,
                          const std::string& batch_id) {
  std::map<std::string, size_t> winner;  // key -> line index
  for (size_t i = 0; i < batch.size(); ++i) {
    auto it = winner.find(batch[i].order_id);
    if (it == winner.end() || batch[i].seq >= batch[it->second].seq) winner[batch[i].order_id] = i;
  }
  std::vector<size_t> lines;
  for (const auto& [key, i] : winner) lines.push_back(i);
  std::sort(lines.begin(), lines.end());
  std::vector<Expect> out;
  for (size_t i : lines) {
    const Event& e = batch[i];
    auto it = state.find(e.order_id);
    if (it != state.end() && e.seq <= it->second.seq) continue;  // loses: no change
    Expect x{it == state.end() ? "insert" : "update", e, std::nullopt, batch_id};
    if (it != state.end()) x.prev = it->second;
    state[e.order_id] = e;
    out.push_back(x);
  }
  return out;
}

void ExpectRow(const Json& got, const Event& want, const std::string& what) {
  ASSERT_TRUE(got.is_object()) << what << ": " << got.dump();
  EXPECT_EQ(got.value("order_id", ""), want.order_id) << what;
  EXPECT_EQ(got.value("tenant_id", ""), want.tenant) << what;
  EXPECT_EQ(got.value("status", ""), want.status) << what;
  EXPECT_EQ(got.value("seq", int64_t{-1}), want.seq) << what;
  ASSERT_TRUE(got.contains("amount") && got["amount"].is_number()) << what << ": " << got.dump();
  EXPECT_DOUBLE_EQ(got["amount"].get<double>(), std::stod(want.amount)) << what;
  EXPECT_EQ(got.value("created_at", ""), "2026-01-03T10:00:00Z") << what;
}

void ExpectChanges(const Json& changes, const std::vector<Expect>& want, size_t from,
                   const std::string& what) {
  ASSERT_TRUE(changes.is_array()) << what;
  ASSERT_EQ(changes.size(), want.size() - from) << what << ": " << changes.dump();
  for (size_t i = 0; i < changes.size(); ++i) {
    const Json& c = changes[i];
    const Expect& x = want[from + i];
    const std::string at = what + " change " + std::to_string(from + i);
    EXPECT_EQ(c.value("seq", int64_t{-1}), static_cast<int64_t>(from + i + 1)) << at;
    EXPECT_EQ(c.value("op", ""), x.op) << at;
    EXPECT_EQ(c.value("batch_id", ""), x.batch_id) << at;
    ExpectRow(c["row"], x.row, at + " row");
    if (x.prev) {
      ExpectRow(c["previous"], *x.prev, at + " previous");
    } else {
      EXPECT_TRUE(c["previous"].is_null()) << at << ": " << c.dump();
    }
  }
}

// POSTs one batch and returns the batch id it was committed as.
std::string Push(HttpClient& client, const std::vector<Event>& batch, const std::string& key) {
  std::string body;
  for (const auto& e : batch) body += Line(e);
  HttpResponse r = client.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", key}});
  EXPECT_EQ(r.status, 200) << Describe(r);
  return r.json().value("batch_id", "");
}

// GETs the feed until it holds `count` changes after the position (curate runs every 200 ms).
Json ReadUntil(HttpClient& client, const std::string& consumer, size_t count) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  Json last;
  while (Clock::now() < deadline) {
    HttpResponse r = client.Get("/v1/feeds/" + consumer);
    last = r.json();
    if (r.status == 200 && last["changes"].size() >= count) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << consumer << ": fewer than " << count << " changes within 60 s: " << last.dump();
  return last;
}

Project FeedProject(const std::string& dir, const std::string& feeds_yaml) {
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(dir, o);
  MakeStreamSource(p, "    type: http\n",
                   "transform: {interval: 200ms}\n"
                   "consumers:\n"
                   "  ml_features: {table: curated.orders}\n"
                   "  audit: {table: curated.orders}\n" +
                       feeds_yaml);
  return p;
}

TEST(ServeFeeds, ExactChangesPositionsAndRestart) {
  TempDir tmp;
  Project p = FeedProject(tmp.path() + "/shop", "");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());

  std::map<std::string, Event> state;
  std::vector<Expect> want;
  // Batch 1: new keys, and a key twice (the later line with the higher seq wins: one insert).
  const std::vector<Event> b1 = {{"o1", "t01", "created", 1, "10.00"},
                                 {"o2", "t02", "created", 1, "20.50"},
                                 {"o1", "t01", "paid", 3, "10.00"},
                                 {"o3", "t01", "created", 5, "7.25"}};
  const std::string id1 = Push(client, b1, "k1");
  for (auto& x : Apply(state, b1, id1)) want.push_back(x);
  ASSERT_EQ(want.size(), 3u);
  Json first = ReadUntil(client, "ml_features", want.size());
  ExpectChanges(first["changes"], want, 0, "after batch 1");
  // A decimal keeps its digits and scale in the JSON text.
  HttpResponse raw = client.Get("/v1/feeds/ml_features");
  EXPECT_NE(raw.body.find("\"amount\":20.50,"), std::string::npos) << raw.body;

  // Batch 2: an older seq of o1 (loses: no change), an update of o2, a new key sent twice.
  const std::vector<Event> b2 = {{"o1", "t01", "created", 2, "99.00"},
                                 {"o2", "t02", "shipped", 4, "20.50"},
                                 {"o4", "t02", "created", 1, "5.00"},
                                 {"o4", "t02", "created", 1, "5.00"}};
  const std::string id2 = Push(client, b2, "k2");
  for (auto& x : Apply(state, b2, id2)) want.push_back(x);
  ASSERT_EQ(want.size(), 5u);
  Json all = ReadUntil(client, "ml_features", want.size());
  ExpectChanges(all["changes"], want, 0, "after batch 2");
  EXPECT_EQ(all.value("position", int64_t{-1}), 0);
  EXPECT_EQ(all.value("next_position", int64_t{-1}), 5);
  // Each batch's changes carry the table version of its curate commit.
  EXPECT_LT(all["changes"][0]["version"].get<int64_t>(), all["changes"][3]["version"].get<int64_t>());

  // Re-reading without a commit: the same changes, in the same order.
  HttpResponse again = client.Get("/v1/feeds/ml_features");
  ASSERT_EQ(again.status, 200) << Describe(again);
  EXPECT_EQ(again.json()["changes"], all["changes"]);

  // A page of 2, committed; the next read returns the rest.
  HttpResponse page = client.Get("/v1/feeds/ml_features?limit=2");
  ASSERT_EQ(page.status, 200) << Describe(page);
  ExpectChanges(page.json()["changes"], std::vector<Expect>(want.begin(), want.begin() + 2), 0, "page");
  const int64_t next = page.json()["next_position"].get<int64_t>();
  EXPECT_EQ(next, 2);
  HttpResponse commit =
      client.Post("/v1/feeds/ml_features/commit", "{\"position\": 2}", {}, "application/json");
  ASSERT_EQ(commit.status, 200) << Describe(commit);
  EXPECT_TRUE(commit.json().value("changed", false));
  // Committing the same position again is idempotent.
  HttpResponse twice =
      client.Post("/v1/feeds/ml_features/commit", "{\"position\": 2}", {}, "application/json");
  ASSERT_EQ(twice.status, 200) << Describe(twice);
  EXPECT_FALSE(twice.json().value("changed", true));
  // Backwards, beyond the newest change, and a malformed body are refused; nothing moves.
  EXPECT_EQ(client.Post("/v1/feeds/ml_features/commit", "{\"position\": 1}", {}, "application/json").status,
            409);
  EXPECT_EQ(client.Post("/v1/feeds/ml_features/commit", "{\"position\": 6}", {}, "application/json").status,
            409);
  EXPECT_EQ(client.Post("/v1/feeds/ml_features/commit", "{\"pos\": 3}", {}, "application/json").status, 400);
  EXPECT_EQ(client.Get("/v1/feeds/nobody").status, 404);

  HttpResponse rest = client.Get("/v1/feeds/ml_features");
  ASSERT_EQ(rest.status, 200) << Describe(rest);
  EXPECT_EQ(rest.json()["position"].get<int64_t>(), 2);
  ExpectChanges(rest.json()["changes"], want, 2, "after commit 2");
  // The other consumer has its own position: everything is still ahead of it.
  HttpResponse audit = client.Get("/v1/feeds/audit");
  ASSERT_EQ(audit.status, 200) << Describe(audit);
  ExpectChanges(audit.json()["changes"], want, 0, "audit");

  // Lag per consumer in metrics and /v1/stats.
  HttpResponse metrics = client.Get("/metrics");
  EXPECT_EQ(
      MetricValue(metrics.body, "sluice_feed_lag_changes{consumer=\"ml_features\",table=\"curated.orders\"}"),
      3)
      << metrics.body;
  EXPECT_EQ(MetricValue(metrics.body, "sluice_feed_lag_changes{consumer=\"audit\",table=\"curated.orders\"}"),
            5);
  EXPECT_EQ(
      MetricValue(metrics.body, "sluice_feed_position{consumer=\"ml_features\",table=\"curated.orders\"}"),
      2);
  Json stats = client.Get("/v1/stats").json();
  EXPECT_EQ(stats["feeds"]["ml_features"]["position"], 2) << stats.dump();
  EXPECT_EQ(stats["feeds"]["audit"]["lag_changes"], 5) << stats.dump();

  // A restart keeps the positions.
  ASSERT_EQ(server->Terminate().exit_code, 0);
  server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient after(server->port());
  HttpResponse kept = after.Get("/v1/feeds/ml_features");
  ASSERT_EQ(kept.status, 200) << Describe(kept);
  EXPECT_EQ(kept.json()["position"].get<int64_t>(), 2);
  ExpectChanges(kept.json()["changes"], want, 2, "after restart");
  HttpResponse done = after.Post("/v1/feeds/ml_features/commit", "{\"position\": 5}", {}, "application/json");
  ASSERT_EQ(done.status, 200) << Describe(done);
  EXPECT_EQ(after.Get("/v1/feeds/ml_features").json()["changes"].size(), 0u);
  ExpectChanges(after.Get("/v1/feeds/audit").json()["changes"], want, 0, "audit after restart");
}

TEST(ServeFeeds, StaleConsumerAnswers410UntilReset) {
  TempDir tmp;
  Project p = FeedProject(tmp.path() + "/shop", "feeds: {max_lag: 2s}\n");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  Push(client, {{"o1", "t01", "created", 1, "1.00"}, {"o2", "t01", "created", 1, "2.00"}}, "k1");
  // ml_features keeps up; audit never commits and turns stale once its oldest change is 2 s old.
  Json read = ReadUntil(client, "ml_features", 2);
  ASSERT_EQ(client.Post("/v1/feeds/ml_features/commit", "{\"position\": 2}", {}, "application/json").status,
            200);
  HttpResponse stale;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    stale = client.Get("/v1/feeds/audit");
    if (stale.status != 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(stale.status, 410) << Describe(stale);
  EXPECT_NE(stale.json().value("error", "").find("/v1/feeds/audit/reset"), std::string::npos) << stale.body;
  EXPECT_EQ(MetricValue(client.Get("/metrics").body,
                        "sluice_feed_stale{consumer=\"audit\",table=\"curated.orders\"}"),
            1);
  // The caught-up consumer is not stale.
  EXPECT_EQ(client.Get("/v1/feeds/ml_features").status, 200);

  HttpResponse reset = client.Post("/v1/feeds/audit/reset", "{\"to\": \"latest\"}", {}, "application/json");
  ASSERT_EQ(reset.status, 200) << Describe(reset);
  EXPECT_EQ(reset.json()["position"], 2);
  EXPECT_EQ(reset.json()["skipped_from"], 0);
  HttpResponse fresh = client.Get("/v1/feeds/audit");
  ASSERT_EQ(fresh.status, 200) << Describe(fresh);
  EXPECT_EQ(fresh.json()["changes"].size(), 0u);
}

}  // namespace
}  // namespace sluice::e2e
