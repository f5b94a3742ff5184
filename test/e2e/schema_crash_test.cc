// Crash safety of schema evolution: registering a new contract version and evolving the tables
// (ALTER TABLE ... ADD COLUMN) commit in one transaction before any data is touched. Killed just
// before that commit, the next run must evolve exactly once and end as an uninterrupted one (G5).
#include <gtest/gtest.h>

#include <csignal>

#include "harness.h"

namespace sluice::e2e {
namespace {

// Adds a column with a default to the example contract: compatible in every mode.
void AddNoteColumn(const Project& p) {
  std::string contract = ReadFileOrDie(p.Path("contracts/orders.yaml"));
  contract += "  note:       {type: string, default: none}\n";
  WriteFileOrDie(p.Path("contracts/orders.yaml"), contract);
}

Project Evolved(const std::string& dir, bool crash) {
  OrderGeneratorOptions o;
  o.orders = 80;
  o.batches = 2;
  Project p = MakeExampleProject(dir, o);
  p.RunJson();
  AddNoteColumn(p);
  if (crash) {
    ProcessResult r = p.Sluice("run", {}, {{"SLUICE_FAILPOINTS", "schema.before_commit=crash"}});
    EXPECT_TRUE(r.signaled) << "schema.before_commit not reached: " << r.Describe();
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_EQ(p.Scalar("SELECT max(version) FROM meta.schemas"), "1");  // rolled back
  }
  p.RunJson();
  return p;
}

TEST(SchemaCrash, KilledBeforeTheEvolutionCommitsThenRunAgainEvolvesOnce) {
  TempDir clean_dir, crash_dir;
  Project clean = Evolved(clean_dir.path() + "/shop", /*crash=*/false);
  Project p = Evolved(crash_dir.path() + "/shop", /*crash=*/true);
  EXPECT_EQ(p.Scalar("SELECT max(version) FROM meta.schemas"), "2");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.schemas"), "2");
  const std::string notes = "SELECT note, count(*) FROM curated.orders GROUP BY ALL ORDER BY ALL";
  EXPECT_EQ(p.Rows(notes), clean.Rows(notes));
  EXPECT_EQ(p.Rows("SELECT count(*) FROM staging.orders WHERE note = 'none'"),
            clean.Rows("SELECT count(*) FROM staging.orders WHERE note = 'none'"));
  ExpectSameSnapshot(TakeSnapshot(clean), TakeSnapshot(p), "evolution killed before commit");
}

}  // namespace
}  // namespace sluice::e2e
