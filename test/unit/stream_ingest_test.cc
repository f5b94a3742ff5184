// Micro-batches of stream sources (Engine::IngestMicroBatch): per-part answers, Idempotency-Key
// replays and conflicts (G2), reconciliation (G1), arrival-order ties (G3), stream offsets in
// the ledger, and watermarks with late rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "catalog/table_stats.h"
#include "engine/engine.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using testing::kOrdersContract;
using testing::Order;

std::string StreamSpec(const std::string& type_lines) {
  std::string spec = testing::OrdersSpec();
  const std::string from = "    type: files\n    path: landing/orders/*.jsonl\n";
  spec.replace(spec.find(from), from.size(), type_lines);
  return spec;
}

StreamPart Part(std::string data, std::string correlation, std::string key = "") {
  StreamPart p;
  p.data = std::move(data);
  p.correlation_id = std::move(correlation);
  p.idempotency_key = std::move(key);
  return p;
}

class StreamIngestTest : public testing::ProjectTest {
 protected:
  StreamIngestTest() : ProjectTest("sluice_stream_ingest_test") {}
  void SetUp() override {
    Write("sluice.yaml", StreamSpec("    type: http\n    event_time: created_at\n"
                                    "    allowed_lateness: 1h\n"));
    Write("contracts/orders.yaml", kOrdersContract);
    OpenEngine();
  }
  MicroBatchResult Ingest(const std::vector<StreamPart>& parts, const StreamRange* range = nullptr) {
    auto r = engine_->IngestMicroBatch("orders", parts, range);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : MicroBatchResult{};
  }
};

TEST_F(StreamIngestTest, EachPartIsAnsweredWithItsOwnCounts) {
  const std::string a = Order("o1", "t1", "paid", "10.00", "2026-01-02", 1) + "{\"order_id\": broken\n" +
                        Order("o2", "t1", "paid", "-5", "2026-01-02", 1);
  const std::string b = "\n" + Order("o3", "t2", "paid", "7.50", "2026-01-02", 1);  // a blank line
  MicroBatchResult r = Ingest({Part(a, "corr-a"), Part(b, "corr-b")});
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].accepted, 1);
  EXPECT_EQ(r.parts[0].dead_lettered, 2);  // malformed + out_of_range
  EXPECT_EQ(r.parts[1].accepted, 1);
  EXPECT_EQ(r.parts[1].dead_lettered, 0);
  EXPECT_EQ(r.parts[0].batch_id, r.batch_id);
  EXPECT_EQ(r.parts[1].batch_id, r.batch_id);
  EXPECT_EQ(r.rows_read, 4);
  EXPECT_EQ(r.rows_staged, 2);
  EXPECT_EQ(r.rows_dead, 2);
  ASSERT_TRUE(cat().RefreshStagingView(*engine_->spec().FindSource("orders")).ok());
  // Rows keep their request's correlation id; lines count on across parts (arrival order).
  EXPECT_EQ(Q("SELECT order_id, _correlation_id, _source_line FROM staging.orders ORDER BY 1"),
            "o1|corr-a|1\no3|corr-b|5\n");
  EXPECT_EQ(Q("SELECT line, reason, correlation_id FROM dlq.orders ORDER BY line"),
            "2|malformed_record|corr-a\n3|out_of_range|corr-a\n");
  EXPECT_EQ(Q("SELECT rows_read, rows_staged, rows_dead, file FROM meta.batches"), "4|2|2|http:2 requests\n");
}

// A micro-batch is staged like a file batch: one file per day it spans, whatever tenants its
// rows hold (a file per partition would make a heap of tiny files). A part without a
// correlation id (a NATS batch) gives its rows the batch's.
TEST_F(StreamIngestTest, OneStagingFilePerMicroBatchAndDay) {
  const std::string a =
      Order("o1", "t1", "paid", "1.00", "2026-01-02", 1) + Order("o2", "t2", "paid", "2.00", "2026-01-03", 1);
  const std::string b = Order("o3", "t1", "paid", "3.00", "2026-01-03", 1);
  MicroBatchResult r = Ingest({Part(a, "corr-a"), Part(b, "")});
  ASSERT_FALSE(r.batch_id.empty());
  EXPECT_EQ(Q("SELECT path, rows, CAST(day AS VARCHAR), tenant IS NULL FROM meta.files ORDER BY path"),
            "staging/orders/v1/day=2026-01-02/" + r.batch_id + "_0.parquet|1|2026-01-02|true\n" +
                "staging/orders/v1/day=2026-01-03/" + r.batch_id + "_0.parquet|2|2026-01-03|true\n");
  EXPECT_TRUE(
      std::filesystem::exists(dir_ + "/lake/staging/orders/v1/day=2026-01-03/" + r.batch_id + "_0.parquet"));
  // A file batch of the same source (two days, two files).
  Write("more.jsonl", Order("o4", "t2", "paid", "4.00", "2026-01-04", 1) +
                          Order("o5", "t1", "paid", "5.00", "2026-01-02", 1));
  ASSERT_TRUE(engine_->IngestFile("orders", dir_ + "/more.jsonl").ok());
  EXPECT_EQ(Int("SELECT count(*) FROM meta.files"), 4);
  ASSERT_TRUE(cat().RefreshStagingView(*engine_->spec().FindSource("orders")).ok());
  EXPECT_EQ(Q("SELECT order_id, CAST(day AS VARCHAR), tenant FROM staging.orders ORDER BY 1"),
            "o1|2026-01-02|t1\no2|2026-01-03|t2\no3|2026-01-03|t1\n"
            "o4|2026-01-04|t2\no5|2026-01-02|t1\n");
  EXPECT_EQ(Q("SELECT s.order_id, s._correlation_id = b.correlation_id, s._correlation_id FROM "
              "staging.orders s JOIN meta.batches b ON b.batch_id = s._batch_id WHERE s._batch_id "
              "= '" +
              r.batch_id + "' AND s.order_id = 'o1'"),
            "o1|false|corr-a\n");
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders s JOIN meta.batches b ON b.batch_id = "
                "s._batch_id WHERE s.order_id = 'o3' AND s._correlation_id = b.correlation_id "
                "AND s._correlation_id <> ''"),
            1);
}

// A micro-batch's cost is in its ledger row (docs/METRICS.md): the engine thread's CPU time and
// the bytes of its staged files, as stat gives them; a file's batch has none (its cost is in its
// run's summary). StreamIngestCostOf sums the micro-batches'.
TEST_F(StreamIngestTest, MicroBatchCostIsInTheLedger) {
  const std::string a =
      Order("o1", "t1", "paid", "1.00", "2026-01-02", 1) + Order("o2", "t2", "paid", "2.00", "2026-01-03", 1);
  MicroBatchResult r = Ingest({Part(a, "corr-a"), Part("{\"order_id\": broken\n", "corr-b")});
  ASSERT_FALSE(r.batch_id.empty());
  int64_t file_bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/lake/staging/orders")) {
    if (e.is_regular_file() && e.path().extension() == ".parquet") {
      file_bytes += static_cast<int64_t>(e.file_size());
    }
  }
  ASSERT_GT(file_bytes, 0);
  EXPECT_EQ(Int("SELECT bytes_written FROM meta.batches WHERE batch_id = '" + r.batch_id + "'"), file_bytes);
  EXPECT_GT(Int("SELECT cpu_us FROM meta.batches WHERE batch_id = '" + r.batch_id + "'"), 0);
  Write("more.jsonl", Order("o4", "t2", "paid", "4.00", "2026-01-04", 1));
  ASSERT_TRUE(engine_->IngestFile("orders", dir_ + "/more.jsonl").ok());
  EXPECT_EQ(Q("SELECT count(*) FROM meta.batches WHERE cpu_us IS NULL AND bytes_written IS NULL"), "1\n");
  Result<StreamIngestCost> cost = StreamIngestCostOf(cat());
  ASSERT_TRUE(cost.ok()) << cost.status().ToString();
  EXPECT_EQ(cost->rows, 3);  // the micro-batch's rows read: two valid, one malformed
  EXPECT_EQ(cost->bytes_written, static_cast<double>(file_bytes));
  EXPECT_EQ(cost->cpu_seconds, static_cast<double>(Int("SELECT cpu_us FROM meta.batches WHERE batch_id = '" +
                                                       r.batch_id + "'")) /
                                   1e6);
}

TEST_F(StreamIngestTest, IdempotencyKeyReplaysAndRefusesOtherContent) {
  const std::string body = Order("o1", "t1", "paid", "10.00", "2026-01-02", 1);
  MicroBatchResult first = Ingest({Part(body, "c1", "key-1")});
  ASSERT_EQ(first.parts[0].kind, PartResult::Kind::kStaged);
  // The same key again (alone, and twice within one batch): the first answer, nothing staged.
  MicroBatchResult again = Ingest({Part(body, "c2", "key-1"), Part(body, "c3", "key-1")});
  EXPECT_TRUE(again.batch_id.empty());
  for (const auto& p : again.parts) {
    EXPECT_EQ(p.kind, PartResult::Kind::kReplay);
    EXPECT_EQ(p.batch_id, first.batch_id);
    EXPECT_EQ(p.correlation_id, "c1");
    EXPECT_EQ(p.accepted, 1);
  }
  MicroBatchResult other = Ingest({Part(Order("o9", "t1", "paid", "1", "2026-01-02", 1), "c4", "key-1")});
  EXPECT_EQ(other.parts[0].kind, PartResult::Kind::kConflict);
  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 1);

  // A new key twice in one batch: staged once, the second answered like the first.
  const std::string body2 = Order("o2", "t1", "paid", "3", "2026-01-02", 1);
  MicroBatchResult pair = Ingest({Part(body2, "c5", "key-2"), Part(body2, "c6", "key-2"),
                                  Part(Order("o3", "t1", "paid", "3", "2026-01-02", 1), "c7", "key-2")});
  EXPECT_EQ(pair.parts[0].kind, PartResult::Kind::kStaged);
  EXPECT_EQ(pair.parts[1].kind, PartResult::Kind::kReplay);
  EXPECT_EQ(pair.parts[1].batch_id, pair.batch_id);
  EXPECT_EQ(pair.parts[1].accepted, 1);
  EXPECT_EQ(pair.parts[2].kind, PartResult::Kind::kConflict);
  EXPECT_EQ(pair.rows_staged, 1);
  EXPECT_EQ(Q("SELECT idempotency_key, accepted, dead_lettered, correlation_id FROM meta.idempotency"
              " ORDER BY 1"),
            "key-1|1|0|c1\nkey-2|1|0|c5\n");
}

TEST_F(StreamIngestTest, LaterArrivalWinsTiesInCurate) {
  // Same key and version in two requests of one batch: the later one is the curated row.
  Ingest({Part(Order("o1", "t1", "paid", "1.00", "2026-01-02", 4), "c1"),
          Part(Order("o1", "t1", "shipped", "2.00", "2026-01-02", 4), "c2")});
  auto s = engine_->Transform(RunOptions{});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Q("SELECT order_id, status, amount FROM curated.orders"), "o1|shipped|2.00\n");
}

TEST_F(StreamIngestTest, WatermarksCountLateRowsPerTenant) {
  auto at = [](const std::string& id, const std::string& tenant, const std::string& time) {
    return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"" + tenant +
           "\",\"status\":\"paid\",\"amount\":1,\"created_at\":\"" + time + "\",\"seq\":1}\n";
  };
  Ingest({Part(at("a", "t1", "2026-01-02T12:00:00Z") + at("b", "t2", "2026-01-02T08:00:00Z"), "c")});
  // t1's watermark is 11:00 (12:00 - 1h): 10:59 is late, 11:30 is not; t2's is 07:00.
  MicroBatchResult r =
      Ingest({Part(at("c", "t1", "2026-01-02T10:59:00Z") + at("d", "t1", "2026-01-02T11:30:00Z") +
                       at("e", "t2", "2026-01-02T07:30:00Z"),
                   "c")});
  EXPECT_EQ(r.rows_late, 1);
  EXPECT_EQ(Q("SELECT partition, CAST(max_event_time AS VARCHAR), CAST(watermark AS VARCHAR),"
              " late_rows FROM meta.watermarks ORDER BY 1"),
            "t1|2026-01-02 12:00:00|2026-01-02 11:00:00|1\n"
            "t2|2026-01-02 08:00:00|2026-01-02 07:00:00|0\n");
  EXPECT_EQ(Q("SELECT rows_late FROM meta.batches ORDER BY batch_seq"), "0\n1\n");
  // Late rows are merged like any other (G3).
  ASSERT_TRUE(engine_->Transform(RunOptions{}).ok());
  EXPECT_EQ(Int("SELECT count(*) FROM curated.orders"), 5);
}

class NatsStreamIngestTest : public testing::ProjectTest {
 protected:
  NatsStreamIngestTest() : ProjectTest("sluice_stream_ingest_test") {}
  void SetUp() override {
    Write("sluice.yaml", StreamSpec("    type: nats\n    nats: {stream: ORDERS, subject: orders.>}\n"));
    Write("contracts/orders.yaml", kOrdersContract);
    OpenEngine();
  }
};

TEST_F(NatsStreamIngestTest, SequenceRangeIsCommittedWithTheRows) {
  StreamRange range{"ORDERS", 5, 7, 3, 1};
  std::vector<StreamPart> parts;
  for (int i = 0; i < 3; ++i) {
    parts.push_back(Part(Order("o" + std::to_string(i), "t1", "paid", "1", "2026-01-02", 1), "c"));
  }
  auto r = engine_->IngestMicroBatch("orders", parts, &range);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch_id, "nats-ORDERS-5-7");
  EXPECT_EQ(Q("SELECT batch_id, stream, first_seq, last_seq, messages, redelivered FROM "
              "meta.stream_offsets"),
            "nats-ORDERS-5-7|ORDERS|5|7|3|1\n");
  auto seq = LastCommittedSeq(cat(), "orders");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 7u);
  // A file source is not a stream source.
  auto bad = engine_->IngestMicroBatch("nope", parts);
  EXPECT_FALSE(bad.ok());
}

// A lake from before positions and identities were recorded: its offsets give the position of the
// stream they name, of unknown identity; the next commit records the identity; a reset is
// recorded with what it replaced, and later batch ids differ from those read before it.
TEST_F(NatsStreamIngestTest, OldLakesOffsetsBecomePositionsAndResetsAreRecorded) {
  ASSERT_TRUE(
      cat()
          .conn()
          .Execute("DROP TABLE meta.stream_positions; DROP TABLE meta.stream_resets;"
                   "ALTER TABLE meta.stream_offsets DROP COLUMN stream_created;"
                   "ALTER TABLE meta.stream_offsets DROP COLUMN resets;"
                   "INSERT INTO meta.stream_offsets VALUES ('orders', 'nats-1-16251', 'ORDERS', 1, 16251,"
                   " 16251, 0, now()::TIMESTAMP)")
          .ok());
  OpenEngine();  // reopened: migrated
  auto pos = CommittedPosition(cat(), "orders", "ORDERS");
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  ASSERT_TRUE(pos->has_value());
  EXPECT_EQ((*pos)->last_seq, 16251u);
  EXPECT_EQ((*pos)->stream_created, 0);
  auto other = CommittedPosition(cat(), "orders", "ORDERS2");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value()) << "a stream never read has no position";

  StreamRange range{"ORDERS", 16252, 16252, 1, 0, /*stream_created=*/777, /*resets=*/0};
  std::vector<StreamPart> parts = {Part(Order("o1", "t1", "paid", "1", "2026-01-02", 1), "c")};
  ASSERT_TRUE(engine_->IngestMicroBatch("orders", parts, &range).ok());
  pos = CommittedPosition(cat(), "orders", "ORDERS");
  ASSERT_TRUE(pos.ok() && pos->has_value());
  EXPECT_EQ((*pos)->last_seq, 16252u);
  EXPECT_EQ((*pos)->stream_created, 777);

  ASSERT_TRUE(ResetStreamPosition(cat(), "orders", "ORDERS", 0, "from-start", "ops@host", 1000000).ok());
  pos = CommittedPosition(cat(), "orders", "ORDERS");
  ASSERT_TRUE(pos.ok() && pos->has_value());
  EXPECT_EQ((*pos)->last_seq, 0u);
  EXPECT_EQ((*pos)->stream_created, 0);
  EXPECT_EQ((*pos)->resets, 1);
  auto resets = StreamResets(cat(), "orders");
  ASSERT_TRUE(resets.ok());
  ASSERT_EQ(resets->size(), 1u);
  ASSERT_TRUE((*resets)[0].from.has_value());
  EXPECT_EQ((*resets)[0].from->last_seq, 16252u);
  EXPECT_EQ((*resets)[0].from->stream_created, 777);
  EXPECT_EQ((*resets)[0].to_seq, 0u);
  EXPECT_EQ((*resets)[0].reset_by, "ops@host");
  StreamRange again{"ORDERS", 16252, 16252, 1, 0, 888, (*pos)->resets};
  parts = {Part(Order("o2", "t1", "paid", "1", "2026-01-02", 1), "c")};
  auto r = engine_->IngestMicroBatch("orders", parts, &again);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch_id, "nats-ORDERS.r1-16252-16252");
}

}  // namespace
}  // namespace sluice
