// Quality gates: every test kind with both severities, meta.test_results, located spec errors.
// An `error` failure on a curated table quarantines the batch; `warn` only records.
#include "transform/quality.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_project.h"

namespace sluice {
namespace {

using testing::Order;
using testing::OrdersSpec;

class QualityTest : public testing::ProjectTest {
 protected:
  QualityTest() : ProjectTest("sluice_quality_test") {}

  void Setup(const std::string& yaml) {
    Write("sluice.yaml", yaml);
    Write("contracts/orders.yaml", testing::kOrdersContract);
    OpenEngine();
  }
  // Lands `text` as landing/orders/<name>.jsonl (one batch on the next run).
  void Land(const std::string& name, const std::string& text) {
    Write("landing/orders/" + name + ".jsonl", text);
  }
  std::string Status(const std::string& name) {
    return Q("SELECT status FROM meta.batches WHERE file LIKE '%/" + name + ".jsonl'");
  }
  // test|severity|status|failing_rows of the results recorded for `table`, in order.
  std::string Results(const std::string& table = "orders") {
    return Q("SELECT test, severity, status, failing_rows FROM meta.test_results WHERE table_name = '" +
             table + "' ORDER BY checked_at, rowid");
  }
};

TEST_F(QualityTest, RangeErrorQuarantinesWarnOnlyRecords) {
  Setup(OrdersSpec("[order_id]",
                   "[{range: {column: amount, min: 0, max: 100}}, "
                   "{range: {column: seq, max: 10}, severity: warn}]"));
  Land("b1", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1));
  RunSummary s1 = Run();
  EXPECT_TRUE(s1.quarantined.empty());
  EXPECT_EQ(Results(), "range(amount)|error|pass|0\nrange(seq)|warn|pass|0\n");

  Land("b2", Order("o2", "t1", "paid", "500.00", "2026-01-01", 1));
  Land("b3", Order("o3", "t1", "paid", "5.00", "2026-01-01", 20));
  RunSummary s2 = Run();
  ASSERT_EQ(s2.quarantined.size(), 1u);
  EXPECT_EQ(s2.quarantined[0].failures.at(0).test, "range(amount)");
  EXPECT_EQ(s2.quarantined[0].failures.at(0).sample, "500.00");
  ASSERT_EQ(s2.test_warnings.size(), 1u);
  EXPECT_EQ(s2.test_warnings[0].outcome.test, "range(seq)");
  EXPECT_EQ(Status("b2"), "quarantined\n");
  EXPECT_EQ(Status("b3"), "committed\n");
  EXPECT_EQ(Q("SELECT order_id FROM curated.orders ORDER BY 1"), "o1\no3\n");
  // One-at-a-time results: b2 failed (error), b3 passed amount and warned on seq.
  EXPECT_EQ(Q("SELECT test, status, batch_ids IS NOT NULL FROM meta.test_results WHERE "
              "status <> 'pass' ORDER BY test"),
            "range(amount)|fail|true\nrange(seq)|warn|true\n");
  EXPECT_EQ(Q("SELECT tests FROM meta.quarantine"), "range(amount)\n");
}

TEST_F(QualityTest, RelationshipsToAnotherCuratedTable) {
  Write("contracts/tenants.yaml",
        "name: tenants\ncolumns:\n  tenant_id: {type: string, required: true}\n"
        "  name: {type: string}\n  seq: {type: int64, required: true}\n");
  std::string yaml = OrdersSpec("[order_id]");
  // tenants first: a curated table's tests see the tables curated before it in this run.
  yaml.replace(yaml.find("tables:\n"), 8,
               "  tenants:\n    type: files\n    path: landing/tenants/*.jsonl\n    format: jsonl\n"
               "    contract: contracts/tenants.yaml\n"
               "tables:\n  tenants:\n    from: tenants\n    key: [tenant_id]\n    version: seq\n");
  yaml += "    tests: [{relationships: {column: tenant_id, to: curated.tenants, field: tenant_id}}]\n";
  Setup(yaml);
  Write("landing/tenants/a.jsonl", "{\"tenant_id\":\"t1\",\"name\":\"One\",\"seq\":1}\n");
  Land("b1", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1));
  Land("b2", Order("o2", "t9", "paid", "1.00", "2026-01-01", 1));
  RunSummary s = Run();
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(s.quarantined[0].failures.at(0).test, "relationships(tenant_id)");
  EXPECT_EQ(s.quarantined[0].failures.at(0).sample, "t9");
  EXPECT_EQ(Status("b2"), "quarantined\n");
  EXPECT_EQ(Q("SELECT order_id FROM curated.orders"), "o1\n");
}

TEST_F(QualityTest, RelationshipsSpecErrorsAreLocated) {
  Setup(OrdersSpec("[order_id]"));
  engine_.reset();
  struct Case {
    std::string tests;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"[{relationships: {column: tenant_id, to: curated.nope, field: id}}]",
       {"sluice.yaml:15:", "tables.orders.tests[0].relationships.to", "unknown table curated.nope"}},
      {"[{relationships: {column: tenant_id, to: customers, field: id}}]",
       {"tests[0].relationships.to", "write curated.<table>"}},
      {"[{relationships: {column: tenant_id, to: curated.orders, field: nope}}]",
       {"tests[0].relationships.field", "'nope' is not in contract"}},
      {"[{relationships: {column: tenant_id, to: curated.orders}}]", {"missing `field`"}},
      {"[{range: {column: amount}}]", {"tests[0].range", "needs `min`, `max` or both"}},
      {"[{range: {column: amount, min: 0, step: 2}}]", {"tests[0].range", "step"}},
      {"[{freshness: {column: created_at, max_age: 2 days}}]",
       {"tests[0].freshness.max_age", "not a duration"}},
      {"[{freshness: {column: status, max_age: 1h}}]", {"not a date or timestamp"}},
      {"[{row_count_change: {max_pct: lots}}]", {"tests[0].row_count_change.max_pct"}},
      {"[{sql: \"\"}]", {"tests[0].sql", "is empty"}},
      {"[{unique: order_id, severity: fatal}]", {"tests[0].severity", "unknown severity 'fatal'"}},
      {"[{unique: order_id, not_null: order_id}]", {"tests[0]", "one test per list item"}},
      {"[{severity: warn}]", {"tests[0]", "names no test"}},
      {"[{uniq: order_id}]", {"unknown test 'uniq'", "row_count_change"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tests);
    Write("sluice.yaml", OrdersSpec("[order_id]", c.tests));
    auto r = LoadProject(dir_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    for (const auto& e : c.expect) {
      EXPECT_NE(r.status().message().find(e), std::string::npos) << r.status().message();
    }
  }
}

TEST_F(QualityTest, SpecParsesEveryKindAndSeverity) {
  Setup(OrdersSpec("[order_id]",
                   "[{not_null: status, severity: warn}, {freshness: {column: created_at, max_age: 7d}},"
                   " {row_count_change: {max_pct: 12.5}, severity: error},"
                   " {sql: \"SELECT order_id FROM curated.orders WHERE amount > 1000\"}]"));
  const auto& tests = engine_->spec().FindTable("orders")->tests;
  ASSERT_EQ(tests.size(), 4u);
  EXPECT_EQ(tests[0].severity, Severity::kWarn);
  EXPECT_EQ(tests[1].max_age_seconds, 7 * 86400);
  EXPECT_EQ(tests[1].Describe(), "freshness(created_at)");
  EXPECT_EQ(tests[2].max_pct, 12.5);
  EXPECT_EQ(tests[2].severity, Severity::kError);
  EXPECT_EQ(tests[2].Describe(), "row_count_change");
  EXPECT_EQ(tests[3].Describe(), "sql(SELECT order_id FROM curated.orders WHERE amount > 1000)");
  EXPECT_EQ(ParseDuration("30m"), 1800);
  EXPECT_EQ(ParseDuration("24h"), 86400);
  EXPECT_EQ(ParseDuration("45s"), 45);
  EXPECT_FALSE(ParseDuration("h"));
  EXPECT_FALSE(ParseDuration("3w"));
  EXPECT_FALSE(ParseDuration("-1d"));
}

TEST_F(QualityTest, Freshness) {
  // The data is from 2026-01-01: within 100 years, but not within an hour of now.
  Setup(OrdersSpec("[order_id]",
                   "[{freshness: {column: created_at, max_age: 36500d}}, "
                   "{freshness: {column: created_at, max_age: 1h}, severity: warn}]"));
  Land("b1", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1));
  RunSummary s = Run();
  EXPECT_TRUE(s.quarantined.empty());
  ASSERT_EQ(s.test_warnings.size(), 1u);
  EXPECT_NE(s.test_warnings[0].outcome.sample.find("max(created_at) = 2026-01-01 10:00:00"),
            std::string::npos)
      << s.test_warnings[0].outcome.sample;
  EXPECT_NE(s.test_warnings[0].outcome.sample.find("max_age 1h"), std::string::npos);
  EXPECT_EQ(Results(), "freshness(created_at)|error|pass|0\nfreshness(created_at)|warn|warn|1\n");

  // As an error, the stale batch is quarantined.
  Write("sluice.yaml", OrdersSpec("[order_id]", "[{freshness: {column: created_at, max_age: 1h}}]"));
  OpenEngine();
  Land("b2", Order("o2", "t1", "paid", "1.00", "2026-01-02", 1));
  s = Run();
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(Status("b2"), "quarantined\n");
}

TEST_F(QualityTest, RowCountChange) {
  Setup(OrdersSpec("[order_id]", "[{row_count_change: {max_pct: 50}}]"));
  // The first load from empty never fails.
  Land("b1", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +
                 Order("o2", "t1", "paid", "1.00", "2026-01-01", 1));
  EXPECT_TRUE(Run().quarantined.empty());
  // +2 rows on 2 is +100%: quarantined; +1 on 2 is +50%: within the limit.
  Land("b2", Order("o3", "t1", "paid", "1.00", "2026-01-01", 1) +
                 Order("o4", "t1", "paid", "1.00", "2026-01-01", 1));
  Land("b3", Order("o5", "t1", "paid", "1.00", "2026-01-01", 1));
  RunSummary s = Run();
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(s.quarantined[0].failures.at(0).test, "row_count_change");
  EXPECT_EQ(s.quarantined[0].failures.at(0).sample, "2 -> 4 rows (+100.0%, max 50%)");
  EXPECT_EQ(Status("b2"), "quarantined\n");
  EXPECT_EQ(Status("b3"), "committed\n");
  EXPECT_EQ(Int("SELECT count(*) FROM curated.orders"), 3);
}

TEST_F(QualityTest, SqlTestReturnsFailingRows) {
  Setup(OrdersSpec("[order_id]",
                   "[{sql: \"SELECT order_id, amount FROM curated.orders WHERE status = 'cancelled' "
                   "AND amount > 0\"}]"));
  Land("b1", Order("o1", "t1", "cancelled", "0.00", "2026-01-01", 1));
  Land("b2", Order("o2", "t1", "cancelled", "3.50", "2026-01-01", 1));
  RunSummary s = Run();
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(s.quarantined[0].failures.at(0).failing_rows, 1);
  EXPECT_NE(s.quarantined[0].failures.at(0).sample.find("o2"), std::string::npos)
      << s.quarantined[0].failures.at(0).sample;
  EXPECT_EQ(Q("SELECT order_id FROM curated.orders"), "o1\n");

  // A test whose SQL does not run fails the run, naming the test and where it is declared.
  Write("sluice.yaml", OrdersSpec("[order_id]", "[{sql: \"SELECT * FROM curated.nope\"}]"));
  OpenEngine();
  Land("b3", Order("o3", "t1", "paid", "1.00", "2026-01-01", 1));
  auto r = engine_->Run(RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sql(SELECT * FROM curated.nope)"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("sluice.yaml:15"), std::string::npos) << r.status().message();
}

TEST_F(QualityTest, UniqueAndNotNullAsWarnDoNotBlock) {
  Setup(
      OrdersSpec("[order_id]", "[{unique: tenant_id, severity: warn}, {not_null: amount, severity: warn}]"));
  Land("b1",
       Order("o1", "t1", "paid", "1.00", "2026-01-01", 1) +
           "{\"order_id\":\"o2\",\"tenant_id\":\"t1\",\"created_at\":\"2026-01-01T00:00:00Z\",\"seq\":1}\n");
  RunSummary s = Run();
  EXPECT_TRUE(s.quarantined.empty());
  EXPECT_EQ(s.test_warnings.size(), 2u);
  EXPECT_EQ(Int("SELECT count(*) FROM curated.orders"), 2);
  EXPECT_EQ(Results(), "unique(tenant_id)|warn|warn|1\nnot_null(amount)|warn|warn|1\n");
}

TEST_F(QualityTest, MartErrorRollsBackMartsWarnRecords) {
  Write("models/daily.sql",
        "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue "
        "FROM curated.orders GROUP BY ALL");
  Setup(OrdersSpec("[order_id]", "",
                   "  daily:\n    sql: models/daily.sql\n"
                   "    tests: [{range: {column: revenue, max: 100}}, "
                   "{range: {column: orders, max: 1}, severity: warn}]\n"));
  Land("b1", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1));
  Run();
  const std::string before = Q("SELECT * FROM marts.daily ORDER BY ALL");
  Land("b2", Order("o2", "t1", "paid", "95.00", "2026-01-01", 1));
  auto r = engine_->Run(RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_NE(r.status().message().find("marts.daily: range(revenue)"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("range(orders)"), std::string::npos) << r.status().message();
  EXPECT_EQ(Q("SELECT * FROM marts.daily ORDER BY ALL"), before);  // not refreshed
  EXPECT_EQ(Int("SELECT count(*) FROM curated.orders"), 2);        // curated went through
  EXPECT_EQ(Results("daily"),
            "range(revenue)|error|pass|0\nrange(orders)|warn|pass|0\n"
            "range(revenue)|error|fail|1\nrange(orders)|warn|warn|1\n");
}

}  // namespace
}  // namespace sluice
