// G3/G6: runs over batches arriving in two steps equal one run over all of them; a mart equals
// its SQL over curated after every run; an incremental refresh touches only the partitions a
// batch touched; --full-refresh changes nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"
#include "sample/example_project.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

const char* kMartRows =
    "SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), CAST(revenue AS VARCHAR) "
    "FROM marts.daily_revenue ORDER BY 1, 2";

// G6: the mart equals its model's SQL over the curated snapshot, run through `sluice query`.
void ExpectMartEqualsModel(const Project& p, const std::string& what) {
  std::string model = ReadFileOrDie(p.Path("models/daily_revenue.sql"));
  auto from_model = p.Rows(
      "SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), "
      "CAST(revenue AS VARCHAR) FROM (" +
      model + "\n) ORDER BY 1, 2");
  auto mart = p.Rows(kMartRows);
  EXPECT_FALSE(mart.empty()) << what;
  EXPECT_EQ(mart.size(), from_model.size()) << what;
  EXPECT_TRUE(mart == from_model) << what << ": marts.daily_revenue differs from its SQL";
}

std::vector<std::vector<std::string>> ExpectedMart(const Json& ex) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& r : ex["mart_daily_revenue"]) {
    rows.push_back({r["day"].get<std::string>(), r["tenant_id"].get<std::string>(),
                    std::to_string(r["orders"].get<int64_t>()), r["revenue"].get<std::string>()});
  }
  return rows;
}

TEST(Incremental, TwoStepsEqualOneRunAndTheModelSql) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 2000;
  o.batches = 4;
  o.seed = 31;
  Project a = MakeExampleProject(tmp.path() + "/a", o);
  Project b = MakeExampleProject(tmp.path() + "/b", o);
  Json ex = Json::parse(ReadFileOrDie(a.Landing() + "/expected.json"));

  // A: batches 1-2 first, then 3-4.
  fs::create_directories(tmp.path() + "/held");
  for (const char* f : {"batch-0003.jsonl", "batch-0004.jsonl"}) {
    fs::rename(a.Landing() + "/" + f, tmp.path() + "/held/" + f);
  }
  Json first = a.RunJson();
  ASSERT_FALSE(first.is_null());
  EXPECT_EQ(first["ingest"]["batches"], 2) << first.dump();
  ExpectMartEqualsModel(a, "after batches 1-2");
  for (const char* f : {"batch-0003.jsonl", "batch-0004.jsonl"}) {
    fs::rename(tmp.path() + "/held/" + f, a.Landing() + "/" + f);
  }
  Json second = a.RunJson();
  ASSERT_FALSE(second.is_null());
  EXPECT_EQ(second["ingest"]["batches"], 2) << second.dump();
  ExpectMartEqualsModel(a, "after batches 3-4");

  // B: all four at once.
  Json all = b.RunJson();
  ASSERT_FALSE(all.is_null());
  EXPECT_EQ(all["ingest"]["batches"], 4) << all.dump();

  Snapshot sa = TakeSnapshot(a);
  ExpectSameSnapshot(TakeSnapshot(b), sa, "two steps vs one run");
  EXPECT_TRUE(a.Rows(kMartRows) == ExpectedMart(ex)) << "mart differs from expected.json";

  // A full refresh rebuilds the same curated tables and marts.
  Json full = a.RunJson({"--full-refresh"});
  ASSERT_FALSE(full.is_null());
  ExpectSameSnapshot(sa, TakeSnapshot(a), "after --full-refresh");
  ExpectMartEqualsModel(a, "after --full-refresh");
  DuckReader duck;
  ExpectPublishedEqualsTables(duck, a, "after --full-refresh");
}

TEST(Incremental, ANewBatchRefreshesOnlyItsPartitions) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 1000;
  o.batches = 2;
  o.seed = 32;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  ASSERT_FALSE(p.RunJson().is_null());
  auto cell = [&p](const std::string& day, const std::string& tenant) {
    auto rows = p.Rows(
        "SELECT CAST(orders AS VARCHAR), CAST(revenue AS VARCHAR) FROM "
        "marts.daily_revenue WHERE day = DATE '" +
        day + "' AND tenant_id = '" + tenant + "'");
    return rows.empty() ? std::vector<std::string>{"0", "0.00"} : rows[0];
  };
  auto before_cell = cell("2026-01-02", "t03");
  auto before_other = p.Rows(
      "SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), CAST(revenue AS VARCHAR) "
      "FROM marts.daily_revenue WHERE NOT (day = DATE '2026-01-02' AND tenant_id = 't03') "
      "ORDER BY 1, 2");

  // One new order in one (day, tenant): one mart partition to refresh. Its created_at is
  // given in +02:00 and falls on 2026-01-02 only in UTC.
  WriteFileOrDie(p.Landing() + "/batch-0003.jsonl",
                 "{\"order_id\":\"o9000001\",\"tenant_id\":\"t03\",\"status\":\"paid\","
                 "\"amount\":10.05,\"created_at\":\"2026-01-03T01:30:00+02:00\",\"seq\":1}\n");
  Json run = p.RunJson();
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(run["ingest"]["batches"], 1) << run.dump();
  EXPECT_EQ(run["marts"]["tables"]["daily_revenue"]["partitions"], 1)
      << "only (2026-01-02, t03) was touched: " << run.dump();
  auto after_cell = cell("2026-01-02", "t03");
  EXPECT_EQ(std::stoll(after_cell[0]), std::stoll(before_cell[0]) + 1);
  auto cents = [](const std::string& s) {
    size_t dot = s.find('.');
    return std::stoll(s.substr(0, dot)) * 100 + std::stoll(s.substr(dot + 1));
  };
  EXPECT_EQ(cents(after_cell[1]), cents(before_cell[1]) + 1005) << after_cell[1];
  EXPECT_EQ(p.Rows("SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), "
                   "CAST(revenue AS VARCHAR) FROM marts.daily_revenue WHERE NOT (day = DATE "
                   "'2026-01-02' AND tenant_id = 't03') ORDER BY 1, 2"),
            before_other);
  ExpectMartEqualsModel(p, "after a one-row batch");

  // An update that moves an order out of the mart (cancelled) also refreshes its partition.
  WriteFileOrDie(p.Landing() + "/batch-0004.jsonl",
                 "{\"order_id\":\"o9000001\",\"tenant_id\":\"t03\",\"status\":\"cancelled\","
                 "\"amount\":10.05,\"created_at\":\"2026-01-02T23:30:00Z\",\"seq\":2}\n");
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(cell("2026-01-02", "t03"), before_cell);
  ExpectMartEqualsModel(p, "after cancelling the new order");
  DuckReader duck;
  ExpectPublishedEqualsTables(duck, p, "after incremental refreshes");
}

}  // namespace
}  // namespace sluice::e2e

namespace sluice::e2e {
namespace {

// G3: equal versions of a key in two batches: the later batch wins, in one run or across runs;
// an older version arriving later never overrides.
TEST(Incremental, VersionTiesGoToTheLaterBatchAndOldVersionsNeverWin) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  fs::remove_all(p.Landing());
  fs::create_directories(p.Landing());
  auto line = [](const std::string& id, const std::string& status, const std::string& amount, int seq) {
    return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"t01\",\"status\":\"" + status +
           "\",\"amount\":" + amount +
           ",\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":" + std::to_string(seq) + "}\n";
  };
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl",
                 line("a", "paid", "1.00", 2) + line("b", "shipped", "3.00", 3));
  WriteFileOrDie(p.Landing() + "/batch-0002.jsonl",
                 line("a", "shipped", "2.00", 2) + line("b", "created", "9.00", 1));
  ASSERT_FALSE(p.RunJson().is_null());
  const char* kState =
      "SELECT order_id, status, CAST(amount AS VARCHAR), CAST(seq AS VARCHAR) FROM curated.orders "
      "ORDER BY order_id";
  EXPECT_EQ(p.Rows(kState), (std::vector<std::vector<std::string>>{{"a", "shipped", "2.00", "2"},
                                                                   {"b", "shipped", "3.00", "3"}}));
  // Across runs: a third batch ties with a's version again and re-sends b's oldest version.
  WriteFileOrDie(p.Landing() + "/batch-0003.jsonl",
                 line("a", "delivered", "4.00", 2) + line("b", "created", "9.00", 1));
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows(kState), (std::vector<std::vector<std::string>>{{"a", "delivered", "4.00", "2"},
                                                                   {"b", "shipped", "3.00", "3"}}));
  ExpectMartEqualsModel(p, "after version ties");
}

}  // namespace
}  // namespace sluice::e2e
