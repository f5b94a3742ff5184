// Change feeds through curate's crashes (G3/G5): the change log commits in curate's
// transaction, so a kill -9 before or after that commit, then a run again, leaves exactly the
// log of an uninterrupted run: every key inserted once, no change twice, sequences 1..N.
#include <gtest/gtest.h>
#include <signal.h>

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
  ASSERT_FALSE(clean.RunJson().is_null());
  const auto want = clean.Rows(kLog);
  ASSERT_GT(want.size(), 600u);  // 600 keys inserted, and updates of some
  ExpectWellFormedLog(clean, want, "clean run");

  for (const std::string& failpoint :
       std::vector<std::string>{"curate.before_commit", "curate.after_commit"}) {
    TempDir tmp;
    Project p = FeedProject(tmp.path() + "/shop");
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
