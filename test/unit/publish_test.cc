// Publishing: versioned Parquet copies of curated tables and marts behind a `current` symlink,
// one file per day sorted by tenant, unchanged days hard-linked from the previous version, old
// versions kept one publish. Published files are read back with a DuckDB of the test's own.
#include "storage/publish.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "duck/duck.h"
#include "engine/engine.h"
#include "spec/spec.h"
#include "storage/version_pins.h"
#include "support/test_project.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

using testing::Dump;
using testing::kOrdersContract;
using testing::MartTable;
using testing::Order;
using testing::OrdersSpec;

// keep_last 2: a publish keeps the current version and the one before it (and pinned ones), the
// versions these tests count; time travel's longer retention is tested in time_travel_test.cc.
const std::string kSpec =
    OrdersSpec("[order_id]", "", MartTable("daily_revenue")) + "retention:\n  snapshots: {keep_last: 2}\n";

const char* kDailyRevenue =
    "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue\n"
    "FROM curated.orders WHERE status <> 'cancelled' GROUP BY ALL\n";

ino_t Inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// Files of a version directory by path relative to it, with their inodes.
std::map<std::string, ino_t> Files(const std::string& dir) {
  std::map<std::string, ino_t> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out[fs::path(e.path()).lexically_relative(dir).string()] = Inode(e.path());
  }
  return out;
}

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

// Parent directory ("day=...") of a relative file path.
std::string PartOf(const std::string& rel) { return fs::path(rel).parent_path().string(); }

class PublishTest : public testing::ProjectTest {
 protected:
  PublishTest() : ProjectTest("sluice_publish_test") {}
  void SetUp() override {
    Write("sluice.yaml", kSpec);
    Write("contracts/orders.yaml", kOrdersContract);
    Write("models/daily_revenue.sql", kDailyRevenue);
    OpenEngine();
  }
  // Reads the published copy as another process would: a fresh connection, files only.
  std::string ReadPublished(const std::string& select_list, const std::string& table_dir) {
    auto c = duck::Connection::Open();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return "<error>";
    return Dump(**c, "SELECT " + select_list + " FROM read_parquet(" +
                         duck::Literal(table_dir + "/current/**/*.parquet") +
                         ", hive_partitioning = true) ORDER BY ALL");
  }
  std::string CuratedDir() { return dir_ + "/lake/published/curated/orders"; }
  std::string MartDir() { return dir_ + "/lake/published/marts/daily_revenue"; }
  std::string Current(const std::string& table_dir) {
    std::error_code ec;
    EXPECT_TRUE(fs::is_symlink(table_dir + "/current")) << table_dir;
    return fs::read_symlink(table_dir + "/current", ec).string();
  }
  // The published curated copy equals curated.orders (including the partition columns).
  void ExpectCuratedPublished() {
    const std::string cols =
        "order_id, tenant_id, status, CAST(amount AS VARCHAR), CAST(created_at AS VARCHAR), seq, "
        "_batch_id, _batch_seq, _source_line";
    EXPECT_EQ(ReadPublished(cols + ", CAST(day AS VARCHAR), CAST(tenant AS VARCHAR)", CuratedDir()),
              Q("SELECT " + cols +
                ", CAST(CAST(created_at AS DATE) AS VARCHAR), tenant_id FROM "
                "curated.orders ORDER BY ALL"));
  }
  void ExpectMartPublished() {
    const std::string cols =
        "CAST(day AS VARCHAR), CAST(tenant_id AS VARCHAR), orders, CAST(revenue AS VARCHAR)";
    EXPECT_EQ(ReadPublished(cols, MartDir()), Q("SELECT " + cols + " FROM marts.daily_revenue ORDER BY ALL"));
  }
};

TEST_F(PublishTest, VersionsHardLinksAndRetention) {
  Write("landing/orders/01.jsonl", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1) +
                                       Order("o2", "t1", "paid", "5.00", "2026-01-01", 1) +
                                       Order("o3", "t2", "paid", "7.00", "2026-01-01", 1) +
                                       Order("o4", "t1", "created", "3.00", "2026-01-02", 1));
  RunSummary r1 = Run();
  EXPECT_EQ(r1.published, 2);
  EXPECT_EQ(Current(CuratedDir()), "v1");
  EXPECT_EQ(Current(MartDir()), "v1");
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v1"}));
  const auto v1 = Files(CuratedDir() + "/v1");
  std::set<std::string> parts1;
  for (const auto& [rel, ino] : v1) parts1.insert(PartOf(rel));
  EXPECT_EQ(parts1, (std::set<std::string>{"day=2026-01-01", "day=2026-01-02"}));
  EXPECT_EQ(v1.size(), 2u) << "one file per day";
  ExpectCuratedPublished();
  ExpectMartPublished();
  EXPECT_EQ(ReadPublished("order_id", CuratedDir()), "o1\no2\no3\no4\n");
  EXPECT_EQ(Q("SELECT table_name, version, published_version FROM meta.tables ORDER BY 1"),
            "daily_revenue|1|1\norders|1|1\n");

  // Second run touches (2026-01-01, t1) only: that day is rewritten, 2026-01-02 is linked.
  Write("landing/orders/02.jsonl", Order("o2", "t1", "cancelled", "5.00", "2026-01-01", 2));
  RunSummary r2 = Run();
  EXPECT_EQ(r2.published, 2);
  EXPECT_EQ(Current(CuratedDir()), "v2");
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v1", "v2"}));
  const auto v2 = Files(CuratedDir() + "/v2");
  std::set<std::string> parts2;
  for (const auto& [rel, ino] : v2) parts2.insert(PartOf(rel));
  EXPECT_EQ(parts2, parts1);
  for (const auto& [rel, ino] : v2) {
    SCOPED_TRACE(rel);
    if (PartOf(rel) == "day=2026-01-01") {
      for (const auto& [old_rel, old_ino] : v1) EXPECT_NE(ino, old_ino);  // rewritten
    } else {
      ASSERT_EQ(v1.count(rel), 1u);
      EXPECT_EQ(ino, v1.at(rel));  // a hard link of v1's file
    }
  }
  ExpectCuratedPublished();
  ExpectMartPublished();
  // The mart's unchanged partitions are hard links too.
  EXPECT_EQ(Current(MartDir()), "v2");
  const auto m1 = Files(MartDir() + "/v1");
  const auto m2 = Files(MartDir() + "/v2");
  EXPECT_EQ(m1.size(), 2u);
  EXPECT_EQ(m2.size(), 2u);
  for (const auto& [rel, ino] : m2) {
    SCOPED_TRACE(rel);
    ASSERT_EQ(m1.count(rel), 1u);
    if (PartOf(rel) == "day=2026-01-01") {
      EXPECT_NE(ino, m1.at(rel));
    } else {
      EXPECT_EQ(ino, m1.at(rel));
    }
  }

  // Third run: o4 leaves 01-02, which becomes empty, for 01-03; o5 joins 01-01. Every day
  // changed: nothing is linked, and the emptied day is gone.
  Write("landing/orders/03.jsonl", Order("o4", "t2", "paid", "20.00", "2026-01-03", 2) +
                                       Order("o5", "t2", "paid", "4.00", "2026-01-01", 1));
  Run();
  EXPECT_EQ(Current(CuratedDir()), "v3");
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v2", "v3"}));  // v1 removed
  const auto v3 = Files(CuratedDir() + "/v3");
  std::set<std::string> parts3;
  for (const auto& [rel, ino] : v3) parts3.insert(PartOf(rel));
  EXPECT_EQ(parts3, (std::set<std::string>{"day=2026-01-01", "day=2026-01-03"}));
  for (const auto& [rel, ino] : v3) {
    SCOPED_TRACE(rel);
    for (const auto& [old_rel, old_ino] : v2) EXPECT_NE(ino, old_ino);
  }
  ExpectCuratedPublished();
  ExpectMartPublished();
  EXPECT_EQ(ReadPublished("order_id, CAST(day AS VARCHAR), CAST(tenant AS VARCHAR)", CuratedDir()),
            "o1|2026-01-01|t1\no2|2026-01-01|t1\no3|2026-01-01|t2\no4|2026-01-03|t2\no5|2026-01-01|t2\n");

  // Nothing new: no publish, and the retained versions stay.
  RunSummary r4 = Run();
  EXPECT_EQ(r4.published, 0);
  EXPECT_EQ(Current(CuratedDir()), "v3");
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v2", "v3"}));

  Write("landing/orders/04.jsonl", Order("o6", "t1", "paid", "1.00", "2026-01-01", 1));
  Run();
  EXPECT_EQ(Current(CuratedDir()), "v4");
  const auto v4 = Files(CuratedDir() + "/v4");
  ASSERT_EQ(v4.count("day=2026-01-03/data_0.parquet"), 1u);
  EXPECT_EQ(v4.at("day=2026-01-03/data_0.parquet"), v3.at("day=2026-01-03/data_0.parquet"));
  EXPECT_NE(v4.at("day=2026-01-01/data_0.parquet"), v3.at("day=2026-01-01/data_0.parquet"));
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v3", "v4"}));
  EXPECT_EQ(Entries(MartDir()), (std::set<std::string>{"current", "v3", "v4"}));
  ExpectCuratedPublished();
  ExpectMartPublished();
  EXPECT_EQ(Q("SELECT table_name, version, published_version FROM meta.tables ORDER BY 1"),
            "daily_revenue|4|4\norders|4|4\n");
  EXPECT_EQ(Q("SELECT count(*) FROM meta.publish_pending"), "0\n");
}

// A version a reader pinned (a cursor of the query API) outlives the publishes that would have
// removed it; an expired pin keeps nothing.
TEST_F(PublishTest, PinnedVersionIsKeptUntilThePinExpires) {
  using Clock = std::chrono::steady_clock;
  Write("landing/orders/01.jsonl", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1));
  Run();
  EXPECT_EQ(Current(CuratedDir()), "v1");
  PublishedVersionPins().Pin("curated.orders", 1, Clock::now() + std::chrono::hours(1));
  PublishedVersionPins().Pin("marts.daily_revenue", 1, Clock::now() - std::chrono::seconds(1));
  for (int i = 2; i <= 4; ++i) {
    Write("landing/orders/0" + std::to_string(i) + ".jsonl",
          Order("o" + std::to_string(i), "t1", "paid", "1.00", "2026-01-01", 1));
    Run();
  }
  EXPECT_EQ(Current(CuratedDir()), "v4");
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v1", "v3", "v4"}));
  auto c = duck::Connection::Open();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Dump(**c, "SELECT order_id FROM read_parquet(" + duck::Literal(CuratedDir() + "/v1/*/*.parquet") +
                          ") ORDER BY 1"),
            "o1\n");
  // The mart's pin had expired before the first publish: its old versions went as usual.
  EXPECT_EQ(Entries(MartDir()), (std::set<std::string>{"current", "v3", "v4"}));
}

TEST_F(PublishTest, ReopenRemovesHalfWrittenVersions) {
  Write("landing/orders/01.jsonl", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1));
  Run();
  engine_.reset();
  fs::create_directories(CuratedDir() + "/v2.tmp/day=2026-01-01");
  std::ofstream(CuratedDir() + "/v2.tmp/day=2026-01-01/data_0.parquet") << "partial";
  OpenEngine();
  EXPECT_EQ(Entries(CuratedDir()), (std::set<std::string>{"current", "v1"}));
  ExpectCuratedPublished();
  Write("landing/orders/02.jsonl", Order("o2", "t1", "paid", "1.00", "2026-01-01", 1));
  Run();
  EXPECT_EQ(Current(CuratedDir()), "v2");
  ExpectCuratedPublished();
}

// A day's file holds its rows sorted by tenant in several row groups, so a tenant filter needs
// only the row groups whose statistics admit that tenant (DuckDB's reader skips the others).
TEST_F(PublishTest, DayFileSortedByTenantPrunesRowGroups) {
  // Tenants written in an order that is not sorted, interleaved, so only the publish sorts them.
  const std::vector<std::string> tenants = {"t3", "t1", "t4", "t2"};
  // 200,000 rows: enough that DuckDB sorts and writes with several threads where it can.
  const int per_tenant = 50000;
  std::string lines;
  for (int i = 0; i < per_tenant; ++i) {
    for (const std::string& t : tenants) {
      lines += Order(t + "-" + std::to_string(i), t, "paid", "1.00", "2026-01-01", 1);
    }
  }
  lines += Order("other-day", "t1", "paid", "1.00", "2026-01-02", 1);
  Write("landing/orders/01.jsonl", lines);
  Run();
  ExpectCuratedPublished();
  const std::string file = CuratedDir() + "/current/day=2026-01-01/data_0.parquet";
  auto c = duck::Connection::Open();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto groups = (*c)->QueryInt("SELECT count(DISTINCT row_group_id) FROM parquet_metadata(" +
                               duck::Literal(file) + ")");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_GE(*groups, 3) << "expected several row groups of " << kPublishRowGroupRows << " rows";
  for (const char* column : {"tenant", "tenant_id"}) {
    SCOPED_TRACE(column);
    // Row groups whose min/max statistics admit t2: the ones a `tenant = 't2'` filter reads.
    auto admit = (*c)->QueryInt("SELECT count(*) FROM parquet_metadata(" + duck::Literal(file) +
                                ") WHERE path_in_schema = " + duck::Literal(column) +
                                " AND stats_min_value <= 't2' AND stats_max_value >= 't2'");
    ASSERT_TRUE(admit.ok()) << admit.status().ToString();
    EXPECT_GE(*admit, 1);
    EXPECT_LT(*admit, *groups) << "a tenant filter would read every row group";
    // Sorted: row group i's smallest tenant is at least row group i-1's largest.
    auto disorder = (*c)->QueryInt(
        "SELECT count(*) FROM (SELECT stats_min_value AS lo, lag(stats_max_value) OVER (ORDER BY "
        "row_group_id) AS prev_hi FROM parquet_metadata(" +
        duck::Literal(file) + ") WHERE path_in_schema = " + duck::Literal(column) + ") WHERE lo < prev_hi");
    ASSERT_TRUE(disorder.ok()) << disorder.status().ToString();
    EXPECT_EQ(*disorder, 0);
  }
  auto t2 =
      (*c)->QueryInt("SELECT count(*) FROM read_parquet(" + duck::Literal(file) + ") WHERE tenant = 't2'");
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_EQ(*t2, per_tenant);
}

// A lake published by an earlier release (v<N>/day=D/tenant=T/data_0.parquet): the next publish
// writes a whole version in the new layout and links nothing from the old one, even the days
// nothing touched.
TEST_F(PublishTest, OldDayTenantLayoutIsRewrittenNotLinked) {
  Write("landing/orders/01.jsonl", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1) +
                                       Order("o2", "t2", "paid", "5.00", "2026-01-01", 1) +
                                       Order("o3", "t1", "paid", "7.00", "2026-01-02", 1));
  Run();
  ASSERT_EQ(Current(CuratedDir()), "v1");
  engine_.reset();
  {
    // Lay v1 out as earlier releases did: the same COPY with PARTITION_BY (day, tenant).
    auto c = duck::Connection::Open();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    const std::string v1 = CuratedDir() + "/v1";
    ASSERT_TRUE((*c)->Execute("COPY (SELECT * FROM read_parquet(" + duck::Literal(v1 + "/**/*.parquet") +
                              ")) TO " + duck::Literal(v1 + ".old") +
                              " (FORMAT parquet, PARTITION_BY (day, tenant), WRITE_PARTITION_COLUMNS true)")
                    .ok());
    fs::remove_all(v1);
    fs::rename(v1 + ".old", v1);
  }
  const auto v1 = Files(CuratedDir() + "/v1");
  std::set<std::string> old_parts;
  for (const auto& [rel, ino] : v1) old_parts.insert(PartOf(rel));
  ASSERT_EQ(old_parts, (std::set<std::string>{"day=2026-01-01/tenant=t1", "day=2026-01-01/tenant=t2",
                                              "day=2026-01-02/tenant=t1"}));
  OpenEngine();
  ExpectCuratedPublished();  // the old layout reads as before

  Write("landing/orders/02.jsonl", Order("o1", "t1", "shipped", "10.00", "2026-01-01", 2));
  Run();
  EXPECT_EQ(Current(CuratedDir()), "v2");
  const auto v2 = Files(CuratedDir() + "/v2");
  std::set<std::string> rels;
  for (const auto& [rel, ino] : v2) {
    rels.insert(rel);
    for (const auto& [old_rel, old_ino] : v1) EXPECT_NE(ino, old_ino) << rel << " links " << old_rel;
  }
  EXPECT_EQ(rels, (std::set<std::string>{"day=2026-01-01/data_0.parquet", "day=2026-01-02/data_0.parquet"}));
  ExpectCuratedPublished();

  // From there on, untouched days are links again.
  Write("landing/orders/03.jsonl", Order("o3", "t1", "shipped", "7.00", "2026-01-02", 2));
  Run();
  const auto v3 = Files(CuratedDir() + "/v3");
  EXPECT_EQ(v3.at("day=2026-01-01/data_0.parquet"), v2.at("day=2026-01-01/data_0.parquet"));
  EXPECT_NE(v3.at("day=2026-01-02/data_0.parquet"), v2.at("day=2026-01-02/data_0.parquet"));
  ExpectCuratedPublished();
}

// Tenant values become directory names; DuckDB escapes characters such as '=' there, so such
// values are dead-lettered (bad_partition_value) instead of being published under a mangled name.
TEST_F(PublishTest, TenantUnsafeInPathIsDeadLetteredNotPublished) {
  Write("landing/orders/01.jsonl", Order("o1", "a=b", "paid", "10.00", "2026-01-01", 1) +
                                       Order("o2", "t1", "paid", "5.00", "2026-01-01", 1));
  Run();
  Write("landing/orders/02.jsonl", Order("o2", "t1", "shipped", "5.00", "2026-01-01", 2));
  Run();
  EXPECT_EQ(Current(CuratedDir()), "v2");
  EXPECT_EQ(ReadPublished("order_id, status", CuratedDir()), "o2|shipped\n");
  ExpectCuratedPublished();
  ExpectMartPublished();
}

}  // namespace
}  // namespace sluice
