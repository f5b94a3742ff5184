// A Parquet file is loaded in chunks (issue 11; engine/parquet_load.h), through the real binary:
//  - a file of more than two chunks, with invalid rows at its first row, on both sides of each
//    chunk boundary and at its last row (decoder rules and contract checks), is one batch whose
//    staged rows and dead letters (lines, reasons, columns, messages, raw text) are exactly those
//    of the same records decoded whole (a JSON Lines file of them) and of the file read
//    independently;
//  - a file of millions of narrow rows ingests under the smallest memory_limit with the process's
//    peak resident memory bounded by that limit, not by the file's size.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

// engine/parquet_load.h: kParquetChunkRows (the rows here are far below its byte bound).
constexpr int64_t kChunk = 131072;
constexpr int64_t kRows = 2 * kChunk + 36000;  // three chunks, the last one partial

constexpr const char* kColumns = R"(columns:
  order_id: {type: string, required: true}
  status:   {type: string, required: true, enum: [paid, shipped]}
  seq:      {type: int64, required: true}
checks:
  - {name: seq_small, expr: "seq < 1000000"}
)";

// Row i (0-based; line i + 1) of the input. Invalid: row 0 (status), the last row of chunk 1
// (seq NULL) and the first of chunk 2 (check), the last of chunk 2 (check) and the first of
// chunk 3 (order_id NULL), and the file's last row (status).
std::string InputSelect() {
  const std::string c1 = std::to_string(kChunk - 1), c2 = std::to_string(2 * kChunk - 1);
  const std::string last = std::to_string(kRows - 1);
  return "SELECT CASE WHEN i = " + std::to_string(2 * kChunk) +
         " THEN NULL ELSE 'o' || i END AS order_id, "
         "CASE WHEN i IN (0, " +
         last + ") THEN 'bogus' ELSE 'paid' END AS status, CASE WHEN i = " + c1 + " THEN NULL WHEN i IN (" +
         std::to_string(kChunk) + ", " + c2 + ") THEN 5000000 ELSE i % 5 END::BIGINT AS seq FROM range(" +
         std::to_string(kRows) + ") t(i)";
}

TEST(ParquetChunks, InvalidRowsAcrossChunkBoundariesMatchAWholeDecode) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kParquetAndJsonlSpec);
  WriteFileOrDie(p.Path("contracts/orders.yaml"), std::string("name: orders\n") + kColumns);
  WriteFileOrDie(p.Path("contracts/events.yaml"), std::string("name: events\n") + kColumns);
  const std::string parquet = p.Landing() + "/big.parquet";
  WriteParquet(InputSelect(), parquet);
  // The same records as JSON Lines: decoded whole, in one piece (the reference).
  DuckReader duck;
  const std::string jsonl = p.Path("landing/events/big.jsonl");
  std::string lines;
  for (const auto& row :
       duck.Rows("SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet(" + Quote(parquet) + ") t")) {
    lines += row[0] + "\n";
  }
  WriteFileOrDie(jsonl, lines);

  ProcessResult r = p.Sluice("ingest", {"orders", parquet, "--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json out = Json::parse(r.out);
  ASSERT_EQ(out["batches"].size(), 1u) << r.out;  // one file, one batch
  EXPECT_EQ(out["batches"][0]["rows_read"], kRows) << r.out;
  EXPECT_EQ(out["batches"][0]["rows_staged"], kRows - 6) << r.out;
  EXPECT_EQ(out["batches"][0]["rows_dead"], 6) << r.out;
  ProcessResult ref = p.Sluice("ingest", {"events", jsonl, "--json"});
  ASSERT_TRUE(ref.ok()) << ref.Describe();

  const std::string dlq = "SELECT line, reason, column_name, message, raw FROM dlq.";
  auto dead = p.Rows(dlq + "orders ORDER BY line");
  const std::vector<std::vector<std::string>> expected_kinds = {
      {"1", "not_in_enum", "status"},
      {std::to_string(kChunk), "missing_required", "seq"},
      {std::to_string(kChunk + 1), "check_failed", "seq_small"},
      {std::to_string(2 * kChunk), "check_failed", "seq_small"},
      {std::to_string(2 * kChunk + 1), "missing_required", "order_id"},
      {std::to_string(kRows), "not_in_enum", "status"}};
  ASSERT_EQ(dead.size(), expected_kinds.size());
  for (size_t i = 0; i < dead.size(); ++i) {
    EXPECT_EQ(std::vector<std::string>(dead[i].begin(), dead[i].begin() + 3), expected_kinds[i]);
  }
  EXPECT_EQ(dead[0][4], R"({"order_id":"o0","status":"bogus","seq":0})");
  EXPECT_EQ(dead[2][4], R"({"order_id":"o131072","status":"paid","seq":5000000})");
  // Lines, reasons, messages and raw text as a whole decode of the same records gives them.
  EXPECT_EQ(dead, p.Rows(dlq + "events ORDER BY line"));
  // Every dead letter's raw text is its row as read from the file by another reader.
  for (const auto& d : dead) {
    auto row = duck.Rows(
        "SELECT CAST(to_json(t) AS VARCHAR) FROM (SELECT * EXCLUDE (file_row_number) FROM "
        "read_parquet(" +
        Quote(parquet) + ", file_row_number = true) WHERE file_row_number = " + d[0] + " - 1) t");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row[0][0], d[4]) << "line " << d[0];
  }

  // The staged rows: every other row of the file, at its own line, as the whole decode stages.
  const std::string fingerprint =
      "SELECT count(*), sum(hash(order_id, status, seq, _source_line)) FROM staging.";
  auto staged = p.Rows(fingerprint + "orders");
  EXPECT_EQ(staged, p.Rows(fingerprint + "events"));
  auto truth = duck.Rows(
      "SELECT count(*), sum(hash(order_id, status, seq, file_row_number + 1)) FROM read_parquet(" +
      Quote(parquet) + ", file_row_number = true) WHERE file_row_number + 1 NOT IN (SELECT UNNEST([1, " +
      std::to_string(kChunk) + ", " + std::to_string(kChunk + 1) + ", " + std::to_string(2 * kChunk) + ", " +
      std::to_string(2 * kChunk + 1) + ", " + std::to_string(kRows) + "]))");
  EXPECT_EQ(staged, truth);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE source = 'orders'"), "1");
}

TEST(ParquetChunks, MillionsOfRowsStayWithinTheMemoryLimit) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  // The smallest memory_limit (docs/PROJECT.md): DuckDB gets 288 MiB of it and spills the rest.
  WriteFileOrDie(p.Path("sluice.yaml"), R"(name: shop
lake: lake
memory_limit: 384MiB
sources:
  orders:
    type: files
    path: landing/orders/*.parquet
    format: parquet
    contract: contracts/orders.yaml
tables:
  orders: {from: orders, key: [order_id], version: seq}
)");
  WriteFileOrDie(p.Path("contracts/orders.yaml"), R"(name: orders
columns:
  order_id: {type: string, required: true}
  seq:      {type: int64, required: true}
)");
  constexpr int64_t kMany = 3000000;
  const std::string parquet = p.Landing() + "/many.parquet";
  WriteParquet(
      "SELECT 'o' || i AS order_id, (i % 7)::BIGINT AS seq FROM range(" + std::to_string(kMany) + ") t(i)",
      parquet);

  ProcessResult r = p.Sluice("ingest", {"orders", parquet, "--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json out = Json::parse(r.out);
  EXPECT_EQ(out["batches"][0]["rows_staged"], kMany) << r.out;
  // The limit plus 128 MiB: DuckDB allocates outside its buffer pool (its Parquet writer's
  // buffers while the staging file is written: ~30 MiB measured), and the allocator keeps freed
  // pages. Decoding the whole file at once took ~1.1 GB here: it grows with the file.
  if (!kSanitizedBuild) {
    EXPECT_LT(r.peak_rss_bytes, (384 + 128) * (int64_t{1} << 20))
        << "peak RSS " << (r.peak_rss_bytes >> 20) << " MiB";
  }
  int64_t sum = 0;
  for (int64_t i = 0; i < kMany; ++i) sum += i % 7;
  EXPECT_EQ(p.Rows("SELECT count(*), sum(seq), min(_source_line), max(_source_line) FROM staging.orders"),
            (std::vector<std::vector<std::string>>{
                {std::to_string(kMany), std::to_string(sum), "1", std::to_string(kMany)}}));
}

}  // namespace
}  // namespace sluice::e2e
