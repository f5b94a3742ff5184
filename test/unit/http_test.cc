// serve/http.h: request lookups and what a principal's scopes grant.
#include "serve/http.h"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

TEST(HttpRequest, HeadersMatchInAnyCaseAndParamsExactly) {
  Request r;
  r.headers = {{"authorization", "Bearer x"}, {"x-correlation-id", "a"}, {"x-correlation-id", "b"}};
  r.query = {{"tenant", "t01"}, {"Tenant", "t02"}};
  EXPECT_EQ(r.Header("Authorization"), "Bearer x");
  EXPECT_EQ(r.Header("X-Correlation-ID"), "a");
  EXPECT_EQ(r.Header("accept"), std::nullopt);
  EXPECT_EQ(r.Param("tenant"), "t01");
  EXPECT_EQ(r.Param("Tenant"), "t02");
  EXPECT_EQ(r.Param("day_from"), std::nullopt);
}

TEST(HttpPrincipal, ScopesGrantExactlyByPrefixOrAdmin) {
  Principal reader{"r", {"read:marts.*", "ingest:orders"}, std::vector<std::string>{"t01"}};
  EXPECT_TRUE(reader.Can("read:marts.daily_revenue"));
  EXPECT_FALSE(reader.Can("read:curated.orders"));
  EXPECT_FALSE(reader.Can("read:marts"));  // shorter than the granted prefix
  EXPECT_TRUE(reader.Can("ingest:orders"));
  EXPECT_FALSE(reader.Can("ingest:orders2"));
  EXPECT_FALSE(reader.Can("admin"));
  Principal all{"a", {"read:*"}, std::nullopt};
  EXPECT_TRUE(all.Can("read:curated.orders"));
  EXPECT_FALSE(all.Can("ingest:orders"));
  EXPECT_TRUE(Principal::Anonymous().Can("admin"));
  EXPECT_TRUE(Principal::Anonymous().Can("ingest:orders"));
  EXPECT_FALSE(Principal{}.Can("read:curated.orders"));
}

TEST(HttpResponse, ErrorsAreOneJsonObjectWithTheMessage) {
  Response res;
  res.SetError(403, "token 'r' may not read curated.orders (\"read:curated.orders\")");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(res.body).at("error"),
            "token 'r' may not read curated.orders (\"read:curated.orders\")");
  EXPECT_EQ(res.body.back(), '\n');
}

}  // namespace
}  // namespace sluice::http
