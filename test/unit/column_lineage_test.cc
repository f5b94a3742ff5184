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
#include "transform/lineage_trace.h"

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

TEST_F(QueryLineageTest, LateralNaturalDistinctOnLambdasAndStructs) {
  // A LATERAL subquery reads the left side of its join.
  EXPECT_EQ(Lineage("SELECT c.name, l.twice FROM curated.customers c, LATERAL (SELECT o.amount * 2 AS twice "
                    "FROM curated.orders o WHERE o.customer_id = c.customer_id) l"),
            "name <- curated.customers.name IDENTITY\n"
            "twice <- curated.orders.amount TRANSFORMATION\n"
            "* <- curated.customers.customer_id FILTER, curated.orders.customer_id FILTER\n");
  // NATURAL JOIN joins on every column both sides have (customer_id, tenant_id).
  EXPECT_EQ(Lineage("SELECT name, tenant_id FROM curated.customers NATURAL JOIN curated.orders"),
            "name <- curated.customers.name IDENTITY\n"
            "tenant_id <- curated.customers.tenant_id IDENTITY, curated.orders.tenant_id IDENTITY\n"
            "* <- curated.customers.customer_id JOIN, curated.customers.tenant_id JOIN, "
            "curated.orders.customer_id JOIN, curated.orders.tenant_id JOIN\n");
  EXPECT_EQ(
      Lineage(
          "SELECT DISTINCT ON (customer_id) order_id FROM curated.orders ORDER BY customer_id, created_at"),
      "order_id <- curated.orders.order_id IDENTITY\n"
      "* <- curated.orders.created_at SORT, curated.orders.customer_id GROUP_BY, "
      "curated.orders.customer_id SORT\n");
  // A lambda's parameter is no column; a struct field is a transformation of its column.
  EXPECT_EQ(
      Lineage("SELECT list_transform([amount], x -> x + 1) AS l, {'a': status}.a AS s FROM curated.orders"),
      "l <- curated.orders.amount TRANSFORMATION\n"
      "s <- curated.orders.status TRANSFORMATION\n");
  // count is masking: its result does not reveal the values counted; a hash neither.
  EXPECT_EQ(Lineage("SELECT count(order_id) AS n, md5(status) AS h FROM curated.orders"),
            "n <- curated.orders.order_id AGGREGATION masked\n"
            "h <- curated.orders.status TRANSFORMATION masked\n");
}

TEST_F(QueryLineageTest, ValuesUnnestAndOrderByAll) {
  EXPECT_EQ(Lineage("SELECT v.col1, o.status FROM (VALUES ('paid', 1), ('new', 2)) v JOIN curated.orders o "
                    "ON o.status = v.col0"),
            "col1 <- \n"
            "status <- curated.orders.status IDENTITY\n"
            "* <- curated.orders.status JOIN\n");
  // unnest in FROM reads its argument laterally: one column of the list's elements.
  EXPECT_EQ(Lineage("SELECT o.order_id, u.x FROM curated.orders o, unnest([o.status, o.tenant_id]) u(x) "
                    "ORDER BY ALL"),
            "order_id <- curated.orders.order_id IDENTITY\n"
            "x <- curated.orders.status TRANSFORMATION, curated.orders.tenant_id TRANSFORMATION\n"
            "* <- curated.orders.order_id SORT, curated.orders.status SORT, curated.orders.tenant_id SORT\n");
}

TEST_F(QueryLineageTest, ConstructsNotResolved) {
  EXPECT_EQ(Error("SELECT COLUMNS('a.*') FROM curated.orders").message(), "COLUMNS(...) is not resolved");
  EXPECT_EQ(Error("SELECT * FROM read_csv('x.csv')").message(),
            "* over table function read_csv is not resolved");
  // A table function's columns are accepted by name, without lineage.
  EXPECT_EQ(
      Lineage("SELECT f.a, o.amount FROM read_csv('x.csv') f JOIN curated.orders o ON o.order_id = f.id"),
      "a <- \n"
      "amount <- curated.orders.amount IDENTITY\n"
      "* <- curated.orders.order_id JOIN\n");
  EXPECT_EQ(
      Error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r").message(),
      "recursive CTE r is not resolved");
  EXPECT_EQ(Error("SELECT 1; SELECT 2").message(), "a model is exactly one SELECT statement");
}

TEST_F(QueryLineageTest, UnknownAndAmbiguousColumns) {
  Status st = Error("SELECT nope FROM curated.orders");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "1:8: unknown column 'nope'");
  st = Error(
      "SELECT tenant_id FROM curated.orders o JOIN curated.customers c ON o.customer_id = c.customer_id");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "1:8: ambiguous column 'tenant_id' (o.tenant_id, c.tenant_id)");
  st = Error("SELECT o.name\nFROM curated.orders o");
  EXPECT_EQ(st.message(), "1:8: unknown column 'o.name'");
  st = Error("SELECT *\n  FROM curated.nothing");
  EXPECT_EQ(st.message(), "2:8: unknown table curated.nothing");
  st = Error("SELECT order_id FROM curated.orders WHERE stat = 'x'");
  EXPECT_EQ(st.message(), "1:43: unknown column 'stat'");
  EXPECT_EQ(Error("SELECT *").message(), "1:8: * without a FROM clause");
  st = Error("SELEC 1");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  st = Error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

// ---- A whole project: contracts, curated tables, marts over marts, copies --------------------

constexpr const char* kShopYaml = R"(name: shop
lake: lake
sources:
  orders:
    type: files
    path: landing/orders/*.jsonl
    format: jsonl
    contract: contracts/orders.yaml
    partition_by: {day: created_at, tenant: tenant_id}
  customers:
    type: files
    path: landing/customers/*.jsonl
    format: jsonl
    contract: contracts/customers.yaml
tables:
  orders:
    from: orders
    key: [order_id]
    version: seq
    columns: [customer_id, amount]
  customers:
    from: customers
    key: [customer_id]
    version: seq
  customer_revenue:
    sql: models/customer_revenue.sql
  ranked:
    sql: models/ranked.sql
serve:
  postgres: {dsn_env: SLUICE_PG_DSN, publish: [marts.ranked]}
consumers:
  crm: {table: curated.customers}
)";

class ProjectLineageTest : public ::testing::Test {
 protected:
  void Write(const std::string& ranked_sql) {
    testing::WriteFile(dir_.path(), "sluice.yaml", kShopYaml);
    testing::WriteFile(dir_.path(), "contracts/orders.yaml",
                       "name: orders\ncolumns:\n"
                       "  order_id: {type: string, required: true}\n"
                       "  customer_id: {type: string}\n"
                       "  tenant_id: {type: string, required: true}\n"
                       "  amount: {type: decimal(12,2)}\n"
                       "  created_at: {type: timestamp, required: true}\n"
                       "  seq: {type: int64, required: true}\n"
                       "  note: {type: string}\n");
    testing::WriteFile(dir_.path(), "contracts/customers.yaml",
                       "name: customers\ncolumns:\n"
                       "  customer_id: {type: string, required: true}\n"
                       "  name: {type: string}\n"
                       "  seq: {type: int64, required: true}\n");
    testing::WriteFile(dir_.path(), "models/customer_revenue.sql",
                       "SELECT c.name, sum(o.amount) AS revenue, o.tenant_id\n"
                       "FROM curated.orders o JOIN curated.customers c USING (customer_id) GROUP BY ALL\n");
    testing::WriteFile(dir_.path(), "models/ranked.sql", ranked_sql);
  }

  Result<ProjectLineage> Compute() {
    auto spec = LoadProject(dir_.path());
    if (!spec.ok()) return spec.status();
    spec_ = std::move(spec).value();
    return ComputeProjectLineage(spec_);
  }

  // "dataset.column <- edges" for each column of `name`, then "dataset * <- ...".
  static std::string Dataset(const ProjectLineage& lineage, const std::string& name) {
    const LineageDataset* d = lineage.Find(name);
    if (d == nullptr) return "no dataset " + name;
    std::string out;
    for (const auto& c : d->columns) {
      auto it = d->inputs.find(c);
      out += c + " <- " + (it == d->inputs.end() ? "" : Edges(it->second)) + "\n";
    }
    if (!d->dataset.empty()) out += "* <- " + Edges(d->dataset) + "\n";
    return out;
  }

  // One line per reach: "kind dataset.column HOW > HOW" (`rows:` before the rows section).
  static std::string Trace(const LineageTrace& t) {
    std::string out;
    auto line = [&](const LineageReach& r) {
      out +=
          std::string(DatasetKindName(r.kind)) + " " + r.dataset + (r.column.empty() ? "" : "." + r.column);
      for (size_t i = 0; i < r.path.size(); ++i) {
        out += std::string(i == 0 ? " " : " > ") + duck::TransformationSubtype(r.path[i].how);
      }
      out += "\n";
    };
    for (const auto& r : t.columns) line(r);
    out += "rows:\n";
    for (const auto& r : t.rows) line(r);
    return out;
  }

  testing::TempDir dir_{"sluice-lineage"};
  ProjectSpec spec_;
};

TEST_F(ProjectLineageTest, DatasetsFromContractsModelsAndCopies) {
  Write(
      "SELECT *, rank() OVER (PARTITION BY tenant_id ORDER BY revenue DESC) AS place,\n"
      "  CASE WHEN revenue > 100 THEN 'big' ELSE 'small' END AS size\n"
      "FROM marts.customer_revenue\n");
  auto lineage = Compute();
  ASSERT_TRUE(lineage.ok()) << lineage.status().ToString();
  std::vector<std::string> names;
  for (const auto& d : lineage->datasets)
    names.push_back(std::string(DatasetKindName(d.kind)) + " " + d.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "source sources.orders", "staging staging.orders", "source sources.customers",
                       "staging staging.customers", "curated curated.orders", "curated curated.customers",
                       "mart marts.customer_revenue", "mart marts.ranked", "parquet published.curated.orders",
                       "parquet published.curated.customers", "parquet published.marts.customer_revenue",
                       "parquet published.marts.ranked", "postgres postgres.analytics.ranked",
                       "consumer consumers.crm"}));
  // `columns:` holds customer_id and amount, and adds the key, version and partition columns;
  // `note` is not held.
  EXPECT_EQ(Dataset(*lineage, "curated.orders"),
            "order_id <- staging.orders.order_id IDENTITY\n"
            "customer_id <- staging.orders.customer_id IDENTITY\n"
            "tenant_id <- staging.orders.tenant_id IDENTITY\n"
            "amount <- staging.orders.amount IDENTITY\n"
            "created_at <- staging.orders.created_at IDENTITY\n"
            "seq <- staging.orders.seq IDENTITY\n"
            "_batch_id <- staging.orders._batch_id IDENTITY\n"
            "_batch_seq <- \n"
            "_source_line <- staging.orders._source_line IDENTITY\n"
            "_ingested_at <- staging.orders._ingested_at IDENTITY\n"
            "_correlation_id <- staging.orders._correlation_id IDENTITY\n"
            "* <- staging.orders.order_id GROUP_BY, staging.orders.seq SORT\n");
  // SELECT * over a mart resolves against that mart's own computed output.
  EXPECT_EQ(Dataset(*lineage, "marts.ranked"),
            "name <- marts.customer_revenue.name IDENTITY\n"
            "revenue <- marts.customer_revenue.revenue IDENTITY\n"
            "tenant_id <- marts.customer_revenue.tenant_id IDENTITY\n"
            "place <- marts.customer_revenue.revenue WINDOW, marts.customer_revenue.tenant_id WINDOW\n"
            "size <- marts.customer_revenue.revenue CONDITIONAL\n");
  const LineageDataset* published = lineage->Find("published.curated.orders");
  ASSERT_NE(published, nullptr);
  EXPECT_EQ(published->columns.back(), "tenant");
  EXPECT_EQ(Edges(published->inputs.at("day")), "curated.orders.created_at TRANSFORMATION");
  EXPECT_EQ(Edges(published->inputs.at("tenant")), "curated.orders.tenant_id IDENTITY");
  EXPECT_EQ(Edges(lineage->Find("consumers.crm")->inputs.at("name")), "curated.customers.name IDENTITY");
}

TEST_F(ProjectLineageTest, TraceDownstreamAndUpstream) {
  Write("SELECT name, revenue FROM marts.customer_revenue WHERE tenant_id = 't01' ORDER BY revenue\n");
  auto lineage = Compute();
  ASSERT_TRUE(lineage.ok()) << lineage.status().ToString();
  auto down = TraceLineage(*lineage, "sources.customers.name", std::nullopt);
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(down->direction, LineageDirection::kDownstream);
  EXPECT_EQ(Trace(*down),
            "staging staging.customers.name IDENTITY\n"
            "curated curated.customers.name IDENTITY > IDENTITY\n"
            "mart marts.customer_revenue.name IDENTITY > IDENTITY > IDENTITY\n"
            "mart marts.ranked.name IDENTITY > IDENTITY > IDENTITY > IDENTITY\n"
            "parquet published.curated.customers.name IDENTITY > IDENTITY > IDENTITY\n"
            "parquet published.marts.customer_revenue.name IDENTITY > IDENTITY > IDENTITY > IDENTITY\n"
            "parquet published.marts.ranked.name IDENTITY > IDENTITY > IDENTITY > IDENTITY > IDENTITY\n"
            "postgres postgres.analytics.ranked.name IDENTITY > IDENTITY > IDENTITY > IDENTITY > IDENTITY\n"
            "consumer consumers.crm.name IDENTITY > IDENTITY > IDENTITY\n"
            "rows:\n"
            "mart marts.customer_revenue IDENTITY > IDENTITY > GROUP_BY\n"
            "mart marts.ranked IDENTITY > IDENTITY > GROUP_BY > IDENTITY\n"
            "parquet published.marts.customer_revenue IDENTITY > IDENTITY > GROUP_BY > IDENTITY\n"
            "parquet published.marts.ranked IDENTITY > IDENTITY > GROUP_BY > IDENTITY > IDENTITY\n"
            "postgres postgres.analytics.ranked IDENTITY > IDENTITY > GROUP_BY > IDENTITY > IDENTITY\n");
  // A tenant filter in ranked: the rows of ranked and its copies depend on tenant_id.
  auto tenant = TraceLineage(*lineage, "curated.orders.tenant_id", std::nullopt);
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(Trace(*tenant),
            "mart marts.customer_revenue.tenant_id IDENTITY\n"
            "parquet published.curated.orders.tenant_id IDENTITY\n"
            "parquet published.curated.orders.tenant IDENTITY\n"
            "parquet published.marts.customer_revenue.tenant_id IDENTITY > IDENTITY\n"
            "rows:\n"
            "mart marts.customer_revenue GROUP_BY\n"
            "mart marts.ranked IDENTITY > FILTER\n"
            "parquet published.marts.customer_revenue GROUP_BY > IDENTITY\n"
            "parquet published.marts.ranked IDENTITY > FILTER > IDENTITY\n"
            "postgres postgres.analytics.ranked IDENTITY > FILTER > IDENTITY\n");
  auto up = TraceLineage(*lineage, "postgres.analytics.ranked.revenue", std::nullopt);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->direction, LineageDirection::kUpstream);
  EXPECT_EQ(Trace(*up).substr(0, Trace(*up).find("rows:")),
            "source sources.orders.amount IDENTITY > IDENTITY > AGGREGATION > IDENTITY > IDENTITY\n"
            "staging staging.orders.amount IDENTITY > IDENTITY > AGGREGATION > IDENTITY\n"
            "curated curated.orders.amount IDENTITY > IDENTITY > AGGREGATION\n"
            "mart marts.customer_revenue.revenue IDENTITY > IDENTITY\n"
            "mart marts.ranked.revenue IDENTITY\n");
  EXPECT_EQ(TraceLineage(*lineage, "marts.ranked.nope", std::nullopt).status().message(),
            "lineage: marts.ranked has no column 'nope' (columns: name, revenue)");
  EXPECT_EQ(TraceLineage(*lineage, "marts.nope", std::nullopt).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProjectLineageTest, UnnamedOutputColumnsTakeDuckDBsNames) {
  Write("SELECT amount + 1, tenant_id FROM curated.orders\n");
  auto lineage = Compute();
  ASSERT_TRUE(lineage.ok()) << lineage.status().ToString();
  EXPECT_EQ(Dataset(*lineage, "marts.ranked"),
            "(amount + 1) <- curated.orders.amount TRANSFORMATION\n"
            "tenant_id <- curated.orders.tenant_id IDENTITY\n");
}

TEST_F(ProjectLineageTest, UnknownColumnNamesTheModel) {
  Write("SELECT name, profit FROM marts.customer_revenue\n");
  auto lineage = Compute();
  ASSERT_FALSE(lineage.ok());
  EXPECT_EQ(lineage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(lineage.status().message(),
            "marts.ranked (" + dir_.path() + "/models/ranked.sql): 1:14: unknown column 'profit'");
}

}  // namespace
}  // namespace sluice
