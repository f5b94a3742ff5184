// `sluice query` through the binary: typed JSON output (issue 9, defect 3) and how a lake held
// by another process is told apart from other errors opening it (defect 9).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

// The example project with two hand-written orders, run once.
Project RunProject(const std::string& dir) {
  OrderGeneratorOptions o;
  o.orders = 20;
  o.batches = 1;
  Project p = MakeExampleProject(dir, o);
  fs::remove_all(p.Landing());
  fs::create_directories(p.Landing());
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl",
                 "{\"order_id\":\"o1\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":12.30,"
                 "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":2}\n"
                 "{\"order_id\":\"o2\",\"tenant_id\":\"t02\",\"status\":\"created\",\"amount\":5,"
                 "\"created_at\":\"2026-01-03T11:00:00.25Z\",\"seq\":1}\n");
  EXPECT_FALSE(p.RunJson().is_null());
  return p;
}

ProcessResult QueryJson(const Project& p, const std::string& sql) {
  return p.Sluice("query", {sql, "--format", "json"});
}

TEST(QueryJson, ValuesAreTyped) {
  TempDir tmp;
  Project p = RunProject(tmp.path() + "/shop");

  // NaN, as DuckDB computes it, is null (it used to end the command with "internal error").
  ProcessResult nan = QueryJson(p, "select 'inf'::double - 'inf'::double");
  ASSERT_TRUE(nan.ok()) << nan.Describe();
  Json nan_rows = Json::parse(nan.out);
  ASSERT_EQ(nan_rows.size(), 1u) << nan.out;
  ASSERT_EQ(nan_rows[0].size(), 1u) << nan.out;
  EXPECT_TRUE(nan_rows[0].begin()->is_null()) << nan.out;

  ProcessResult r =
      QueryJson(p,
                "SELECT 1 AS i, 2.5::DOUBLE AS d, 'inf'::DOUBLE AS inf, true AS b, NULL AS n, [1, 2] AS l, "
                "{'a': 1, 'b': [true, NULL]} AS s, MAP {'k': 1.5} AS m, [{'x': 1}, {'x': 2}] AS ls, "
                "TIMESTAMP '2026-01-03 10:15:00' AS ts, TIMESTAMPTZ '2026-01-03 10:15:00.5+00' AS tz, "
                "DATE '2026-01-03' AS day, 'x\"y' AS str, 12.50::DECIMAL(4,2) AS dec, "
                "'\\x01\\x02'::BLOB AS blob");
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json rows = Json::parse(r.out);
  Json expected = Json::parse(R"([{
      "i": 1, "d": 2.5, "inf": null, "b": true, "n": null, "l": [1, 2],
      "s": {"a": 1, "b": [true, null]}, "m": [{"key": "k", "value": 1.5}],
      "ls": [{"x": 1}, {"x": 2}],
      "ts": "2026-01-03T10:15:00Z", "tz": "2026-01-03T10:15:00.5Z", "day": "2026-01-03",
      "str": "x\"y", "dec": 12.5, "blob": "AQI="}])");
  EXPECT_EQ(rows, expected) << r.out;
  EXPECT_TRUE(rows[0]["i"].is_number_integer());

  // The lake's own columns: DECIMAL amounts and BIGINT seq as numbers, UTC timestamps.
  r = QueryJson(p, "SELECT order_id, amount, seq, created_at FROM curated.orders ORDER BY order_id");
  ASSERT_TRUE(r.ok()) << r.Describe();
  rows = Json::parse(r.out);
  expected = Json::parse(R"([
      {"order_id": "o1", "amount": 12.3, "seq": 2, "created_at": "2026-01-02T10:00:00Z"},
      {"order_id": "o2", "amount": 5, "seq": 1, "created_at": "2026-01-03T11:00:00.25Z"}])");
  EXPECT_EQ(rows, expected) << r.out;
}

// Decimals and integers beyond what a double holds keep every digit in the text.
TEST(QueryJson, WideNumbersKeepEveryDigit) {
  TempDir tmp;
  Project p = RunProject(tmp.path() + "/shop");
  ProcessResult r =
      QueryJson(p,
                "SELECT CAST('1234567890123456789012345678.0123456789' AS DECIMAL(38,10)) AS d, "
                "CAST('-170141183460469231731687303715884105728' AS HUGEINT) AS h, "
                "CAST(18446744073709551615 AS UBIGINT) AS u FROM range(2)");
  ASSERT_TRUE(r.ok()) << r.Describe();
  const std::string row =
      "{\"d\":1234567890123456789012345678.0123456789,"
      "\"h\":-170141183460469231731687303715884105728,\"u\":18446744073709551615}";
  EXPECT_EQ(r.out, "[" + row + ",\n" + row + "]\n");
  Json rows = Json::parse(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["u"].get<uint64_t>(), 18446744073709551615ULL);
  EXPECT_TRUE(rows[0]["d"].is_number());
}

TEST(QueryJson, EmptyResultIsAnEmptyArray) {
  TempDir tmp;
  Project p = RunProject(tmp.path() + "/shop");
  ProcessResult r = QueryJson(p, "SELECT * FROM curated.orders WHERE false");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out, "[]\n");
}

TEST(LakeInUse, NamesTheProcessHoldingTheLake) {
  TempDir tmp;
  Project p = RunProject(tmp.path() + "/shop");
  HeldLock held(p.Lake() + "/sluice.duckdb");
  ASSERT_TRUE(held.ok());
  const std::string pid = "(pid " + std::to_string(::getpid()) + ")";
  for (const auto& [command, args] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{{"query", {"SELECT 1"}}, {"run", {}}}) {
    ProcessResult r = p.Sluice(command, args);
    ExpectCleanFailure(r, command);
    EXPECT_NE(r.err.find("is in use by another sluice process " + pid), std::string::npos)
        << command << ": " << r.err;
  }
}

// An unreadable lake is reported as what it is, even when its path happens to contain "lock"
// (the lake-in-use check used to search DuckDB's message for that word).
TEST(LakeInUse, ABrokenLakeIsNotInUse) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/unlocked-shop", o);
  fs::create_directories(p.Lake());
  WriteFileOrDie(p.Lake() + "/sluice.duckdb", std::string(8192, 'x'));
  ProcessResult r = p.Sluice("query", {"SELECT 1"});
  ExpectCleanFailure(r, "query on a broken lake");
  EXPECT_EQ(r.err.find("in use"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sluice.duckdb"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::e2e
