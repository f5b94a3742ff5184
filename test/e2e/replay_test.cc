// G2 idempotent batches: replaying every batch and re-running changes nothing; a used explicit
// batch id with different content is refused and changes nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> LandingFiles(const Project& p) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(p.Landing())) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Replay, EveryBatchTwiceAndRunAgainChangeNothing) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 2000;
  o.batches = 4;
  o.seed = 21;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  ASSERT_FALSE(p.RunJson().is_null());
  Snapshot before = TakeSnapshot(p);
  ASSERT_FALSE(before["curated.orders"].empty());
  DuckReader duck;
  auto published_before =
      ReadPublished(duck, p, "curated", "orders", "order_id, status, CAST(amount AS VARCHAR), seq");
  std::string current_before = fs::read_symlink(p.Lake() + "/published/curated/orders/current");

  // Each file again, one by one: a duplicate, exit 0.
  for (const std::string& file : LandingFiles(p)) {
    ProcessResult r = p.Sluice("ingest", {"orders", file});
    ASSERT_TRUE(r.ok()) << file << ": " << r.Describe();
    EXPECT_NE(r.out.find("duplicate"), std::string::npos) << file << ": " << r.out;
  }
  // All at once, as JSON.
  std::vector<std::string> args = {"orders"};
  for (const std::string& f : LandingFiles(p)) args.push_back(f);
  args.push_back("--json");
  ProcessResult all = p.Sluice("ingest", args);
  ASSERT_TRUE(all.ok()) << all.Describe();
  Json j = Json::parse(all.out);
  EXPECT_EQ(j["duplicates"], 4) << all.out;
  // The same content under another name and place is the same batch (id = content hash).
  WriteFileOrDie(tmp.path() + "/elsewhere/renamed.jsonl", ReadFileOrDie(LandingFiles(p)[0]));
  ProcessResult renamed = p.Sluice("ingest", {"orders", tmp.path() + "/elsewhere/renamed.jsonl"});
  ASSERT_TRUE(renamed.ok()) << renamed.Describe();
  EXPECT_NE(renamed.out.find("duplicate"), std::string::npos) << renamed.out;

  Json again = p.RunJson();
  ASSERT_FALSE(again.is_null());
  EXPECT_EQ(again["nothing_to_do"], true) << again.dump();
  EXPECT_EQ(again["ingest"]["batches"], 0) << again.dump();
  ProcessResult text = p.Sluice("run");
  ASSERT_TRUE(text.ok()) << text.Describe();
  EXPECT_NE(text.out.find("nothing to do"), std::string::npos) << text.out;

  ExpectSameSnapshot(before, TakeSnapshot(p), "after replaying every batch and re-running");
  EXPECT_EQ(ReadPublished(duck, p, "curated", "orders", "order_id, status, CAST(amount AS VARCHAR), seq"),
            published_before);
  EXPECT_EQ(fs::read_symlink(p.Lake() + "/published/curated/orders/current").string(), current_before)
      << "nothing changed, so nothing should have been republished";
}

TEST(Replay, ExplicitBatchIdReusedForOtherContentIsRefused) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 500;
  o.batches = 2;
  o.seed = 22;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  // Keep the files out of the landing glob, so only explicit ingests load them.
  fs::rename(p.Landing(), tmp.path() + "/incoming");
  fs::create_directories(p.Landing());
  std::string first = tmp.path() + "/incoming/batch-0001.jsonl";
  std::string second = tmp.path() + "/incoming/batch-0002.jsonl";

  ProcessResult r = p.Sluice("ingest", {"orders", first, "--batch-id", "order-export-7"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out.find("duplicate"), std::string::npos) << r.out;
  Snapshot before = TakeSnapshot(p);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE batch_id = 'order-export-7'"), "1");

  ProcessResult refused = p.Sluice("ingest", {"orders", second, "--batch-id", "order-export-7"});
  ExpectCleanFailure(refused, "batch id reused for different content");
  EXPECT_NE(refused.err.find("order-export-7"), std::string::npos)
      << "the error should name the batch id: " << refused.err;
  ExpectSameSnapshot(before, TakeSnapshot(p), "after the refused batch");

  // The same content under the same id is a duplicate, not an error.
  ProcessResult dup = p.Sluice("ingest", {"orders", first, "--batch-id", "order-export-7", "--json"});
  ASSERT_TRUE(dup.ok()) << dup.Describe();
  EXPECT_EQ(Json::parse(dup.out)["duplicates"], 1) << dup.out;
  ExpectSameSnapshot(before, TakeSnapshot(p), "after the duplicate");
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << ::testing::PrintToString(TempLeftovers(p.Lake()));
}

}  // namespace
}  // namespace sluice::e2e
