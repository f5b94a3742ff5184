// Error paths of the commit protocol: `sluice ingest` with an injected I/O error on each of its
// mutating file-system calls in turn (SLUICE_FAIL_MUTATION=N, common/fault_env.h). Every one
// fails cleanly or is harmless, leaves nothing half-visible, and ingesting again completes the
// batch exactly once.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/failpoint.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

// Two partitions: few mutating calls (each partition file costs a directory and a rename).
OrderGeneratorOptions SmallData() {
  OrderGeneratorOptions o;
  o.orders = 80;
  o.batches = 1;
  o.seed = 91;
  o.tenants = 2;
  o.days = 1;
  return o;
}

const char* const kStaged =
    "SELECT COLUMNS(lambda c: c NOT IN ('_ingested_at', '_correlation_id'))::VARCHAR "
    "FROM staging.orders ORDER BY ALL";

TEST(IoErrors, EachMutatingCallOfAnIngestFailsCleanlyAndIngestingAgainCompletes) {
  TempDir clean_tmp;
  Project clean = MakeExampleProject(clean_tmp.path() + "/shop", SmallData());
  ProcessResult ok = clean.Sluice("ingest", {"orders", clean.Landing() + "/batch-0001.jsonl"});
  ASSERT_TRUE(ok.ok()) << ok.Describe();
  const auto staged = clean.Rows(kStaged);
  ASSERT_FALSE(staged.empty());

  constexpr int kMaxCalls = 60;
  int fired = 0;
  bool past_the_last_call = false;
  for (int n = 1; n <= kMaxCalls && !past_the_last_call; ++n) {
    const std::string what = "I/O error on mutating call " + std::to_string(n);
    TempDir tmp;
    Project p = MakeExampleProject(tmp.path() + "/shop", SmallData());
    const std::string file = p.Landing() + "/batch-0001.jsonl";
    ProcessResult failed =
        p.Sluice("ingest", {"orders", file}, {{"SLUICE_FAIL_MUTATION", std::to_string(n)}});
    const std::string marker = p.Path(kInjectedErrorMarker);
    if (!fs::exists(marker)) {
      // The command made fewer than n mutating calls: the sweep is complete.
      ASSERT_TRUE(failed.ok()) << what << " was never injected, yet: " << failed.Describe();
      past_the_last_call = true;
      continue;
    }
    ++fired;
    fs::remove(marker);
    // Best-effort calls (removing an emptied temp directory) may fail without failing the
    // command; any other failure is a clean one-line error.
    if (!failed.ok()) ExpectCleanFailure(failed, what);

    // Nothing half-visible before any recovery (G4): none of the batch or all of it. A lake
    // whose creation the error interrupted (no database file, or one without the catalog's
    // tables yet) cannot be read at all: then the ingest must have failed.
    ProcessResult count = p.Sluice("query", {"SELECT count(*) FROM staging.orders", "--format", "csv"});
    if (count.ok()) {
      const std::string visible = count.out.substr(count.out.find('\n') + 1);
      EXPECT_TRUE(visible == "0\n" || visible == std::to_string(staged.size()) + "\n")
          << what << ": " << visible << " rows visible";
    } else {
      EXPECT_FALSE(failed.ok()) << what
                                << ": the ingest succeeded but the lake cannot be read: " << count.Describe();
    }

    ProcessResult again = p.Sluice("ingest", {"orders", file});
    ASSERT_TRUE(again.ok()) << what << ", then ingest again: " << again.Describe();
    EXPECT_EQ(p.Rows(kStaged), staged) << what;
    EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "1") << what;
    EXPECT_TRUE(TempLeftovers(p.Lake()).empty())
        << what << ": " << ::testing::PrintToString(TempLeftovers(p.Lake()));
  }
  EXPECT_TRUE(past_the_last_call) << "an ingest made more than " << kMaxCalls
                                  << " mutating calls: raise kMaxCalls";
  EXPECT_GE(fired, 5) << "too few mutating calls injected to mean anything";
  RecordProperty("mutating_calls", std::to_string(fired));
}

}  // namespace
}  // namespace sluice::e2e
