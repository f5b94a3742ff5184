#include "spec/contract.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/test_project.h"

namespace sluice {
namespace {

const std::string kOrdersContract =
    std::string("name: orders\ncompatibility: full_transitive   # default\n") + testing::kOrdersColumns;

// Asserts an InvalidArgument whose message contains every one of `parts`.
void ExpectInvalid(const Result<Contract>& r, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  for (const auto& p : parts) {
    EXPECT_NE(r.status().message().find(p), std::string::npos)
        << "missing '" << p << "' in: " << r.status().message();
  }
}

TEST(ColumnTypeTest, ParsesEveryType) {
  struct Case {
    const char* text;
    TypeKind kind;
    const char* duck;
  } cases[] = {{"string", TypeKind::kString, "VARCHAR"},
               {"int64", TypeKind::kInt64, "BIGINT"},
               {"double", TypeKind::kDouble, "DOUBLE"},
               {"bool", TypeKind::kBool, "BOOLEAN"},
               {"date", TypeKind::kDate, "DATE"},
               {"timestamp", TypeKind::kTimestamp, "TIMESTAMP"},
               {"decimal(12,2)", TypeKind::kDecimal, "DECIMAL(12,2)"}};
  for (const auto& c : cases) {
    Result<ColumnType> t = ParseColumnType(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    EXPECT_EQ(t->kind, c.kind);
    EXPECT_EQ(t->Name(), c.text);
    EXPECT_EQ(t->DuckType(), c.duck);
  }
}

TEST(ColumnTypeTest, DecimalBounds) {
  auto t = ParseColumnType("decimal(18, 0)");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->precision, 18);
  EXPECT_EQ(t->scale, 0);
  EXPECT_EQ(t->Name(), "decimal(18,0)");
  EXPECT_TRUE(ParseColumnType("decimal(1,1)").ok());
  for (const char* bad : {"decimal(19,2)", "decimal(0,0)", "decimal(5,6)", "decimal(12)", "decimal",
                          "decimal(a,b)", "decimal(99999999999,1)", "decimal(-1,0)"}) {
    auto r = ParseColumnType(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("decimal"), std::string::npos) << r.status().message();
  }
}

TEST(ColumnTypeTest, UnknownTypeListsKnownOnes) {
  auto r = ParseColumnType("money");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'money'"), std::string::npos);
  EXPECT_NE(r.status().message().find("int64"), std::string::npos);
}

TEST(IdentifierTest, Rules) {
  EXPECT_TRUE(IsValidIdentifier("orders"));
  EXPECT_TRUE(IsValidIdentifier("_x1"));
  EXPECT_TRUE(IsValidIdentifier(std::string(63, 'a')));
  EXPECT_FALSE(IsValidIdentifier(std::string(64, 'a')));
  EXPECT_FALSE(IsValidIdentifier(""));
  EXPECT_FALSE(IsValidIdentifier("1abc"));
  EXPECT_FALSE(IsValidIdentifier("Orders"));
  EXPECT_FALSE(IsValidIdentifier("orders; DROP TABLE x"));
  EXPECT_FALSE(IsValidIdentifier("a-b"));
  EXPECT_FALSE(IsValidIdentifier("../etc"));
  EXPECT_FALSE(IsValidIdentifier(std::string("a\0b", 3)));
}

TEST(ContractTest, ParsesDesignExample) {
  auto r = ParseContract(kOrdersContract, "contracts/orders.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Contract& c = *r;
  EXPECT_EQ(c.name, "orders");
  EXPECT_EQ(c.compatibility, "full_transitive");
  EXPECT_EQ(c.path, "contracts/orders.yaml");
  ASSERT_EQ(c.columns.size(), 6u);
  const char* names[] = {"order_id", "tenant_id", "status", "amount", "created_at", "seq"};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(c.columns[i].name, names[i]);
    EXPECT_EQ(c.columns[i].line, static_cast<int>(i) + 4);
    EXPECT_EQ(c.Find(names[i]), static_cast<int>(i));
  }
  EXPECT_EQ(c.Find("nope"), -1);
  EXPECT_TRUE(c.columns[0].required);
  EXPECT_FALSE(c.columns[2].required);
  EXPECT_EQ(c.columns[2].enum_values.size(), 5u);
  EXPECT_EQ(c.columns[2].enum_values[4], "cancelled");
  EXPECT_EQ(c.columns[3].type.kind, TypeKind::kDecimal);
  EXPECT_EQ(c.columns[3].type.precision, 12);
  EXPECT_EQ(c.columns[3].type.scale, 2);
  ASSERT_TRUE(c.columns[3].min.has_value());
  EXPECT_EQ(*c.columns[3].min, 0.0);
  EXPECT_FALSE(c.columns[3].max.has_value());
  EXPECT_EQ(c.columns[4].type.kind, TypeKind::kTimestamp);
  EXPECT_EQ(c.columns[5].type.DuckType(), "BIGINT");
}

TEST(ContractTest, DefaultsAndOptionalRules) {
  auto r = ParseContract(
      "name: t\ncolumns:\n  code: {type: string, pattern: '^[A-Z]{3}$'}\n"
      "  score: {type: double, min: -1.5, max: 1e3}\n",
      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->compatibility, "full_transitive");
  EXPECT_EQ(r->columns[0].pattern.value_or(""), "^[A-Z]{3}$");
  EXPECT_EQ(*r->columns[1].min, -1.5);
  EXPECT_EQ(*r->columns[1].max, 1000.0);
}

// In a YAML flow mapping the comma splits `decimal(12,2)`; both spellings must still work.
TEST(ContractTest, DecimalInFlowAndBlockMappings) {
  auto r = ParseContract(
      "name: t\ncolumns:\n  a: {type: decimal(12, 2), min: 0}\n  b:\n    type: decimal(4,1)\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns[0].type.Name(), "decimal(12,2)");
  EXPECT_EQ(*r->columns[0].min, 0.0);
  EXPECT_EQ(r->columns[1].type.DuckType(), "DECIMAL(4,1)");
}

TEST(ContractTest, CompatibilityModes) {
  for (const char* mode : {"backward", "forward_transitive", "full", "none"}) {
    auto r = ParseContract(
        std::string("name: t\ncompatibility: ") + mode + "\ncolumns:\n  a: {type: int64}\n", "t.yaml");
    ASSERT_TRUE(r.ok()) << mode << ": " << r.status().ToString();
    EXPECT_EQ(r->compatibility, mode);
  }
  ExpectInvalid(ParseContract("name: t\ncompatibility: sideways\ncolumns:\n  a: {type: int64}\n", "t.yaml"),
                {"t.yaml:2:16", "compatibility", "sideways", "backward"});
}

TEST(ContractTest, AllowEmptyOnlyOnStringColumns) {
  auto r = ParseContract(
      "name: t\ncolumns:\n  a: {type: string, required: true, allow_empty: true}\n"
      "  b: {type: string, required: true}\n",
      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->columns[0].allow_empty);
  EXPECT_FALSE(r->columns[1].allow_empty);
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  n: {type: int64, allow_empty: true}\n", "t.yaml"),
                {"t.yaml:3:", "columns.n.allow_empty", "string columns"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  s: {type: string, allow_empty: maybe}\n", "t.yaml"),
                {"t.yaml:3:", "columns.s.allow_empty"});
}

TEST(ContractTest, UnknownTypeNamesFileLineAndField) {
  ExpectInvalid(ParseContract("name: orders\ncolumns:\n  id: {type: string}\n  amount: {type: money}\n",
                              "contracts/orders.yaml"),
                {"contracts/orders.yaml:4:", "columns.amount.type", "'money'", "decimal(p,s)"});
}

TEST(ContractTest, BadDecimal) {
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: decimal(30,2)}\n", "t.yaml"),
                {"t.yaml:3:", "columns.a.type", "precision"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: 'decimal(4,5)'}\n", "t.yaml"),
                {"t.yaml:3:", "columns.a.type", "scale"});
}

TEST(ContractTest, UnknownColumnKeyListsKnownKeys) {
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: string, requried: true}\n", "t.yaml"),
                {"t.yaml:3:", "columns.a.requried", "unknown key", "required", "pattern"});
}

TEST(ContractTest, ReservedColumnNames) {
  for (const char* name : {"_batch_id", "_ingested_at", "_correlation_id", "_source_line", "day", "tenant"}) {
    ExpectInvalid(ParseContract(std::string("name: t\ncolumns:\n  ") + name + ": {type: string}\n", "t.yaml"),
                  {"t.yaml:3:3", std::string("columns.") + name, "reserved"});
  }
}

TEST(ContractTest, BadIdentifiers) {
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  \"orders; DROP TABLE x\": {type: string}\n", "t.yaml"),
                {"t.yaml:3:", "not a valid column name"});
  ExpectInvalid(ParseContract("name: \"orders; DROP TABLE x\"\ncolumns:\n  a: {type: string}\n", "t.yaml"),
                {"t.yaml:1:", "name", "not a valid"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  Amount: {type: string}\n", "t.yaml"), {"columns.Amount"});
}

TEST(ContractTest, RulesOnlyForMatchingTypes) {
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: string, min: 0}\n", "t.yaml"),
                {"columns.a.min", "string"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: int64, enum: [1, 2]}\n", "t.yaml"),
                {"columns.a.enum", "int64"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: date, pattern: x}\n", "t.yaml"),
                {"columns.a.pattern"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: int64, min: 5, max: 1}\n", "t.yaml"),
                {"columns.a", "min"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: int64, min: abc}\n", "t.yaml"),
                {"t.yaml:3:", "columns.a.min", "number"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: int64, required: maybe}\n", "t.yaml"),
                {"columns.a.required", "maybe"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {required: true}\n", "t.yaml"),
                {"columns.a.type", "missing"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: string\n", "t.yaml"), {"columns.a"});
}

TEST(ContractTest, StructuralErrors) {
  ExpectInvalid(ParseContract("columns:\n  a: {type: string}\n", "t.yaml"), {"t.yaml", "name"});
  ExpectInvalid(ParseContract("name: t\n", "t.yaml"), {"t.yaml", "columns"});
  ExpectInvalid(ParseContract("name: t\ncolumns: {}\n", "t.yaml"), {"columns", "at least one"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n", "t.yaml"), {"columns", "at least one"});
  ExpectInvalid(ParseContract("name: t\ncolumns: [a, b]\n", "t.yaml"), {"t.yaml:2:", "columns"});
  ExpectInvalid(ParseContract("name: t\nowner: me\ncolumns:\n  a: {type: string}\n", "t.yaml"),
                {"t.yaml:2:1", "owner", "unknown key"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: string}\n  a: {type: int64}\n", "t.yaml"),
                {"t.yaml:4:3", "duplicate"});
}

TEST(ContractTest, MalformedYaml) {
  ExpectInvalid(ParseContract("name: t\ncolumns:\n\ta: {type: string}\n", "t.yaml"), {"t.yaml:3:1", "tab"});
  ExpectInvalid(ParseContract("name: t\ncolumns: {a: {type: string}\n", "t.yaml"), {"t.yaml:"});
  ExpectInvalid(ParseContract("name: [unclosed\n", "t.yaml"), {"t.yaml:"});
  ExpectInvalid(ParseContract("\"unterminated\n", "t.yaml"), {"t.yaml:"});
}

TEST(ContractTest, EmptyAndNonMappingFiles) {
  ExpectInvalid(ParseContract("", "t.yaml"), {"t.yaml", "empty"});
  ExpectInvalid(ParseContract("# only a comment\n", "t.yaml"), {"t.yaml", "empty"});
  ExpectInvalid(ParseContract("- name: t\n- columns: {}\n", "t.yaml"), {"t.yaml:1:1", "mapping"});
  ExpectInvalid(ParseContract("just a string\n", "t.yaml"), {"t.yaml", "mapping"});
}

TEST(ContractTest, HostileInputNeverThrows) {
  std::string deep(50000, '[');
  ExpectInvalid(ParseContract(deep, "t.yaml"), {"t.yaml"});
  std::string deep_map;
  for (int i = 0; i < 3000; ++i) deep_map += "{a: ";
  ExpectInvalid(ParseContract(deep_map, "t.yaml"), {"t.yaml"});
  ExpectInvalid(ParseContract("name: &a t\ncolumns: *a\n", "t.yaml"), {"columns"});
  ExpectInvalid(ParseContract(std::string("name: t\0x\ncolumns:\n  a: {type: string}\n", 38), "t.yaml"),
                {"t.yaml"});
  ExpectInvalid(ParseContract("name: \"a\\0b\"\ncolumns:\n  a: {type: string}\n", "t.yaml"),
                {"t.yaml:1:", "name"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  ? [a, b]\n  : {type: string}\n", "t.yaml"),
                {"t.yaml:3:", "columns"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: int64, min: .nan}\n", "t.yaml"),
                {"columns.a.min"});
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: string, max_length: 1e300}\n", "t.yaml"),
                {"columns.a.max_length", "whole number"});
}

// Found by fuzz/contract_fuzz: yaml-cpp passes invalid UTF-8 through into enum values and from
// there into dead-letter messages (DuckDB refuses invalid UTF-8 in VARCHAR).
TEST(ContractTest, InvalidUtf8IsRefusedWithItsPosition) {
  ExpectInvalid(ParseContract("name: t\ncolumns:\n  a: {type: string, enum: [x\xff]}\n", "t.yaml"),
                {"t.yaml:3:29", "UTF-8"});
  ExpectInvalid(ParseContract("name: t\xed\xa0\x80\ncolumns:\n  a: {type: string}\n", "t.yaml"),
                {"t.yaml:1:8", "UTF-8"});
  // yaml-cpp turns a NUL byte inside a scalar into a stray 0xA0 byte.
  const char kNul[] = "name: t\ncolumns:\n  a: {type: string, enum: [x\0y]}\n";
  ExpectInvalid(ParseContract(std::string(kNul, sizeof(kNul) - 1), "t.yaml"), {"t.yaml:3:29", "NUL"});
  Result<Contract> ok = ParseContract(
      "\xef\xbb\xbfname: t\ncolumns:\n  a: {type: string, enum: [\xc3\xbc, \xf0\x9f\x98\x80]}\n", "t.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->columns[0].enum_values[1], "\xf0\x9f\x98\x80");
}

class LoadContractTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    return testing::WriteFile(dir_, name, text);
  }
  testing::TempDir tmp_{"sluice_contract_test"};
  const std::string dir_ = tmp_.path();
};

TEST_F(LoadContractTest, ReadsFile) {
  std::string path = Write("orders.yaml", kOrdersContract);
  auto r = LoadContract(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, path);
  EXPECT_EQ(r->columns.size(), 6u);
}

TEST_F(LoadContractTest, MissingFileIsNotFound) {
  auto r = LoadContract(dir_ + "/nope.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope.yaml"), std::string::npos);
}

TEST_F(LoadContractTest, HugeFileIsRefused) {
  std::string path =
      Write("huge.yaml", "name: t\ncolumns:\n  a: {type: string}\n# " + std::string(5 << 20, 'x') + "\n");
  auto r = LoadContract(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("too large"), std::string::npos);
}

TEST_F(LoadContractTest, EmptyFile) {
  auto r = LoadContract(Write("empty.yaml", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("empty.yaml"), std::string::npos);
}

}  // namespace
}  // namespace sluice
