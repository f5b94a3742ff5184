// Change feeds through curate's crashes (G3/G5): the change log commits in curate's
// transaction, so a kill -9 before or after that commit, then a run again, leaves exactly the
// log of an uninterrupted run: every key inserted once, no change twice, sequences 1..N.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

Project FeedProject(const std::string& dir) {
  OrderGeneratorOptions o;
  o.orders = 600;
  o.batches = 3;
  o.seed = 53;
  Project p = MakeExampleProject(dir, o);
  WriteFileOrDie(p.Path("sluice.yaml"), ReadFileOrDie(p.Path("sluice.yaml")) +
                                            "consumers:\n  ml_features: {table: curated.orders}\n");
  return p;
}

// Moves the last landing file (in name order) aside, so that a first run curates the others and
// a second run's curate updates keys the first inserted; returns a function that puts it back.
std::string HoldBackLastFile(const Project& p) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(p.Landing())) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return "";
  std::filesystem::rename(files.back(), files.back() + ".held");
  return files.back();
}

const char kLog[] =
    "SELECT seq, op, batch_id, version, tenant, row_json, coalesce(prev_json, 'null') FROM meta.feed_changes "
    "WHERE table_name = 'orders' ORDER BY seq";

// What any log of curated.orders must be, whatever the run: sequences 1..N, each key inserted
// exactly once (and first), every key of the table present.
void ExpectWellFormedLog(const Project& p, const std::vector<std::vector<std::string>>& log,
                         const std::string& what) {
  std::set<std::string> inserted;
  for (size_t i = 0; i < log.size(); ++i) {
    ASSERT_EQ(log[i][0], std::to_string(i + 1)) << what;
    const std::string key = Json::parse(log[i][5]).value("order_id", "");
    if (log[i][1] == "insert") {
      EXPECT_TRUE(inserted.insert(key).second) << what << ": " << key << " inserted twice";
      EXPECT_EQ(log[i][6], "null") << what;
    } else {
      EXPECT_EQ(log[i][1], "update") << what;
      EXPECT_TRUE(inserted.count(key)) << what << ": update of " << key << " before its insert";
      EXPECT_EQ(Json::parse(log[i][6]).value("order_id", ""), key) << what;
    }
  }
  EXPECT_EQ(std::to_string(inserted.size()), p.Scalar("SELECT count(*) FROM curated.orders")) << what;
}

TEST(FeedsCrash, KilledAroundCurateCommitLogsEachChangeOnce) {
  TempDir clean_dir("sluice-e2e-feeds-clean");
  Project clean = FeedProject(clean_dir.path() + "/shop");
  // Two runs: curate commits once per run, and a key changed by several batches of one commit
  // is one change; the second run's changes include updates of keys the first inserted.
  const std::string held = HoldBackLastFile(clean);
  ASSERT_FALSE(held.empty());
  ASSERT_FALSE(clean.RunJson().is_null());
  std::filesystem::rename(held + ".held", held);
  ASSERT_FALSE(clean.RunJson().is_null());
  const auto want = clean.Rows(kLog);
  ASSERT_TRUE(std::any_of(want.begin(), want.end(), [](const auto& r) { return r[1] == "update"; }))
      << "no update in the log: the test would not show previous versions";
  ExpectWellFormedLog(clean, want, "clean run");

  for (const std::string& failpoint :
       std::vector<std::string>{"curate.before_commit", "curate.after_commit"}) {
    TempDir tmp;
    Project p = FeedProject(tmp.path() + "/shop");
    const std::string file = HoldBackLastFile(p);
    ASSERT_FALSE(p.RunJson().is_null());
    std::filesystem::rename(file + ".held", file);
    ProcessResult crashed = p.Sluice("run", {}, {{"SLUICE_FAILPOINTS", failpoint + "=crash"}});
    ASSERT_TRUE(crashed.signaled) << failpoint << " not reached: " << crashed.Describe();
    EXPECT_EQ(crashed.term_signal, SIGKILL);
    ProcessResult again = p.Sluice("run", {"--json"});
    ASSERT_TRUE(again.ok()) << again.Describe();
    const auto got = p.Rows(kLog);
    ExpectWellFormedLog(p, got, "crash at " + failpoint);
    EXPECT_EQ(got, want) << "the log after a crash at " << failpoint << " differs from a clean run's";
  }
}

}  // namespace
}  // namespace sluice::e2e
