// staging.<source> through the SQL of `sluice serve` (POST /v1/query, and `sluice query` beside
// it) while a stream commits into a fresh lake: a push answered 200 is in staging (durable and
// queryable), from the very first batch on. Before the fix, the staging view of a stream stayed
// the empty one of a lake without files until serve restarted, unless a model read staging.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

std::string Orders(int from, int to, const std::string& day) {
  std::string body;
  for (int i = from; i < to; ++i) {
    body += "{\"order_id\":\"s" + std::to_string(i) + "\",\"tenant_id\":\"t0" + std::to_string(i % 3) +
            "\",\"status\":\"paid\",\"amount\":" + std::to_string(i) + ".5,\"created_at\":\"" + day +
            "T08:00:00Z\",\"seq\":1}\n";
  }
  return body;
}

int64_t SqlCount(HttpClient& client, const std::string& sql) {
  HttpResponse r = client.Post("/v1/query", Json{{"sql", sql}}.dump(), {}, "application/json");
  EXPECT_EQ(r.status, 200) << Describe(r);
  return r.status == 200 ? r.json()["rows"][0]["n"].get<int64_t>() : -1;
}

TEST(ServeStagingSql, EveryAnsweredPushIsInStagingFromTheFirstBatch) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  // A long transform interval: nothing but the push's own commit may make staging visible.
  MakeStreamSource(p, "    type: http\n", "transform: {interval: 1h}");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  EXPECT_EQ(SqlCount(client, "SELECT count(*) AS n FROM staging.orders"), 0);

  int total = 0;
  const char* days[] = {"2026-01-01", "2026-01-01", "2026-01-05", "2026-02-10"};
  for (int k = 0; k < 4; ++k) {
    HttpResponse r = client.Post("/v1/sources/orders/events", Orders(total, total + 7 + k, days[k]),
                                 {{"Idempotency-Key", "stg-" + std::to_string(k)}});
    ASSERT_EQ(r.status, 200) << Describe(r);
    total += 7 + k;
    // Answered: in staging, with every day's rows.
    EXPECT_EQ(SqlCount(client, "SELECT count(*) AS n FROM staging.orders"), total) << "after push " << k;
    EXPECT_EQ(SqlCount(client, std::string("SELECT count(*) AS n FROM staging.orders WHERE day = DATE '") +
                                   days[k] + "'"),
              k == 1 ? 15 : 7 + k)
        << "after push " << k;
  }
  ProcessResult q = p.Sluice("query", {"SELECT count(*) AS n FROM staging.orders", "--format", "json"});
  ASSERT_TRUE(q.ok()) << q.Describe();
  EXPECT_EQ(Json::parse(q.out), Json::parse("[{\"n\":" + std::to_string(total) + "}]")) << q.out;
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), std::to_string(total));
}

}  // namespace
}  // namespace sluice::e2e
