// G5 beyond SIGKILL: a power cut at every failpoint of the commit protocol. Killing the process
// keeps the page cache, so crash_test.cc cannot see a missing fsync; here the binary runs with
// `<failpoint>=powercut` (common/fault_env.h): at the failpoint everything in the project that
// no fsync, directory fsync or syncfs made durable is dropped -- files DuckDB wrote through COPY
// included -- and the process dies by SIGKILL. Running again must give the state of a clean run.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "common/failpoint.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

OrderGeneratorOptions PowerCutData() {
  OrderGeneratorOptions o;
  o.orders = 600;
  o.batches = 3;
  o.seed = 77;
  return o;
}

// The last landing file is held back for a second run, so that a cut in that run finds a lake
// with published versions, staging files and ledger rows that must all survive it.
const char* const kHeldBack = "batch-0003.jsonl";

// schema.* failpoints are reached only by a run that registers a contract: the first one.
bool CutInFirstRun(const std::string& failpoint) { return failpoint.rfind("schema.", 0) == 0; }

class PowerCutTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    clean_dir_ = new TempDir("sluice-e2e-powercut-clean");
    Project clean = MakeExampleProject(clean_dir_->path() + "/shop", PowerCutData());
    const std::string held = clean_dir_->path() + "/" + kHeldBack;
    fs::rename(clean.Landing() + "/" + kHeldBack, held);
    Json first = clean.RunJson();
    fs::rename(held, clean.Landing() + "/" + kHeldBack);
    Json second = clean.RunJson();
    clean_ = new Snapshot(first.is_null() || second.is_null() ? Snapshot{} : TakeSnapshot(clean));
  }
  static void TearDownTestSuite() {
    delete clean_;
    delete clean_dir_;
  }
  static TempDir* clean_dir_;
  static Snapshot* clean_;
};
TempDir* PowerCutTest::clean_dir_ = nullptr;
Snapshot* PowerCutTest::clean_ = nullptr;

TEST_P(PowerCutTest, PowerCutThereThenRunAgainEqualsACleanRun) {
  ASSERT_FALSE(clean_->empty()) << "the clean run failed";
  const std::string& failpoint = GetParam();
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", PowerCutData());
  const std::string held = tmp.path() + "/" + kHeldBack;
  fs::rename(p.Landing() + "/" + kHeldBack, held);
  const std::vector<std::pair<std::string, std::string>> cut = {
      {"SLUICE_FAILPOINTS", failpoint + "=powercut"}};

  ProcessResult cut_run;
  if (CutInFirstRun(failpoint)) {
    cut_run = p.Sluice("run", {}, cut);
  } else {
    ASSERT_FALSE(p.RunJson().is_null());
    fs::rename(held, p.Landing() + "/" + kHeldBack);
    cut_run = p.Sluice("run", {}, cut);
  }
  ASSERT_FALSE(cut_run.timed_out) << cut_run.Describe();
  // The cut happened: the process died by SIGKILL after leaving the marker. A failpoint never
  // reached, or a cut that could not rebuild the durable tree, leaves no marker.
  ASSERT_TRUE(cut_run.signaled) << "failpoint " << failpoint << " was not reached: " << cut_run.Describe();
  EXPECT_EQ(cut_run.term_signal, SIGKILL) << cut_run.Describe();
  const std::string marker = p.Path(kPowerCutMarker);
  ASSERT_TRUE(fs::exists(marker)) << "no power cut at " << failpoint << ": " << cut_run.Describe();
  EXPECT_EQ(ReadFileOrDie(marker), failpoint + "\n");
  fs::remove(marker);
  if (CutInFirstRun(failpoint)) fs::rename(held, p.Landing() + "/" + kHeldBack);

  ProcessResult recovered = p.Sluice("run", {"--json"});
  ASSERT_TRUE(recovered.ok()) << "run after a power cut at " << failpoint << ": " << recovered.Describe();
  if (!CutInFirstRun(failpoint)) {
    ExpectSameSnapshot(*clean_, TakeSnapshot(p), "power cut at " + failpoint + ", then run");
  } else {
    // Cut in the first run: the clean state is reached after the held-back file's run too.
    ASSERT_FALSE(p.RunJson().is_null());
    ExpectSameSnapshot(*clean_, TakeSnapshot(p), "power cut at " + failpoint + ", then runs");
  }
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty())
      << "after a power cut at " << failpoint << ": " << ::testing::PrintToString(TempLeftovers(p.Lake()));
  DuckReader duck;
  ExpectPublishedEqualsTables(duck, p, "power cut at " + failpoint + ", then run");

  Json again = p.RunJson();
  ASSERT_FALSE(again.is_null());
  EXPECT_EQ(again["nothing_to_do"], true) << again.dump();
}

INSTANTIATE_TEST_SUITE_P(AllFailpoints, PowerCutTest, ::testing::ValuesIn(BatchRunFailpoints()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace sluice::e2e
