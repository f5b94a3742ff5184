// Crash safety of `sluice dlq redrive`: it commits a new batch through the batch commit protocol
// and, in the same transaction, marks the dead-lettered rows it loaded. Killed at each step of
// that protocol and run again, the lake must end exactly as after an uninterrupted redrive (G5),
// with every redriven row loaded once (G2, G3).
#include <gtest/gtest.h>

#include <csignal>

#include "common/failpoint.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

const char* kContract =
    "name: orders\ncompatibility: none\ncolumns:\n"
    "  order_id:   {type: string, required: true}\n"
    "  tenant_id:  {type: string, required: true}\n"
    "  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled%s]}\n"
    "  amount:     {type: decimal(12,2), min: 0}\n"
    "  created_at: {type: timestamp, required: true}\n"
    "  seq:        {type: int64, required: true}\n";

std::string Contract(bool with_refunded) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, kContract, with_refunded ? ", refunded" : "");
  return buf;
}

// A project whose last batch has rows that fail only because `refunded` is not in the enum yet.
Project MakeProject(const std::string& dir) {
  OrderGeneratorOptions o;
  o.orders = 60;
  o.batches = 2;
  o.invalid_rate = 0;
  Project p = MakeExampleProject(dir, o);
  WriteFileOrDie(p.Path("contracts/orders.yaml"), Contract(false));
  std::string rows;
  for (int i = 1; i <= 5; ++i) {
    rows += "{\"order_id\":\"r" + std::to_string(i) + "\",\"tenant_id\":\"t0" + std::to_string(i % 3) +
            "\",\"status\":\"refunded\",\"amount\":" + std::to_string(i) + ".5,\"created_at\":\"2026-01-0" +
            std::to_string(i) + "T10:00:00Z\",\"seq\":9}\n";
  }
  WriteFileOrDie(p.Landing() + "/batch-9999.jsonl", rows);
  // That batch is all dead letters, on purpose: above the default max_dead_ratio it is refused.
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const size_t at = yaml.find("    contract: contracts/orders.yaml");
  EXPECT_NE(at, std::string::npos) << yaml;
  if (at != std::string::npos) yaml.insert(at, "    max_dead_ratio: 1\n");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
  return p;
}

// The user's fix: `refunded` becomes valid in the contract and in the table's accepted_values.
void AcceptRefunded(const Project& p) {
  WriteFileOrDie(p.Path("contracts/orders.yaml"), Contract(true));
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const size_t at = yaml.find("cancelled]");
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, 10, "cancelled, refunded]");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
}

// The redrive path's failpoints: those of the batch commit protocol.
std::vector<std::string> RedriveFailpoints() {
  std::vector<std::string> out;
  for (const std::string& fp : AllFailpoints()) {
    if (fp.rfind("ingest.", 0) == 0) out.push_back(fp);
  }
  return out;
}

class RedriveCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RedriveCrashTest, KilledThereThenRedrivenAgainEqualsACleanRedrive) {
  TempDir clean_dir, crash_dir;
  Project clean = MakeProject(clean_dir.path() + "/shop");
  clean.RunJson();
  AcceptRefunded(clean);
  ASSERT_TRUE(clean.Sluice("dlq", {"redrive", "orders"}).ok());
  clean.RunJson();
  ASSERT_EQ(clean.Scalar("SELECT count(*) FROM curated.orders WHERE status = 'refunded'"), "5");

  Project p = MakeProject(crash_dir.path() + "/shop");
  p.RunJson();
  AcceptRefunded(p);
  const std::string& failpoint = GetParam();
  ProcessResult crashed =
      p.Sluice("dlq", {"redrive", "orders"}, {{"SLUICE_FAILPOINTS", failpoint + "=crash"}});
  ASSERT_TRUE(crashed.signaled) << failpoint << " not reached: " << crashed.Describe();
  EXPECT_EQ(crashed.term_signal, SIGKILL);

  ProcessResult again = p.Sluice("dlq", {"redrive", "orders"});
  ASSERT_TRUE(again.ok()) << again.Describe();
  p.RunJson();

  ExpectSameSnapshot(TakeSnapshot(clean), TakeSnapshot(p), "redrive killed at " + failpoint);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders WHERE status = 'refunded'"), "5");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders WHERE status = 'open'"), "0");
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty());
}

INSTANTIATE_TEST_SUITE_P(CommitSteps, RedriveCrashTest, ::testing::ValuesIn(RedriveFailpoints()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = (c == '.') ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace sluice::e2e
