// The compatibility rules table of docs/CONTRACTS.md, row by row, in every mode; the transitive
// modes; and lineage-aware compatibility (ColumnUsers, CheckLineage).
#include "spec/compatibility.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

// A contract from its `columns:` lines (and optional `checks:` block); column `id` always first.
Contract Make(const std::string& columns, const std::string& checks = "", const std::string& mode = "full") {
  std::string text = "name: t\ncompatibility: " + mode +
                     "\ncolumns:\n  id: {type: string, required: true}\n" + columns + checks;
  Result<Contract> c = ParseContract(text, "t.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString() << "\n" << text;
  return c.ok() ? *c : Contract{};
}

// One row of the rules table: a change old -> new and the rule each direction breaks ("" = ok).
struct Row {
  const char* name;
  const char* old_cols;
  const char* new_cols;
  const char* backward;  // rule id broken when the new contract reads old data, or ""
  const char* forward;   // rule id broken when the old contract reads new data, or ""
  const char* old_checks = "";
  const char* new_checks = "";
};

const Row kRows[] = {
    // Columns added and removed.
    {"add_nullable", "", "  b: {type: string}\n", "", ""},
    {"add_required_with_default", "", "  b: {type: int64, required: true, default: 0}\n", "", ""},
    {"add_required_without_default", "", "  b: {type: int64, required: true}\n",
     "column_added_without_default", ""},
    {"remove_nullable", "  b: {type: string}\n", "", "", ""},
    {"remove_required_with_default", "  b: {type: string, required: true, default: x}\n", "", "", ""},
    {"remove_required_without_default", "  b: {type: string, required: true}\n", "", "",
     "column_removed_without_default"},
    {"rename_required", "  b: {type: string, required: true}\n", "  c: {type: string, required: true}\n",
     "column_added_without_default", "column_removed_without_default"},
    {"rename_nullable", "  b: {type: string}\n", "  c: {type: string}\n", "", ""},
    // Types: lossless widenings, narrowings, other changes.
    {"int32_to_int64", "  n: {type: int32}\n", "  n: {type: int64}\n", "", "type_widened"},
    {"int32_to_double", "  n: {type: int32}\n", "  n: {type: double}\n", "", "type_widened"},
    {"float_to_double", "  n: {type: float}\n", "  n: {type: double}\n", "", "type_widened"},
    {"decimal_precision_up", "  n: {type: \"decimal(10,2)\"}\n", "  n: {type: \"decimal(12,2)\"}\n", "",
     "type_widened"},
    {"int64_to_int32", "  n: {type: int64}\n", "  n: {type: int32}\n", "type_narrowed", ""},
    {"double_to_float", "  n: {type: double}\n", "  n: {type: float}\n", "type_narrowed", ""},
    {"decimal_precision_down", "  n: {type: \"decimal(12,2)\"}\n", "  n: {type: \"decimal(10,2)\"}\n",
     "type_narrowed", ""},
    {"decimal_scale_change", "  n: {type: \"decimal(12,2)\"}\n", "  n: {type: \"decimal(12,3)\"}\n",
     "type_changed", "type_changed"},
    {"int64_to_double", "  n: {type: int64}\n", "  n: {type: double}\n", "type_changed", "type_changed"},
    {"int32_to_float", "  n: {type: int32}\n", "  n: {type: float}\n", "type_changed", "type_changed"},
    {"string_to_int64", "  n: {type: string}\n", "  n: {type: int64}\n", "type_changed", "type_changed"},
    {"int64_to_string", "  n: {type: int64}\n", "  n: {type: string}\n", "type_changed", "type_changed"},
    {"date_to_timestamp", "  n: {type: date}\n", "  n: {type: timestamp}\n", "type_changed", "type_changed"},
    {"bool_to_int32", "  n: {type: bool}\n", "  n: {type: int32}\n", "type_changed", "type_changed"},
    // required.
    {"nullable_to_required", "  b: {type: string}\n", "  b: {type: string, required: true}\n",
     "required_added", ""},
    {"required_to_nullable", "  b: {type: string, required: true}\n", "  b: {type: string}\n", "",
     "required_removed"},
    // Value rules: narrowing breaks backward, widening breaks forward.
    {"enum_values_added", "  s: {type: string, enum: [a, b]}\n", "  s: {type: string, enum: [a, b, c]}\n", "",
     "enum_values_added"},
    {"enum_values_removed", "  s: {type: string, enum: [a, b]}\n", "  s: {type: string, enum: [a]}\n",
     "enum_values_removed", ""},
    {"enum_value_replaced", "  s: {type: string, enum: [a, b]}\n", "  s: {type: string, enum: [a, c]}\n",
     "enum_values_removed", "enum_values_added"},
    {"enum_added_to_free_column", "  s: {type: string}\n", "  s: {type: string, enum: [a]}\n",
     "enum_values_removed", ""},
    {"enum_dropped", "  s: {type: string, enum: [a]}\n", "  s: {type: string}\n", "", "enum_values_added"},
    {"enum_reordered", "  s: {type: string, enum: [a, b]}\n", "  s: {type: string, enum: [b, a]}\n", "", ""},
    {"min_raised", "  n: {type: int64, min: 0}\n", "  n: {type: int64, min: 5}\n", "range_narrowed", ""},
    {"min_added", "  n: {type: int64}\n", "  n: {type: int64, min: 0}\n", "range_narrowed", ""},
    {"min_lowered", "  n: {type: int64, min: 5}\n", "  n: {type: int64, min: 0}\n", "", "range_widened"},
    {"max_raised", "  n: {type: int64, max: 10}\n", "  n: {type: int64, max: 20}\n", "", "range_widened"},
    {"max_removed", "  n: {type: int64, max: 10}\n", "  n: {type: int64}\n", "", "range_widened"},
    {"max_length_lowered", "  s: {type: string, max_length: 10}\n", "  s: {type: string, max_length: 5}\n",
     "range_narrowed", ""},
    {"max_length_removed", "  s: {type: string, max_length: 10}\n", "  s: {type: string}\n", "",
     "range_widened"},
    {"pattern_added", "  s: {type: string}\n", "  s: {type: string, pattern: \"[a-z]+\"}\n", "pattern_added",
     ""},
    {"pattern_removed", "  s: {type: string, pattern: \"[a-z]+\"}\n", "  s: {type: string}\n", "",
     "pattern_removed"},
    {"pattern_changed", "  s: {type: string, pattern: \"[a-z]+\"}\n",
     "  s: {type: string, pattern: \"[0-9]+\"}\n", "pattern_changed", "pattern_changed"},
    {"check_added", "  n: {type: int64}\n", "  n: {type: int64}\n", "check_added", "", "",
     "checks: [\"n > 0\"]\n"},
    {"check_removed", "  n: {type: int64}\n", "  n: {type: int64}\n", "", "check_removed",
     "checks: [\"n > 0\"]\n", ""},
    {"check_renamed_same_expr", "  n: {type: int64}\n", "  n: {type: int64}\n", "", "",
     "checks: [{name: a, expr: \"n > 0\"}]\n", "checks: [{name: b, expr: \"n > 0\"}]\n"},
    // Defaults: no rule of the mode; refused only when retained data reads them
    // (CheckDefaultChanges, tested below).
    {"default_changed", "  b: {type: string, default: x}\n", "  b: {type: string, default: y}\n", "", ""},
    {"default_added", "  b: {type: string}\n", "  b: {type: string, default: y}\n", "", ""},
    {"default_added_to_required", "  b: {type: string, required: true}\n",
     "  b: {type: string, required: true, default: y}\n", "", ""},
    {"default_removed", "  b: {type: string, required: true, default: y}\n",
     "  b: {type: string, required: true}\n", "", ""},
    // Empty values of a required string column.
    {"allow_empty_added", "  s: {type: string, required: true}\n",
     "  s: {type: string, required: true, allow_empty: true}\n", "", "empty_allowed"},
    {"allow_empty_removed", "  s: {type: string, required: true, allow_empty: true}\n",
     "  s: {type: string, required: true}\n", "empty_refused", ""},
    // No change at all, and a pure reordering.
    {"unchanged", "  b: {type: string}\n  c: {type: int64}\n", "  b: {type: string}\n  c: {type: int64}\n",
     "", ""},
    {"columns_reordered", "  b: {type: string}\n  c: {type: int64}\n",
     "  c: {type: int64}\n  b: {type: string}\n", "", ""},
};

struct Case {
  Row row;
  const char* mode;
};

std::vector<Case> AllCases() {
  std::vector<Case> out;
  for (const auto& r : kRows) {
    for (const char* m : {"backward", "forward", "full", "none"}) out.push_back({r, m});
  }
  return out;
}

class RulesTable : public ::testing::TestWithParam<Case> {};

TEST_P(RulesTable, Verdict) {
  const Case& c = GetParam();
  Contract prev = Make(c.row.old_cols, c.row.old_checks);
  Contract next = Make(c.row.new_cols, c.row.new_checks);
  Result<CompatibilityMode> mode = ParseCompatibilityMode(c.mode);
  ASSERT_TRUE(mode.ok());
  std::vector<Violation> got = CheckCompatibility(prev, next, *mode, 3);

  // The rules this mode must report (default_changed has no direction: reported once).
  std::vector<std::string> expected;
  const std::string b = c.row.backward, f = c.row.forward;
  if (b == "default_changed") {
    if (mode->backward || mode->forward) expected.push_back(b);
  } else {
    if (mode->backward && !b.empty()) expected.push_back(b);
    // A rule both directions break is reported once.
    if (mode->forward && !f.empty() && !(mode->backward && f == b)) expected.push_back(f);
  }
  std::vector<std::string> rules;
  for (const auto& v : got) rules.push_back(v.rule);
  EXPECT_EQ(rules, expected) << c.row.name << " in " << c.mode;
  for (const auto& v : got) {
    EXPECT_EQ(v.mode, c.mode);
    EXPECT_EQ(v.against_version, 3);
    EXPECT_FALSE(v.column.empty());
    EXPECT_FALSE(v.detail.empty());
    std::string line = v.Describe();
    EXPECT_NE(line.find(v.rule), std::string::npos) << line;
    EXPECT_NE(line.find(c.mode), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
}

INSTANTIATE_TEST_SUITE_P(Compatibility, RulesTable, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.row.name) + "_" + info.param.mode;
                         });

TEST(CompatibilityTest, ViolationNamesColumnAndDefinitions) {
  Contract prev = Make("  amount: {type: \"decimal(12,2)\", required: true}\n");
  Contract next = Make("  amount: {type: \"decimal(10,2)\"}\n");
  auto v = CheckCompatibility(prev, next, *ParseCompatibilityMode("backward"), 2);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].column, "amount");
  EXPECT_EQ(v[0].old_def, "amount decimal(12,2) required");
  EXPECT_EQ(v[0].new_def, "amount decimal(10,2)");
  EXPECT_EQ(v[0].rule, "type_narrowed");
  EXPECT_EQ(v[0].direction, "backward");
  EXPECT_EQ(v[0].Describe(),
            "column amount: amount decimal(12,2) required -> amount decimal(10,2): type_narrowed "
            "(backward, backward, against v2): the new type cannot hold every value of the old one");
}

TEST(CompatibilityTest, UnknownModeIsRefused) {
  EXPECT_FALSE(ParseCompatibilityMode("sideways").ok());
  EXPECT_FALSE(ParseCompatibilityMode("_transitive").ok());
  auto m = ParseCompatibilityMode("forward_transitive");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->forward && m->transitive && !m->backward);
}

TEST(CompatibilityTest, WideningIsLossless) {
  auto t = [](const char* s) { return *ParseColumnType(s); };
  EXPECT_TRUE(IsWidening(t("int32"), t("int64")));
  EXPECT_TRUE(IsWidening(t("int32"), t("double")));
  EXPECT_TRUE(IsWidening(t("float"), t("double")));
  EXPECT_TRUE(IsWidening(t("decimal(10,2)"), t("decimal(18,2)")));
  EXPECT_FALSE(IsWidening(t("int64"), t("double")));  // 2^53 + 1 does not survive
  EXPECT_FALSE(IsWidening(t("int32"), t("float")));   // 2^24 + 1 does not survive
  EXPECT_FALSE(IsWidening(t("decimal(10,2)"), t("decimal(12,3)")));
  EXPECT_FALSE(IsWidening(t("int64"), t("int64")));
}

// ---- Transitive modes: v1 -> v2 ok, v2 -> v3 ok, v1 -> v3 not ---------------------------------

std::vector<ContractVersion> History(std::initializer_list<std::string> versions) {
  std::vector<ContractVersion> h;
  for (const auto& cols : versions) h.push_back({static_cast<int64_t>(h.size()) + 1, Make(cols)});
  return h;
}

struct TransitiveCase {
  const char* mode;
  const char* v1;
  const char* v2;
  const char* v3;
  const char* rule;  // broken by v3 against v1 in the transitive mode
};

class Transitive : public ::testing::TestWithParam<TransitiveCase> {};

TEST_P(Transitive, OnlyTheTransitiveModeSeesTheFirstVersion) {
  const auto& c = GetParam();
  const std::string base = c.mode;
  auto with_mode = [](const std::string& cols, const std::string& mode) { return Make(cols, "", mode); };
  // Each step is compatible on its own.
  auto m = *ParseCompatibilityMode(base);
  EXPECT_TRUE(CheckCompatibility(Make(c.v1), Make(c.v2), m).empty()) << "v1 -> v2";
  EXPECT_TRUE(CheckCompatibility(Make(c.v2), Make(c.v3), m).empty()) << "v2 -> v3";
  auto history = History({c.v1, c.v2});
  auto plain = CheckAgainstHistory(history, with_mode(c.v3, base));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->empty()) << (plain->empty() ? "" : (*plain)[0].Describe());
  auto trans = CheckAgainstHistory(history, with_mode(c.v3, base + "_transitive"));
  ASSERT_TRUE(trans.ok());
  ASSERT_EQ(trans->size(), 1u);
  EXPECT_EQ((*trans)[0].rule, c.rule);
  EXPECT_EQ((*trans)[0].against_version, 1);
  EXPECT_EQ((*trans)[0].column, "b");
  EXPECT_EQ((*trans)[0].mode, base + "_transitive");
  // none_transitive: nothing, ever.
  auto none = CheckAgainstHistory(history, with_mode(c.v3, "none_transitive"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

INSTANTIATE_TEST_SUITE_P(
    Compatibility, Transitive,
    ::testing::Values(
        // Delete a required column, add it back with another type.
        TransitiveCase{"backward", "  b: {type: string, required: true}\n", "", "  b: {type: int64}\n",
                       "type_changed"},
        TransitiveCase{"forward", "  b: {type: int64}\n", "", "  b: {type: string}\n", "type_changed"},
        TransitiveCase{"full", "  b: {type: int64}\n", "", "  b: {type: string}\n", "type_changed"},
        // Drop a column with an enum, add it back with fewer / more values.
        TransitiveCase{"backward", "  b: {type: string, enum: [x, y]}\n", "",
                       "  b: {type: string, enum: [x]}\n", "enum_values_removed"},
        TransitiveCase{"forward", "  b: {type: string, enum: [x]}\n", "",
                       "  b: {type: string, enum: [x, y]}\n", "enum_values_added"}),
    [](const ::testing::TestParamInfo<TransitiveCase>& info) {
      return std::string(info.param.mode) + "_" + std::to_string(info.index);
    });

TEST(CompatibilityTest, TransitiveReportsARuleOnceAgainstTheLatestVersion) {
  auto history = History({"  n: {type: int64}\n", "  n: {type: int64}\n  x: {type: string}\n"});
  auto v = CheckAgainstHistory(history, Make("  n: {type: string}\n", "", "backward_transitive"));
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].against_version, 2);
}

TEST(CompatibilityTest, EmptyHistoryHasNothingToCheck) {
  auto v = CheckAgainstHistory({}, Make("  n: {type: string}\n"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->empty());
}

// ---- Lineage-aware compatibility ----------------------------------------------------------------

ProjectSpec LineageSpec() {
  ProjectSpec spec;
  spec.root = "/p";
  SourceSpec src;
  src.name = "orders";
  src.partition_by = {"created_at", "tenant_id"};
  spec.sources.push_back(src);
  TableSpec cur;
  cur.name = "orders";
  cur.from = "orders";
  cur.key = {"order_id"};
  cur.version = "seq";
  TableTest nn;
  nn.kind = "not_null";
  nn.columns = {"status"};
  cur.tests.push_back(nn);
  spec.tables.push_back(cur);
  TableSpec mart;
  mart.name = "daily_revenue";
  mart.kind = TableKind::kMart;
  mart.sql_path = "/p/models/daily_revenue.sql";
  mart.sql =
      "-- note is only mentioned in a comment\n"
      "SELECT CAST(created_at AS DATE) AS day, tenant_id, sum(AMOUNT) AS revenue /* channel */\n"
      "FROM curated.orders WHERE status <> 'coupon' GROUP BY ALL";
  mart.reads_curated = {"orders"};  // as LoadProject finds it
  spec.tables.push_back(mart);
  TableSpec other;
  other.name = "unrelated";
  other.kind = TableKind::kMart;
  other.sql_path = "/p/models/unrelated.sql";
  other.sql = "SELECT coupon FROM marts.daily_revenue";
  spec.tables.push_back(other);
  return spec;
}

TEST(LineageTest, FindsCuratedAndMartUsers) {
  ColumnUsers users = FindColumnUsers(LineageSpec(), "orders");
  auto has = [&](const std::string& col, const std::string& who) {
    for (const auto& u : users[col]) {
      if (u == who) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("order_id", "curated.orders key"));
  EXPECT_TRUE(has("seq", "curated.orders version"));
  EXPECT_TRUE(has("tenant_id", "curated.orders partition_by"));
  EXPECT_TRUE(has("status", "curated.orders test not_null(status)"));
  EXPECT_TRUE(has("amount", "marts.daily_revenue (models/daily_revenue.sql)"));  // case-insensitive
  EXPECT_TRUE(has("status", "marts.daily_revenue (models/daily_revenue.sql)"));
  EXPECT_TRUE(users["note"].empty());     // only in a comment
  EXPECT_TRUE(users["channel"].empty());  // only in a block comment
  EXPECT_TRUE(users["coupon"].empty());   // a string literal here; the other mart does not read curated
}

TEST(LineageTest, RefusesRemovingOrNarrowingAUsedColumnInAnyMode) {
  ColumnUsers users = FindColumnUsers(LineageSpec(), "orders");
  Contract prev = Make("  amount: {type: \"decimal(12,2)\"}\n  note: {type: string}\n", "", "none");
  // Removed.
  auto v = CheckLineage(prev, Make("  note: {type: string}\n", "", "none"), users, 4);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].column, "amount");
  EXPECT_EQ(v[0].rule, "used_downstream");
  EXPECT_EQ(v[0].mode, "lineage");
  EXPECT_EQ(v[0].against_version, 4);
  EXPECT_NE(v[0].detail.find("marts.daily_revenue (models/daily_revenue.sql)"), std::string::npos)
      << v[0].detail;
  // Narrowed.
  v = CheckLineage(prev, Make("  amount: {type: \"decimal(10,2)\"}\n  note: {type: string}\n"), users);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].Describe().find("amount decimal(12,2) -> amount decimal(10,2)"), std::string::npos);
  // Widened: fine.
  EXPECT_TRUE(CheckLineage(prev, Make("  amount: {type: \"decimal(14,2)\"}\n  note: {type: string}\n"), users)
                  .empty());
}

// Issue 9 defect 6: a column no key, test or mart names is still held and published by the
// curated table, so removing it is refused naming the table; a narrowing of it is not.
TEST(LineageTest, RemovingAColumnACuratedTableHoldsIsRefused) {
  ColumnUsers users = FindColumnUsers(LineageSpec(), "orders");
  ASSERT_EQ(users.holders.size(), 1u);
  EXPECT_EQ(users.holders[0].table, "curated.orders");
  Contract prev = Make("  amount: {type: \"decimal(12,2)\"}\n  note: {type: string}\n", "", "backward");
  auto v = CheckLineage(prev, Make("  amount: {type: \"decimal(12,2)\"}\n", "", "backward"), users, 2);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].column, "note");
  EXPECT_EQ(v[0].rule, "used_downstream");
  EXPECT_NE(v[0].detail.find("curated.orders (holds and publishes it)"), std::string::npos) << v[0].detail;
  EXPECT_TRUE(CheckLineage(prev, Make("  amount: {type: \"decimal(12,2)\"}\n  note: {type: int64}\n"), users)
                  .empty());
  // A source no curated table reads: nothing holds its columns.
  EXPECT_TRUE(FindColumnUsers(LineageSpec(), "other").holders.empty());
  // A table that declares a column list without `note` does not hold it.
  ProjectSpec spec = LineageSpec();
  spec.tables[0].columns = {"order_id", "seq", "amount", "status"};
  EXPECT_TRUE(CheckLineage(prev, Make("  amount: {type: \"decimal(12,2)\"}\n", "", "backward"),
                           FindColumnUsers(spec, "orders"))
                  .empty());
  spec.tables[0].columns.push_back("note");
  EXPECT_EQ(CheckLineage(prev, Make("  amount: {type: \"decimal(12,2)\"}\n", "", "backward"),
                         FindColumnUsers(spec, "orders"))
                .size(),
            1u);
}

// ---- Defaults: refused only when retained data reads them (issue 9 defect 5) -------------------

TEST(DefaultChanges, RefusedOnlyWhenRetainedDataReadsTheDefault) {
  // v1 lacks b; v2 adds it with a default; v3 keeps it.
  std::vector<ContractVersion> history = {{1, Make("")},
                                          {2, Make("  b: {type: string, required: true, default: x}\n")},
                                          {3, Make("  b: {type: string, required: true, default: x}\n")}};
  Contract removed = Make("  b: {type: string, required: true}\n", "", "full_transitive");
  // Only files written under v2 and v3 are retained: they all have b.
  EXPECT_TRUE(CheckDefaultChanges(history, removed, {{2, 4}, {3, 1}}).empty());
  // Files of v1 read the default.
  auto v = CheckDefaultChanges(history, removed, {{1, 2}, {3, 1}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "default_changed");
  EXPECT_EQ(v[0].column, "b");
  EXPECT_EQ(v[0].against_version, 3);
  EXPECT_NE(v[0].detail.find("written under v1 (2 batches)"), std::string::npos) << v[0].detail;
  // Batches without a recorded version count as dependent when some version lacks the column.
  v = CheckDefaultChanges(history, removed, {{0, 1}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].detail.find("unrecorded versions (1 batch)"), std::string::npos) << v[0].detail;
  // `none` never refuses.
  EXPECT_TRUE(
      CheckDefaultChanges(history, Make("  b: {type: string, required: true}\n", "", "none"), {{1, 2}})
          .empty());
}

TEST(DefaultChanges, AddingADefaultToAColumnEveryVersionHadIsAccepted) {
  std::vector<ContractVersion> history = {{1, Make("  b: {type: string, required: true}\n")}};
  Contract added = Make("  b: {type: string, required: true, default: y}\n", "", "full_transitive");
  EXPECT_TRUE(CheckDefaultChanges(history, added, {{1, 3}, {0, 2}}).empty());
  auto v = CheckAgainstHistory(history, added);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->empty());
}

// ---- How to proceed, and one-off acceptances (issue 9 defect 7) ------------------------------

TEST(HowToProceedTest, NamesTheModesThatAllowItAndTheAcceptCommand) {
  Violation v;
  v.column = "amount";
  v.rule = "range_widened";
  v.direction = "forward";
  v.mode = "full_transitive";
  v.against_version = 3;
  EXPECT_EQ(HowToProceed(v, "orders", 3),
            "to proceed: compatibility backward, backward_transitive, none or none_transitive allows "
            "it, or accept it once: sluice schema accept orders --column amount --rule range_widened");
  // Against an older version only: the non-transitive modes pass it too.
  EXPECT_NE(HowToProceed(v, "orders", 4).find("forward, full,"), std::string::npos);
  v.mode = "lineage";
  v.rule = "used_downstream";
  v.direction = "";
  EXPECT_EQ(HowToProceed(v, "orders", 3),
            "to proceed: accept it once: sluice schema accept orders --column amount --rule "
            "used_downstream");
}

TEST(AcceptancesTest, PendingCoversAnyVersionRegisteredCoversOlderOnes) {
  auto violation = [](const std::string& rule, int64_t against) {
    Violation v;
    v.column = "amount";
    v.rule = rule;
    v.against_version = against;
    return v;
  };
  std::vector<Violation> vs = {violation("range_widened", 3), violation("type_changed", 3)};
  auto left = WithoutAccepted(vs, {Acceptance{"amount", "range_widened", 0}});
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].rule, "type_changed");
  // Accepted when v4 was registered: a later transitive check against v3 stays accepted, a
  // check against v4 (a further widening) does not.
  EXPECT_TRUE(
      WithoutAccepted({violation("range_widened", 3)}, {Acceptance{"amount", "range_widened", 4}}).empty());
  EXPECT_EQ(
      WithoutAccepted({violation("range_widened", 4)}, {Acceptance{"amount", "range_widened", 4}}).size(),
      1u);
  EXPECT_EQ(WithoutAccepted(vs, {Acceptance{"other", "range_widened", 0}}).size(), 2u);
}

}  // namespace
}  // namespace sluice
