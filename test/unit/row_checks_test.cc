// Raw spans of valid rows (RecordBatch::raw_spans) in every decoder, and contract checks
// evaluated after decoding: check_failed dead letters, G1, validation before any data is touched.
#include "engine/row_checks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ingest/decoder.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using testing::AllowDeadLetters;
using testing::Order;
using testing::OrdersSpec;

ColumnSpec Col(std::string name, TypeKind kind, bool required = false) {
  ColumnSpec c;
  c.name = std::move(name);
  c.type.kind = kind;
  c.required = required;
  return c;
}

Contract TwoColumns() {
  Contract c;
  c.name = "t";
  c.path = "contracts/t.yaml";
  c.columns = {Col("id", TypeKind::kString, true), Col("n", TypeKind::kInt64)};
  return c;
}

ContractValidator Validator(const Contract& c) {
  auto v = ContractValidator::Create(c, DecodeOptions{});
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return std::move(v).value();
}

std::vector<std::string> RawOfRows(const RecordBatch& b, std::string_view data) {
  std::vector<std::string> out;
  EXPECT_EQ(b.raw_spans.size(), b.rows());
  for (const RawSpan& s : b.raw_spans) out.emplace_back(data.substr(s.offset, s.length));
  return out;
}

TEST(RawSpans, JsonlWithBomCrlfBlankLinesAndBadRows) {
  const std::string data =
      "\xEF\xBB\xBF{\"id\":\"a\",\"n\":1}\r\n\n  \n{\"id\":\"b\"}\nnot json\n{\"id\":\"c\",\"n\":3}";
  auto b = Validator(TwoColumns()).DecodeJsonl(data);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(RawOfRows(*b, data),
            (std::vector<std::string>{"{\"id\":\"a\",\"n\":1}", "{\"id\":\"b\"}", "{\"id\":\"c\",\"n\":3}"}));
  EXPECT_EQ(b->source_line, (std::vector<int64_t>{1, 4, 6}));
}

TEST(RawSpans, CsvRecordsSpanningLinesAndHeader) {
  const std::string data = "id,n\r\na,1\r\n\"b\nb\",2\nbad,x\nc,\n";
  auto b = Validator(TwoColumns()).DecodeCsv(data);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->csv_header, "id,n");
  EXPECT_EQ(RawOfRows(*b, data), (std::vector<std::string>{"a,1", "\"b\nb\",2", "c,"}));
  ASSERT_EQ(b->dead.size(), 1u);
  EXPECT_EQ(b->dead[0].raw, "bad,x");
}

TEST(RawSpans, JsonRecordsAreIndexed) {
  std::vector<std::string> records = {"{\"id\":\"a\"}", "[]", "{\"id\":\"c\",\"n\":7}"};
  auto b = Validator(TwoColumns()).DecodeJsonRecords(records);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->raw_spans.size(), 2u);
  EXPECT_EQ(b->raw_spans[0].offset, 0u);
  EXPECT_EQ(b->raw_spans[1].offset, 2u);
  EXPECT_EQ(b->raw_spans[1].length, records[2].size());
}

Contract WithChecks(std::vector<ContractCheck> checks) {
  Contract c = TwoColumns();
  c.checks = std::move(checks);
  return c;
}

TEST(ValidateContractChecks, AcceptsBooleanExpressionsOverTheColumns) {
  EXPECT_TRUE(ValidateContractChecks(WithChecks({{"pos", "n > 0 OR id = 'x'", 5}})).ok());
  EXPECT_TRUE(ValidateContractChecks(WithChecks({{"c", "n > 0 -- trailing comment", 5}})).ok());
  EXPECT_TRUE(ValidateContractChecks(TwoColumns()).ok());
  // DuckDB's own string syntax: escapes, dollar quoting, ';' and ')' inside strings.
  for (const char* expr : {"id <> E'it\\'s'", "id <> $$a)$$", "id <> ';'", "id <> 'it''s)'"}) {
    Status st = ValidateContractChecks(WithChecks({{"strings", expr, 5}}));
    EXPECT_TRUE(st.ok()) << expr << ": " << st.ToString();
  }
}

TEST(ValidateContractChecks, RefusesWhatIsNotExactlyOneExpression) {
  // The first one balances if '$$' were not a quote: pasted into `(...)` it would close the
  // parenthesis early and OR the rest of the SQL with true.
  for (const char* expr :
       {"n > 0 OR id = $$'$$) OR (true OR id = $$'$$", "n > 0; SELECT 1", "n > 0 FROM batch_rows",
        "n > 0, n < 5", "n > 0 AS ok", "n > 0 LIMIT 1", "n > 0 /* unterminated"}) {
    Status st = ValidateContractChecks(WithChecks({{"bad_one", expr, 9}}));
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << expr;
    EXPECT_NE(st.message().find("contracts/t.yaml:9: checks.bad_one"), std::string::npos) << st.message();
  }
}

TEST(ValidateContractChecks, RefusesWhatDuckDbCannotBindNamingFileAndCheck) {
  for (const char* expr : {"nope > 0", "n >", "n > 0) OR (true", "sum(n) > 0 AND"}) {
    Status st = ValidateContractChecks(WithChecks({{"bad_one", expr, 9}}));
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << expr;
    EXPECT_NE(st.message().find("contracts/t.yaml:9"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("bad_one"), std::string::npos) << st.message();
  }
  Status st = ValidateContractChecks(WithChecks({{"not_bool", "n + 1", 4}}));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("boolean"), std::string::npos) << st.message();
}

const char* kCheckedContract = R"(name: orders
compatibility: none
columns:
  order_id:   {type: string, required: true}
  tenant_id:  {type: string, required: true}
  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled]}
  amount:     {type: decimal(12,2), min: 0}
  created_at: {type: timestamp, required: true}
  seq:        {type: int64, required: true}
checks:
  - {name: small_or_created, expr: "amount <= 100 OR status = 'created'"}
  - {name: seq_positive, expr: "seq > 0"}
)";

class ContractChecksTest : public testing::ProjectTest {
 protected:
  ContractChecksTest() : ProjectTest("sluice_row_checks_test") {}
  void SetUp() override {
    Write("sluice.yaml", AllowDeadLetters(OrdersSpec()));
    Write("contracts/orders.yaml", kCheckedContract);
    OpenEngine();
  }
};

TEST_F(ContractChecksTest, FailingRowsAreDeadLetteredWithRawInputAndCountsReconcile) {
  const std::string bad_amount = Order("o2", "t1", "paid", "500", "2026-01-02", 1);
  const std::string bad_seq = Order("o3", "t1", "paid", "5", "2026-01-02", 0);
  const std::string both = Order("o4", "t1", "paid", "500", "2026-01-02", 0);
  const std::string data = Order("o1", "t1", "paid", "5", "2026-01-02", 1) + bad_amount + bad_seq +
                           Order("o5", "t1", "created", "500", "2026-01-02", 1) +
                           "{\"order_id\":\"o6\",\"tenant_id\":\"t1\",\"status\":\"paid\","
                           "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n" +  // NULL passes
                           both +
                           Order("o7", "t1", "nope", "5", "2026-01-02", 1);
  Write("landing/orders/b1.jsonl", data);
  auto r = engine_->IngestFile("orders", dir_ + "/landing/orders/b1.jsonl");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_read, 7);
  EXPECT_EQ(r->rows_staged, 3);
  EXPECT_EQ(r->rows_dead, 4);
  EXPECT_EQ(r->dead_by_reason["check_failed"], 3);
  EXPECT_EQ(Q("SELECT line, reason, column_name, message FROM dlq.orders ORDER BY line"),
            "2|check_failed|small_or_created|amount <= 100 OR status = 'created'\n"
            "3|check_failed|seq_positive|seq > 0\n"
            "6|check_failed|small_or_created|amount <= 100 OR status = 'created'\n"
            "7|not_in_enum|status|\"nope\" is not one of: created paid shipped delivered cancelled\n");
  EXPECT_EQ(Q("SELECT raw FROM dlq.orders WHERE line IN (2, 3, 6) ORDER BY line"),
            bad_amount + bad_seq + both);
  EXPECT_EQ(Q("SELECT order_id FROM staging.orders ORDER BY 1"), "o1\no5\no6\n");
  EXPECT_EQ(Q("SELECT rows_read, rows_staged, rows_dead FROM meta.batches"), "7|3|4\n");
}

TEST_F(ContractChecksTest, CsvRowsKeepTheirRawRecord) {
  Write("sluice.yaml", R"(name: shop
sources:
  orders:
    type: files
    path: landing/orders/*.csv
    format: csv
    contract: contracts/orders.yaml
tables:
  orders: {from: orders, key: [order_id], version: seq}
)");
  OpenEngine();
  Write("in/b.csv",
        "order_id,tenant_id,status,amount,created_at,seq\n"
        "o1,t1,paid,5,2026-01-02T10:00:00Z,1\n"
        "\"o\n2\",t1,paid,500,2026-01-02T10:00:00Z,1\n");
  auto r = engine_->IngestFile("orders", dir_ + "/in/b.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_staged, 1);
  EXPECT_EQ(Q("SELECT line, reason, raw FROM dlq.orders"),
            "3|check_failed|\"o\n2\",t1,paid,500,2026-01-02T10:00:00Z,1\n");
  EXPECT_EQ(Q("SELECT csv_header FROM meta.batches"), "order_id,tenant_id,status,amount,created_at,seq\n");
}

TEST_F(ContractChecksTest, AnUnbindableCheckIsRefusedBeforeTheLakeIsTouched) {
  engine_.reset();
  std::filesystem::remove_all(dir_ + "/lake");
  std::string contract = kCheckedContract;
  contract.replace(contract.find("seq > 0"), 7, "sequence > 0");
  Write("contracts/orders.yaml", contract);
  auto e = Engine::Open(dir_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("orders.yaml:12"), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("seq_positive"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/lake"));
}

TEST_F(ContractChecksTest, ACheckFailingToEvaluateFailsTheBatchAndCommitsNothing) {
  std::string contract = kCheckedContract;
  contract.replace(contract.find("seq > 0"), 7, "CAST(order_id AS INTEGER) > 0");
  Write("contracts/orders.yaml", contract);
  OpenEngine();
  Write("in/b.jsonl", Order("x1", "t1", "paid", "5", "2026-01-02", 1));
  auto r = engine_->IngestFile("orders", dir_ + "/in/b.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM dlq.orders"), 0);
}

}  // namespace
}  // namespace sluice
