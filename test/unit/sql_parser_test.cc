// duck::ParseSql reads SQL as DuckDB does (quoted and mixed-case names, CTE scoping, subqueries,
// set operations, table functions, positions), and duck::CheckReadOnlySelect refuses every
// statement that is not one query over allowed schemas and table functions.
#include "duck/sql_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::duck {
namespace {

class SqlParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = Connection::Open();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  ParsedSql Parse(const std::string& sql) {
    auto parsed = ParseSql(*conn_, sql);
    EXPECT_TRUE(parsed.ok()) << sql << ": " << parsed.status().ToString();
    return parsed.ok() ? std::move(parsed).value() : ParsedSql{};
  }

  // "schema.name@line:col" of every table reference, in text order.
  std::vector<std::string> Tables(const std::string& sql) {
    std::vector<std::string> out;
    for (const auto& t : Parse(sql).tables) out.push_back(t.QualifiedName() + "@" + t.position.ToString());
    return out;
  }

  std::vector<std::string> Functions(const std::string& sql) {
    std::vector<std::string> out;
    for (const auto& f : Parse(sql).table_functions) out.push_back(f.name + "@" + f.position.ToString());
    return out;
  }

  Status Gate(const std::string& sql) {
    auto parsed = ParseSql(*conn_, sql);
    if (!parsed.ok()) return parsed.status();
    return CheckReadOnlySelect(*parsed, rules_);
  }

  std::unique_ptr<Connection> conn_;
  ReadOnlyRules rules_{{"range", "generate_series", "unnest"}, {"curated", "marts", "staging"}, {"lake"}};
};

using V = std::vector<std::string>;

TEST_F(SqlParserTest, QuotedAndMixedCaseNamesResolveAsDuckDbDoes) {
  EXPECT_EQ(Tables("SELECT * FROM \"curated\".\"orders\""), V({"curated.orders@1:15"}));
  EXPECT_EQ(Tables("select * from CURATED.Orders"), V({"curated.orders@1:15"}));
  EXPECT_EQ(Tables("select * from \"Curated\".\"ORDERS\" o join lake.marts.x on true"),
            V({"curated.orders@1:15", "lake.marts.x@1:41"}));
  // A quoted name is one name, dots and all; a comment or a string is no reference.
  EXPECT_EQ(Tables("select 'curated.orders' -- curated.x\n/* marts.y */ from \"curated.z\""),
            V({"curated.z@2:20"}));
}

TEST_F(SqlParserTest, CteNamesAreNotTableReferences) {
  // The CTE shadows the unqualified name; a qualified name is always a table.
  EXPECT_EQ(Tables("with orders as (select * from curated.orders) select * from orders, marts.orders"),
            V({"curated.orders@1:31", "marts.orders@1:69"}));
  // A non-recursive CTE that reads its own name reads the table of that name.
  EXPECT_EQ(Tables("with orders as (select * from orders) select * from orders"), V({"orders@1:31"}));
  // Earlier CTEs are in scope for later ones, not the other way round.
  EXPECT_EQ(Tables("with a as (select * from b), b as (select * from a) select * from b"), V({"b@1:26"}));
  // A CTE of an outer query is in scope inside subqueries.
  EXPECT_EQ(Tables("with t as (select 1) select * from (select * from t) s where exists (select * from t)"),
            V({}));
  // Recursive and materialized CTEs.
  EXPECT_EQ(Tables("with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) "
                   "select * from r, curated.x"),
            V({"curated.x@1:94"}));
  EXPECT_EQ(Tables("with a as materialized (select * from curated.x), b as materialized (select * from a) "
                   "select * from b join marts.y using (id)"),
            V({"curated.x@1:39", "marts.y@1:108"}));
}

TEST_F(SqlParserTest, SubqueriesSetOperationsJoinsAndWindowsAreWalked) {
  EXPECT_EQ(Tables("select * from curated.a where id in (select id from curated.b) and exists "
                   "(select 1 from curated.c) and (select max(x) from curated.d) > 0"),
            V({"curated.a@1:15", "curated.b@1:53", "curated.c@1:90", "curated.d@1:125"}));
  EXPECT_EQ(Tables("select 1 from curated.a union select 2 from marts.b except select 3 from staging.c"),
            V({"curated.a@1:15", "marts.b@1:45", "staging.c@1:74"}));
  EXPECT_EQ(Tables("select * from curated.a, lateral (select * from curated.b where b.id = a.id) l "
                   "left join curated.c on true"),
            V({"curated.a@1:15", "curated.b@1:49", "curated.c@1:90"}));
  EXPECT_EQ(Tables("select sum(x) over w from curated.a window w as (partition by (select 1 from "
                   "curated.b))"),
            V({"curated.a@1:27", "curated.b@1:78"}));
  EXPECT_EQ(Tables("select * from curated.a pivot (sum(x) for y in ('p', 'q'))"), V({"curated.a@1:15"}));
}

TEST_F(SqlParserTest, TableFunctionsAreListedWithTheirPositions) {
  EXPECT_EQ(Functions("select * from range(3), read_csv('/etc/passwd')"), V({"range@1:15", "read_csv@1:25"}));
  EXPECT_EQ(Functions("select * from curated.a where x in (select * from READ_BLOB('f'))"),
            V({"read_blob@1:51"}));
  // unnest in a select list is a scalar use, not a table function call.
  EXPECT_EQ(Functions("select unnest([1, 2])"), V({}));
}

TEST_F(SqlParserTest, PositionsCountLinesAndCodePoints) {
  EXPECT_EQ(Tables("select 'é',\n  x\nfrom\n   curated.orders"), V({"curated.orders@4:4"}));
  EXPECT_EQ(Tables("-- ünïcode\nselect 'ü' as ü from marts.m"), V({"marts.m@2:22"}));
  auto bad = Parse("select 1\nfrom curated.x\nwhere ))");
  EXPECT_EQ(bad.kind, SqlStatementKind::kInvalid);
  EXPECT_EQ(bad.error_position.ToString(), "3:7");
  EXPECT_EQ(bad.ErrorWithPosition().rfind("3:7: syntax error", 0), 0u) << bad.ErrorWithPosition();
}

TEST_F(SqlParserTest, StatementKindsAndCounts) {
  auto select = Parse("select 1;");
  EXPECT_EQ(select.kind, SqlStatementKind::kSelect);
  EXPECT_EQ(select.statement_count, 1u);
  for (const char* q : {"values (1)", "from curated.x", "with a as (select 1) select * from a",
                        "describe curated.x", "select 1 union all select 2"}) {
    EXPECT_EQ(Parse(q).kind, SqlStatementKind::kSelect) << q;
  }
  auto two = Parse("select 1; select 2 from curated.x");
  EXPECT_EQ(two.statement_count, 2u);
  EXPECT_EQ(two.kind, SqlStatementKind::kSelect);
  EXPECT_EQ(two.tables.size(), 1u);
  for (const char* q : {"", "  ;  ", "-- nothing\n"}) {
    EXPECT_EQ(Parse(q).kind, SqlStatementKind::kNone) << q;
    EXPECT_EQ(Parse(q).statement_count, 0u) << q;
  }
  for (const char* q : {"copy (select 42) to 'x.csv'", "attach 'x.duckdb'", "pragma version",
                        "set threads = 1", "install httpfs", "load httpfs", "export database 'd'",
                        "create table t as select 1", "explain analyze pragma version",
                        "explain (format json) select 1", "call pragma_version()", "checkpoint"}) {
    auto p = Parse(q);
    EXPECT_EQ(p.kind, SqlStatementKind::kOther) << q;
    EXPECT_EQ(p.statement_count, 1u) << q;
  }
  auto mixed = Parse("select 1; copy (select 1) to 'x.csv'");
  EXPECT_EQ(mixed.kind, SqlStatementKind::kOther);
  EXPECT_EQ(mixed.statement_count, 2u);
}

TEST_F(SqlParserTest, ExplainOfAQueryIsRecognisedWithItsTables) {
  auto e = Parse("/* plan */ EXPLAIN\n  with t as (select * from curated.x) select * from t, marts.y");
  EXPECT_EQ(e.kind, SqlStatementKind::kExplain);
  EXPECT_EQ(e.statement_count, 1u);
  ASSERT_EQ(e.tables.size(), 2u);
  EXPECT_EQ(e.tables[0].QualifiedName() + "@" + e.tables[0].position.ToString(), "curated.x@2:28");
  EXPECT_EQ(e.tables[1].QualifiedName() + "@" + e.tables[1].position.ToString(), "marts.y@2:56");
  EXPECT_EQ(Parse("explain select * from read_text('f')").table_functions.size(), 1u);
  auto a = Parse("EXPLAIN ANALYZE SELECT count(*) FROM staging.orders");
  EXPECT_EQ(a.kind, SqlStatementKind::kExplain);
  ASSERT_EQ(a.tables.size(), 1u);
  EXPECT_EQ(a.tables[0].QualifiedName() + "@" + a.tables[0].position.ToString(), "staging.orders@1:38");
  EXPECT_EQ(Parse("explain analyse select 1").kind, SqlStatementKind::kExplain);
  // A FROM-first query reads as a select list after the word: not recognised, refused.
  EXPECT_EQ(Parse("explain from curated.x").kind, SqlStatementKind::kOther);
}

TEST_F(SqlParserTest, SingleExpression) {
  EXPECT_TRUE(Parse("select amount <= 10000 or currency = 'JPY'").single_expression);
  EXPECT_TRUE(Parse("select\nx > 0 -- trailing comment\n").single_expression);
  for (const char* q : {"select a, b", "select a as ok", "select a from t", "select a where b",
                        "select a limit 1", "select distinct a", "select 1 union select 2",
                        "with c as (select 1) select 2", "select a group by a", "select a qualify a"}) {
    EXPECT_FALSE(Parse(q).single_expression) << q;
  }
}

TEST_F(SqlParserTest, GateAdmitsOneQueryOverAllowedSchemasAndFunctions) {
  for (const char* q : {"select * from curated.orders", "SELECT 1", "explain select * from marts.m",
                        "with o as (select * from \"curated\".\"orders\") select count(*) from o",
                        "select * from range(3) r, generate_series(1, 2) g, unnest([1]) u",
                        "select 'copy; attach' as s -- ; copy\n from staging.orders",
                        "describe curated.orders", "select * from lake.curated.orders"}) {
    EXPECT_TRUE(Gate(q).ok()) << q << ": " << Gate(q).ToString();
  }
}

TEST_F(SqlParserTest, GateRefusesWithAOneLineReason) {
  struct Case {
    const char* sql;
    const char* says;  // a part of the reason
  };
  const Case cases[] = {
      {"copy (select 42) to 'x.csv'", "is not a query"},
      {"attach 'x.duckdb'", "is not a query"},
      {"select 1; select 2", "2 statements"},
      {"select 1; copy (select 1) to 'x.csv'", "2 statements"},
      {"", "no SQL statement"},
      {"selec 1", "1:1: syntax error"},
      {"pragma version", "is not a query"},
      {"set threads = 1", "is not a query"},
      {"install httpfs", "is not a query"},
      {"load httpfs", "is not a query"},
      {"explain (format json) select 1", "is not a query"},
      {"explain analyze copy (select 1) to 'x.csv'", "is not a query"},
      {"select * from read_blob('lake/sluice.duckdb')", "table function read_blob"},
      {"select * from curated.a where exists (select * from read_text('f'))",
       "1:53: table function read_text"},
      {"select * from read_csv('/etc/passwd')", "table function read_csv"},
      {"select * from glob('*')", "table function glob"},
      {"select * from query('copy (select 1) to ''x''')", "table function query"},
      {"explain select * from parquet_metadata('f')", "table function parquet_metadata"},
      {"select * from 'lake/sluice.duckdb'", "table lake/sluice.duckdb"},
      {"select * from x.csv", "table x.csv"},
      {"select * from meta.batches", "table meta.batches"},
      {"select * from other.curated.orders", "table other.curated.orders"},
      {"with a as (select 1) select * from orders", "1:36: table orders"},
  };
  for (const auto& c : cases) {
    Status st = Gate(c.sql);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.sql;
    EXPECT_NE(st.message().find(c.says), std::string::npos) << c.sql << ": " << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << c.sql << ": " << st.message();
  }
}

TEST_F(SqlParserTest, NulByteIsInvalid) {
  auto parsed = Parse(std::string("select 1\0; copy", 15));
  EXPECT_EQ(parsed.kind, SqlStatementKind::kInvalid);
  EXPECT_EQ(Gate(std::string("select 1\0; copy", 15)).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::duck
