// G4/G5 crash safety: for every failpoint of the commit protocol, kill -9 there, run again, and
// the result equals an uninterrupted run: same tables, no temp files left in the lake, the
// published copies equal the tables.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "common/failpoint.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

OrderGeneratorOptions CrashData() {
  OrderGeneratorOptions o;
  o.orders = 1000;
  o.batches = 3;
  o.seed = 51;
  return o;
}

class CrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    clean_dir_ = new TempDir("sluice-e2e-clean");
    Project clean = MakeExampleProject(clean_dir_->path() + "/shop", CrashData());
    Json run = clean.RunJson();
    clean_ = new Snapshot(run.is_null() ? Snapshot{} : TakeSnapshot(clean));
  }
  static void TearDownTestSuite() {
    delete clean_;
    delete clean_dir_;
  }
  static TempDir* clean_dir_;
  static Snapshot* clean_;
};
TempDir* CrashTest::clean_dir_ = nullptr;
Snapshot* CrashTest::clean_ = nullptr;

TEST_P(CrashTest, KilledThereThenRunAgainEqualsACleanRun) {
  ASSERT_FALSE(clean_->empty()) << "the clean run failed";
  const std::string& failpoint = GetParam();
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", CrashData());

  ProcessResult crashed = p.Sluice("run", {}, {{"SLUICE_FAILPOINTS", failpoint + "=crash"}});
  ASSERT_FALSE(crashed.timed_out) << crashed.Describe();
  // Every failpoint lies on the path of a first run over a fresh project: one that is never
  // reached would make this test vacuous, so that is a failure too.
  ASSERT_TRUE(crashed.signaled) << "failpoint " << failpoint
                                << " was not reached by `sluice run`: " << crashed.Describe();
  EXPECT_EQ(crashed.term_signal, SIGKILL) << crashed.Describe();

  ProcessResult recovered = p.Sluice("run", {"--json"});
  ASSERT_TRUE(recovered.ok()) << "run after a crash at " << failpoint << ": " << recovered.Describe();
  ExpectSameSnapshot(*clean_, TakeSnapshot(p), "crash at " + failpoint + ", then run");
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty())
      << "after a crash at " << failpoint << ": " << ::testing::PrintToString(TempLeftovers(p.Lake()));
  DuckReader duck;
  ExpectPublishedEqualsTables(duck, p, "crash at " + failpoint + ", then run");

  // And a further run has nothing to do.
  Json again = p.RunJson();
  ASSERT_FALSE(again.is_null());
  EXPECT_EQ(again["nothing_to_do"], true) << again.dump();
  ExpectSameSnapshot(*clean_, TakeSnapshot(p), "crash at " + failpoint + ", then two runs");
}

INSTANTIATE_TEST_SUITE_P(AllFailpoints, CrashTest, ::testing::ValuesIn(BatchRunFailpoints()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A crash while ingesting a single batch by hand: the batch is either wholly there or wholly
// absent, and ingesting it again completes it.
TEST(Crash, IngestCommandKilledAtEachIngestPoint) {
  TempDir clean_tmp;
  Project clean = MakeExampleProject(clean_tmp.path() + "/shop", CrashData());
  std::string file = clean.Landing() + "/batch-0001.jsonl";
  ProcessResult ok = clean.Sluice("ingest", {"orders", file});
  ASSERT_TRUE(ok.ok()) << ok.Describe();
  auto staged = clean.Rows(
      "SELECT COLUMNS(lambda c: c NOT IN ('_ingested_at', '_correlation_id'))"
      "::VARCHAR FROM staging.orders ORDER BY ALL");
  for (const std::string& fp : AllFailpoints()) {
    if (fp.rfind("ingest.", 0) != 0) continue;
    TempDir tmp;
    Project p = MakeExampleProject(tmp.path() + "/shop", CrashData());
    std::string f = p.Landing() + "/batch-0001.jsonl";
    ProcessResult crashed = p.Sluice("ingest", {"orders", f}, {{"SLUICE_FAILPOINTS", fp + "=crash"}});
    // Every ingest.* failpoint lies on the path of ingesting a file into a fresh lake: one that
    // is never reached would test nothing, so a run that completes is a failure.
    ASSERT_FALSE(crashed.timed_out) << fp << ": " << crashed.Describe();
    ASSERT_TRUE(crashed.signaled) << "failpoint " << fp
                                  << " was not reached by `sluice ingest`: " << crashed.Describe();
    EXPECT_EQ(crashed.term_signal, SIGKILL) << fp << ": " << crashed.Describe();
    // Visible state after the crash: nothing or the whole batch (G4).
    ProcessResult count = p.Sluice("query", {"SELECT count(*) FROM staging.orders", "--format", "csv"});
    EXPECT_TRUE(count.ok()) << fp
                            << ": a reader right after the crash (before any recovery): " << count.Describe();
    if (count.ok()) {
      std::string n = count.out.substr(count.out.find('\n') + 1);
      while (!n.empty() && n.back() == '\n') n.pop_back();
      EXPECT_TRUE(n == "0" || n == std::to_string(staged.size())) << fp << ": " << n << " rows visible";
    }
    ProcessResult again = p.Sluice("ingest", {"orders", f});
    ASSERT_TRUE(again.ok()) << fp << ": " << again.Describe();
    EXPECT_EQ(p.Rows("SELECT COLUMNS(lambda c: c NOT IN ('_ingested_at', '_correlation_id'))"
                     "::VARCHAR FROM staging.orders ORDER BY ALL"),
              staged)
        << fp;
    EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "1") << fp;
    EXPECT_TRUE(TempLeftovers(p.Lake()).empty())
        << fp << ": " << ::testing::PrintToString(TempLeftovers(p.Lake()));
  }
}

}  // namespace
}  // namespace sluice::e2e
