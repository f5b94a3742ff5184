// The batch ledger and commit protocol: lookups, batch ids, duplicates (G2), reconciliation
// counts (G1) and recovery of interrupted commits (G5).
#include "catalog/ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/hash.h"
#include "engine/engine.h"
#include "spec/spec.h"
#include "support/test_project.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

using testing::AllowDeadLetters;
using testing::kOrdersContract;
using testing::Order;
using testing::OrdersSpec;

class LedgerTest : public testing::ProjectTest {
 protected:
  LedgerTest() : ProjectTest("sluice_ledger_test") {}
  void SetUp() override {
    Write("sluice.yaml", AllowDeadLetters(OrdersSpec()));
    Write("contracts/orders.yaml", kOrdersContract);
    OpenEngine();
  }

  // Input files live outside the source's glob, so only IngestFile sees them.
  std::string Input(const std::string& name, const std::string& text) {
    Write("in/" + name, text);
    return dir_ + "/in/" + name;
  }
  IngestOutcome Ingest(const std::string& path, const std::string& id = "") {
    auto r = engine_->IngestFile("orders", path, id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : IngestOutcome{};
  }
  std::string lake() { return dir_ + "/lake"; }
};

TEST_F(LedgerTest, IsValidBatchId) {
  EXPECT_TRUE(IsValidBatchId("a"));
  EXPECT_TRUE(IsValidBatchId("batch-2026_01.03:7"));
  EXPECT_TRUE(IsValidBatchId("a.."));
  EXPECT_TRUE(IsValidBatchId(std::string(128, 'x')));
  EXPECT_FALSE(IsValidBatchId(""));
  EXPECT_FALSE(IsValidBatchId(std::string(129, 'x')));
  EXPECT_FALSE(IsValidBatchId("../x"));
  EXPECT_FALSE(IsValidBatchId(".hidden"));
  EXPECT_FALSE(IsValidBatchId(".."));
  EXPECT_FALSE(IsValidBatchId("a b"));
  EXPECT_FALSE(IsValidBatchId("a/b"));
  EXPECT_FALSE(IsValidBatchId("a\\b"));
  EXPECT_FALSE(IsValidBatchId("a'b"));
  EXPECT_FALSE(IsValidBatchId(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidBatchId("caf\xc3\xa9"));
}

TEST_F(LedgerTest, IngestRefusesInvalidBatchIdBeforeTouchingAnything) {
  std::string f = Input("a.jsonl", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1));
  for (const std::string& id : std::vector<std::string>{"../x", "a b", std::string(129, 'y')}) {
    auto r = engine_->IngestFile("orders", f, id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 0);
  EXPECT_FALSE(fs::exists(lake() + "/staging/x"));
  EXPECT_FALSE(fs::exists(lake() + "/staging/orders/_tmp"));
}

TEST_F(LedgerTest, FindAndListBatches) {
  auto none = FindBatch(cat(), "orders", "nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto none_hash = FindBatchByHash(cat(), "orders", ContentHash("x"));
  ASSERT_TRUE(none_hash.ok());
  EXPECT_FALSE(none_hash->has_value());
  auto empty = ListBatches(cat());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  std::string t1 = Order("o1", "t1", "paid", "1.00", "2026-01-01", 1);
  std::string t2 =
      Order("o2", "t1", "paid", "2.00", "2026-01-01", 1) + Order("o3", "t2", "paid", "3.00", "2026-01-02", 1);
  std::string t3 = Order("o4", "t1", "paid", "4.00", "2026-01-03", 1);
  std::string f1 = Input("1.jsonl", t1), f2 = Input("2.jsonl", t2), f3 = Input("3.jsonl", t3);
  IngestOutcome o1 = Ingest(f1);
  IngestOutcome o2 = Ingest(f2, "explicit-2");
  IngestOutcome o3 = Ingest(f3);
  EXPECT_EQ(o1.batch_id, ContentHash(t1));  // default id: content hash
  EXPECT_EQ(o2.batch_id, "explicit-2");
  EXPECT_EQ(o3.batch_id, ContentHash(t3));

  auto list = ListBatches(cat());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  const std::vector<std::string> ids = {ContentHash(t1), "explicit-2", ContentHash(t3)};
  const std::vector<std::string> files = {f1, f2, f3};
  const std::vector<int64_t> rows = {1, 2, 1};
  for (size_t i = 0; i < 3; ++i) {
    const BatchRecord& b = (*list)[i];
    EXPECT_EQ(b.source, "orders");
    EXPECT_EQ(b.batch_id, ids[i]);
    EXPECT_EQ(b.batch_seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(b.file, files[i]);
    EXPECT_EQ(b.rows_read, rows[i]);
    EXPECT_EQ(b.rows_staged, rows[i]);
    EXPECT_EQ(b.rows_dead, 0);
    EXPECT_EQ(b.status, "committed");
    EXPECT_EQ(b.correlation_id.size(), 32u);
    EXPECT_LE(b.started_at, b.committed_at);
  }
  EXPECT_EQ((*list)[1].content_hash, ContentHash(t2));
  EXPECT_NE((*list)[0].correlation_id, (*list)[1].correlation_id);

  auto by_id = FindBatch(cat(), "orders", "explicit-2");
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->batch_seq, 2);
  EXPECT_EQ((*by_id)->rows_read, 2);
  EXPECT_EQ((*by_id)->content_hash, ContentHash(t2));

  auto by_hash = FindBatchByHash(cat(), "orders", ContentHash(t2));
  ASSERT_TRUE(by_hash.ok());
  ASSERT_TRUE(by_hash->has_value());
  EXPECT_EQ((*by_hash)->batch_id, "explicit-2");

  // Source is part of the identity.
  auto other_source = FindBatch(cat(), "customers", "explicit-2");
  ASSERT_TRUE(other_source.ok());
  EXPECT_FALSE(other_source->has_value());
  auto other_hash = FindBatchByHash(cat(), "customers", ContentHash(t2));
  ASSERT_TRUE(other_hash.ok());
  EXPECT_FALSE(other_hash->has_value());

  // Lookups survive a restart.
  OpenEngine();
  auto again = ListBatches(cat());
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 3u);
  EXPECT_EQ((*again)[2].batch_id, ContentHash(t3));
  EXPECT_EQ((*again)[2].batch_seq, 3);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 4);
}

TEST_F(LedgerTest, SameFileTwiceIsADuplicate) {
  std::string text =
      Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) + Order("o2", "t2", "paid", "2.00", "2026-01-02", 1);
  std::string f = Input("a.jsonl", text);
  IngestOutcome first = Ingest(f);
  EXPECT_FALSE(first.duplicate);
  EXPECT_EQ(first.rows_staged, 2);
  int64_t files = Int("SELECT count(*) FROM meta.files");

  IngestOutcome second = Ingest(f);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.batch_id, first.batch_id);
  EXPECT_EQ(second.rows_staged, 0);

  // The same bytes under another name are the same batch too.
  IngestOutcome copy = Ingest(Input("copy.jsonl", text));
  EXPECT_TRUE(copy.duplicate);
  EXPECT_EQ(copy.batch_id, first.batch_id);

  // And with the batch's own id given explicitly.
  IngestOutcome explicit_same = Ingest(f, first.batch_id);
  EXPECT_TRUE(explicit_same.duplicate);

  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM meta.files"), files);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 2);
}

TEST_F(LedgerTest, ExplicitIdWithSameContentAsHashedBatchIsDuplicateOfIt) {
  std::string text = Order("o1", "t1", "paid", "1.00", "2026-01-01", 1);
  std::string f = Input("a.jsonl", text);
  IngestOutcome first = Ingest(f, "mine");
  IngestOutcome again = Ingest(f);  // default id: the hash finds batch "mine"
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.batch_id, "mine");
  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 1);
  EXPECT_FALSE(first.duplicate);
}

TEST_F(LedgerTest, ReusedBatchIdWithOtherContentIsRefusedAndChangesNothing) {
  std::string good = Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) + "not json\n";
  IngestOutcome first = Ingest(Input("a.jsonl", good), "b-1");
  EXPECT_EQ(first.rows_staged, 1);
  EXPECT_EQ(first.rows_dead, 1);

  auto snapshot = [&] {
    auto r = cat().conn().Query(
        "SELECT (SELECT count(*) FROM meta.batches), (SELECT count(*) FROM meta.files),"
        " (SELECT count(*) FROM staging.orders), (SELECT count(*) FROM dlq.orders),"
        " (SELECT string_agg(content_hash || ':' || rows_read, ',') FROM meta.batches)");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->rows : decltype(r->rows){};
  };
  auto before = snapshot();
  auto staging_files_before = Int("SELECT count(*) FROM meta.files");

  std::string other = Order("o9", "t9", "paid", "9.00", "2026-02-01", 1) + "{bad\n" + "{bad2\n";
  auto r = engine_->IngestFile("orders", Input("b.jsonl", other), "b-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("b-1"), std::string::npos) << r.status().message();

  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(Int("SELECT count(*) FROM meta.files"), staging_files_before);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE order_id = 'o9'"), 0);
  EXPECT_FALSE(fs::exists(lake() + "/staging/orders/day=2026-02-01"));
  EXPECT_FALSE(fs::exists(lake() + "/staging/orders/_tmp/b-1"));
  auto rec = FindBatch(cat(), "orders", "b-1");
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->content_hash, ContentHash(good));
}

TEST_F(LedgerTest, EveryBatchReconciles) {
  // Batch A: 7 lines, 3 staged, 4 dead-lettered with different reasons.
  std::string a =
      Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +                                    // 1 ok
      "{\"order_id\": \"o2\", \n" +                                                           // 2 malformed
      Order("o3", "t2", "paid", "3.00", "2026-01-02", 1) +                                    // 3 ok
      "{\"order_id\":\"o4\",\"tenant_id\":\"t1\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n"  // 4 no seq
      + Order("o5", "t1", "bogus", "5.00", "2026-01-01", 1) +                                 // 5 not in enum
      Order("o6", "t1", "paid", "6.00", "2026-01-03", 2) +                                    // 6 ok
      Order("o7", "../evil", "paid", "7.00", "2026-01-01", 1);  // 7 unsafe tenant
  // Batch B: all good.
  std::string b = Order("o8", "t1", "paid", "8.00", "2026-01-01", 1) +
                  Order("o9", "t1", "created", "9.00", "2026-01-01", 1);
  // Batch C: all bad (stages no file).
  std::string c = "[1,2]\n{\"order_id\": 5}\n";
  IngestOutcome oa = Ingest(Input("a.jsonl", a));
  IngestOutcome ob = Ingest(Input("b.jsonl", b));
  IngestOutcome oc = Ingest(Input("c.jsonl", c));

  EXPECT_EQ(oa.rows_read, 7);
  EXPECT_EQ(oa.rows_staged, 3);
  EXPECT_EQ(oa.rows_dead, 4);
  EXPECT_EQ(ob.rows_read, 2);
  EXPECT_EQ(ob.rows_staged, 2);
  EXPECT_EQ(ob.rows_dead, 0);
  EXPECT_EQ(oc.rows_read, 2);
  EXPECT_EQ(oc.rows_staged, 0);
  EXPECT_EQ(oc.rows_dead, 2);
  EXPECT_EQ(oa.dead_by_reason["malformed_record"], 1);
  EXPECT_EQ(oa.dead_by_reason["missing_required"], 1);
  EXPECT_EQ(oa.dead_by_reason["not_in_enum"], 1);
  EXPECT_EQ(oa.dead_by_reason["bad_partition_value"], 1);

  auto dl = cat().conn().Query("SELECT line, reason FROM dlq.orders WHERE batch_id = " +
                               duck::Literal(oa.batch_id) + " ORDER BY line");
  ASSERT_TRUE(dl.ok()) << dl.status().ToString();
  ASSERT_EQ(dl->rows.size(), 4u);
  EXPECT_EQ(dl->At(0, 0), "2");
  EXPECT_EQ(dl->At(0, 1), "malformed_record");
  EXPECT_EQ(dl->At(1, 0), "4");
  EXPECT_EQ(dl->At(1, 1), "missing_required");
  EXPECT_EQ(dl->At(2, 0), "5");
  EXPECT_EQ(dl->At(2, 1), "not_in_enum");
  EXPECT_EQ(dl->At(3, 0), "7");
  EXPECT_EQ(dl->At(3, 1), "bad_partition_value");
  auto lines = cat().conn().Query(
      "SELECT string_agg(_source_line::VARCHAR, ',' ORDER BY _source_line)"
      " FROM staging.orders WHERE _batch_id = " +
      duck::Literal(oa.batch_id));
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->At(0, 0), "1,3,6");

  // G1 for every ledger row, against the ledger's own counts and the visible rows.
  auto g1 = cat().conn().Query(
      "SELECT b.batch_id, b.rows_read, b.rows_staged, b.rows_dead,"
      " (SELECT count(*) FROM staging.orders s WHERE s._batch_id = b.batch_id),"
      " (SELECT count(*) FROM dlq.orders d WHERE d.batch_id = b.batch_id)"
      " FROM meta.batches b ORDER BY batch_seq");
  ASSERT_TRUE(g1.ok()) << g1.status().ToString();
  ASSERT_EQ(g1->rows.size(), 3u);
  const int64_t expect[3][3] = {{7, 3, 4}, {2, 2, 0}, {2, 0, 2}};
  for (size_t r = 0; r < 3; ++r) {
    SCOPED_TRACE(g1->At(r, 0));
    EXPECT_EQ(g1->IntAt(r, 1), expect[r][0]);
    EXPECT_EQ(g1->IntAt(r, 2), expect[r][1]);
    EXPECT_EQ(g1->IntAt(r, 3), expect[r][2]);
    EXPECT_EQ(g1->IntAt(r, 1), g1->IntAt(r, 2) + g1->IntAt(r, 3));
    EXPECT_EQ(g1->IntAt(r, 2), g1->IntAt(r, 4));
    EXPECT_EQ(g1->IntAt(r, 3), g1->IntAt(r, 5));
  }
  EXPECT_EQ(Int("SELECT count(*) FROM meta.files WHERE batch_id = " + duck::Literal(oc.batch_id)), 0);
  // Nothing is left in temp directories after the commits.
  EXPECT_FALSE(fs::exists(lake() + "/staging/orders/_tmp/" + oa.batch_id));
  EXPECT_FALSE(fs::exists(lake() + "/staging/orders/_tmp/" + oc.batch_id));
}

TEST_F(LedgerTest, RecoverRemovesTempDirOfUncommittedBatch) {
  std::string f = Input("a.jsonl", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1));
  IngestOutcome o = Ingest(f);
  engine_.reset();

  const std::string ghost = lake() + "/" + StagingTmpDir("orders", "ghost-7");
  EXPECT_EQ(StagingTmpDir("orders", "ghost-7"), "staging/orders/_tmp/ghost-7");
  fs::create_directories(ghost + "/day=2026-01-05/tenant=t1");
  std::ofstream(ghost + "/day=2026-01-05/tenant=t1/ghost-7_0.parquet") << "half written";

  OpenEngine();
  EXPECT_FALSE(fs::exists(ghost));
  EXPECT_FALSE(fs::exists(lake() + "/staging/orders/_tmp"));
  auto none = FindBatch(cat(), "orders", "ghost-7");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // The committed batch is untouched.
  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE _batch_id = " + duck::Literal(o.batch_id)), 1);
  // And the id is free for a real batch.
  IngestOutcome g = Ingest(Input("g.jsonl", Order("o2", "t1", "paid", "2.00", "2026-01-05", 1)), "ghost-7");
  EXPECT_FALSE(g.duplicate);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 2);
}

TEST_F(LedgerTest, RecoverRollsForwardCommittedBatchInterruptedBeforeRename) {
  std::string text = Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +
                     Order("o2", "t2", "paid", "2.00", "2026-01-02", 1) +
                     Order("o3", "t2", "paid", "3.00", "2026-01-02", 1);
  IngestOutcome o = Ingest(Input("a.jsonl", text));
  auto files = cat().conn().Query("SELECT path, tmp_path FROM meta.files WHERE batch_id = " +
                                  duck::Literal(o.batch_id) + " ORDER BY path");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->rows.size(), 2u);  // one file per day
  EXPECT_EQ(files->At(0, 0), "staging/orders/v1/day=2026-01-01/" + o.batch_id + "_0.parquet");
  EXPECT_EQ(files->At(1, 0), "staging/orders/v1/day=2026-01-02/" + o.batch_id + "_0.parquet");
  engine_.reset();

  // The crash between the catalog commit and the renames: both files still at their temp names.
  for (size_t r = 0; r < 2; ++r) {
    std::string path = lake() + "/" + files->At(r, 0), tmp = lake() + "/" + files->At(r, 1);
    EXPECT_EQ(files->At(r, 1).rfind(StagingTmpDir("orders", o.batch_id) + "/", 0), 0u);
    ASSERT_TRUE(fs::exists(path));
    fs::create_directories(fs::path(tmp).parent_path());
    fs::rename(path, tmp);
  }
  OpenEngine();
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_TRUE(fs::is_regular_file(lake() + "/" + files->At(r, 0))) << files->At(r, 0);
  }
  EXPECT_FALSE(fs::exists(lake() + "/" + StagingTmpDir("orders", o.batch_id)));
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 3);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE tenant = 't2' AND day = DATE '2026-01-02'"), 2);
}

TEST_F(LedgerTest, RecoverRollsForwardPartiallyRenamedBatch) {
  std::string text =
      Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) + Order("o2", "t2", "paid", "2.00", "2026-01-02", 1);
  IngestOutcome o = Ingest(Input("a.jsonl", text));
  auto files = cat().conn().Query("SELECT path, tmp_path FROM meta.files WHERE batch_id = " +
                                  duck::Literal(o.batch_id) + " ORDER BY path");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->rows.size(), 2u);
  engine_.reset();
  // Only the second file's rename was lost.
  std::string path = lake() + "/" + files->At(1, 0), tmp = lake() + "/" + files->At(1, 1);
  fs::create_directories(fs::path(tmp).parent_path());
  fs::rename(path, tmp);
  OpenEngine();
  EXPECT_TRUE(fs::is_regular_file(lake() + "/" + files->At(0, 0)));
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 2);
}

TEST_F(LedgerTest, RecoverReportsCorruptionWhenCommittedFileIsGone) {
  IngestOutcome o = Ingest(Input("a.jsonl", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1)));
  auto files =
      cat().conn().Query("SELECT path FROM meta.files WHERE batch_id = " + duck::Literal(o.batch_id));
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->rows.size(), 1u);
  engine_.reset();
  fs::remove(lake() + "/" + files->At(0, 0));
  fs::create_directories(lake() + "/" + StagingTmpDir("orders", o.batch_id));
  auto e = Engine::Open(dir_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kCorruption) << e.status().ToString();
  EXPECT_NE(e.status().message().find(o.batch_id), std::string::npos);
}

// meta.files.rows should hold each staging file's row count (StagedFile::rows); the sum over a
// batch's files is its rows_staged.
TEST_F(LedgerTest, MetaFilesRecordRowsPerFile) {
  std::string text = Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +
                     Order("o2", "t2", "paid", "2.00", "2026-01-02", 1) +
                     Order("o3", "t2", "paid", "3.00", "2026-01-02", 1);
  IngestOutcome o = Ingest(Input("a.jsonl", text));
  auto files = cat().conn().Query(
      "SELECT path, rows FROM meta.files WHERE batch_id = " + duck::Literal(o.batch_id) + " ORDER BY path");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->rows.size(), 2u);
  EXPECT_EQ(files->IntAt(0, 1), 1) << files->At(0, 0);  // 2026-01-01: o1
  EXPECT_EQ(files->IntAt(1, 1), 2) << files->At(1, 0);  // 2026-01-02: o2, o3
  EXPECT_EQ(Int("SELECT sum(rows) FROM meta.files"), o.rows_staged);
}

// meta.file_partitions indexes the (day, tenant) partitions each file holds, with their rows.
TEST_F(LedgerTest, FilePartitionsIndexTheTenantsOfEachFile) {
  std::string text = Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +
                     Order("o2", "t2", "paid", "2.00", "2026-01-02", 1) +
                     Order("o3", "t1", "paid", "3.00", "2026-01-02", 1) +
                     Order("o4", "t2", "paid", "4.00", "2026-01-02", 1);
  IngestOutcome o = Ingest(Input("a.jsonl", text));
  auto parts = cat().conn().Query(
      "SELECT p.path = f.path, CAST(p.day AS VARCHAR), p.tenant, p.rows FROM meta.file_partitions p "
      "JOIN meta.files f ON f.path = p.path AND f.day = p.day WHERE p.batch_id = " +
      duck::Literal(o.batch_id) + " ORDER BY 2, 3");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->rows.size(), 3u);
  EXPECT_EQ(parts->At(0, 1) + "/" + parts->At(0, 2) + "=" + parts->At(0, 3), "2026-01-01/t1=1");
  EXPECT_EQ(parts->At(1, 1) + "/" + parts->At(1, 2) + "=" + parts->At(1, 3), "2026-01-02/t1=1");
  EXPECT_EQ(parts->At(2, 1) + "/" + parts->At(2, 2) + "=" + parts->At(2, 3), "2026-01-02/t2=2");
  for (size_t r = 0; r < 3; ++r) EXPECT_EQ(parts->At(r, 0), "true");
}

// A large day (several row groups, enough rows for DuckDB's threads to split and interleave a
// partitioned COPY) is still one file, its rows in tenant order, so a tenant filter skips row
// groups by their statistics.
TEST_F(LedgerTest, LargeDayIsOneFileSortedByTenant) {
  std::string text;
  for (int i = 0; i < 200000; ++i) {
    text += Order("o" + std::to_string(i), "t" + std::to_string((i * 7919) % 23), "paid", "1.00",
                  i % 2 ? "2026-01-05" : "2026-01-06", 1);
  }
  IngestOutcome o = Ingest(Input("big.jsonl", text));
  ASSERT_EQ(o.rows_staged, 200000);
  for (const char* day : {"2026-01-05", "2026-01-06"}) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(lake() + "/staging/orders/v1/day=" + day)) {
      files.push_back(e.path().filename().string());
    }
    EXPECT_EQ(files, std::vector<std::string>{o.batch_id + "_0.parquet"}) << day;
  }
  EXPECT_EQ(Int("SELECT count(*) FROM (SELECT tenant_id, lag(tenant_id) OVER (PARTITION BY filename "
                "ORDER BY file_row_number) AS prev FROM read_parquet(" +
                duck::Literal(lake() + "/staging/orders/v1/*/*.parquet") +
                ", filename = true, file_row_number = true)) WHERE prev > tenant_id"),
            0);
  EXPECT_GT(
      Int("SELECT count(DISTINCT row_group_id) FROM parquet_metadata(" +
          duck::Literal(lake() + "/staging/orders/v1/day=2026-01-05/" + o.batch_id + "_0.parquet") + ")"),
      2);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE tenant = 't3'"),
            Int("SELECT count(*) FROM staging.orders WHERE tenant_id = 't3'"));
}

// A lake staged before the per-(batch, day) layout — one file per (batch, day, tenant) under
// day=D/tenant=T/, and one file per micro-batch under stream/ — opens without migration: the
// view lists those files next to the new layout's globs, pruning by their path still works, and
// new batches are staged the new way beside them.
TEST_F(LedgerTest, LakeOfTheOlderLayoutOpensAndKeepsReadingItsFiles) {
  IngestOutcome a = Ingest(Input("a.jsonl", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +
                                                Order("o2", "t2", "paid", "2.00", "2026-01-02", 1) +
                                                Order("o3", "t2", "paid", "3.00", "2026-01-02", 1)));
  IngestOutcome m = Ingest(Input("m.jsonl", Order("o4", "t1", "paid", "4.00", "2026-01-02", 1) +
                                                Order("o5", "t3", "paid", "5.00", "2026-01-03", 1)));
  // Rewrite both batches as the older layout wrote them (the same COPY and paths), and the
  // catalog rows it recorded; then remove the new layout's files.
  auto& conn = cat().conn();
  const std::string old_root = lake() + "/staging/orders";
  ASSERT_TRUE(
      conn.Execute("COPY (SELECT * EXCLUDE (day, tenant), CAST(created_at AS DATE) AS day, tenant_id AS "
                   "tenant FROM staging.orders WHERE _batch_id = " +
                   duck::Literal(a.batch_id) + ") TO " + duck::Literal(old_root) +
                   " (FORMAT parquet, PARTITION_BY (day, tenant), FILENAME_PATTERN " +
                   duck::Literal(a.batch_id + "_{i}") + ", OVERWRITE_OR_IGNORE)")
          .ok());
  fs::create_directories(old_root + "/stream");
  ASSERT_TRUE(conn.Execute("COPY (SELECT * EXCLUDE (day, tenant) FROM staging.orders WHERE _batch_id = " +
                           duck::Literal(m.batch_id) + ") TO " +
                           duck::Literal(old_root + "/stream/" + m.batch_id + "_0.parquet") +
                           " (FORMAT parquet)")
                  .ok());
  const std::string b = duck::Literal("staging/orders/"), ta = duck::Literal("/" + a.batch_id + "_0.parquet");
  ASSERT_TRUE(conn.Execute("DELETE FROM meta.files; DELETE FROM meta.file_partitions;"
                           "INSERT INTO meta.files (source, batch_id, path, tmp_path, day, tenant, rows) "
                           "SELECT 'orders', " +
                           duck::Literal(a.batch_id) + ", " + b + " || 'day=' || d || '/tenant=' || t || " +
                           ta +
                           ", 'x', CAST(d AS DATE), t, n FROM (VALUES ('2026-01-01', 't1', 1), "
                           "('2026-01-02', 't2', 2)) v(d, t, n);"
                           "INSERT INTO meta.files (source, batch_id, path, tmp_path, day, tenant, rows) "
                           "VALUES ('orders', " +
                           duck::Literal(m.batch_id) + ", " +
                           duck::Literal("staging/orders/stream/" + m.batch_id + "_0.parquet") +
                           ", 'y', NULL, NULL, 2)")
                  .ok());
  engine_.reset();
  fs::remove_all(old_root + "/v1");
  for (const auto& f : {"day=2026-01-01/tenant=t1", "day=2026-01-02/tenant=t2"}) {
    ASSERT_TRUE(fs::exists(old_root + "/" + f + "/" + a.batch_id + "_0.parquet")) << f;
  }

  OpenEngine();
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 5);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE day = DATE '2026-01-02' AND tenant = 't2'"), 2);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE day = DATE '2026-01-03' AND tenant = 't3'"), 1);
  // A new batch goes to the new layout, and the view reads both.
  IngestOutcome c = Ingest(Input("c.jsonl", Order("o6", "t2", "paid", "6.00", "2026-01-02", 1)));
  EXPECT_TRUE(fs::exists(old_root + "/v1/day=2026-01-02/" + c.batch_id + "_0.parquet"));
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 6);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE day = DATE '2026-01-02' AND tenant = 't2'"), 3);
  EXPECT_EQ(Int("SELECT sum(CAST(amount * 100 AS BIGINT)) FROM staging.orders"), 2100);
}

}  // namespace
}  // namespace sluice
