// What the rows endpoint keeps between requests (serve/rows_cache.h): the bounds and eviction
// of the two caches, keys that tell every request apart, and reading `current` of a table's
// published versions without listing them.
#include "serve/rows_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/env.h"
#include "support/test_project.h"

namespace sluice {
namespace {

std::shared_ptr<const CachedAnswer> Answer(const std::string& body) {
  auto a = std::make_shared<CachedAnswer>();
  a->content_type = "application/json";
  a->headers = {{"X-Sluice-Version", "1"}};
  a->body = body;
  return a;
}

TEST(AnswerCacheTest, FindsWhatItKeptAndEvictsTheLeastRecentlyUsed) {
  const size_t one = Answer(std::string(100, 'x'))->bytes() + 1;  // + a one-character key
  AnswerCache cache(3 * one, one);
  cache.Insert("a", Answer(std::string(100, 'a')));
  cache.Insert("b", Answer(std::string(100, 'b')));
  cache.Insert("c", Answer(std::string(100, 'c')));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.bytes(), 3 * one);
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now the most recently used: b goes first
  EXPECT_EQ(cache.Find("a")->body, std::string(100, 'a'));
  cache.Insert("d", Answer(std::string(100, 'd')));
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_NE(cache.Find("c"), nullptr);
  EXPECT_NE(cache.Find("d"), nullptr);
  EXPECT_EQ(cache.bytes(), 3 * one);
  EXPECT_EQ(cache.Find("nothing"), nullptr);
}

TEST(AnswerCacheTest, RefusesAnswersLargerThanTheBoundAndReplacesByKey) {
  const size_t one = Answer(std::string(100, 'x'))->bytes() + 1;
  AnswerCache cache(10 * one, one);
  cache.Insert("big", Answer(std::string(101, 'x')));
  EXPECT_EQ(cache.Find("big"), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.Insert("k", Answer(std::string(50, '1')));
  cache.Insert("k", Answer(std::string(60, '2')));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("k")->body, std::string(60, '2'));
  EXPECT_EQ(cache.bytes(), Answer(std::string(60, '2'))->bytes() + 1);
}

TEST(VersionFactsCacheTest, KeepsAtMostItsBoundPerTableDroppingTheLowestVersions) {
  VersionFactsCache cache(3);
  auto facts = [](int64_t v) {
    auto f = std::make_shared<VersionFacts>();
    f->version.version = v;
    f->columns = {{"day", "DATE"}};
    return f;
  };
  cache.Insert("marts.daily_revenue", facts(2));
  for (int64_t v = 100; v <= 110; ++v) cache.Insert("curated.orders", facts(v));
  for (int64_t v = 3; v <= 5; ++v) cache.Insert("marts.daily_revenue", facts(v));
  EXPECT_EQ(cache.Find("marts.daily_revenue", 2), nullptr);
  for (int64_t v = 3; v <= 5; ++v) {
    ASSERT_NE(cache.Find("marts.daily_revenue", v), nullptr) << v;
    EXPECT_EQ(cache.Find("marts.daily_revenue", v)->version.version, v);
  }
  // Another table's many versions do not push a table's out.
  EXPECT_EQ(cache.Find("curated.orders", 107), nullptr);
  for (int64_t v = 108; v <= 110; ++v) EXPECT_NE(cache.Find("curated.orders", v), nullptr) << v;
  EXPECT_EQ(cache.Find("curated.orders", 5), nullptr);  // a version of another table is not kept
}

TEST(RowsAnswerKeyTest, TellsEveryRequestApart) {
  RowsQuery base;
  base.day_from = "2026-01-02";
  base.day_to = "2026-01-02";
  base.tenant = "t01";
  std::vector<std::string> keys;
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", base, {"t01"}, 1000));
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 4, "json", base, {"t01"}, 1000));  // the next version
  keys.push_back(RowsAnswerKey("marts.other", 3, "json", base, {"t01"}, 1000));
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "csv", base, {"t01"}, 1000));
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", base, {"t01"}, 10));
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", base, {"t01", "t02"}, 1000));
  RowsQuery q = base;
  q.day_to = "2026-01-03";
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", q, {"t01"}, 1000));
  q = base;
  q.day_from.reset();
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", q, {"t01"}, 1000));
  q = base;
  q.filters = {{"orders", "35"}};
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", q, {"t01"}, 1000));
  q.filters = {{"orders", "3"}, {"5", ""}};  // the same characters, split differently
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", q, {"t01"}, 1000));
  q = base;
  q.order = {{"revenue", true}};
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", q, {"t01"}, 1000));
  q.order = {{"revenue", false}};
  keys.push_back(RowsAnswerKey("marts.daily_revenue", 3, "json", q, {"t01"}, 1000));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  // The same request on the same version: the same key.
  EXPECT_EQ(RowsAnswerKey("marts.daily_revenue", 3, "json", base, {"t01"}, 1000), keys[0]);
}

TEST(CurrentPublishedVersionTest, ReadsTheLinkOnly) {
  testing::TempDir tmp;
  const ServedTable mart{"marts", "daily_revenue", "day", "tenant_id", {}, {}, {}};
  Env* env = Env::Default();
  Result<int64_t> none = CurrentPublishedVersion(env, tmp.path(), mart);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);

  const std::string dir = PublishedTableDir(tmp.path(), mart);
  std::filesystem::create_directories(dir);
  std::filesystem::create_directory_symlink("v12", dir + "/current");
  // The version directory itself is not looked at: ReadPublishedVersion says whether it is gone.
  Result<int64_t> v = CurrentPublishedVersion(env, tmp.path(), mart);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 12);

  std::filesystem::remove(dir + "/current");
  std::filesystem::create_directory_symlink("elsewhere", dir + "/current");
  Result<int64_t> bad = CurrentPublishedVersion(env, tmp.path(), mart);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace sluice
