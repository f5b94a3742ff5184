// Repeated rows requests through the real binary (serve/rows_cache.h): the same one-tenant,
// one-day lookup asked over and over while a writer commits and publishes new versions is
// answered from kept answers (the metric says so), never from an older version than an earlier
// answer, and once the writer is done every lookup is the last version's rows, compared with
// that version's Parquet files read by the test's own DuckDB.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

void Post(HttpClient& client, const std::vector<std::string>& bodies, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    HttpResponse r =
        client.Post("/v1/sources/orders/events", bodies[i], {{"Idempotency-Key", "k" + std::to_string(i)}});
    ASSERT_EQ(r.status, 200) << Describe(r);
  }
}

Json Mart(HttpClient& client) { return client.Get("/v1/tables/marts.daily_revenue").json(); }

double CacheHits(HttpClient& client) {
  return MetricValue(client.Get("/metrics").body, "sluice_query_rows_cache_hits_total");
}

std::string Lookup(const std::string& tenant, const std::string& day) {
  return "/v1/tables/marts.daily_revenue/rows?tenant=" + tenant + "&day_from=" + day + "&day_to=" + day;
}

TEST(ServeRowsCache, RepeatedLookupsFollowEveryPublishedVersion) {
  TempDir tmp("sluice-rows-cache");
  OrderGeneratorOptions o;
  o.orders = 1500;
  o.batches = 4;
  o.tenants = 4;
  o.days = 3;
  Project project = MakeExampleProject(tmp.path() + "/p", o);
  MakeStreamSource(project, "    type: http\n", "transform: {interval: 100ms, publish_interval: 200ms}");
  std::unique_ptr<ServeProcess> server = ServeProcess::Start(project);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const std::vector<std::string> bodies = LandingBodies(project, 100);
  const size_t half = bodies.size() / 2;
  ASSERT_NO_FATAL_FAILURE(Post(client, bodies, 0, half));
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline && !Mart(client)["published_version"].is_number()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(Mart(client)["published_version"].is_number()) << Mart(client).dump();

  std::vector<std::pair<std::string, std::string>> keys;
  for (int t = 0; t < o.tenants; ++t) {
    for (int d = 1; d <= o.days; ++d)
      keys.emplace_back("t0" + std::to_string(t), "2026-01-0" + std::to_string(d));
  }
  // While the rest is written: every answer is 200, and a key's version never goes back.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    HttpClient c(server->port());
    Post(c, bodies, half, bodies.size());
    writing = false;
  });
  std::map<std::string, int64_t> seen;
  std::set<int64_t> versions;
  int64_t requests = 0;
  const double hits_before = CacheHits(client);
  while (writing || requests < 200) {
    for (const auto& [tenant, day] : keys) {
      HttpResponse r = client.Get(Lookup(tenant, day));
      ASSERT_EQ(r.status, 200) << Describe(r);
      ++requests;
      const int64_t v = std::stoll(Header(r, "X-Sluice-Version"));
      EXPECT_EQ(r.json()["version"], v);
      EXPECT_GE(v, seen[tenant + day]) << tenant << " " << day << " answered from an older version";
      seen[tenant + day] = v;
      versions.insert(v);
    }
  }
  writer.join();
  EXPECT_GT(CacheHits(client) - hits_before, 0) << requests << " requests";
  EXPECT_GT(versions.size(), 1u) << "the writer published no new version during the lookups";

  // Once everything is published: each lookup is the last version's rows.
  Json mart;
  const auto until = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < until) {
    mart = Mart(client);
    const Json orders = client.Get("/v1/tables/curated.orders").json();
    if (mart["version"] == mart["published_version"] && orders["version"] == orders["published_version"] &&
        orders["rows"] == o.orders) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(mart["version"], mart["published_version"]) << mart.dump();
  const int64_t last = mart["version"];
  DuckReader duck;
  const std::string dir = project.Lake() + "/published/marts/daily_revenue/v" + std::to_string(last);
  for (const auto& [tenant, day] : keys) {
    auto want =
        duck.Rows("SELECT day, tenant_id, orders, revenue FROM read_parquet(" + Quote(dir + "/*/*.parquet") +
                  ", hive_partitioning = false) WHERE tenant_id = " + Quote(tenant) + " AND day = DATE " +
                  Quote(day) + " ORDER BY ALL");
    std::string want_csv = "day,tenant_id,orders,revenue\n";
    for (const auto& row : want) want_csv += row[0] + "," + row[1] + "," + row[2] + "," + row[3] + "\n";
    const double hits = CacheHits(client);
    for (int i = 0; i < 2; ++i) {  // the second is a kept answer
      HttpResponse r = client.Get(Lookup(tenant, day));
      ASSERT_EQ(r.status, 200) << Describe(r);
      EXPECT_EQ(r.json()["version"], last) << tenant << " " << day;
      ASSERT_EQ(r.json()["rows"].size(), want.size()) << tenant << " " << day;
      for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ(Str(r.json()["rows"][k]["orders"]), want[k][2]);
      HttpResponse csv = client.Get(Lookup(tenant, day), {{"Accept", "text/csv"}});
      ASSERT_EQ(csv.status, 200) << Describe(csv);
      EXPECT_EQ(csv.body, want_csv) << tenant << " " << day;
    }
    EXPECT_GE(CacheHits(client) - hits, 2) << tenant << " " << day;
  }
}

}  // namespace
}  // namespace sluice::e2e
