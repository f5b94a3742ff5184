// The change-feed tables of the catalog (catalog/feeds.h) and the feed endpoints' refusals
// (serve/feeds_api.h) called with hand-made principals: sequences per table that never go back,
// consumers that start at the head, tenant filters, lag, bounded retention pinned by the
// slowest consumer; scopes and tenant-bound tokens.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/feeds.h"
#include "serve/feeds_api.h"

namespace sluice {
namespace {

class CatalogFeedsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = duck::Connection::Open();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
    ASSERT_TRUE(conn_->Execute("ATTACH ':memory:' AS lake; USE lake; CREATE SCHEMA meta").ok());
    ASSERT_TRUE(CreateFeedTables(*conn_).ok());
    ASSERT_TRUE(CreateFeedTables(*conn_).ok());  // idempotent
  }
  // Stages `n` changes of tenant `tenant` as curate's relation of changes, from line `line0`.
  void Changes(int n, const std::string& tenant, int line0 = 1) {
    ASSERT_TRUE(
        conn_
            ->Execute("CREATE OR REPLACE TEMP TABLE changes AS SELECT 'insert' AS op, 'b1' AS batch_id, '" +
                      tenant +
                      "' AS tenant, '{\"k\":' || i || '}' AS row_json, CAST(NULL AS VARCHAR) AS "
                      "prev_json, 1 AS batch_seq, i AS source_line FROM range(" +
                      std::to_string(line0) + ", " + std::to_string(line0 + n) + ") t(i)")
            .ok());
  }
  std::unique_ptr<duck::Connection> conn_;
};

TEST_F(CatalogFeedsTest, SequencesPositionsLagAndRetention) {
  ASSERT_TRUE(StartFeedConsumers(*conn_, "orders", {"a"}, 1000).ok());
  auto pos = ReadFeedPosition(*conn_, "a");
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  EXPECT_TRUE(pos->started);
  EXPECT_EQ(pos->position, 0);
  EXPECT_FALSE(ReadFeedPosition(*conn_, "b")->started);

  Changes(3, "t1");
  auto n = AppendFeedChanges(*conn_, "orders", "changes", 7, 2000);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  Changes(2, "t2", 10);
  ASSERT_EQ(*AppendFeedChanges(*conn_, "orders", "changes", 8, 3000), 2);

  // A consumer added now starts at the head: it never sees changes logged before it existed.
  ASSERT_TRUE(StartFeedConsumers(*conn_, "orders", {"a", "b"}, 4000).ok());
  EXPECT_EQ(ReadFeedPosition(*conn_, "a")->position, 0);  // an existing position is kept
  EXPECT_EQ(ReadFeedPosition(*conn_, "b")->position, 5);

  auto all = ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ((*all)[0].row_json, "{\"k\":1}");
  EXPECT_EQ((*all)[0].version, 7);
  EXPECT_EQ((*all)[3].version, 8);
  EXPECT_FALSE((*all)[0].prev_json.has_value());
  EXPECT_EQ(ReadFeedChanges(*conn_, "orders", 1, std::nullopt, 2)->size(), 2u);
  auto t2 = ReadFeedChanges(*conn_, "orders", 0, std::vector<std::string>{"t2"}, 100);
  ASSERT_EQ(t2->size(), 2u);
  EXPECT_EQ((*t2)[0].seq, 4);

  auto lag = MeasureFeedLag(*conn_, "orders", 1, std::nullopt);
  ASSERT_TRUE(lag.ok()) << lag.status().ToString();
  EXPECT_EQ(lag->changes, 4);
  EXPECT_EQ(lag->oldest_uncommitted_us, 2000);
  EXPECT_EQ(lag->newest_seq, 5);
  EXPECT_EQ(lag->head_seq, 5);
  EXPECT_EQ(MeasureFeedLag(*conn_, "orders", 0, std::vector<std::string>{"t2"})->oldest_uncommitted_us, 3000);

  // Retention: `a` at 0 pins everything; once it commits 4, 4 changes go, at most 3 per call.
  EXPECT_EQ(*PruneFeedChanges(*conn_, "orders", {"a", "b"}, 3), 0);
  ASSERT_TRUE(WriteFeedPosition(*conn_, "a", 4, 5000).ok());
  EXPECT_EQ(ReadFeedPosition(*conn_, "a")->committed_at_us, 5000);
  EXPECT_EQ(*PruneFeedChanges(*conn_, "orders", {"a", "b"}, 3), 3);
  EXPECT_EQ(*PruneFeedChanges(*conn_, "orders", {"a", "b"}, 3), 1);
  EXPECT_EQ(*PruneFeedChanges(*conn_, "orders", {"a", "b"}, 3), 0);
  EXPECT_EQ(ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 100)->size(), 1u);

  // With every change pruned, sequences still go on from the head.
  ASSERT_TRUE(WriteFeedPosition(*conn_, "a", 5, 6000).ok());
  EXPECT_EQ(*PruneFeedChanges(*conn_, "orders", {"a", "b"}, 10), 1);
  Changes(1, "t1");
  ASSERT_EQ(*AppendFeedChanges(*conn_, "orders", "changes", 9, 7000), 1);
  EXPECT_EQ(ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 100)->at(0).seq, 6);

  EXPECT_EQ(WriteFeedPosition(*conn_, "nobody", 1, 1).code(), StatusCode::kNotFound);
}

// Removing a consumer from sluice.yaml (or moving it to another table) forgets its position,
// and a table left without consumers its changes; sequences go on from the head.
TEST_F(CatalogFeedsTest, ForgetsWhatNoConsumerFollows) {
  ASSERT_TRUE(StartFeedConsumers(*conn_, "orders", {"a", "b"}, 1).ok());
  Changes(2, "t1");
  ASSERT_EQ(*AppendFeedChanges(*conn_, "orders", "changes", 1, 2), 2);
  ASSERT_TRUE(ForgetFeedsWithoutConsumers(*conn_, {{"a", "orders"}}).ok());
  EXPECT_TRUE(ReadFeedPosition(*conn_, "a")->started);
  EXPECT_FALSE(ReadFeedPosition(*conn_, "b")->started);
  EXPECT_EQ(ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 10)->size(), 2u);

  ASSERT_TRUE(ForgetFeedsWithoutConsumers(*conn_, {{"a", "customers"}}).ok());
  EXPECT_FALSE(ReadFeedPosition(*conn_, "a")->started);
  EXPECT_TRUE(ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 10)->empty());
  // Back again: it starts at the head, and the next change is 3, not 1.
  ASSERT_TRUE(StartFeedConsumers(*conn_, "orders", {"a"}, 3).ok());
  EXPECT_EQ(ReadFeedPosition(*conn_, "a")->position, 2);
  Changes(1, "t1");
  ASSERT_EQ(*AppendFeedChanges(*conn_, "orders", "changes", 2, 4), 1);
  EXPECT_EQ(ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 10)->at(0).seq, 3);

  ASSERT_TRUE(ForgetFeedsWithoutConsumers(*conn_, {}).ok());
  EXPECT_FALSE(ReadFeedPosition(*conn_, "a")->started);
  EXPECT_TRUE(ReadFeedChanges(*conn_, "orders", 0, std::nullopt, 10)->empty());
}

// The endpoints' refusals, called with hand-made principals (authentication is not needed).
TEST_F(CatalogFeedsTest, EndpointScopesAndTenants) {
  ProjectSpec spec;
  spec.consumers = {{"all_tenants", "orders", std::nullopt, 1},
                    {"acme", "orders", std::vector<std::string>{"t01"}, 2}};
  MetricsRegistry metrics;
  FeedService service(spec, *conn_, Env::Default(), metrics);
  std::vector<http::Route> routes = service.Routes();
  ASSERT_EQ(routes.size(), 3u);
  auto get = [&](const std::string& consumer, const http::Principal& who) {
    http::Request req;
    req.method = "GET";
    req.path = "/v1/feeds/" + consumer;
    req.captures = {consumer};
    http::Response res;
    routes[0].handler(req, who, res);
    return res;
  };
  http::Principal admin = http::Principal::Anonymous();
  EXPECT_EQ(get("acme", admin).status, 200);
  EXPECT_EQ(get("nobody", admin).status, 404);

  http::Principal reader{"reader", {"read:curated.orders"}, std::nullopt};
  EXPECT_EQ(get("all_tenants", reader).status, 200);
  http::Principal other{"marts_only", {"read:marts.*"}, std::nullopt};
  http::Response no_scope = get("acme", other);
  EXPECT_EQ(no_scope.status, 403);
  EXPECT_NE(no_scope.body.find("read:curated.orders"), std::string::npos) << no_scope.body;

  // A token bound to t01 reads the consumer confined to t01, not one of every tenant, and a
  // token of another tenant reads neither.
  http::Principal t01{"acme_reader", {"read:*"}, std::vector<std::string>{"t01", "t09"}};
  EXPECT_EQ(get("acme", t01).status, 200);
  EXPECT_EQ(get("all_tenants", t01).status, 403);
  http::Principal t02{"globex_reader", {"read:*"}, std::vector<std::string>{"t02"}};
  EXPECT_EQ(get("acme", t02).status, 403);

  // Reset is for admins only.
  http::Request reset;
  reset.method = "POST";
  reset.captures = {"acme"};
  reset.body = "{\"to\": \"latest\"}";
  http::Response res;
  routes[2].handler(reset, reader, res);
  EXPECT_EQ(res.status, 403);
}

}  // namespace
}  // namespace sluice
