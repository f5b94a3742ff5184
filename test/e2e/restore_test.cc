// `sluice restore TABLE --to SNAPSHOT` (docs/LIFECYCLE.md, "Restore"): an earlier snapshot is
// current again as a new snapshot, history is kept (time travel still reads the snapshots in
// between), the restore is undone by restoring the previous snapshot, and the marts downstream
// are rebuilt by the next run. kill -9 at each restore failpoint leaves the table either as it
// was or restored, never in between, and restoring again completes.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>

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

// A project whose first three batches went in one run each (snapshots 1, 2, 3); `curated` and
// `mart` receive the tables right after each run.
Project ThreeRuns(const std::string& dir, std::vector<TextRows>* curated, std::vector<TextRows>* mart) {
  OrderGeneratorOptions o;
  o.orders = 600;
  o.batches = 3;
  o.seed = 91;
  Project p = MakeExampleProject(dir, o);
  const std::string held = dir + "/held";
  fs::create_directories(held);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(p.Landing())) {
    if (e.path().extension() == ".jsonl") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) fs::rename(p.Landing() + "/" + n, held + "/" + n);
  for (const auto& n : names) {
    fs::rename(held + "/" + n, p.Landing() + "/" + n);
    EXPECT_FALSE(p.RunJson().is_null());
    curated->push_back(p.Rows(kCurated));
    mart->push_back(p.Rows(kMart));
  }
  return p;
}

TextRows RowsAsOf(const Project& p, const std::string& as_of, const std::string& sql) {
  ProcessResult r = p.Sluice("query", {sql, "--format", "csv", "--as-of", as_of});
  EXPECT_TRUE(r.ok()) << r.Describe();
  TextRows rows;
  for (auto& rec : testing::ParseCsv(r.out)) {
    std::vector<std::string> row;
    for (auto& f : rec) row.push_back(f ? *f : "NULL");
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) rows.erase(rows.begin());
  return rows;
}

TEST(Restore, AnEarlierSnapshotIsCurrentAgainAndTheRestoreIsUndone) {
  TempDir tmp;
  std::vector<TextRows> curated, mart;
  Project p = ThreeRuns(tmp.path() + "/p", &curated, &mart);
  ASSERT_NE(curated[0], curated[2]);

  ProcessResult r = p.Sluice("restore", {"orders", "--to", "1", "--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json out = Json::parse(r.out);
  EXPECT_EQ(out["table"], "curated.orders");
  EXPECT_EQ(out["restored_snapshot"], 1);
  EXPECT_EQ(out["previous_snapshot"], 3);
  EXPECT_EQ(out["snapshot"], 4);
  EXPECT_EQ(out["marts_to_refresh"], Json::array({"daily_revenue"})) << out.dump();
  EXPECT_EQ(p.Rows(kCurated), curated[0]);
  EXPECT_EQ(p.Scalar("SELECT restored_from FROM meta.snapshots WHERE snapshot = 4 AND table_name = 'orders'"),
            "1");
  // History is kept: the snapshots in between still read as they were.
  EXPECT_EQ(RowsAsOf(p, "3", kCurated), curated[2]);
  EXPECT_EQ(RowsAsOf(p, "4", kCurated), curated[0]);

  // The next run rebuilds the mart downstream from the restored table.
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows(kMart), mart[0]);

  // Undo: restore the snapshot before the restore.
  ProcessResult undo = p.Sluice("restore", {"curated.orders", "--to", "3"});
  ASSERT_TRUE(undo.ok()) << undo.Describe();
  EXPECT_NE(undo.out.find("marts.daily_revenue"), std::string::npos) << undo.out;
  EXPECT_EQ(p.Rows(kCurated), curated[2]);
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows(kMart), mart[2]);
  // Both restores are lifecycle actions in `sluice status`, newest first.
  ProcessResult status = p.Sluice("status", {"--json"});
  ASSERT_TRUE(status.ok()) << status.Describe();
  std::vector<std::string> restores;
  const Json status_json = Json::parse(status.out);
  for (const auto& e : status_json["lifecycle"]) {
    if (e["action"] == "restored")
      restores.push_back(Str(e["target"]) + " " + Str(e["detail"]).substr(0, 13));
  }
  EXPECT_EQ(restores,
            (std::vector<std::string>{"curated.orders to snapshot 3", "curated.orders to snapshot 1"}));

  // Wrong or hostile input: one clear error line, nothing changed.
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"nosuch", "--to", "1"},
                                             {"marts.orders", "--to", "1"},
                                             {"orders", "--to", "abc"},
                                             {"orders", "--to", "99"},
                                             {"orders", "--to", "1; DROP TABLE meta.batches"},
                                             {"orders", "--to", "0"}}) {
    ExpectCleanFailure(p.Sluice("restore", bad), "restore " + bad[0] + " " + bad[2]);
  }
  EXPECT_EQ(p.Rows(kCurated), curated[2]);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "3");
}

TEST(Restore, KilledAtEachFailpointIsOldOrRestoredAndRestoringAgainCompletes) {
  int reached = 0;
  for (const std::string fp : {"restore.before_commit", "restore.after_commit"}) {
    SCOPED_TRACE(fp);
    TempDir tmp;
    std::vector<TextRows> curated, mart;
    Project p = ThreeRuns(tmp.path() + "/p", &curated, &mart);
    ProcessResult crashed =
        p.Sluice("restore", {"orders", "--to", "1"}, {{"SLUICE_FAILPOINTS", fp + "=crash"}});
    ASSERT_TRUE(crashed.signaled) << "failpoint not reached: " << crashed.Describe();
    EXPECT_EQ(crashed.term_signal, SIGKILL);
    ++reached;
    // Whole states only: the table as it was, or restored.
    const TextRows after = p.Rows(kCurated);
    EXPECT_TRUE(after == curated[2] || after == curated[0]) << "a state between old and restored";
    EXPECT_EQ(after, fp == "restore.before_commit" ? curated[2] : curated[0]);
    ProcessResult again = p.Sluice("restore", {"orders", "--to", "1"});
    ASSERT_TRUE(again.ok()) << again.Describe();
    EXPECT_EQ(p.Rows(kCurated), curated[0]);
    // The published copy is the restored one too, and nothing half-written is left.
    const std::string newest =
        p.Scalar("SELECT max(snapshot) FROM meta.snapshots WHERE table_name = 'orders'");
    EXPECT_EQ(RowsAsOf(p, newest, kCurated), curated[0]);
    EXPECT_EQ(TempLeftovers(p.Lake()), std::vector<std::string>{});
    ASSERT_FALSE(p.RunJson().is_null());
    EXPECT_EQ(p.Rows(kMart), mart[0]);
  }
  EXPECT_EQ(reached, 2);
}

}  // namespace
}  // namespace sluice::e2e
