#include "ingest/decoder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

ColumnSpec Col(std::string name, TypeKind kind, bool required = false) {
  ColumnSpec c;
  c.name = std::move(name);
  c.type.kind = kind;
  c.required = required;
  c.line = 3;
  return c;
}

ColumnSpec DecimalCol(std::string name, int precision, int scale, bool required = false) {
  ColumnSpec c = Col(std::move(name), TypeKind::kDecimal, required);
  c.type.precision = precision;
  c.type.scale = scale;
  return c;
}

Contract MakeContract(std::vector<ColumnSpec> columns) {
  Contract c;
  c.name = "orders";
  c.path = "contracts/orders.yaml";
  c.columns = std::move(columns);
  return c;
}

ContractValidator MakeValidator(const Contract& contract, DecodeOptions options = {}) {
  auto v = ContractValidator::Create(contract, std::move(options));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return std::move(v).value();
}

// G1 and the shape of the columns, checked for every batch a test decodes.
void ExpectReconciled(const RecordBatch& b, size_t columns) {
  EXPECT_EQ(b.rows_read, static_cast<int64_t>(b.rows() + b.dead.size()));
  ASSERT_EQ(b.columns.size(), columns);
  for (const ColumnData& c : b.columns) {
    EXPECT_EQ(c.size(), b.rows());
    EXPECT_EQ(c.str_offsets.size(), c.type.kind == TypeKind::kString ? b.rows() + 1 : 1u);
  }
}

RecordBatch Jsonl(const ContractValidator& v, std::string_view data) {
  auto r = v.DecodeJsonl(data);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  RecordBatch b = std::move(r).value();
  ExpectReconciled(b, v.contract().columns.size());
  return b;
}

RecordBatch Csv(const ContractValidator& v, std::string_view data) {
  auto r = v.DecodeCsv(data);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  RecordBatch b = std::move(r).value();
  ExpectReconciled(b, v.contract().columns.size());
  return b;
}

// Decodes a single JSONL line that must dead-letter, and returns its dead letter.
DeadLetter DeadOne(const ContractValidator& v, std::string_view line) {
  RecordBatch b = Jsonl(v, line);
  EXPECT_EQ(b.rows_read, 1);
  EXPECT_EQ(b.rows(), 0u) << line;
  if (b.dead.size() != 1) {
    ADD_FAILURE() << "expected one dead letter for " << line;
    return {};
  }
  return b.dead[0];
}

// ---------------------------------------------------------------------------------------------
// JSONL

TEST(DecoderJsonl, TruncatedLineDoesNotEatItsNeighbour) {
  // docs/DUCKDB_HAZARDS.md: DuckDB's ignore_errors read this as 1, NULL, NULL, 4.
  auto v = MakeValidator(MakeContract({Col("a", TypeKind::kInt64, true)}));
  RecordBatch b = Jsonl(v, "{\"a\":1}\n{\"a\": \n{\"a\":3}\n{\"a\":4}\n");
  EXPECT_EQ(b.rows_read, 4);
  ASSERT_EQ(b.rows(), 3u);
  EXPECT_EQ(b.columns[0].i64, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(b.columns[0].valid, (std::vector<uint8_t>{1, 1, 1}));
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{1, 3, 4}));
  ASSERT_EQ(b.dead.size(), 1u);
  EXPECT_EQ(b.dead[0].line, 2);
  EXPECT_EQ(b.dead[0].reason, reason::kMalformedRecord);
  EXPECT_EQ(b.dead[0].column, "");
  EXPECT_EQ(b.dead[0].raw, "{\"a\": ");
}

TEST(DecoderJsonl, AllTypes) {
  auto v = MakeValidator(
      MakeContract({Col("s", TypeKind::kString), Col("i", TypeKind::kInt64), Col("d", TypeKind::kDouble),
                    DecimalCol("m", 12, 2), Col("b", TypeKind::kBool), Col("day", TypeKind::kDate),
                    Col("ts", TypeKind::kTimestamp)}));
  RecordBatch b = Jsonl(
      v,
      R"({"s":"h\u00e9\"llo","i":-42,"d":1.5e1,"m":1234567890.12,"b":true,"day":"2026-01-03","ts":"2026-01-03T10:15:30.5+02:00"})"
      "\n"
      R"({"s":"","i":9223372036854775807,"d":0,"m":"0.1","b":false,"day":null,"ts":"1970-01-01 00:00:00Z"})"
      "\n{}\n");
  ASSERT_EQ(b.rows(), 3u);
  ASSERT_TRUE(b.dead.empty()) << b.dead[0].message;
  EXPECT_EQ(b.columns[0].StringAt(0), "h\xC3\xA9\"llo");
  EXPECT_EQ(b.columns[0].StringAt(1), "");
  EXPECT_EQ(b.columns[0].StringAt(2), "");
  EXPECT_EQ(b.columns[0].valid, (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(b.columns[1].i64, (std::vector<int64_t>{-42, INT64_MAX, 0}));
  EXPECT_EQ(b.columns[2].f64, (std::vector<double>{15.0, 0.0, 0.0}));
  EXPECT_EQ(b.columns[3].i64, (std::vector<int64_t>{123456789012, 10, 0}));
  EXPECT_EQ(b.columns[4].u8, (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(b.columns[4].valid, (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(b.columns[5].i32, (std::vector<int32_t>{20456, 0, 0}));
  EXPECT_EQ(b.columns[5].valid, (std::vector<uint8_t>{1, 0, 0}));
  // 10:15:30.5+02:00 is 08:15:30.5Z.
  EXPECT_EQ(b.columns[6].i64, (std::vector<int64_t>{1767428130500000, 0, 0}));
  EXPECT_EQ(b.columns[6].valid, (std::vector<uint8_t>{1, 1, 0}));
}

TEST(DecoderJsonl, DecimalsAreExact) {
  auto v = MakeValidator(MakeContract({DecimalCol("m", 12, 2)}));
  RecordBatch b = Jsonl(v,
                        "{\"m\":0.1}\n{\"m\":0.2}\n{\"m\":\"0.30\"}\n{\"m\":1234567890.12}\n"
                        "{\"m\":-0.07}\n{\"m\":1e2}\n{\"m\":\"9999999999.99\"}\n");
  ASSERT_TRUE(b.dead.empty());
  EXPECT_EQ(b.columns[0].i64, (std::vector<int64_t>{10, 20, 30, 123456789012, -7, 10000, 999999999999}));
  EXPECT_EQ(b.columns[0].i64[0] + b.columns[0].i64[1], b.columns[0].i64[2]);

  // decimal(12,2) holds 10 integer digits: 12345678901.23 needs 11.
  DeadLetter d = DeadOne(v, "{\"m\":12345678901.23}");
  EXPECT_EQ(d.reason, reason::kOutOfRange);
  EXPECT_EQ(d.column, "m");
  EXPECT_EQ(d.message, "12345678901.23 does not fit decimal(12,2)");
  EXPECT_EQ(DeadOne(v, "{\"m\":\"12345678901.23\"}").message,
            "\"12345678901.23\" does not fit decimal(12,2)");
  EXPECT_EQ(DeadOne(v, "{\"m\":\"1.234\"}").reason, reason::kBadType);  // no silent rounding
  EXPECT_EQ(DeadOne(v, "{\"m\":12.345}").message, "12.345 has 3 decimal places, decimal(12,2) allows 2");
  EXPECT_EQ(DeadOne(v, "{\"m\":1e400}").reason, reason::kOutOfRange);
  d = DeadOne(v, "{\"m\":\"abc\"}");
  EXPECT_EQ(d.reason, reason::kBadType);
  EXPECT_EQ(d.message, "expected decimal(12,2), got \"abc\"");
  EXPECT_EQ(DeadOne(v, "{\"m\":true}").reason, reason::kBadType);
}

TEST(DecoderJsonl, MissingRequired) {
  auto v = MakeValidator(MakeContract({Col("id", TypeKind::kString, true), Col("note", TypeKind::kString)}));
  DeadLetter d = DeadOne(v, R"({"note":"x"})");
  EXPECT_EQ(d.reason, reason::kMissingRequired);
  EXPECT_EQ(d.column, "id");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.raw, R"({"note":"x"})");
  d = DeadOne(v, R"({"id":null})");
  EXPECT_EQ(d.reason, reason::kMissingRequired);
  EXPECT_EQ(d.column, "id");
  // Optional columns may be missing or null.
  RecordBatch b = Jsonl(v, R"({"id":"a","note":null})");
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.columns[1].valid, (std::vector<uint8_t>{0}));
}

// docs/CONTRACTS.md "Empty values": a required string column (every key is one) refuses ""
// and whitespace-only values the same way in every format; allow_empty opts a column out.
TEST(DecoderEmptyValues, RequiredStringRefusesEmptyAndBlankInEveryFormat) {
  ColumnSpec note = Col("note", TypeKind::kString, true);
  ColumnSpec free = Col("free", TypeKind::kString);
  ColumnSpec opt_in = Col("comment", TypeKind::kString, true);
  opt_in.allow_empty = true;
  auto v = MakeValidator(MakeContract({Col("id", TypeKind::kString, true), note, free, opt_in}));

  RecordBatch j = Jsonl(v,
                        "{\"id\":\"\",\"note\":\"n\",\"comment\":\"c\"}\n"
                        "{\"id\":\"  \",\"note\":\"n\",\"comment\":\"c\"}\n"
                        "{\"id\":\"\\t\\r\\n\",\"note\":\"n\",\"comment\":\"c\"}\n"
                        "{\"id\":\"a\",\"note\":\" \",\"comment\":\"c\"}\n"
                        "{\"id\":\"b\",\"note\":\"n\",\"free\":\"\",\"comment\":\"\"}\n"
                        "{\"id\":\" b \",\"note\":\"n\",\"comment\":\" \"}\n");
  ASSERT_EQ(j.dead.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j.dead[i].reason, reason::kMissingRequired) << i;
    EXPECT_EQ(j.dead[i].column, "id") << i;
  }
  EXPECT_EQ(j.dead[0].message, "required column is empty");
  EXPECT_EQ(j.dead[1].message, "required column is blank");
  EXPECT_EQ(j.dead[3].column, "note");
  // A nullable column and an allow_empty column keep "" and blanks; " b " is not blank.
  ASSERT_EQ(j.rows(), 2u);
  EXPECT_EQ(j.columns[0].StringAt(0), "b");
  EXPECT_EQ(j.columns[0].StringAt(1), " b ");
  EXPECT_EQ(j.columns[2].StringAt(0), "");
  EXPECT_EQ(j.columns[2].valid[0], 1);
  EXPECT_EQ(j.columns[3].StringAt(1), " ");

  // CSV: a quoted "" and a blank field are refused like JSON's; unquoted empty reads NULL.
  RecordBatch c = Csv(v,
                      "id,note,free,comment\n"
                      "\"\",n,,c\n"
                      "  ,n,,c\n"
                      ",n,,c\n"
                      "a,\"\t\",,c\n"
                      "b,n,\"\",\"\"\n");
  ASSERT_EQ(c.dead.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.dead[i].reason, reason::kMissingRequired) << i;
    EXPECT_EQ(c.dead[i].column, "id") << i;
  }
  EXPECT_EQ(c.dead[3].column, "note");
  ASSERT_EQ(c.rows(), 1u);
  EXPECT_EQ(c.columns[0].StringAt(0), "b");

  // Parquet rows (and redriven rows) arrive as JSON records.
  auto p = v.DecodeJsonRecords({R"({"id":"","note":"n","comment":"c"})",
                                R"({"id":"   ","note":"n","comment":"c"})",
                                R"({"id":"ok","note":"n","comment":""})"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->dead.size(), 2u);
  EXPECT_EQ(p->dead[0].reason, reason::kMissingRequired);
  EXPECT_EQ(p->dead[1].reason, reason::kMissingRequired);
  EXPECT_EQ(p->rows(), 1u);
}

TEST(DecoderJsonl, BadType) {
  auto v = MakeValidator(
      MakeContract({Col("i", TypeKind::kInt64), Col("s", TypeKind::kString), Col("b", TypeKind::kBool),
                    Col("t", TypeKind::kTimestamp), Col("day", TypeKind::kDate)}));
  struct Case {
    const char* line;
    const char* column;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"i":"abc"})", "i", R"(expected int64, got "abc")"},
           {R"({"i":"12"})", "i", R"(expected int64, got "12")"},
           {R"({"i":1.5})", "i", "expected int64, got 1.5"},
           {R"({"i":1e3})", "i", "expected int64, got 1e3"},
           {R"({"i":1.0 })", "i", "expected int64, got 1.0"},
           {R"({"i":true})", "i", "expected int64, got true"},
           {R"({"i":{"x":[1,2]}})", "i", "expected int64, got object"},
           {R"({"i":[]})", "i", "expected int64, got array"},
           {R"({"s":5})", "s", "expected string, got 5"},
           {R"({"b":"true"})", "b", R"(expected bool, got "true")"},
           {R"({"b":1})", "b", "expected bool, got 1"},
           {R"({"t":"2026-01-03"})", "t", R"(expected timestamp, got "2026-01-03")"},
           {R"({"t":1767428130})", "t", "expected timestamp, got 1767428130"},
           {R"({"day":"2026-02-30"})", "day", R"(expected date, got "2026-02-30")"},
       }) {
    DeadLetter d = DeadOne(v, c.line);
    EXPECT_EQ(d.reason, reason::kBadType) << c.line;
    EXPECT_EQ(d.column, c.column) << c.line;
    EXPECT_EQ(d.message, c.message) << c.line;
  }
}

TEST(DecoderJsonl, Int64Overflow) {
  auto v = MakeValidator(MakeContract({Col("i", TypeKind::kInt64)}));
  DeadLetter d = DeadOne(v, R"({"i":9223372036854775808})");
  EXPECT_EQ(d.reason, reason::kOutOfRange);
  EXPECT_EQ(d.message, "9223372036854775808 does not fit int64");
  EXPECT_EQ(DeadOne(v, R"({"i":-99999999999999999999})").reason, reason::kOutOfRange);
}

TEST(DecoderJsonl, EnumRangeAndPattern) {
  ColumnSpec status = Col("status", TypeKind::kString);
  status.enum_values = {"created", "paid"};
  ColumnSpec qty = Col("qty", TypeKind::kInt64);
  qty.min = 1;
  qty.max = 10;
  ColumnSpec amount = DecimalCol("amount", 12, 2);
  amount.min = 0;
  ColumnSpec ratio = Col("ratio", TypeKind::kDouble);
  ratio.max = 0.5;
  ColumnSpec sku = Col("sku", TypeKind::kString);
  sku.pattern = "[A-Z]{3}-[0-9]+";
  auto v = MakeValidator(MakeContract({status, qty, amount, ratio, sku}));

  RecordBatch b = Jsonl(v, R"({"status":"paid","qty":10,"amount":0,"ratio":0.5,"sku":"ABC-1"})"
                           "\n"
                           R"({"status":"created","qty":1,"amount":0.01,"sku":"XYZ-42"})");
  ASSERT_EQ(b.rows(), 2u);

  DeadLetter d = DeadOne(v, R"({"status":"lost"})");
  EXPECT_EQ(d.reason, reason::kNotInEnum);
  EXPECT_EQ(d.column, "status");
  EXPECT_EQ(d.message, "\"lost\" is not one of: created paid");
  d = DeadOne(v, R"({"qty":0})");
  EXPECT_EQ(d.reason, reason::kOutOfRange);
  EXPECT_EQ(d.message, "0 is below the minimum 1");
  d = DeadOne(v, R"({"qty":11})");
  EXPECT_EQ(d.reason, reason::kOutOfRange);
  EXPECT_EQ(d.message, "11 is above the maximum 10");
  d = DeadOne(v, R"({"amount":-0.01})");
  EXPECT_EQ(d.reason, reason::kOutOfRange);
  EXPECT_EQ(d.column, "amount");
  EXPECT_EQ(DeadOne(v, R"({"ratio":0.5000001})").reason, reason::kOutOfRange);
  d = DeadOne(v, R"({"sku":"abc-1"})");
  EXPECT_EQ(d.reason, reason::kPatternMismatch);
  EXPECT_EQ(d.column, "sku");
  // FullMatch: a matching prefix is not enough.
  EXPECT_EQ(DeadOne(v, R"({"sku":"ABC-1x"})").reason, reason::kPatternMismatch);
}

TEST(DecoderJsonl, FirstFailingColumnInContractOrderWins) {
  ColumnSpec status = Col("status", TypeKind::kString);
  status.enum_values = {"ok"};
  auto v =
      MakeValidator(MakeContract({Col("id", TypeKind::kString, true), status, Col("n", TypeKind::kInt64)}));
  // Object order is n, status, id; contract order is id, status, n.
  DeadLetter d = DeadOne(v, R"({"n":"x","status":"bad","id":"1"})");
  EXPECT_EQ(d.reason, reason::kNotInEnum);
  EXPECT_EQ(d.column, "status");
  d = DeadOne(v, R"({"n":"x","status":"bad"})");
  EXPECT_EQ(d.reason, reason::kMissingRequired);
  EXPECT_EQ(d.column, "id");
}

TEST(DecoderJsonl, FieldTooLarge) {
  DecodeOptions options;
  options.max_field_bytes = 8;
  auto v = MakeValidator(MakeContract({Col("s", TypeKind::kString)}), options);
  RecordBatch b = Jsonl(v, R"({"s":"12345678"})");
  EXPECT_EQ(b.rows(), 1u);
  DeadLetter d = DeadOne(v, R"({"s":"123456789"})");
  EXPECT_EQ(d.reason, reason::kFieldTooLarge);
  EXPECT_EQ(d.column, "s");
  EXPECT_EQ(d.message, "value of 9 bytes exceeds the limit of 8 bytes");
}

TEST(DecoderJsonl, BadPartitionValue) {
  DecodeOptions options;
  options.path_columns = {"tenant"};
  auto v = MakeValidator(MakeContract({Col("tenant", TypeKind::kString, true)}), options);
  RecordBatch b = Jsonl(v, R"({"tenant":"t07"})"
                           "\n"
                           R"({"tenant":"a.b_c_d-E9"})");
  EXPECT_EQ(b.rows(), 2u);
  for (std::string bad :
       {std::string("../etc"), std::string("a/b"), std::string(".hidden"), std::string("a b"),
        std::string(129, 'x'), std::string("t\\u00e9"), std::string("a=b")}) {
    DeadLetter d = DeadOne(v, "{\"tenant\":\"" + bad + "\"}");
    EXPECT_EQ(d.reason, reason::kBadPartitionValue) << bad;
    EXPECT_EQ(d.column, "tenant");
  }
  EXPECT_EQ(Jsonl(v, "{\"tenant\":\"" + std::string(128, 'x') + "\"}").rows(), 1u);
  // A path column is required: an empty value is refused as such first.
  EXPECT_EQ(DeadOne(v, R"({"tenant":""})").reason, reason::kMissingRequired);
}

TEST(DecoderJsonl, InvalidUtf8IsBadEncodingWithEscapedRaw) {
  auto v = MakeValidator(MakeContract({Col("s", TypeKind::kString)}));
  RecordBatch b = Jsonl(v, "{\"s\":\"ok\"}\n{\"s\":\"a\xFF\xC3\"}\n{\"s\":\"\xC3\xA9\"}\n");
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{1, 3}));
  ASSERT_EQ(b.dead.size(), 1u);
  EXPECT_EQ(b.dead[0].reason, reason::kBadEncoding);
  EXPECT_EQ(b.dead[0].line, 2);
  EXPECT_EQ(b.dead[0].raw, "{\"s\":\"a\\xFF\\xC3\"}");
  // Overlong encodings and surrogates are invalid too.
  EXPECT_EQ(DeadOne(v, "{\"s\":\"\xC0\xAF\"}").raw, "{\"s\":\"\\xC0\\xAF\"}");
  EXPECT_EQ(DeadOne(v, "{\"s\":\"\xED\xA0\x80\"}").reason, reason::kBadEncoding);
}

TEST(DecoderJsonl, Malformed) {
  auto v = MakeValidator(MakeContract({Col("a", TypeKind::kInt64)}));
  for (const char* line : {"[1,2]",
                           "42",
                           "\"str\"",
                           "null",
                           "{",
                           "{\"a\":1",
                           "{\"a\":1}}",
                           "{\"a\":1} {\"a\":2}",
                           "{\"a\":1} x",
                           "{\"a\":1,}",
                           "{\"a\" 1}",
                           "{a:1}",
                           "{'a':1}",
                           "{\"a\":01}",
                           "{\"a\":-}",
                           "{\"a\":1.}",
                           "{\"a\":tru}",
                           "{\"a\":nul}",
                           "{\"x\":tru}",
                           "{\"x\":[1,}",
                           "{\"x\":{\"y\":nulll}}",
                           "{\"x\":\"bad \\q escape\"}",
                           "{\"x\":\"tab\tinside\"}",
                           "{\"a\":1,\"x\":1.2.3}",
                           "not json"}) {
    DeadLetter d = DeadOne(v, line);
    EXPECT_EQ(d.reason, reason::kMalformedRecord) << line << ": " << d.message;
    EXPECT_EQ(d.column, "") << line;
    EXPECT_EQ(d.raw, line);
  }
  EXPECT_EQ(DeadOne(v, "[1]").message, "not a JSON object");
}

TEST(DecoderJsonl, UnknownFieldsIgnoredDuplicateKeysLastWins) {
  auto v = MakeValidator(MakeContract({Col("a", TypeKind::kInt64), Col("s", TypeKind::kString)}));
  RecordBatch b = Jsonl(v, R"({"x":{"deep":[1,{"y":null},"z",true,-1.5e-3]},"a":1,"a":2,"s":"p","s":"q"})"
                           "\n"
                           R"({"a":"not a number","a":7})"
                           "\n"
                           R"({"\u0061":5,"s\u0000":"ignored"})");
  ASSERT_TRUE(b.dead.empty()) << b.dead[0].message;
  EXPECT_EQ(b.columns[0].i64, (std::vector<int64_t>{2, 7, 5}));
  EXPECT_EQ(b.columns[1].StringAt(0), "q");
  EXPECT_EQ(b.columns[1].valid, (std::vector<uint8_t>{1, 0, 0}));
  // And the other way round: a bad value after a good one fails the row.
  EXPECT_EQ(DeadOne(v, R"({"a":1,"a":"x"})").reason, reason::kBadType);
}

TEST(DecoderJsonl, BlankLinesCrLfAndMissingFinalNewline) {
  auto v = MakeValidator(MakeContract({Col("a", TypeKind::kInt64)}));
  RecordBatch b = Jsonl(v, "\n{\"a\":1}\r\n   \r\n\t\n{\"a\":2}\r\n{\"a\":\"x\"}\r\n\n{\"a\":3}");
  EXPECT_EQ(b.rows_read, 4);
  EXPECT_EQ(b.columns[0].i64, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{2, 5, 8}));
  ASSERT_EQ(b.dead.size(), 1u);
  EXPECT_EQ(b.dead[0].line, 6);
  EXPECT_EQ(b.dead[0].raw, "{\"a\":\"x\"}");  // without "\r"

  b = Jsonl(v, "");
  EXPECT_EQ(b.rows_read, 0);
  b = Jsonl(v, "\n\n  \n");
  EXPECT_EQ(b.rows_read, 0);
}

TEST(DecoderJsonl, RowsAreAllOrNothing) {
  auto v = MakeValidator(MakeContract(
      {Col("s", TypeKind::kString), Col("t", TypeKind::kString), Col("n", TypeKind::kInt64, true)}));
  RecordBatch b = Jsonl(v, R"({"s":"keep1","t":"x","n":1})"
                           "\n"
                           R"({"s":"DROP","t":"DROP","n":"bad"})"
                           "\n"
                           R"({"s":"keep2","n":2})");
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.columns[0].str_data, "keep1keep2");
  EXPECT_EQ(b.columns[1].str_data, "x");
  EXPECT_EQ(b.columns[1].str_offsets, (std::vector<uint64_t>{0, 1, 1}));
  EXPECT_EQ(b.columns[2].i64, (std::vector<int64_t>{1, 2}));
}

TEST(DecoderJsonl, TenMegabyteLine) {
  DecodeOptions options;
  options.max_field_bytes = 16 << 20;
  ColumnSpec s = Col("s", TypeKind::kString);
  s.pattern = "x+";
  auto v = MakeValidator(MakeContract({s, Col("n", TypeKind::kInt64)}), options);
  const std::string big(10 << 20, 'x');
  const std::string line = "{\"s\":\"" + big + "\",\"n\":1}";
  RecordBatch b = Jsonl(v, "{\"n\":0}\n" + line + "\n{\"junk\":\"" + big + "\",\"n\":2}\n");
  ASSERT_EQ(b.rows(), 3u);
  EXPECT_EQ(b.columns[0].StringAt(1).size(), big.size());
  EXPECT_EQ(b.columns[1].i64, (std::vector<int64_t>{0, 1, 2}));

  // With the default limit (1 MiB) the same line dead-letters, raw kept whole.
  auto limited = MakeValidator(MakeContract({Col("s", TypeKind::kString)}));
  DeadLetter d = DeadOne(limited, line);
  EXPECT_EQ(d.reason, reason::kFieldTooLarge);
  EXPECT_EQ(d.raw.size(), line.size());
}

TEST(DecoderJsonl, DeepNestingDoesNotCrash) {
  auto v = MakeValidator(MakeContract({Col("a", TypeKind::kInt64)}));
  const std::string open(100000, '['), close(100000, ']');
  for (const std::string& line :
       {open, open + close, "{\"a\":" + open + close + "}", "{\"x\":" + open + close + "}",
        "{\"x\":" + open + "}", std::string(100000, '{')}) {
    DeadLetter d = DeadOne(v, line);
    EXPECT_TRUE(d.reason == reason::kMalformedRecord || d.reason == reason::kBadType) << d.reason;
  }
  // Moderate nesting in an ignored field is fine.
  EXPECT_EQ(Jsonl(v, "{\"x\":" + std::string(100, '[') + std::string(100, ']') + ",\"a\":1}").rows(), 1u);
}

TEST(DecoderJsonRecords, NumberedFromOne) {
  auto v = MakeValidator(MakeContract({Col("a", TypeKind::kInt64, true)}));
  auto r = v.DecodeJsonRecords({R"({"a":1})", R"({"a": )", "", R"({"a":4})", R"({"b":1})"});
  ASSERT_TRUE(r.ok());
  const RecordBatch& b = *r;
  ExpectReconciled(b, 1);
  EXPECT_EQ(b.rows_read, 5);
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(b.columns[0].i64, (std::vector<int64_t>{1, 4}));
  ASSERT_EQ(b.dead.size(), 3u);
  EXPECT_EQ(b.dead[0].line, 2);
  EXPECT_EQ(b.dead[0].reason, reason::kMalformedRecord);
  EXPECT_EQ(b.dead[1].line, 3);  // an empty element is a record too, and not valid JSON
  EXPECT_EQ(b.dead[1].reason, reason::kMalformedRecord);
  EXPECT_EQ(b.dead[2].line, 5);
  EXPECT_EQ(b.dead[2].reason, reason::kMissingRequired);
}

TEST(DecoderJsonl, MutatedLinesAgreeWithAFullJsonValidator) {
  // On Demand parsing validates only what it touches; the decoder must consume everything. Random
  // mutations of valid lines are classified malformed exactly when simdjson's DOM parser (which
  // validates the whole document) rejects them, and every batch reconciles.
  auto v = MakeValidator(
      MakeContract({Col("id", TypeKind::kString), Col("n", TypeKind::kInt64), Col("x", TypeKind::kDouble)}));
  const std::vector<std::string> seeds = {
      R"({"id":"a\"b","n":12,"x":-1.5e3,"extra":{"k":[1,true,null,"s\u00e9"]}})",
      R"({"n":-7,"list":[[],[{}],{"a":{"b":false}}],"id":"z"})"};
  const std::string alphabet = "{}[]\",:-+.eE0123456789 tfnrul\\ax";
  std::mt19937 rng(7);
  std::vector<std::string> records;
  for (int i = 0; i < 4000; ++i) {
    std::string line = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !line.empty(); ++e) {
      const size_t pos = rng() % line.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0:
          line.erase(pos, 1);
          break;
        case 1:
          line.insert(pos, 1, c);
          break;
        case 2:
          line[pos] = c;
          break;
        default:
          line.resize(pos);
          break;
      }
    }
    records.push_back(line);
  }
  auto r = v.DecodeJsonRecords(records);
  ASSERT_TRUE(r.ok());
  ExpectReconciled(*r, 3);
  std::map<int64_t, std::string> dead_reason;
  for (const DeadLetter& d : r->dead) dead_reason[d.line] = d.reason;
  simdjson::dom::parser dom;
  int checked = 0, valid = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    simdjson::dom::element doc;
    const auto err = dom.parse(records[i]).get(doc);
    if (err == simdjson::NUMBER_ERROR) continue;  // e.g. 1e999: valid JSON the DOM refuses
    const bool valid_object = !err && doc.is_object();
    const auto it = dead_reason.find(static_cast<int64_t>(i) + 1);
    const bool malformed = it != dead_reason.end() && it->second == reason::kMalformedRecord;
    EXPECT_EQ(malformed, !valid_object) << records[i];
    ++checked;
    valid += valid_object;
  }
  EXPECT_GT(checked, 3000);
  EXPECT_GT(valid, 300);  // both kinds are well represented
  EXPECT_LT(valid, checked - 300) << valid;
}

// ---------------------------------------------------------------------------------------------
// CSV

Contract CsvContract() {
  return MakeContract({Col("id", TypeKind::kString, true), Col("n", TypeKind::kInt64),
                       DecimalCol("amount", 12, 2), Col("ok", TypeKind::kBool),
                       Col("ts", TypeKind::kTimestamp)});
}

TEST(DecoderCsv, TypedValuesNullsAndQuoting) {
  Contract contract = CsvContract();
  contract.columns[0].allow_empty = true;  // so that the required id may be a quoted ""
  auto v = MakeValidator(contract);
  RecordBatch b = Csv(v,
                      "ts,id,n,amount,ok,extra\n"
                      "2026-01-03T10:15:30Z,a1,5,1234567890.12,1,zzz\n"
                      ",\"\",,,false,\n"
                      "1970-01-01 00:00:00+01:00,\"x,\"\"y\"\"\",-3,0.1,TRUE,\n");
  ASSERT_TRUE(b.dead.empty()) << b.dead[0].message;
  ASSERT_EQ(b.rows(), 3u);
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(b.columns[0].StringAt(0), "a1");
  EXPECT_EQ(b.columns[0].StringAt(1), "");  // quoted empty is an empty string, not NULL
  EXPECT_EQ(b.columns[0].StringAt(2), "x,\"y\"");
  EXPECT_EQ(b.columns[0].valid, (std::vector<uint8_t>{1, 1, 1}));
  EXPECT_EQ(b.columns[1].i64, (std::vector<int64_t>{5, 0, -3}));
  EXPECT_EQ(b.columns[1].valid, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(b.columns[2].i64, (std::vector<int64_t>{123456789012, 0, 10}));
  EXPECT_EQ(b.columns[3].u8, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(b.columns[3].valid, (std::vector<uint8_t>{1, 1, 1}));
  EXPECT_EQ(b.columns[4].i64, (std::vector<int64_t>{1767435330000000, 0, -3600000000}));
  EXPECT_EQ(b.columns[4].valid, (std::vector<uint8_t>{1, 0, 1}));
}

TEST(DecoderCsv, ReasonCodes) {
  auto v = MakeValidator(CsvContract());
  RecordBatch b = Csv(v,
                      "id,n,amount\n"
                      "a,1,1.00\n"            // 2: ok
                      ",2,1\n"                // 3: missing_required (id NULL)
                      "b,abc,1\n"             // 4: bad_type
                      "c,1,2,3\n"             // 5: too many fields
                      "d,1\n"                 // 6: too few
                      "e,1,123456789012.5\n"  // 7: out_of_range
                      "f,\xFF,1\n"            // 8: bad_encoding
                      "g,\"1\"x,1\n"          // 9: text after closing quote
                      "h,\"2\",\"3.5\"\n");   // 10: ok (quoted numbers are fine)
  EXPECT_EQ(b.rows_read, 9);
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(b.columns[2].i64, (std::vector<int64_t>{100, 350}));
  ASSERT_EQ(b.dead.size(), 7u);
  EXPECT_EQ(b.dead[0].line, 3);
  EXPECT_EQ(b.dead[0].reason, reason::kMissingRequired);
  EXPECT_EQ(b.dead[0].column, "id");
  EXPECT_EQ(b.dead[1].reason, reason::kBadType);
  EXPECT_EQ(b.dead[1].column, "n");
  EXPECT_EQ(b.dead[1].message, "expected int64, got \"abc\"");
  EXPECT_EQ(b.dead[2].reason, reason::kMalformedRecord);
  EXPECT_EQ(b.dead[2].message, "expected 3 fields, got 4");
  EXPECT_EQ(b.dead[2].raw, "c,1,2,3");
  EXPECT_EQ(b.dead[3].reason, reason::kMalformedRecord);
  EXPECT_EQ(b.dead[3].message, "expected 3 fields, got 2");
  EXPECT_EQ(b.dead[4].reason, reason::kOutOfRange);
  EXPECT_EQ(b.dead[4].column, "amount");
  EXPECT_EQ(b.dead[5].reason, reason::kBadEncoding);
  EXPECT_EQ(b.dead[5].line, 8);
  EXPECT_EQ(b.dead[5].raw, "f,\\xFF,1");
  EXPECT_EQ(b.dead[6].reason, reason::kMalformedRecord);
  EXPECT_EQ(b.dead[6].line, 9);
}

TEST(DecoderCsv, MissingHeaderColumnIsNullForEveryRow) {
  auto v = MakeValidator(CsvContract());
  // No "id" (required) and no "ok" (optional) column.
  RecordBatch b = Csv(v, "n,amount\n1,2\n3,4\n");
  EXPECT_EQ(b.rows_read, 2);
  EXPECT_EQ(b.rows(), 0u);
  ASSERT_EQ(b.dead.size(), 2u);
  EXPECT_EQ(b.dead[0].reason, reason::kMissingRequired);
  EXPECT_EQ(b.dead[0].column, "id");
  EXPECT_EQ(b.dead[1].line, 3);

  auto opt = MakeValidator(MakeContract({Col("id", TypeKind::kString), Col("ok", TypeKind::kBool)}));
  b = Csv(opt, "id\nx\n");
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.columns[1].valid, (std::vector<uint8_t>{0}));
}

TEST(DecoderCsv, QuotedNewlinesCrLfAndLineNumbers) {
  auto v = MakeValidator(MakeContract({Col("id", TypeKind::kString), Col("n", TypeKind::kInt64)}));
  RecordBatch b = Csv(v, "id,n\r\n\"multi\r\nline\",1\r\nplain,2\r\n\r\n\"open,3\r\nmore\r\n");
  EXPECT_EQ(b.rows_read, 3);
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.columns[0].StringAt(0), "multi\r\nline");
  EXPECT_EQ(b.columns[0].StringAt(1), "plain");
  EXPECT_EQ(b.columns[1].i64, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{2, 4}));
  ASSERT_EQ(b.dead.size(), 1u);
  EXPECT_EQ(b.dead[0].reason, reason::kMalformedRecord);  // unterminated quote at EOF
  EXPECT_EQ(b.dead[0].line, 6);
  EXPECT_EQ(b.dead[0].raw, "\"open,3\r\nmore");
}

TEST(DecoderCsv, EmptyInputs) {
  auto v = MakeValidator(CsvContract());
  RecordBatch b = Csv(v, "");
  EXPECT_EQ(b.rows_read, 0);
  b = Csv(v, "id,n\n");  // header only
  EXPECT_EQ(b.rows_read, 0);

  auto r = v.DecodeCsv("\n1,2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("empty CSV file: no header"), std::string::npos);
}

TEST(DecoderCsv, DuplicateHeaderIsAnError) {
  auto v = MakeValidator(CsvContract());
  auto r = v.DecodeCsv("id,n,id\na,1,b\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'id'"), std::string::npos) << r.status().message();
}

TEST(DecoderCsv, OtherDelimiterAndBom) {
  DecodeOptions options;
  options.csv_delimiter = ';';
  auto v = MakeValidator(MakeContract({Col("id", TypeKind::kString), DecimalCol("m", 5, 2)}), options);
  RecordBatch b = Csv(v, "\xEF\xBB\xBFid;m\na,b;1.5\n");
  ASSERT_EQ(b.rows(), 1u) << (b.dead.empty() ? "" : b.dead[0].message);
  EXPECT_EQ(b.columns[0].StringAt(0), "a,b");
  EXPECT_EQ(b.columns[1].i64, (std::vector<int64_t>{150}));
}

// ---------------------------------------------------------------------------------------------
// Validator construction

TEST(ContractValidator, BadPatternNamesColumnAndContract) {
  ColumnSpec s = Col("sku", TypeKind::kString);
  s.pattern = "([a-z";
  auto r = ContractValidator::Create(MakeContract({s}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("contracts/orders.yaml"), std::string::npos);
  EXPECT_NE(r.status().message().find("sku"), std::string::npos);
}

TEST(ContractValidator, UnknownPathColumnIsAnError) {
  DecodeOptions options;
  options.path_columns = {"tenant"};
  auto r = ContractValidator::Create(MakeContract({Col("id", TypeKind::kString)}), options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tenant"), std::string::npos);
}

TEST(ContractValidator, MovedValidatorKeepsWorking) {
  auto a = MakeValidator(MakeContract({Col("a", TypeKind::kInt64)}));
  ContractValidator b = std::move(a);
  auto c = MakeValidator(MakeContract({Col("z", TypeKind::kString)}));
  c = std::move(b);
  EXPECT_EQ(c.contract().columns[0].name, "a");
  EXPECT_EQ(Jsonl(c, "{\"a\":1}").rows(), 1u);
}

}  // namespace
}  // namespace sluice
