// Quality gates end to end with the real binary: a batch that violates `unique(email)` on a
// curated table is quarantined (exit 3), later clean batches still load and publish, `status`
// shows the batch and the failing test, and release after a fix (or drop) promotes it exactly
// once: curated and its published copy equal the ground truth.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

using Rows = std::vector<std::vector<std::string>>;

constexpr const char* kYaml = R"(name: crm
lake: lake
sources:
  customers:
    type: files
    path: landing/customers/*.jsonl
    format: jsonl
    contract: contracts/customers.yaml
tables:
  customers:
    from: customers
    key: [id]
    version: seq
    tests: [{unique: email}, {not_null: email, severity: warn}]
)";

constexpr const char* kContract = R"(name: customers
columns:
  id:    {type: string, required: true}
  email: {type: string}
  seq:   {type: int64, required: true}
)";

std::string Customer(const std::string& id, const std::string& email, int seq) {
  return "{\"id\":\"" + id + "\",\"email\":\"" + email + "\",\"seq\":" + std::to_string(seq) + "}\n";
}

// A project with c1 (clean), c2 (id3 reuses id1's email), c3 (clean, later), run once.
Project Scenario(const std::string& dir) {
  Project p(dir);
  fs::create_directories(p.Path("landing/customers"));
  fs::create_directories(p.Path("contracts"));
  WriteFileOrDie(p.Path("sluice.yaml"), kYaml);
  WriteFileOrDie(p.Path("contracts/customers.yaml"), kContract);
  WriteFileOrDie(p.Path("landing/customers/c1.jsonl"), Customer("id1", "a@x", 1) + Customer("id2", "b@x", 1));
  WriteFileOrDie(p.Path("landing/customers/c2.jsonl"), Customer("id3", "a@x", 1));
  WriteFileOrDie(p.Path("landing/customers/c3.jsonl"), Customer("id4", "d@x", 1));
  return p;
}

Rows Curated(const Project& p) { return p.Rows("SELECT id, email, seq FROM curated.customers ORDER BY id"); }

Rows Published(DuckReader& duck, const Project& p) {
  return ReadPublished(duck, p, "curated", "customers", "id, email, CAST(seq AS VARCHAR)");
}

std::string BatchOf(const Project& p, const std::string& file) {
  return p.Scalar("SELECT batch_id FROM meta.batches WHERE file LIKE '%/" + file + "'");
}

TEST(Gates, UniqueViolationIsQuarantinedThenReleasedOnceAfterFix) {
  TempDir tmp;
  Project p = Scenario(tmp.path() + "/crm");
  ProcessResult r = p.Sluice("run", {"--json"});
  ASSERT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_NE(r.err.find("quarantined"), std::string::npos) << r.err;
  Json summary = Json::parse(r.out);
  EXPECT_EQ(summary["status"], "quarantined");
  ASSERT_EQ(summary["quarantined"].size(), 1u) << r.out;
  const std::string bad = BatchOf(p, "c2.jsonl");
  EXPECT_EQ(summary["quarantined"][0]["batch_id"], bad);
  EXPECT_EQ(summary["quarantined"][0]["failures"][0]["test"], "unique(email)");
  EXPECT_EQ(summary["quarantined"][0]["failures"][0]["sample"], "a@x");

  // The later clean batch loaded and was published; the bad one is nowhere downstream.
  DuckReader duck;
  const Rows clean = {{"id1", "a@x", "1"}, {"id2", "b@x", "1"}, {"id4", "d@x", "1"}};
  EXPECT_EQ(Curated(p), clean);
  EXPECT_EQ(Published(duck, p), clean);

  // status: the quarantined batch and the failing test.
  ProcessResult st = p.Sluice("status");
  ASSERT_TRUE(st.ok()) << st.Describe();
  EXPECT_NE(st.out.find("quarantined batches"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("customers/" + bad), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("fail  curated.customers: unique(email)"), std::string::npos) << st.out;
  Json sj = Json::parse(p.Sluice("status", {"--json"}).out);
  EXPECT_EQ(sj["quarantined"].size(), 1u);
  EXPECT_EQ(sj["tests"]["counts"]["fail"], 1);
  ProcessResult listed = p.Sluice("batches", {"list", "--status", "quarantined"});
  ASSERT_TRUE(listed.ok()) << listed.Describe();
  EXPECT_NE(listed.out.find(bad), std::string::npos);
  EXPECT_NE(listed.out.find("unique(email)"), std::string::npos) << listed.out;

  // A run without new data leaves it quarantined and exits 0.
  ProcessResult again = p.Sluice("run");
  EXPECT_TRUE(again.ok()) << again.Describe();

  // The fix: id1 moves to another address. Then release: applied once, bypassing nothing.
  WriteFileOrDie(p.Path("landing/customers/c4.jsonl"), Customer("id1", "a2@x", 2));
  ASSERT_TRUE(p.Sluice("run").ok());
  ProcessResult rel = p.Sluice("batches", {"release", bad});
  ASSERT_TRUE(rel.ok()) << rel.Describe();
  ProcessResult rel2 = p.Sluice("batches", {"release", bad});
  ASSERT_TRUE(rel2.ok()) << rel2.Describe();
  EXPECT_NE(rel2.out.find("already released"), std::string::npos) << rel2.out;
  ProcessResult after = p.Sluice("run", {"--json"});
  ASSERT_TRUE(after.ok()) << after.Describe();
  EXPECT_EQ(Json::parse(after.out)["test_bypassed"].size(), 0u);
  ASSERT_TRUE(p.Sluice("run").ok());

  const Rows truth = {{"id1", "a2@x", "2"}, {"id2", "b@x", "1"}, {"id3", "a@x", "1"}, {"id4", "d@x", "1"}};
  EXPECT_EQ(Curated(p), truth);
  EXPECT_EQ(Published(duck, p), truth);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.applied WHERE batch_id = " + Quote(bad)), "1");
  EXPECT_EQ(p.Scalar("SELECT status FROM meta.batches WHERE batch_id = " + Quote(bad)), "released");
  // Releasing a batch that is not quarantined is refused.
  ExpectCleanFailure(p.Sluice("batches", {"drop", BatchOf(p, "c1.jsonl")}), "drop a committed batch");
}

TEST(Gates, DroppedBatchIsNeverApplied) {
  TempDir tmp;
  Project p = Scenario(tmp.path() + "/crm");
  ASSERT_EQ(p.Sluice("run").exit_code, 3);
  const std::string bad = BatchOf(p, "c2.jsonl");
  ProcessResult d = p.Sluice("batches", {"drop", bad});
  ASSERT_TRUE(d.ok()) << d.Describe();
  ProcessResult d2 = p.Sluice("batches", {"drop", bad});
  ASSERT_TRUE(d2.ok()) << d2.Describe();
  EXPECT_NE(d2.out.find("already dropped"), std::string::npos) << d2.out;
  ExpectCleanFailure(p.Sluice("batches", {"release", bad}), "release a dropped batch");
  ASSERT_TRUE(p.Sluice("run", {"--full-refresh"}).ok());
  DuckReader duck;
  const Rows truth = {{"id1", "a@x", "1"}, {"id2", "b@x", "1"}, {"id4", "d@x", "1"}};
  EXPECT_EQ(Curated(p), truth);
  EXPECT_EQ(Published(duck, p), truth);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.customers WHERE _batch_id = " + Quote(bad)), "0");
  Json listed = Json::parse(p.Sluice("batches", {"list", "--json"}).out);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[1]["status"], "dropped");
  EXPECT_FALSE(listed[1]["dropped_at"].is_null());
}

}  // namespace
}  // namespace sluice::e2e
