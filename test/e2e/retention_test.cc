// Staging retention and the cold tier (docs/LIFECYCLE.md) on the real binary, its clock driven
// by faketime: 30 batches committed one a day, then `sluice vacuum` 30.5 days after the first.
// Checked exactly: which batches stay hot, move to the cold tier (one compacted file per
// ingestion day) or are deleted, against the ledger's commit order; `--dry-run` changes nothing;
// staging.orders answers the same before and after the move (minus the deleted batches), an
// independent DuckDB reading the cold files finds each moved batch's rows; a full refresh of
// curated over cold data equals the generator's final state; kill -9 at each step of a move and a
// delete leaves every row readable exactly once, and the next vacuum finishes the job.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "common/failpoint.h"
#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

constexpr int kDays = 30;
// Batch i (0-based) commits on 2026-12-(i+1) at 08:00; vacuum runs on 2026-12-31 at 20:00, so
// batch i is 30.5 - i days old: with hot 7d and cold 20d, 0..10 are deleted, 11..23 move and
// 24..29 stay hot.
constexpr const char* kVacuumAt = "2026-12-31 20:00:00";
constexpr int kFirstMoved = 11, kFirstHot = 24;

std::string DayAt(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-12-%02d 08:00:00", i + 1);
  return buf;
}

// libfaketime, preloaded into the sluice process itself (not through the `faketime` wrapper,
// which forks and reports a child's SIGKILL as exit status 1: the crash tests need the signal).
constexpr const char* kLibFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

// The environment of a sluice process whose clock starts at `at` (UTC). libfaketime is preloaded
// ahead of the sanitizers' runtime: ASan must not insist on coming first.
std::vector<std::pair<std::string, std::string>> ClockAt(const std::string& at) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "";
  return {{"TZ", "UTC"},
          {"LD_PRELOAD", kLibFaketime},
          {"FAKETIME", "@" + at},
          {"ASAN_OPTIONS", asan_options + "verify_asan_link_order=0"}};
}

// `sluice <command> <args> --project <dir>` with the process's clock starting at `at` (UTC).
ProcessResult SluiceAt(const Project& p, const std::string& at, const std::string& command,
                       const std::vector<std::string>& args = {},
                       const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::vector<std::string> argv = {command};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--project");
  argv.push_back(p.dir());
  ProcessOptions o;
  o.cwd = p.dir();
  o.env = ClockAt(at);
  o.env.insert(o.env.end(), env.begin(), env.end());
  return RunProcess(SluiceBinary(), argv, o);
}

Json VacuumJson(const Project& p, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult r = SluiceAt(p, kVacuumAt, "vacuum", args);
  EXPECT_TRUE(r.ok()) << r.Describe();
  return r.ok() ? Json::parse(r.out) : Json();
}

void SetRetention(const Project& p, const std::string& block) {
  WriteFileOrDie(p.Path("sluice.yaml"), ReadFileOrDie(p.Path("sluice.yaml")) + block);
}

// Every row of staging.orders as text, batch id first, sorted.
constexpr const char* kAllStaged =
    "SELECT _batch_id, COLUMNS(* EXCLUDE (_batch_id))::VARCHAR FROM staging.orders ORDER BY ALL";

// The example project with 30 batches, each committed on its own day by `sluice run`: built
// once, copied for each test.
class RetentionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new TempDir("sluice-e2e-retention");
    OrderGeneratorOptions o;
    o.orders = 300;
    o.batches = kDays;
    o.days = 7;
    Project p = MakeExampleProject(base_->path() + "/shop", o);
    fs::create_directories(p.Path("incoming"));
    for (const auto& e : fs::directory_iterator(p.Landing())) {
      if (e.path().extension() == ".jsonl")
        fs::rename(e.path(), p.Path("incoming/" + e.path().filename().string()));
    }
    for (int i = 0; i < kDays; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "batch-%04d.jsonl", i + 1);
      fs::copy_file(p.Path(std::string("incoming/") + name), p.Landing() + "/" + name);
      ProcessResult r = SluiceAt(p, DayAt(i), "run", {"--json"});
      ASSERT_TRUE(r.ok()) << "day " << i << ": " << r.Describe();
    }
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }

  // A copy of the loaded project under this test's own directory.
  Project Copy() {
    const std::string dir = tmp_.path() + "/shop";
    fs::copy(base_->path() + "/shop", dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    return Project(dir);
  }

  static TempDir* base_;
  TempDir tmp_{"sluice-e2e-retention-case"};
};
TempDir* RetentionTest::base_ = nullptr;

// Batch ids in commit order, and each batch's staging files (lake-relative) with their bytes.
struct Ledger {
  std::vector<std::string> batches;
  std::map<std::string, std::vector<std::string>> files;
};
Ledger ReadLedger(const Project& p) {
  Ledger l;
  for (const auto& r : p.Rows("SELECT batch_id FROM meta.batches ORDER BY batch_seq"))
    l.batches.push_back(r[0]);
  for (const auto& r : p.Rows("SELECT batch_id, path FROM meta.files ORDER BY path"))
    l.files[r[0]].push_back(r[1]);
  return l;
}

std::vector<std::string> Slice(const std::vector<std::string>& v, int from, int to) {
  return {v.begin() + from, v.begin() + to};
}

std::vector<std::string> JsonBatches(const Json& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    for (const auto& b : item["batches"]) out.push_back(b.get<std::string>());
  }
  return out;
}

std::vector<std::vector<std::string>> Without(const std::vector<std::vector<std::string>>& rows,
                                              const std::vector<std::string>& batches) {
  std::set<std::string> drop(batches.begin(), batches.end());
  std::vector<std::vector<std::string>> out;
  for (const auto& r : rows) {
    if (!drop.count(r[0])) out.push_back(r);
  }
  return out;
}

// Regular files below `dir`, relative to it, sorted.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> HotFilesOf(const Ledger& l, const std::vector<std::string>& batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    for (const auto& f : l.files.at(b)) out.push_back(f.substr(std::string("staging/orders/").size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(RetentionTest, VacuumMovesAndDeletesByIngestionTime) {
  Project p = Copy();
  SetRetention(p, "retention:\n  staging: {hot: 7d, cold: 20d}\n");
  const Ledger ledger = ReadLedger(p);
  ASSERT_EQ(ledger.batches.size(), static_cast<size_t>(kDays));
  const auto deleted = Slice(ledger.batches, 0, kFirstMoved);
  const auto moved = Slice(ledger.batches, kFirstMoved, kFirstHot);
  const auto hot = Slice(ledger.batches, kFirstHot, kDays);
  const auto staged_before = p.Rows(kAllStaged);
  const auto curated_before = p.Rows("SELECT COLUMNS(*)::VARCHAR FROM curated.orders ORDER BY ALL");
  int64_t deleted_bytes = 0, moved_bytes = 0;
  for (const auto& b : deleted) {
    for (const auto& f : ledger.files.at(b)) deleted_bytes += fs::file_size(p.Lake() + "/" + f);
  }
  for (const auto& b : moved) {
    for (const auto& f : ledger.files.at(b)) moved_bytes += fs::file_size(p.Lake() + "/" + f);
  }

  // --dry-run: the plan, with bytes, and nothing changed.
  const auto tree = ListTree(p.Lake() + "/staging");
  Json dry = VacuumJson(p, {"--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(JsonBatches(dry["staging_deleted"]), deleted);
  EXPECT_EQ(JsonBatches(dry["staging_moved"]), moved);
  EXPECT_EQ(dry["staging_moved"].size(), moved.size()) << "one cold file per ingestion day";
  int64_t dry_moved_bytes = 0, dry_deleted_bytes = 0;
  for (const auto& m : dry["staging_moved"]) dry_moved_bytes += m["hot_bytes"].get<int64_t>();
  for (const auto& d : dry["staging_deleted"]) dry_deleted_bytes += d["bytes"].get<int64_t>();
  EXPECT_EQ(dry_moved_bytes, moved_bytes);
  EXPECT_EQ(dry_deleted_bytes, deleted_bytes);
  EXPECT_EQ(ListTree(p.Lake() + "/staging"), tree);
  EXPECT_FALSE(fs::exists(p.Lake() + "/cold"));
  EXPECT_EQ(p.Rows(kAllStaged), staged_before);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.lifecycle"), "0");

  Json v = VacuumJson(p);
  EXPECT_EQ(v["dry_run"], false);
  EXPECT_EQ(JsonBatches(v["staging_deleted"]), deleted);
  EXPECT_EQ(JsonBatches(v["staging_moved"]), moved);
  EXPECT_TRUE(v["held"].empty()) << v.dump();

  // On disk: the hot batches' files in staging, one cold file per moved batch's day.
  EXPECT_EQ(FilesUnder(p.Lake() + "/staging/orders"), HotFilesOf(ledger, hot));
  std::vector<std::string> cold_want;
  for (int i = kFirstMoved; i < kFirstHot; ++i) {
    const std::string seq = std::to_string(i + 1);
    cold_want.push_back("orders/v1/ingested=" + DayAt(i).substr(0, 10) + "/batches-" + seq + "-" + seq +
                        ".parquet");
  }
  EXPECT_EQ(FilesUnder(p.Lake() + "/cold"), cold_want);
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty());

  // The same answer over staging, minus the deleted batches; curated untouched.
  EXPECT_EQ(p.Rows(kAllStaged), Without(staged_before, deleted));
  EXPECT_EQ(p.Rows("SELECT COLUMNS(*)::VARCHAR FROM curated.orders ORDER BY ALL"), curated_before);
  // An independent reader of the cold files finds each moved batch's rows, no other.
  DuckReader duck;
  auto cold_rows = duck.Rows("SELECT _batch_id, count(*)::VARCHAR FROM read_parquet(" +
                             Quote(p.Lake() + "/cold/orders/*/*/*.parquet") +
                             ", hive_partitioning = false) GROUP BY ALL ORDER BY ALL");
  std::map<std::string, int64_t> want_counts;
  for (const auto& r : staged_before) {
    if (std::find(moved.begin(), moved.end(), r[0]) != moved.end()) ++want_counts[r[0]];
  }
  std::vector<std::vector<std::string>> want_rows;
  for (const auto& [b, n] : want_counts) want_rows.push_back({b, std::to_string(n)});
  EXPECT_EQ(cold_rows, want_rows);
  auto codec = duck.Rows("SELECT DISTINCT compression FROM parquet_metadata(" +
                         Quote(p.Lake() + "/cold/orders/*/*/*.parquet") + ")");
  EXPECT_EQ(codec, (std::vector<std::vector<std::string>>{{"ZSTD"}}));

  // A query over staging says how many cold files it read; one over curated says nothing.
  ProcessResult q = p.Sluice("query", {"SELECT count(*) FROM staging.orders", "--format", "csv"});
  ASSERT_TRUE(q.ok()) << q.Describe();
  EXPECT_NE(q.err.find("read " + std::to_string(moved.size()) + " cold files (staging.orders)"),
            std::string::npos)
      << q.err;
  q = p.Sluice("query", {"SELECT count(*) FROM curated.orders", "--format", "csv"});
  EXPECT_EQ(q.err, "");

  // The catalog's record: one delete, a move per cold file.
  EXPECT_EQ(p.Rows("SELECT action, count(*)::VARCHAR, sum(files)::VARCHAR FROM meta.lifecycle GROUP BY ALL "
                   "ORDER BY ALL"),
            (std::vector<std::vector<std::string>>{
                {"deleted", "1", std::to_string(HotFilesOf(ledger, deleted).size())},
                {"moved", std::to_string(moved.size()), std::to_string(moved.size())}}));

  // The vacuum's OpenLineage run: START and COMPLETE of job "vacuum", staging.orders in,
  // cold.orders out with the rows moved; valid against the OpenLineage schema.
  std::vector<Json> events;
  for (const auto& e : fs::directory_iterator(p.Lake() + "/lineage")) {
    std::istringstream lines(ReadFileOrDie(e.path().string()));
    for (std::string line; std::getline(lines, line);) {
      Json event = Json::parse(line);
      if (event["job"]["name"] == "vacuum") events.push_back(event);
    }
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["eventType"], "START");
  EXPECT_EQ(events[1]["eventType"], "COMPLETE");
  ASSERT_EQ(events[1]["outputs"].size(), 1u);
  EXPECT_EQ(events[1]["outputs"][0]["name"], "cold.orders");
  int64_t moved_rows = 0;
  for (const auto& [b, n] : want_counts) moved_rows += n;
  EXPECT_EQ(events[1]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"], moved_rows);
  EXPECT_EQ(events[1]["inputs"][0]["name"], "staging.orders");
  {
    const std::string file = p.Path("vacuum-events.jsonl");
    WriteFileOrDie(file, events[0].dump() + "\n" + events[1].dump() + "\n");
    ProcessOptions options;
    options.env = {{"NODE_PATH", std::string(SLUICE_DOCS_ROOT) + "/third_party/node/node_modules"}};
    ProcessResult valid = RunProcess("/usr/bin/node",
                                     {std::string(SLUICE_DOCS_ROOT) + "/test/e2e/validate_json_schema.js",
                                      SLUICE_OPENLINEAGE_SPECS, "OpenLineage.json", file},
                                     options);
    EXPECT_TRUE(valid.ok()) << valid.Describe();
  }

  // `sluice status` shows the latest ten, newest first: the last move.
  ProcessResult status = p.Sluice("status", {"--json"});
  ASSERT_TRUE(status.ok()) << status.Describe();
  Json lifecycle = Json::parse(status.out)["lifecycle"];
  ASSERT_EQ(lifecycle.size(), 10u) << status.out;
  EXPECT_EQ(lifecycle[0]["action"], "moved");
  EXPECT_EQ(lifecycle[0]["target"], "staging.orders");
  EXPECT_EQ(lifecycle[0]["files"], 1);
  EXPECT_EQ(lifecycle[0]["bytes"], fs::file_size(p.Lake() + "/cold/" + cold_want.back()));
  status = p.Sluice("status");
  EXPECT_NE(status.out.find("\nlifecycle (latest first)\n"), std::string::npos) << status.out;

  // Again: nothing left to do.
  Json again = VacuumJson(p);
  EXPECT_TRUE(again["staging_moved"].empty()) << again.dump();
  EXPECT_TRUE(again["staging_deleted"].empty()) << again.dump();
  EXPECT_EQ(p.Rows(kAllStaged), Without(staged_before, deleted));
}

// Moved only (no `cold`): a full refresh rebuilds curated from hot and cold files alike and
// equals the generator's final state.
TEST_F(RetentionTest, FullRefreshReadsTheColdTier) {
  Project p = Copy();
  SetRetention(p, "retention:\n  staging: {hot: 7d}\n");
  const auto staged_before = p.Rows(kAllStaged);
  Json v = VacuumJson(p);
  EXPECT_EQ(JsonBatches(v["staging_moved"]).size(), static_cast<size_t>(kFirstHot));
  EXPECT_TRUE(v["staging_deleted"].empty());
  EXPECT_EQ(p.Rows(kAllStaged), staged_before);
  ProcessResult r = SluiceAt(p, kVacuumAt, "run", {"--full-refresh", "--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  ExpectCuratedOrdersEqualFinalState(p, Json::parse(ReadFileOrDie(p.Landing() + "/expected.json")),
                                     "curated rebuilt over the cold tier");
}

// Nothing leaves while a batch is inside the source's replay window.
TEST_F(RetentionTest, ReplayWindowHoldsBatches) {
  Project p = Copy();
  SetRetention(p, "retention:\n  staging: {hot: 7d, cold: 20d}\n");
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string part = "    partition_by: {day: created_at, tenant: tenant_id}\n";
  yaml.replace(yaml.find(part), part.size(), part + "    replay_window: 25d\n");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
  const Ledger ledger = ReadLedger(p);
  Json v = VacuumJson(p);
  // Batches 0..5 (30.5..25.5 days old) are outside the window: deleted; the rest stay hot.
  EXPECT_EQ(JsonBatches(v["staging_deleted"]), Slice(ledger.batches, 0, 6));
  EXPECT_TRUE(v["staging_moved"].empty()) << v.dump();
  std::set<std::string> held;
  for (const auto& h : v["held"]) {
    EXPECT_EQ(h["reason"], "replay window") << h.dump();
    held.insert(h["batch_id"].get<std::string>());
  }
  const auto want = Slice(ledger.batches, 6, kFirstHot);
  EXPECT_EQ(held, std::set<std::string>(want.begin(), want.end()));
}

// kill -9 at each step of a delete and a move: right after, a reader sees every remaining row
// exactly once; the next vacuum finishes, with the same files as an uninterrupted one.
TEST_F(RetentionTest, KilledAtEachVacuumStepThenVacuumedAgain) {
  Project clean = Copy();
  SetRetention(clean, "retention:\n  staging: {hot: 7d, cold: 20d}\n");
  const Ledger ledger = ReadLedger(clean);
  const auto want = Without(clean.Rows(kAllStaged), Slice(ledger.batches, 0, kFirstMoved));
  VacuumJson(clean);
  const auto clean_staging = FilesUnder(clean.Lake() + "/staging/orders");
  const auto clean_cold = FilesUnder(clean.Lake() + "/cold");
  ASSERT_EQ(clean.Rows(kAllStaged), want);
  int tried = 0;
  for (const std::string& fp : AllFailpoints()) {
    if (fp.rfind("vacuum.", 0) != 0) continue;
    ++tried;
    TempDir tmp("sluice-e2e-retention-crash");
    const std::string dir = tmp.path() + "/shop";
    fs::copy(base_->path() + "/shop", dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    Project p(dir);
    SetRetention(p, "retention:\n  staging: {hot: 7d, cold: 20d}\n");
    ProcessResult crashed = SluiceAt(p, kVacuumAt, "vacuum", {}, {{"SLUICE_FAILPOINTS", fp + "=crash"}});
    ASSERT_TRUE(crashed.signaled) << fp << " was not reached: " << crashed.Describe();
    EXPECT_EQ(crashed.term_signal, SIGKILL) << fp;
    // A reader before any recovery (read-only opens recover nothing).
    EXPECT_EQ(p.Rows(kAllStaged), want) << fp << ": right after the crash";
    ProcessResult again = SluiceAt(p, kVacuumAt, "vacuum", {"--json"});
    ASSERT_TRUE(again.ok()) << fp << ": " << again.Describe();
    EXPECT_EQ(p.Rows(kAllStaged), want) << fp << ": after vacuuming again";
    EXPECT_EQ(FilesUnder(p.Lake() + "/staging/orders"), clean_staging) << fp;
    EXPECT_EQ(FilesUnder(p.Lake() + "/cold"), clean_cold) << fp;
    EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << fp;
    EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.retired_files"), "0") << fp;
  }
  EXPECT_EQ(tried, 5);
}

// Idempotency keys expire by retention.idempotency_keys: a retried request within it is answered
// from the key (nothing loaded again); after `sluice vacuum` forgot the key, it is loaded again.
TEST(IdempotencyRetention, RetryAfterExpiryIsLoadedAgain) {
  TempDir tmp("sluice-e2e-idempotency-retention");
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  MakeStreamSource(p, "    type: http\n", "transform: {interval: 500ms}\nretention: {idempotency_keys: 7d}");
  std::string body;
  for (int i = 0; i < 20; ++i) {
    body += "{\"order_id\":\"k" + std::to_string(i) +
            "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1.5,"
            "\"created_at\":\"2026-01-05T10:00:00Z\",\"seq\":1}\n";
  }
  auto serve_at = [&](const std::string& at) { return ServeProcess::Start(p, {}, ClockAt(at)); };
  auto post = [&](const std::string& at) {
    auto server = serve_at(at);
    EXPECT_NE(server, nullptr);
    if (server == nullptr) return Json();
    HttpClient client(server->port());
    HttpResponse r = client.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", "order-batch-1"}});
    EXPECT_EQ(r.status, 200) << r.body;
    ProcessResult stopped = server->Terminate();
    EXPECT_TRUE(stopped.ok()) << stopped.Describe();
    return r.json();
  };
  EXPECT_EQ(post("2026-12-01 08:00:00")["replayed"], false);
  // Thirty days later the key is forgotten: the same request is loaded again.
  Json v = VacuumJson(p);
  EXPECT_EQ(v["idempotency_keys_expired"], 1);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.idempotency"), "0");
  EXPECT_EQ(
      p.Scalar(
          "SELECT count(*) FROM meta.lifecycle WHERE action = 'expired' AND target = 'meta.idempotency'"),
      "1");
  EXPECT_EQ(post("2026-12-31 21:00:00")["replayed"], false) << "the key expired: loaded again";
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), "40");
  EXPECT_EQ(p.Scalar("SELECT count(DISTINCT _batch_id) FROM staging.orders"), "2");
  // Within the retention (a vacuum 3 days after the second load keeps its key): replayed.
  ProcessResult kept = SluiceAt(p, "2027-01-03 21:00:00", "vacuum", {"--json"});
  ASSERT_TRUE(kept.ok()) << kept.Describe();
  EXPECT_EQ(Json::parse(kept.out)["idempotency_keys_expired"], 0);
  EXPECT_EQ(post("2027-01-03 22:00:00")["replayed"], true);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), "40");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "20");
}

}  // namespace
}  // namespace sluice::e2e
