// Snapshots and time travel (docs/LIFECYCLE.md): several runs change curated.orders and its mart;
// `sluice query --as-of` each snapshot (by number or by time) answers what the lake answered
// right after that run, and equals another DuckDB reading that snapshot's published files.
// retention.snapshots keeps exactly keep_last / keep_within (time moved by faketime), expired
// snapshots are refused with a clear error, and so is every --as-of that is not a snapshot or a time.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "harness.h"
#include "sample/example_project.h"
#include "support/csv.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;
using TextRows = std::vector<std::vector<std::string>>;

const char* kCurated =
    "SELECT order_id, status, CAST(amount AS VARCHAR), CAST(seq AS VARCHAR) FROM curated.orders ORDER BY 1";
const char* kMart =
    "SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), CAST(revenue AS VARCHAR) "
    "FROM marts.daily_revenue ORDER BY 1, 2";

TextRows CsvRows(const std::string& out) {
  TextRows rows;
  for (auto& rec : testing::ParseCsv(out)) {
    std::vector<std::string> row;
    for (auto& f : rec) row.push_back(f ? *f : "NULL");
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) rows.erase(rows.begin());  // header
  return rows;
}

TextRows RowsAsOf(const Project& p, const std::string& as_of, const std::string& sql) {
  ProcessResult r = p.Sluice("query", {sql, "--format", "csv", "--as-of", as_of});
  EXPECT_TRUE(r.ok()) << "--as-of " << as_of << ": " << r.Describe();
  return CsvRows(r.out);
}

// The example project with its batches held back, to be let in one per run.
struct Staged {
  Project p;
  std::vector<std::string> held;  // batch files, in order
  std::string hold_dir;
};

Staged MakeStaged(const std::string& dir, const std::string& retention_yaml) {
  OrderGeneratorOptions o;
  o.orders = 600;
  o.batches = 4;
  o.seed = 77;
  Staged s{MakeExampleProject(dir, o), {}, dir + "/held"};
  const std::string yaml = s.p.Path("sluice.yaml");
  WriteFileOrDie(yaml, ReadFileOrDie(yaml) + retention_yaml);
  fs::create_directories(s.hold_dir);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(s.p.Landing())) {
    if (e.path().extension() == ".jsonl") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) fs::rename(s.p.Landing() + "/" + n, s.hold_dir + "/" + n);
  s.held = names;
  return s;
}

void LetIn(const Staged& s, size_t i) {
  fs::rename(s.hold_dir + "/" + s.held[i], s.p.Landing() + "/" + s.held[i]);
}

// The version directories of curated.orders on disk.
std::set<std::string> VersionDirs(const Project& p) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(p.Lake() + "/published/curated/orders")) {
    const std::string n = e.path().filename().string();
    if (n != "current") out.insert(n);
  }
  return out;
}

TEST(TimeTravel, AsOfEachSnapshotAnswersWhatTheLakeSaidThen) {
  TempDir tmp;
  Staged s = MakeStaged(tmp.path() + "/p", "");
  const Project& p = s.p;
  std::vector<TextRows> curated, mart;  // [k]: right after run k+1
  for (size_t i = 0; i < s.held.size(); ++i) {
    LetIn(s, i);
    ASSERT_FALSE(p.RunJson().is_null());
    curated.push_back(p.Rows(kCurated));
    mart.push_back(p.Rows(kMart));
    // One snapshot per run, shared by both tables.
    EXPECT_EQ(p.Scalar("SELECT max(snapshot) FROM meta.snapshots"), std::to_string(i + 1));
    EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.snapshots WHERE snapshot = " + std::to_string(i + 1)), "2");
  }
  ASSERT_NE(curated[0], curated[3]) << "the runs must change the table for this test to mean anything";

  DuckReader duck;
  for (size_t k = 1; k <= s.held.size(); ++k) {
    const std::string n = std::to_string(k);
    EXPECT_EQ(RowsAsOf(p, n, kCurated), curated[k - 1]) << "curated.orders as of snapshot " << n;
    EXPECT_EQ(RowsAsOf(p, n, kMart), mart[k - 1]) << "marts.daily_revenue as of snapshot " << n;
    // Another reader of that snapshot's own files agrees.
    const std::string path =
        p.Scalar("SELECT path FROM meta.snapshots WHERE table_name = 'orders' AND snapshot = " + n);
    EXPECT_EQ(
        duck.Rows(
            "SELECT order_id, status, CAST(amount AS VARCHAR), CAST(seq AS VARCHAR) FROM read_parquet(" +
            Quote(p.Lake() + "/" + path + "/**/*.parquet") + ", hive_partitioning = false) ORDER BY 1"),
        curated[k - 1])
        << path;
    // By time: the moment snapshot k was committed, and a moment later.
    const std::string at = p.Scalar(
        "SELECT CAST(committed_at AS VARCHAR) FROM meta.snapshots WHERE table_name = 'orders' AND "
        "snapshot = " +
        n);
    EXPECT_EQ(RowsAsOf(p, at, kCurated), curated[k - 1]) << "as of " << at;
  }
  // A join across tables reads one consistent cut: both tables' files of snapshot 2.
  const std::string join =
      "SELECT count(*), CAST(sum(m.revenue) AS VARCHAR) FROM %O o JOIN %M m ON CAST(o.created_at AS DATE) = "
      "m.day "
      "AND o.tenant_id = m.tenant_id";
  auto files = [&](const std::string& table) {
    return "read_parquet(" +
           Quote(p.Lake() + "/" +
                 p.Scalar("SELECT path FROM meta.snapshots WHERE snapshot = 2 AND table_name = " +
                          Quote(table)) +
                 "/**/*.parquet") +
           ", hive_partitioning = false)";
  };
  auto with = [&](std::string sql, const std::string& o, const std::string& m) {
    sql.replace(sql.find("%O"), 2, o);
    sql.replace(sql.find("%M"), 2, m);
    return sql;
  };
  EXPECT_EQ(RowsAsOf(p, "2", with(join, "curated.orders", "marts.daily_revenue")),
            duck.Rows(with(join, files("orders"), files("daily_revenue"))));
  // Names not versioned read the lake as it is now.
  EXPECT_EQ(RowsAsOf(p, "1", "SELECT count(*) FROM meta.batches"), TextRows{{"4"}});

  // Hostile or wrong --as-of values: one clear error line, and the lake unchanged.
  for (const std::string bad : {"0", "99", "abc", "1; DROP TABLE meta.batches", "' OR 1=1 --", "-1", "1.5",
                                "2026-13-45 99:00:00", "1900-01-01 00:00:00", ""}) {
    if (bad.empty()) continue;
    ProcessResult r = p.Sluice("query", {kCurated, "--as-of", bad});
    ExpectCleanFailure(r, "--as-of " + bad);
  }
  EXPECT_NE(p.Sluice("query", {kCurated, "--as-of", "99"}).err.find("does not exist"), std::string::npos);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "4");

  // sluice status shows the range.
  ProcessResult st = p.Sluice("status", {"--json"});
  ASSERT_TRUE(st.ok()) << st.Describe();
  Json tt = Json::parse(st.out)["tables"]["orders"]["time_travel"];
  EXPECT_EQ(tt["snapshots"], 4) << tt.dump();
  EXPECT_EQ(tt["expired"], 0) << tt.dump();
  EXPECT_EQ(tt["oldest"]["snapshot"], 1) << tt.dump();
  EXPECT_EQ(tt["newest"]["snapshot"], 4) << tt.dump();
  ProcessResult text = p.Sluice("status");
  EXPECT_NE(text.out.find("time travel: snapshots 1 ("), std::string::npos) << text.out;
}

TEST(TimeTravel, RetentionKeepsExactlyKeepLast) {
  TempDir tmp;
  Staged s = MakeStaged(tmp.path() + "/p", "retention:\n  snapshots: {keep_last: 2}\n");
  const Project& p = s.p;
  std::vector<TextRows> curated;
  for (size_t i = 0; i < s.held.size(); ++i) {
    LetIn(s, i);
    ASSERT_FALSE(p.RunJson().is_null());
    curated.push_back(p.Rows(kCurated));
  }
  EXPECT_EQ(p.Rows("SELECT table_name, snapshot FROM meta.snapshots WHERE expired_at IS NULL ORDER BY 1, 2"),
            (TextRows{{"daily_revenue", "3"}, {"daily_revenue", "4"}, {"orders", "3"}, {"orders", "4"}}));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.snapshots WHERE expired_at IS NOT NULL"), "4");
  // On disk: exactly the live snapshots' versions.
  std::set<std::string> live;
  for (const auto& r :
       p.Rows("SELECT version FROM meta.snapshots WHERE table_name = 'orders' AND expired_at IS NULL")) {
    live.insert("v" + r[0]);
  }
  EXPECT_EQ(VersionDirs(p), live);
  EXPECT_EQ(RowsAsOf(p, "3", kCurated), curated[2]);
  ProcessResult expired = p.Sluice("query", {kCurated, "--as-of", "2"});
  ExpectCleanFailure(expired, "as of an expired snapshot");
  EXPECT_NE(expired.err.find("expired"), std::string::npos) << expired.err;
}

// `sluice run` through faketime at `at` ("2026-12-01 08:00:00", UTC).
ProcessResult RunAt(const Project& p, const std::string& at) {
  ProcessOptions o;
  o.cwd = p.dir();
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "";
  o.env = {{"TZ", "UTC"}, {"ASAN_OPTIONS", asan_options + "verify_asan_link_order=0"}};
  return RunProcess("/usr/bin/faketime", {"-f", "@" + at, SluiceBinary(), "run", "--project", p.dir()}, o);
}

TEST(TimeTravel, RetentionKeepsEverySnapshotWithinKeepWithin) {
  TempDir tmp;
  Staged s = MakeStaged(tmp.path() + "/p", "retention:\n  snapshots: {keep_last: 1, keep_within: 1h}\n");
  const Project& p = s.p;
  const std::vector<std::string> times = {"2026-12-01 08:00:00", "2026-12-01 09:30:00",
                                          "2026-12-01 10:00:00"};
  for (size_t i = 0; i < times.size(); ++i) {
    LetIn(s, i);
    ProcessResult r = RunAt(p, times[i]);
    ASSERT_TRUE(r.ok()) << r.Describe();
  }
  // At 10:00: snapshot 1 (08:00) is past keep_within and beyond keep_last; 2 (09:30) is within.
  EXPECT_EQ(p.Rows("SELECT snapshot, substr(CAST(committed_at AS VARCHAR), 1, 16) FROM meta.snapshots WHERE "
                   "table_name = 'orders' AND expired_at IS NULL ORDER BY 1"),
            (TextRows{{"2", "2026-12-01 09:30"}, {"3", "2026-12-01 10:00"}}));
  ExpectCleanFailure(p.Sluice("query", {kCurated, "--as-of", "1"}), "expired by keep_within");
  // A time between 2 and 3 reads snapshot 2.
  EXPECT_EQ(RowsAsOf(p, "2026-12-01 09:45:00", "SELECT count(*) FROM curated.orders"),
            RowsAsOf(p, "2", "SELECT count(*) FROM curated.orders"));
  // Before the first snapshot: nothing to read.
  ExpectCleanFailure(p.Sluice("query", {kCurated, "--as-of", "2026-12-01 07:00:00"}), "before any snapshot");
}

}  // namespace
}  // namespace sluice::e2e
