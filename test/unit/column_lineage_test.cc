// Column-level lineage of SQL models: duck::LineageOfQuery over DuckDB's parse tree (every
// construct the model language has, with the exact edges expected), and ProjectColumnLineage
// over a project spec (curated columns from contracts, marts in dependency order).
#include "transform/column_lineage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "duck/sql_lineage.h"
#include "spec/spec.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using duck::LineageEdge;
using duck::QueryLineage;

// "name <- table.column SUBTYPE[ masked], ..." per output column, then "* <- ..." for the
// dataset edges (when any): the whole lineage as one comparable text.
std::string Edges(const std::set<LineageEdge>& edges) {
  std::string out;
  for (const LineageEdge& e : edges) {
    out += (out.empty() ? "" : ", ") + e.table + "." + e.column + " " + duck::TransformationSubtype(e.how) +
           (e.masking ? " masked" : "");
  }
  return out;
}

std::string Render(const QueryLineage& q) {
  std::string out;
  for (const auto& c : q.columns) out += c.name + " <- " + Edges(c.inputs) + "\n";
  if (!q.dataset.empty()) out += "* <- " + Edges(q.dataset) + "\n";
  return out;
}

class QueryLineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = duck::Connection::Open();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  std::string Lineage(const std::string& sql) {
    auto q = duck::LineageOfQuery(*conn_, sql, tables_);
    if (!q.ok()) return "error: " + q.status().message();
    return Render(*q);
  }

  Status Error(const std::string& sql) {
    auto q = duck::LineageOfQuery(*conn_, sql, tables_);
    return q.ok() ? Status::OK() : q.status();
  }

  std::unique_ptr<duck::Connection> conn_;
  duck::TableColumns tables_ = {
      {"curated.orders", {"order_id", "customer_id", "tenant_id", "status", "amount", "created_at"}},
      {"curated.customers", {"customer_id", "tenant_id", "name"}},
  };
};

TEST_F(QueryLineageTest, IdentityAndRename) {
  EXPECT_EQ(Lineage("SELECT order_id, o.amount AS total FROM curated.orders o"),
            "order_id <- curated.orders.order_id IDENTITY\n"
            "total <- curated.orders.amount IDENTITY\n");
  // Quoted and mixed-case names are DuckDB's names; the output keeps the spelling written.
  EXPECT_EQ(Lineage("SELECT \"Order_ID\" FROM Curated.ORDERS"),
            "Order_ID <- curated.orders.order_id IDENTITY\n");
}

TEST_F(QueryLineageTest, Expressions) {
  EXPECT_EQ(Lineage("SELECT CAST(created_at AS DATE) AS day, amount * 2 + length(status) AS x, 1 AS one, "
                    "amount + 1 FROM curated.orders"),
            "day <- curated.orders.created_at TRANSFORMATION\n"
            "x <- curated.orders.amount TRANSFORMATION, curated.orders.status TRANSFORMATION\n"
            "one <- \n"
            "#4 <- curated.orders.amount TRANSFORMATION\n");
}

TEST_F(QueryLineageTest, AggregatesAndGroupBy) {
  EXPECT_EQ(
      Lineage(
          "SELECT tenant_id, sum(amount) AS revenue, count(*) AS n, count(DISTINCT customer_id) AS buyers, "
          "round(avg(amount), 2) AS mean FROM curated.orders GROUP BY tenant_id"),
      "tenant_id <- curated.orders.tenant_id IDENTITY\n"
      "revenue <- curated.orders.amount AGGREGATION\n"
      "n <- \n"
      "buyers <- curated.orders.customer_id AGGREGATION masked\n"
      "mean <- curated.orders.amount AGGREGATION\n"
      "* <- curated.orders.tenant_id GROUP_BY\n");
}

TEST_F(QueryLineageTest, GroupByAllWhereAndOrderBy) {
  // The example project's model, with an ORDER BY by position and one by alias.
  EXPECT_EQ(
      Lineage("SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue "
              "FROM curated.orders WHERE status <> 'cancelled' GROUP BY ALL ORDER BY 1, revenue DESC"),
      "day <- curated.orders.created_at TRANSFORMATION\n"
      "tenant_id <- curated.orders.tenant_id IDENTITY\n"
      "orders <- \n"
      "revenue <- curated.orders.amount AGGREGATION\n"
      "* <- curated.orders.amount SORT, curated.orders.created_at GROUP_BY, curated.orders.created_at SORT, "
      "curated.orders.status FILTER, curated.orders.tenant_id GROUP_BY\n");
  // HAVING and an aggregate's FILTER clause filter.
  EXPECT_EQ(Lineage("SELECT sum(amount) FILTER (WHERE status = 'paid') AS paid FROM curated.orders "
                    "HAVING count(order_id) > 1"),
            "paid <- curated.orders.amount AGGREGATION, curated.orders.status FILTER\n"
            "* <- curated.orders.order_id FILTER\n");
}

TEST_F(QueryLineageTest, JoinsWithAliases) {
  EXPECT_EQ(
      Lineage("SELECT o.order_id, c.name, o.tenant_id FROM curated.orders AS o "
              "LEFT JOIN curated.customers c ON o.customer_id = c.customer_id AND c.tenant_id = o.tenant_id"),
      "order_id <- curated.orders.order_id IDENTITY\n"
      "name <- curated.customers.name IDENTITY\n"
      "tenant_id <- curated.orders.tenant_id IDENTITY\n"
      "* <- curated.customers.customer_id JOIN, curated.customers.tenant_id JOIN, "
      "curated.orders.customer_id JOIN, curated.orders.tenant_id JOIN\n");
  // USING: the column is both sides' (and may be named unqualified).
  EXPECT_EQ(
      Lineage("SELECT customer_id, name FROM curated.orders JOIN curated.customers USING (customer_id)"),
      "customer_id <- curated.customers.customer_id IDENTITY, curated.orders.customer_id IDENTITY\n"
      "name <- curated.customers.name IDENTITY\n"
      "* <- curated.customers.customer_id JOIN, curated.orders.customer_id JOIN\n");
}

TEST_F(QueryLineageTest, WindowFunctions) {
  EXPECT_EQ(Lineage("SELECT order_id, row_number() OVER (PARTITION BY tenant_id ORDER BY created_at) AS rn, "
                    "sum(amount) OVER (PARTITION BY customer_id) AS running FROM curated.orders"),
            "order_id <- curated.orders.order_id IDENTITY\n"
            "rn <- curated.orders.created_at WINDOW, curated.orders.tenant_id WINDOW\n"
            "running <- curated.orders.amount AGGREGATION, curated.orders.customer_id WINDOW\n");
  // QUALIFY filters the rows.
  EXPECT_EQ(Lineage("SELECT order_id FROM curated.orders QUALIFY row_number() OVER (PARTITION BY customer_id "
                    "ORDER BY amount DESC) = 1"),
            "order_id <- curated.orders.order_id IDENTITY\n"
            "* <- curated.orders.amount FILTER, curated.orders.customer_id FILTER\n");
}

TEST_F(QueryLineageTest, Case) {
  EXPECT_EQ(
      Lineage("SELECT CASE WHEN amount > 100 THEN 'big' WHEN status = 'paid' THEN name ELSE tenant_id END "
              "AS size FROM curated.orders o JOIN curated.customers c USING (customer_id, tenant_id)"),
      "size <- curated.customers.name TRANSFORMATION, curated.customers.tenant_id TRANSFORMATION, "
      "curated.orders.amount CONDITIONAL, curated.orders.status CONDITIONAL, "
      "curated.orders.tenant_id TRANSFORMATION\n"
      "* <- curated.customers.customer_id JOIN, curated.customers.tenant_id JOIN, "
      "curated.orders.customer_id JOIN, curated.orders.tenant_id JOIN\n");
}

TEST_F(QueryLineageTest, CtesAndSubqueries) {
  EXPECT_EQ(
      Lineage(
          "WITH paid AS (SELECT order_id, amount * 100 AS cents FROM curated.orders WHERE status = 'paid') "
          "SELECT p.order_id, big.total FROM paid p, (SELECT sum(cents) AS total FROM paid) big"),
      "order_id <- curated.orders.order_id IDENTITY\n"
      "total <- curated.orders.amount AGGREGATION\n"
      "* <- curated.orders.status FILTER\n");
  // Column aliases of a CTE and of a subquery in FROM.
  EXPECT_EQ(Lineage("WITH c(id, who) AS (SELECT customer_id, name FROM curated.customers) "
                    "SELECT s.k, who FROM c, (SELECT amount FROM curated.orders) s(k)"),
            "k <- curated.orders.amount IDENTITY\n"
            "who <- curated.customers.name IDENTITY\n");
  // A scalar subquery and IN (subquery) in WHERE, correlated with the outer query.
  EXPECT_EQ(Lineage("SELECT order_id, (SELECT max(c.name) FROM curated.customers c WHERE c.customer_id = "
                    "o.customer_id) AS who FROM curated.orders o WHERE tenant_id IN (SELECT tenant_id FROM "
                    "curated.customers)"),
            "order_id <- curated.orders.order_id IDENTITY\n"
            "who <- curated.customers.customer_id FILTER, curated.customers.name AGGREGATION, "
            "curated.orders.customer_id FILTER\n"
            "* <- curated.customers.tenant_id FILTER, curated.orders.tenant_id FILTER\n");
}

TEST_F(QueryLineageTest, Unions) {
  EXPECT_EQ(
      Lineage("SELECT tenant_id AS t, amount FROM curated.orders WHERE amount > 0 "
              "UNION ALL SELECT tenant_id, 0 FROM curated.customers ORDER BY t"),
      "t <- curated.customers.tenant_id IDENTITY, curated.orders.tenant_id IDENTITY\n"
      "amount <- curated.orders.amount IDENTITY\n"
      "* <- curated.customers.tenant_id SORT, curated.orders.amount FILTER, curated.orders.tenant_id SORT\n");
  EXPECT_EQ(Lineage("SELECT tenant_id, name FROM curated.customers UNION BY NAME SELECT amount, tenant_id "
                    "FROM curated.orders"),
            "tenant_id <- curated.customers.tenant_id IDENTITY, curated.orders.tenant_id IDENTITY\n"
            "name <- curated.customers.name IDENTITY\n"
            "amount <- curated.orders.amount IDENTITY\n");
}

TEST_F(QueryLineageTest, StarThroughCteAndJoin) {
  EXPECT_EQ(Lineage("WITH o AS (SELECT * EXCLUDE (created_at, status) FROM curated.orders) "
                    "SELECT * FROM o JOIN curated.customers USING (customer_id)"),
            "order_id <- curated.orders.order_id IDENTITY\n"
            "customer_id <- curated.customers.customer_id IDENTITY, curated.orders.customer_id IDENTITY\n"
            "tenant_id <- curated.orders.tenant_id IDENTITY\n"
            "amount <- curated.orders.amount IDENTITY\n"
            "tenant_id <- curated.customers.tenant_id IDENTITY\n"
            "name <- curated.customers.name IDENTITY\n"
            "* <- curated.customers.customer_id JOIN, curated.orders.customer_id JOIN\n");
  EXPECT_EQ(Lineage("SELECT c.* REPLACE (upper(name) AS name), o.amount FROM curated.customers c "
                    "JOIN curated.orders o ON o.customer_id = c.customer_id"),
            "customer_id <- curated.customers.customer_id IDENTITY\n"
            "tenant_id <- curated.customers.tenant_id IDENTITY\n"
            "name <- curated.customers.name TRANSFORMATION\n"
            "amount <- curated.orders.amount IDENTITY\n"
            "* <- curated.customers.customer_id JOIN, curated.orders.customer_id JOIN\n");
}

TEST_F(QueryLineageTest, UnknownAndAmbiguousColumns) {
  Status st = Error("SELECT nope FROM curated.orders");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "unknown column 'nope'");
  st = Error(
      "SELECT tenant_id FROM curated.orders o JOIN curated.customers c ON o.customer_id = c.customer_id");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "ambiguous column 'tenant_id' (o.tenant_id, c.tenant_id)");
  st = Error("SELECT o.name FROM curated.orders o");
  EXPECT_EQ(st.message(), "unknown column 'o.name'");
  st = Error("SELECT * FROM curated.nothing");
  EXPECT_EQ(st.message(), "unknown table curated.nothing");
  st = Error("SELEC 1");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  st = Error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
