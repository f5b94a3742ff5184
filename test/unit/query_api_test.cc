// The pure parts of the query API: rows request parameters, partition selection, the SQL read
// from a version's files (run against Parquet files written here, results compared with the
// same rows filtered by the test's own SQL), cursors and version pins.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "duck/duck.h"
#include "serve/cursors.h"
#include "serve/rows_query.h"
#include "storage/version_pins.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;
using Params = std::vector<std::pair<std::string, std::string>>;
using testing::Dump;

const ServedTable kOrders{"curated", "orders", "day", "tenant", {"day", "tenant"}, {"order_id"}, {}};
const ServedTable kMart{"marts", "totals", "", "", {}, {}, {}};
const std::vector<ColumnInfo> kColumns = {
    {"order_id", "VARCHAR"}, {"tenant_id", "VARCHAR"}, {"amount", "DECIMAL(12,2)"}, {"seq", "BIGINT"}};

TEST(RowsQueryTest, ParsesEveryParameter) {
  Result<RowsQuery> q = ParseRowsQuery({{"day_from", "2026-01-02"},
                                        {"day_to", "2026-01-05"},
                                        {"tenant", "t01"},
                                        {"amount", "12.5"},
                                        {"order", "seq,-amount"},
                                        {"limit", "10"},
                                        {"cursor", "x"}},
                                       kOrders, kColumns);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->day_from, "2026-01-02");
  EXPECT_EQ(q->day_to, "2026-01-05");
  EXPECT_EQ(q->tenant, "t01");
  EXPECT_EQ(q->filters, (Params{{"amount", "12.5"}}));
  EXPECT_EQ(q->order, (std::vector<std::pair<std::string, bool>>{{"seq", false}, {"amount", true}}));
}

TEST(RowsQueryTest, RefusesWithOneLineReasons) {
  auto refused = [](const Params& p, const ServedTable& t = kOrders) {
    Result<RowsQuery> q = ParseRowsQuery(p, t, kColumns);
    EXPECT_FALSE(q.ok());
    if (q.ok()) return std::string();
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(q.status().message().find('\n'), std::string::npos);
    return q.status().message();
  };
  // An unknown column names the columns.
  EXPECT_NE(refused({{"colour", "red"}}).find("order_id, tenant_id, amount, seq"), std::string::npos);
  EXPECT_NE(refused({{"order", "seq,colour"}}).find("'colour'"), std::string::npos);
  // The columns publishing adds are not the table's: no filter on them.
  refused({{"day", "2026-01-01"}});
  refused({{"order", "seq,,amount"}});
  refused({{"order", "-"}});
  refused({{"day_from", "2026-1-2"}});
  refused({{"day_to", "2026-13-01"}});
  refused({{"day_from", "2026-01-03"}, {"day_to", "2026-01-02"}});
  refused({{"seq", "1"}, {"seq", "2"}});
  refused({{"tenant", ""}});
  refused({{"tenant", "t01"}}, kMart);
  refused({{"day_from", "2026-01-01"}}, kMart);
}

TEST(RowsQueryTest, Limit) {
  EXPECT_EQ(*ParseLimit(std::nullopt, 1000, 5000), 1000);
  EXPECT_EQ(*ParseLimit("5000", 1000, 5000), 5000);
  for (const char* bad : {"0", "-1", "5001", "1x", "", "99999999999999999999"}) {
    EXPECT_FALSE(ParseLimit(std::string(bad), 1000, 5000).ok()) << bad;
  }
}

TEST(RowsQueryTest, SelectsDaysInRange) {
  const std::vector<std::string> days = {"2026-01-01", "2026-01-02", "2026-01-03", "2026-02-01"};
  RowsQuery q;
  EXPECT_EQ(SelectDays(days, q), days);
  q.day_from = "2026-01-02";
  q.day_to = "2026-01-31";
  EXPECT_EQ(SelectDays(days, q), (std::vector<std::string>{"2026-01-02", "2026-01-03"}));
  q.day_from = "2026-03-01";
  q.day_to = std::nullopt;
  EXPECT_TRUE(SelectDays(days, q).empty());
}

class RowsSqlTest : public testing::ProjectTest {
 protected:
  RowsSqlTest() : ProjectTest("sluice_rows_sql_test") {}
  void SetUp() override {
    auto c = duck::Connection::Open();
    ASSERT_TRUE(c.ok());
    conn_ = std::move(*c);
    // 3 tenants x 40 orders, with hostile values in order ids; a `day` and `tenant` column as
    // publishing adds them.
    ASSERT_TRUE(
        conn_
            ->Execute("CREATE TABLE src AS SELECT 'o' || i || CASE WHEN i % 7 = 0 THEN ''' OR 1=1 --' "
                      "ELSE '' END AS order_id, 't0' || (i % 3) AS tenant_id, "
                      "CAST(i * 1.25 AS DECIMAL(12,2)) AS amount, (i * 37) % 11 AS seq, "
                      "DATE '2026-01-01' AS day, 't0' || (i % 3) AS tenant FROM range(120) r(i)")
            .ok());
    file_ = dir_ + "/data_0.parquet";
    ASSERT_TRUE(conn_
                    ->Execute("COPY (SELECT * FROM src ORDER BY tenant) TO " + duck::Literal(file_) +
                              " (FORMAT parquet)")
                    .ok());
  }
  std::string Read(const RowsQuery& q, const std::vector<std::string>& tenants, int64_t limit,
                   int64_t offset) {
    return Dump(*conn_, BuildRowsSql({file_}, kOrders, kColumns, q, tenants, limit, offset));
  }
  std::unique_ptr<duck::Connection> conn_;
  std::string file_;
};

TEST_F(RowsSqlTest, FiltersAndOrdersLikeSql) {
  RowsQuery q;
  q.filters = {{"seq", "3"}};
  q.order = {{"amount", true}};
  EXPECT_EQ(
      Read(q, {"t01", "t02"}, 1000, 0),
      Dump(*conn_,
           "SELECT order_id, tenant_id, amount, seq FROM src WHERE seq = 3 AND tenant IN ('t01', 't02') "
           "ORDER BY amount DESC, order_id"));
  // A value is a literal, never SQL: the order id with a quote matches itself only.
  RowsQuery hostile;
  hostile.filters = {{"order_id", "o7' OR 1=1 --"}};
  EXPECT_EQ(Read(hostile, {}, 1000, 0), "o7' OR 1=1 --|t01|8.75|6\n");
  hostile.filters = {{"order_id", "o7"}};
  EXPECT_EQ(Read(hostile, {}, 1000, 0), "");
  // A value that is not of the column's type is DuckDB's conversion error, not a match.
  RowsQuery wrong;
  wrong.filters = {{"seq", "three"}};
  auto r = conn_->Query(BuildRowsSql({file_}, kOrders, kColumns, wrong, {}, 10, 0));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RowsSqlTest, PagesPartitionTheResultExactly) {
  RowsQuery q;
  q.order = {{"seq", false}};
  const std::string all = Read(q, {"t00"}, 1000, 0);
  std::string paged;
  for (int64_t offset = 0; offset < 40; offset += 7) paged += Read(q, {"t00"}, 7, offset);
  EXPECT_EQ(paged, all);
  EXPECT_EQ(all, Dump(*conn_,
                      "SELECT order_id, tenant_id, amount, seq FROM src WHERE tenant = 't00' "
                      "ORDER BY seq, order_id"));
  // Counting: limit 0 is every matching row.
  EXPECT_EQ(Dump(*conn_,
                 "SELECT count(*) FROM (" + BuildRowsSql({file_}, kOrders, kColumns, q, {"t00"}, 0, 0) + ")"),
            "40\n");
}

TEST(CursorRegistryTest, PinsRenewsAndExpires) {
  VersionPins pins;
  CursorRegistry cursors(&pins, std::chrono::minutes(10));
  const Clock::time_point t0 = Clock::now();
  CursorState state;
  state.table = "curated.orders";
  state.version = 7;
  state.offset = 100;
  state.query.tenant = "t01";
  const std::string token = cursors.Add(state, t0);
  EXPECT_EQ(token.size(), 32u);
  EXPECT_NE(token, cursors.Add(state, t0));
  EXPECT_TRUE(pins.IsPinned("curated.orders", 7, t0 + std::chrono::minutes(9)));
  // Used after 9 minutes: renewed for 10 more.
  Result<CursorState> found = cursors.Find(token, t0 + std::chrono::minutes(9));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->offset, 100);
  EXPECT_EQ(found->query.tenant, "t01");
  EXPECT_TRUE(pins.IsPinned("curated.orders", 7, t0 + std::chrono::minutes(18)));
  EXPECT_TRUE(cursors.Find(token, t0 + std::chrono::minutes(18)).ok());
  // Idle past its time to live: gone, and so is the pin.
  EXPECT_EQ(cursors.Find(token, t0 + std::chrono::minutes(29)).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(pins.IsPinned("curated.orders", 7, t0 + std::chrono::minutes(29)));
}

TEST(CursorRegistryTest, TamperedOrForeignTokensAreRefused) {
  VersionPins pins;
  CursorRegistry cursors(&pins, std::chrono::minutes(10));
  const std::string token = cursors.Add(CursorState{"curated.orders", 1, {}, {}, "anonymous", 5, 10});
  std::string altered = token;
  altered[0] = altered[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(cursors.Find(altered).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cursors.Find(token + "0").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cursors.Find("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(cursors.Find(token).ok());
}

TEST(CursorRegistryTest, CapacityForgetsTheClosestToExpiry) {
  VersionPins pins;
  CursorRegistry cursors(&pins, std::chrono::minutes(10), /*capacity=*/2);
  const Clock::time_point t0 = Clock::now();
  const std::string a = cursors.Add(CursorState{}, t0);
  const std::string b = cursors.Add(CursorState{}, t0 + std::chrono::seconds(1));
  const std::string c = cursors.Add(CursorState{}, t0 + std::chrono::seconds(2));
  EXPECT_EQ(cursors.size(), 2u);
  EXPECT_FALSE(cursors.Find(a, t0 + std::chrono::seconds(3)).ok());
  EXPECT_TRUE(cursors.Find(b, t0 + std::chrono::seconds(3)).ok());
  EXPECT_TRUE(cursors.Find(c, t0 + std::chrono::seconds(3)).ok());
}

TEST(VersionPinsTest, LaterDeadlineWins) {
  VersionPins pins;
  const Clock::time_point t0 = Clock::now();
  pins.Pin("marts.m", 3, t0 + std::chrono::seconds(10));
  pins.Pin("marts.m", 3, t0 + std::chrono::seconds(5));
  EXPECT_TRUE(pins.IsPinned("marts.m", 3, t0 + std::chrono::seconds(9)));
  EXPECT_FALSE(pins.IsPinned("marts.m", 4, t0));
  EXPECT_FALSE(pins.IsPinned("curated.m", 3, t0));
  EXPECT_FALSE(pins.IsPinned("marts.m", 3, t0 + std::chrono::seconds(10)));
  EXPECT_EQ(pins.Count(t0), 0u);
}

}  // namespace
}  // namespace sluice
