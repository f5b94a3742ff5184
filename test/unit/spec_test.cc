#include "spec/spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/memory_limit.h"
#include "support/test_project.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const char* kSluiceYaml = R"(name: shop
lake: lake                       # relative to this file
sources:
  orders:
    type: files                  # files | http | nats | postgres
    path: landing/orders/*.jsonl # glob; each file is one batch
    format: jsonl                # jsonl | csv | parquet
    contract: contracts/orders.yaml
    partition_by: {day: created_at, tenant: tenant_id}
tables:
  orders:                        # curated: merge by key
    from: orders
    key: [order_id]
    version: seq                 # highest wins
    tests: [{not_null: order_id}, {unique: order_id}]
  daily_revenue:                 # mart: a SQL model over curated tables
    sql: models/daily_revenue.sql
    partition_by: {day: day, tenant: tenant_id}
)";

const std::string kOrdersContract =
    std::string(
        "name: orders\n"
        "compatibility: full_transitive   # default; backward | forward | full | none (+ _transitive)\n") +
    testing::kOrdersColumns;

const char* kDailyRevenueSql = R"(-- revenue per day and tenant
SELECT CAST(created_at AS DATE) AS day, tenant_id, sum(amount) AS revenue
FROM curated.orders
WHERE status <> 'cancelled'
GROUP BY ALL
)";

class SpecTest : public ::testing::Test {
 protected:
  void Write(const std::string& rel, const std::string& text) { testing::WriteFile(dir_, rel, text); }
  // The design's example project, with `sluice.yaml` replaced by `spec` when given.
  void WriteExample(const std::string& spec = kSluiceYaml) {
    Write("sluice.yaml", spec);
    Write("contracts/orders.yaml", kOrdersContract);
    Write("models/daily_revenue.sql", kDailyRevenueSql);
  }
  // Writes the example with `from` replaced by `to` in sluice.yaml.
  void WriteExampleWith(const std::string& from, const std::string& to) {
    std::string spec = kSluiceYaml;
    size_t pos = spec.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    spec.replace(pos, from.size(), to);
    WriteExample(spec);
  }
  // Loads the project and asserts InvalidArgument containing every one of `parts`.
  void ExpectInvalid(const std::vector<std::string>& parts) {
    auto r = LoadProject(dir_);
    ASSERT_FALSE(r.ok()) << "expected an error";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    for (const auto& p : parts) {
      EXPECT_NE(r.status().message().find(p), std::string::npos)
          << "missing '" << p << "' in: " << r.status().message();
    }
  }

  testing::TempDir tmp_{"sluice_spec_test"};
  const std::string dir_ = tmp_.path();
};

TEST_F(SpecTest, LoadsDesignExample) {
  WriteExample();
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ProjectSpec& p = *r;
  std::string root = fs::canonical(dir_).string();
  EXPECT_EQ(p.name, "shop");
  EXPECT_EQ(p.root, root);
  EXPECT_EQ(p.spec_path, root + "/sluice.yaml");
  EXPECT_EQ(p.lake, root + "/lake");

  ASSERT_EQ(p.sources.size(), 1u);
  const SourceSpec& s = p.sources[0];
  EXPECT_EQ(s.name, "orders");
  EXPECT_EQ(s.type, SourceType::kFiles);
  EXPECT_EQ(s.path, root + "/landing/orders/*.jsonl");
  EXPECT_EQ(s.format, SourceFormat::kJsonl);
  EXPECT_EQ(s.contract_path, root + "/contracts/orders.yaml");
  EXPECT_EQ(s.contract.name, "orders");
  EXPECT_EQ(s.contract.columns.size(), 6u);
  EXPECT_EQ(s.partition_by.day, "created_at");
  EXPECT_EQ(s.partition_by.tenant, "tenant_id");
  EXPECT_EQ(s.csv_delimiter, ',');
  EXPECT_EQ(s.line, 4);
  EXPECT_EQ(p.FindSource("orders"), &p.sources[0]);
  EXPECT_EQ(p.FindSource("nope"), nullptr);

  ASSERT_EQ(p.tables.size(), 2u);
  const TableSpec& orders = p.tables[0];
  EXPECT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.kind, TableKind::kCurated);
  EXPECT_EQ(orders.from, "orders");
  EXPECT_EQ(orders.key, std::vector<std::string>{"order_id"});
  EXPECT_EQ(orders.version, "seq");
  EXPECT_EQ(orders.partition_by.day, "created_at");
  EXPECT_EQ(orders.partition_by.tenant, "tenant_id");
  ASSERT_EQ(orders.tests.size(), 2u);
  EXPECT_EQ(orders.tests[0].kind, "not_null");
  EXPECT_EQ(orders.tests[0].Describe(), "not_null(order_id)");
  EXPECT_EQ(orders.tests[1].Describe(), "unique(order_id)");
  EXPECT_EQ(orders.tests[1].line, 15);
  EXPECT_EQ(orders.line, 11);

  const TableSpec& mart = p.tables[1];
  EXPECT_EQ(mart.name, "daily_revenue");
  EXPECT_EQ(mart.kind, TableKind::kMart);
  EXPECT_EQ(mart.sql_path, root + "/models/daily_revenue.sql");
  EXPECT_EQ(mart.sql, kDailyRevenueSql);
  EXPECT_EQ(mart.partition_by.day, "day");
  EXPECT_EQ(mart.partition_by.tenant, "tenant_id");
  EXPECT_TRUE(mart.depends_on.empty());
  EXPECT_EQ(p.FindTable("daily_revenue"), &p.tables[1]);
  EXPECT_EQ(p.FindTable("nope"), nullptr);
}

TEST_F(SpecTest, RelativeProjectDirAndDefaults) {
  Write("sluice.yaml",
        "name: p\nsources:\n  events:\n    path: in/*.csv\n    format: csv\n"
        "    csv: {delimiter: \";\"}\n    contract: c.yaml\n"
        "tables:\n  events:\n    from: events\n    key: id\n    version: at\n"
        "    tests:\n      - unique: [id, at]\n"
        "      - accepted_values: {column: kind, values: [a, b]}\n");
  Write("c.yaml",
        "name: events\ncolumns:\n  id: {type: int64, required: true}\n  at: {type: date, required: true}\n"
        "  kind: {type: string}\n");
  std::string cwd = fs::current_path().string();
  fs::current_path(fs::path(dir_).parent_path());
  auto r = LoadProject(fs::path(dir_).filename().string() + "/");
  fs::current_path(cwd);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string root = fs::canonical(dir_).string();
  EXPECT_EQ(r->root, root);
  EXPECT_EQ(r->lake, root + "/lake");
  EXPECT_EQ(r->sources[0].format, SourceFormat::kCsv);
  EXPECT_EQ(r->sources[0].csv_delimiter, ';');
  EXPECT_TRUE(r->sources[0].partition_by.empty());
  const TableSpec& t = r->tables[0];
  EXPECT_EQ(t.key, std::vector<std::string>{"id"});
  EXPECT_TRUE(t.partition_by.empty());
  ASSERT_EQ(t.tests.size(), 2u);
  EXPECT_EQ(t.tests[0].Describe(), "unique(id, at)");
  EXPECT_EQ(t.tests[1].Describe(), "accepted_values(kind)");
  EXPECT_EQ(t.tests[1].values, (std::vector<std::string>{"a", "b"}));
}

TEST_F(SpecTest, MissingSluiceYamlIsNotFound) {
  auto r = LoadProject(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("no sluice.yaml in " + dir_), std::string::npos);
  EXPECT_NE(r.status().message().find("sluice init"), std::string::npos);
  EXPECT_EQ(LoadProject(dir_ + "/does/not/exist").status().code(), StatusCode::kNotFound);
}

TEST_F(SpecTest, MartsOrderedByDependencyStably) {
  std::string spec = std::string(kSluiceYaml) +
                     "  top:\n    sql: models/top.sql\n"
                     "  a_first:\n    sql: models/a.sql\n"
                     "  standalone:\n    sql: models/s.sql\n";
  WriteExample(spec);
  Write("models/top.sql",
        "SELECT *, 'marts.ignored_in_string' AS s\n"
        "FROM Marts.a_first JOIN \"marts\".\"daily_revenue\" USING (day)\n"
        "-- marts.ignored_in_comment\n");
  Write("models/a.sql", "select * from MARTS.daily_revenue");
  Write("models/s.sql", "select 1 /* marts.top */");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> names;
  for (const auto& t : r->tables) names.push_back(t.name);
  // Each step takes the earliest mart in file order whose dependencies are placed.
  EXPECT_EQ(names, (std::vector<std::string>{"orders", "daily_revenue", "a_first", "top", "standalone"}));
  EXPECT_EQ(r->FindTable("top")->depends_on, (std::vector<std::string>{"a_first", "daily_revenue"}));
  EXPECT_TRUE(r->FindTable("standalone")->depends_on.empty());
}

TEST_F(SpecTest, CuratedTablesComeFirst) {
  std::string spec = kSluiceYaml;
  spec += "  orders_copy:\n    from: orders\n    key: [order_id, tenant_id]\n    version: created_at\n";
  WriteExample(spec);
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tables.size(), 3u);
  EXPECT_EQ(r->tables[0].name, "orders");
  EXPECT_EQ(r->tables[1].name, "orders_copy");
  EXPECT_EQ(r->tables[2].name, "daily_revenue");
}

TEST_F(SpecTest, BadIdentifiers) {
  WriteExampleWith("  orders:                        # curated", "  \"orders; DROP TABLE x\":  # curated");
  ExpectInvalid({"sluice.yaml:11:3", "tables.orders; DROP TABLE x", "not a valid table name"});
  WriteExampleWith("name: shop", "name: Shop");
  ExpectInvalid({"sluice.yaml:1:7", "name", "project"});
  WriteExampleWith("sources:\n  orders:", "sources:\n  ../orders:");
  ExpectInvalid({"sluice.yaml:4:3", "source"});
}

TEST_F(SpecTest, UnknownTopLevelKey) {
  WriteExampleWith("lake: lake", "lake: lake\nwarehouse: pg");
  ExpectInvalid({"sluice.yaml:3:1", "warehouse", "unknown key", "tables"});
}

TEST_F(SpecTest, MissingContractFile) {
  WriteExampleWith("contract: contracts/orders.yaml", "contract: contracts/ordres.yaml");
  ExpectInvalid({"sluice.yaml:8:15", "sources.orders.contract", "contracts/ordres.yaml"});
}

TEST_F(SpecTest, ContractErrorsPropagate) {
  WriteExample();
  Write("contracts/orders.yaml", "name: orders\ncolumns:\n  id: {type: money}\n");
  ExpectInvalid({"contracts/orders.yaml:3:", "columns.id.type", "money"});
}

TEST_F(SpecTest, KeyColumnNotInContract) {
  WriteExampleWith("key: [order_id]", "key: [order_id, ordr]");
  ExpectInvalid(
      {"sluice.yaml:13:", "tables.orders.key", "'ordr'", "contract 'orders'", "contracts/orders.yaml"});
}

// An empty key would merge every such row into one: allow_empty never applies to a key.
TEST_F(SpecTest, AllowEmptyOnAKeyColumnIsRefused) {
  WriteExample();
  std::string contract = kOrdersContract;
  const std::string from = "order_id:   {type: string, required: true}";
  ASSERT_NE(contract.find(from), std::string::npos);
  contract.replace(contract.find(from), from.size(),
                   "order_id:   {type: string, required: true, allow_empty: true}");
  Write("contracts/orders.yaml", contract);
  ExpectInvalid({"sluice.yaml:13:", "tables.orders.key", "allow_empty", "contracts/orders.yaml:4"});
  // On a required non-key column it is fine.
  contract = kOrdersContract;
  const std::string tenant = "tenant_id:  {type: string, required: true}";
  contract.replace(contract.find(tenant), tenant.size(),
                   "tenant_id:  {type: string, required: true, allow_empty: true}");
  Write("contracts/orders.yaml", contract);
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->sources[0].contract.columns[1].allow_empty);
}

// tables.<t>.columns: what a curated table holds; key, version and partition columns implied.
TEST_F(SpecTest, CuratedColumnList) {
  WriteExampleWith("    version: seq ", "    columns: [amount, status]\n    version: seq ");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const TableSpec* t = r->FindTable("orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->columns,
            (std::vector<std::string>{"amount", "status", "order_id", "seq", "created_at", "tenant_id"}));
  Contract held = HeldColumns(*t, r->sources[0].contract);
  ASSERT_EQ(held.columns.size(), 6u);
  EXPECT_EQ(held.columns[0].name, "order_id");  // contract order
  EXPECT_EQ(HeldColumns(*r->FindTable("daily_revenue"), r->sources[0].contract).columns.size(),
            r->sources[0].contract.columns.size());
  WriteExampleWith("    version: seq ", "    columns: [amount, amuont]\n    version: seq ");
  ExpectInvalid({"sluice.yaml:", "tables.orders.columns", "'amuont'"});
  // The example's tests read order_id (implied); a test on an unheld column is refused.
  WriteExampleWith("    tests: [{not_null: order_id}, {unique: order_id}]",
                   "    columns: [amount]\n    tests: [{not_null: status}]");
  ExpectInvalid({"tables.orders.columns", "'status'", "not_null(status)"});
}

TEST_F(SpecTest, VersionColumnErrors) {
  WriteExampleWith("version: seq ", "version: seqq ");
  ExpectInvalid({"sluice.yaml:14:14", "tables.orders.version", "'seqq'", "contracts/orders.yaml"});
  WriteExampleWith("version: seq ", "version: status ");
  ExpectInvalid({"sluice.yaml:14:", "tables.orders.version", "string", "int64"});
}

TEST_F(SpecTest, CuratedStructureErrors) {
  WriteExampleWith("    from: orders\n", "    from: orders\n    sql: models/daily_revenue.sql\n");
  ExpectInvalid({"sluice.yaml:", "tables.orders", "both"});
  WriteExampleWith("    from: orders\n", "");
  ExpectInvalid({"sluice.yaml:11:3", "tables.orders", "from", "sql"});
  WriteExampleWith("    from: orders\n", "    from: order\n");
  ExpectInvalid({"sluice.yaml:12:11", "tables.orders.from", "'order'"});
  WriteExampleWith("    version: seq ", "    partition_by: {day: created_at}\n    version: seq ");
  ExpectInvalid({"sluice.yaml:14:", "tables.orders.partition_by", "unknown key"});
}

TEST_F(SpecTest, TestErrors) {
  WriteExampleWith("{unique: order_id}", "{positive: amount}");
  ExpectInvalid({"sluice.yaml:15:", "positive", "not_null", "accepted_values"});
  WriteExampleWith("{not_null: order_id}", "{not_null: orderid}");
  ExpectInvalid({"sluice.yaml:15:", "tables.orders.tests[0]", "'orderid'"});
}

TEST_F(SpecTest, MartTestsAcceptAnyColumn) {
  WriteExampleWith("    partition_by: {day: day, tenant: tenant_id}\n",
                   "    partition_by: {day: day, tenant: tenant_id}\n"
                   "    tests: [{not_null: revenue}]\n");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->FindTable("daily_revenue")->tests[0].Describe(), "not_null(revenue)");
}

TEST_F(SpecTest, MartReferencingUnknownCuratedTable) {
  WriteExample();
  Write("models/daily_revenue.sql", "SELECT 1\nFROM curated.orders o\n  JOIN curated.ordrs x ON true");
  ExpectInvalid({"models/daily_revenue.sql:3:8", "tables.daily_revenue.sql", "curated.ordrs"});
  Write("models/daily_revenue.sql", "SELECT * FROM marts.orders");
  ExpectInvalid({"models/daily_revenue.sql:1:15", "marts.orders", "curated"});
  Write("models/daily_revenue.sql", "SELECT * FROM staging.payments");
  ExpectInvalid({"models/daily_revenue.sql:1:", "staging.payments"});
}

TEST_F(SpecTest, MartReferencesAreReadAsDuckDbReadsThem) {
  // Quoted and mixed-case names reach the same tables; a CTE named like a table is not one.
  WriteExample();
  Write("models/daily_revenue.sql",
        "WITH orders AS (SELECT * FROM \"curated\".\"orders\")\n"
        "SELECT * FROM orders o JOIN CURATED.Orders c USING (order_id), \"staging\".orders s");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->FindTable("daily_revenue")->reads_curated, std::vector<std::string>{"orders"});
  EXPECT_EQ(r->FindTable("daily_revenue")->reads_staging, std::vector<std::string>{"orders"});
  // A quoted unknown table is found too, at its position.
  Write("models/daily_revenue.sql", "SELECT *\n  FROM \"curated\".\"ordrs\"");
  ExpectInvalid({"models/daily_revenue.sql:2:8", "tables.daily_revenue.sql", "curated.ordrs"});
}

TEST_F(SpecTest, MartIsOneSelect) {
  WriteExample();
  Write("models/daily_revenue.sql", "SELECT 1\nFROM curated.orders\nWHERE ))");
  ExpectInvalid({"models/daily_revenue.sql:3:7", "tables.daily_revenue.sql", "syntax error"});
  Write("models/daily_revenue.sql", "SELECT 1; SELECT 2");
  ExpectInvalid({"models/daily_revenue.sql:1:1", "tables.daily_revenue.sql", "2 statements"});
  Write("models/daily_revenue.sql", "COPY (SELECT 1) TO 'x.csv'");
  ExpectInvalid({"models/daily_revenue.sql:1:1", "not a SELECT"});
  Write("models/daily_revenue.sql", "-- nothing yet\n");
  ExpectInvalid({"models/daily_revenue.sql:1:1", "no SQL statement"});
}

TEST_F(SpecTest, SqlTestsAreOneSelectAndTheirStagingReadsAreKnown) {
  const std::string with_test = std::string(kSluiceYaml) +
                                "    tests:\n      - sql: \"SELECT * FROM \\\"staging\\\".Orders s "
                                "WHERE s.seq < 0; \"\n";
  WriteExample(with_test);
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& tests = r->FindTable("daily_revenue")->tests;
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].reads_staging, std::vector<std::string>{"orders"});
  WriteExample(std::string(kSluiceYaml) +
               "    tests:\n      - sql: \"SELECT 1; DELETE FROM curated.orders\"\n");
  ExpectInvalid({"sluice.yaml:", "tests", "not a SELECT"});
}

TEST_F(SpecTest, MissingSqlFile) {
  WriteExampleWith("sql: models/daily_revenue.sql", "sql: models/nope.sql");
  ExpectInvalid({"sluice.yaml:17:10", "tables.daily_revenue.sql", "models/nope.sql"});
}

TEST_F(SpecTest, MartCycle) {
  WriteExample(std::string(kSluiceYaml) + "  a:\n    sql: models/a.sql\n  b:\n    sql: models/b.sql\n");
  Write("models/a.sql", "select * from marts.b");
  Write("models/b.sql", "select * from marts.a");
  ExpectInvalid({"sluice.yaml:20:10", "tables.a.sql", "cycle", "a -> b -> a"});
  Write("models/a.sql", "select * from marts.a");
  Write("models/b.sql", "select 1");
  ExpectInvalid({"cycle", "a -> a"});
}

TEST_F(SpecTest, PartitionErrors) {
  WriteExample();
  Write("contracts/orders.yaml", std::string(kOrdersContract) + "  region: {type: string}\n");
  std::string spec = kSluiceYaml;
  spec.replace(spec.find("tenant: tenant_id}"), 18, "tenant: region}");
  Write("sluice.yaml", spec);
  ExpectInvalid({"sluice.yaml:9:", "sources.orders.partition_by.tenant", "region", "required"});

  WriteExampleWith("{day: created_at, tenant: tenant_id}", "{day: seq}");
  ExpectInvalid({"sluice.yaml:9:", "partition_by.day", "date or timestamp"});
  WriteExampleWith("{day: created_at, tenant: tenant_id}", "{tenant: seq}");
  ExpectInvalid({"partition_by.tenant", "string"});
  WriteExampleWith("{day: created_at, tenant: tenant_id}", "{day: nope}");
  ExpectInvalid({"partition_by.day", "'nope'"});
  WriteExampleWith("{day: created_at, tenant: tenant_id}", "{hour: created_at}");
  ExpectInvalid({"partition_by.hour", "unknown key"});
}

TEST_F(SpecTest, StreamSources) {
  const std::string files_source =
      "    type: files                  # files | http | nats | postgres\n"
      "    path: landing/orders/*.jsonl # glob; each file is one batch\n";
  WriteExampleWith(files_source,
                   "    type: nats\n"
                   "    nats: {url: nats://127.0.0.1:4333, stream: ORDERS, subject: orders.>}\n"
                   "    batch: {max_rows: 5000, max_wait: 250ms}\n"
                   "    event_time: created_at\n"
                   "    allowed_lateness: 30s\n");
  auto spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const SourceSpec& s = spec->sources[0];
  EXPECT_EQ(s.type, SourceType::kNats);
  EXPECT_EQ(s.nats.url, "nats://127.0.0.1:4333");
  EXPECT_EQ(s.nats.stream, "ORDERS");
  EXPECT_EQ(s.nats.subject, "orders.>");
  EXPECT_EQ(s.nats.durable, "sluice_orders");
  EXPECT_EQ(s.batch.max_rows, 5000);
  EXPECT_EQ(s.batch.max_wait_ms, 250);
  EXPECT_EQ(s.event_time, "created_at");
  EXPECT_EQ(s.allowed_lateness_ms, 30000);
  EXPECT_EQ(spec->transform_interval_ms, 5000);

  WriteExampleWith(files_source, "    type: http\n");
  spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->sources[0].type, SourceType::kHttp);
  EXPECT_EQ(spec->sources[0].batch.max_rows, 50000);

  WriteExampleWith(files_source, "    type: nats\n");
  ExpectInvalid({"sources.orders.nats", "missing"});
  WriteExampleWith(files_source + "    format: jsonl                # jsonl | csv | parquet\n",
                   "    type: http\n    format: csv\n");
  ExpectInvalid({"sources.orders.format", "JSON events"});
  WriteExampleWith(files_source, "    type: http\n    path: x\n");
  ExpectInvalid({"sources.orders.path", "unknown key"});
  WriteExampleWith(files_source, "    type: http\n    batch: {max_wait: soon}\n");
  ExpectInvalid({"sources.orders.batch.max_wait", "'soon'"});
  WriteExampleWith(files_source, "    type: http\n    event_time: status\n");
  ExpectInvalid({"sources.orders.event_time", "timestamp"});
  WriteExampleWith(files_source, "    type: http\n    allowed_lateness: 5m\n");
  ExpectInvalid({"sources.orders.allowed_lateness", "needs event_time"});
  WriteExampleWith(files_source, "    type: nats\n    nats: {stream: ORD.ERS}\n");
  ExpectInvalid({"sources.orders.nats.stream", "not a valid JetStream name"});
  WriteExampleWith("name: shop", "name: shop\ntransform: {interval: 2s, max_rows: 50000}");
  spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->transform_interval_ms, 2000);
  EXPECT_EQ(spec->transform_max_rows, 50000);
  EXPECT_EQ(spec->publish_interval_ms, 30000);  // the default
  WriteExampleWith("name: shop", "name: shop\ntransform: {publish_interval: 1m}");
  spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->publish_interval_ms, 60000);
  EXPECT_EQ(spec->transform_interval_ms, 5000);
  WriteExampleWith("name: shop", "name: shop\ntransform: {interval: never}");
  ExpectInvalid({"transform.interval", "'never'"});
  WriteExampleWith("name: shop", "name: shop\ntransform: {publish_interval: 0s}");
  ExpectInvalid({"transform.publish_interval", "'0s'"});
}

// serve.query: the limits of the query API, with defaults, located errors and unknown keys.
TEST_F(SpecTest, ServeQuerySettings) {
  WriteExampleWith("name: shop", "name: shop\nserve: {query: {max_rows: 500, timeout: 2s, cursor_ttl: 1m}}");
  Result<ProjectSpec> spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->serve.query.max_rows, 500);
  EXPECT_EQ(spec->serve.query.timeout_ms, 2000);
  EXPECT_EQ(spec->serve.query.cursor_ttl_ms, 60000);
  EXPECT_EQ(spec->serve.query.default_rows, 500);  // the default of 1000, down to max_rows
  WriteExampleWith("name: shop", "name: shop\nserve: {query: {max_concurrent: 8}}");
  spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->serve.query.max_concurrent, 8);
  EXPECT_EQ(spec->serve.query.max_rows, 100000);  // the defaults
  EXPECT_EQ(spec->serve.query.default_rows, 1000);
  WriteExampleWith("name: shop", "name: shop\nserve: {query: {max_rows: lots}}");
  ExpectInvalid({"serve.query.max_rows", "'lots'"});
  WriteExampleWith("name: shop", "name: shop\nserve: {query: {timeout: 0s}}");
  ExpectInvalid({"serve.query.timeout", "'0s'"});
  WriteExampleWith("name: shop", "name: shop\nserve: {query: {default_rows: 10, max_rows: 5}}");
  ExpectInvalid({"serve.query.default_rows", "above max_rows"});
  WriteExampleWith("name: shop", "name: shop\nserve: {query: {rows: 5}}");
  ExpectInvalid({"serve.query.rows", "unknown key"});
  WriteExampleWith("name: shop", "name: shop\nserve: {querry: {}}");
  ExpectInvalid({"serve.querry", "unknown key"});
}

TEST_F(SpecTest, SourceErrors) {
  WriteExampleWith("type: files ", "type: kafka ");
  ExpectInvalid({"sluice.yaml:5:11", "sources.orders.type", "source type 'kafka' is not supported yet"});
  WriteExampleWith("type: files ", "type: nats ");  // keeps its `path:`
  ExpectInvalid({"sources.orders.path", "unknown key"});
  WriteExampleWith("type: files ", "type: ftp ");
  ExpectInvalid({"sources.orders.type", "'ftp'"});
  WriteExampleWith("format: jsonl ", "format: xml ");
  ExpectInvalid({"sluice.yaml:7:13", "sources.orders.format", "xml", "parquet"});
  WriteExampleWith("format: jsonl ", "format: csv\n    csv: {delimiter: \"ab\"}\n");
  ExpectInvalid({"sources.orders.csv.delimiter"});
  WriteExampleWith("format: jsonl ", "format: jsonl\n    csv: {delimiter: \";\"}\n");
  ExpectInvalid({"sources.orders.csv", "format"});
  WriteExampleWith("    path: landing/orders/*.jsonl", "");
  ExpectInvalid({"sources.orders.path", "missing"});
}

TEST_F(SpecTest, MalformedYaml) {
  WriteExampleWith("    key: [order_id]", "\tkey: [order_id]");
  ExpectInvalid({"sluice.yaml:13:1", "tab"});
  WriteExampleWith("key: [order_id]", "key: [order_id");
  ExpectInvalid({"sluice.yaml:"});
  WriteExample(std::string(kSluiceYaml) + "  daily_revenue:\n    sql: models/daily_revenue.sql\n");
  ExpectInvalid({"sluice.yaml:19:3", "tables.daily_revenue", "duplicate"});
}

TEST_F(SpecTest, EmptyAndNonMappingFiles) {
  WriteExample("");
  ExpectInvalid({"sluice.yaml", "empty"});
  WriteExample("- name: shop\n- sources: {}\n");
  ExpectInvalid({"sluice.yaml:1:1", "mapping"});
  WriteExample("name: shop\nsources: [orders]\n");
  ExpectInvalid({"sluice.yaml:2:10", "sources", "mapping"});
  WriteExample("name: shop\ntables:\n  t: 5\n");
  ExpectInvalid({"sluice.yaml:3:6", "tables.t"});
}

TEST_F(SpecTest, NoSourcesOrTablesIsFine) {
  WriteExample("name: empty_project\nlake: /var/tmp/x/../lake/\n");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lake, "/var/tmp/lake");
  EXPECT_TRUE(r->sources.empty());
  EXPECT_TRUE(r->tables.empty());
}

TEST_F(SpecTest, HugeSpecIsRefused) {
  WriteExample(std::string(kSluiceYaml) + "# " + std::string(5 << 20, 'x') + "\n");
  ExpectInvalid({"too large"});
}

// `serve:`: TLS files (relative to the project), limits with their defaults, and errors that
// name the key.
TEST_F(SpecTest, ServeTlsAndLimits) {
  WriteExample();
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->serve.tls.has_value());
  EXPECT_EQ(r->serve.limits.max_connections, 1024);
  EXPECT_EQ(r->serve.limits.max_connections_per_client, 256);
  EXPECT_EQ(r->serve.limits.idle_timeout_ms, 30000);
  EXPECT_EQ(r->serve.limits.request_timeout_ms, 60000);
  EXPECT_EQ(r->serve.limits.max_header_bytes, 16384);
  EXPECT_EQ(r->serve.limits.max_body_bytes, int64_t{64} << 20);

  WriteExampleWith("lake: lake ",
                   "serve:\n  tls: {cert: tls/c.pem, key: /etc/k.pem}\n"
                   "  limits: {max_connections: 10, max_connections_per_client: 2, idle_timeout: 5s,\n"
                   "           request_timeout: 1500ms, max_header_bytes: 4KiB, max_body: 1MB}\nlake: lake ");
  r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->serve.tls.has_value());
  EXPECT_EQ(r->serve.tls->cert, dir_ + "/tls/c.pem");
  EXPECT_EQ(r->serve.tls->key, "/etc/k.pem");
  EXPECT_EQ(r->serve.limits.max_connections, 10);
  EXPECT_EQ(r->serve.limits.max_connections_per_client, 2);
  EXPECT_EQ(r->serve.limits.idle_timeout_ms, 5000);
  EXPECT_EQ(r->serve.limits.request_timeout_ms, 1500);
  EXPECT_EQ(r->serve.limits.max_header_bytes, 4096);
  EXPECT_EQ(r->serve.limits.max_body_bytes, 1000000);

  const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
      {"serve: {tls: {cert: c.pem}}", {"serve.tls.key", "missing"}},
      {"serve: {tls: {cert: c.pem, key: k.pem, ca: x}}", {"serve.tls", "ca"}},
      {"serve: {port: 1}", {"serve", "port"}},
      {"serve: {limits: {max_connections: 0}}", {"serve.limits.max_connections", "'0'"}},
      {"serve: {limits: {idle_timeout: 1500ms}}", {"serve.limits.idle_timeout", "whole number of seconds"}},
      {"serve: {limits: {request_timeout: soon}}", {"serve.limits.request_timeout", "'soon'"}},
      {"serve: {limits: {max_body: 12}}", {"serve.limits.max_body", "'12'"}},
      {"serve: {limits: {max_header_bytes: 10B}}", {"serve.limits.max_header_bytes"}},
      {"serve: {limits: {max_connections: 4, max_connections_per_client: 8}}",
       {"serve.limits.max_connections_per_client", "above max_connections"}},
  };
  for (const auto& [yaml, mentions] : bad) {
    WriteExampleWith("lake: lake ", yaml + "\nlake: lake ");
    ExpectInvalid(mentions);
  }
}

TEST_F(SpecTest, MemoryLimit) {
  WriteExample();
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->memory_limit_bytes.has_value()) << "unset: each command's default";
  EXPECT_EQ(r->MemoryLimit(MemoryUse::kQuery), DefaultMemoryLimit(MemoryUse::kQuery));

  const std::map<std::string, int64_t> sizes = {{"2GB", 2000000000},
                                                {"512MB", 512000000},
                                                {"1.5GiB", int64_t{3} << 29},
                                                {"400 MiB", int64_t{400} << 20},
                                                {"1tb", 1000000000000}};
  for (const auto& [text, bytes] : sizes) {
    WriteExampleWith("lake: lake ", "memory_limit: " + text + "\nlake: lake ");
    r = LoadProject(dir_);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(r->memory_limit_bytes, bytes) << text;
    EXPECT_EQ(r->MemoryLimit(MemoryUse::kPipeline), bytes) << text;
  }

  // Line 2, column 15: where the value is written.
  for (const std::string bad : {"2", "lots", "2 G", "-1GB", "1..5GB", "GB", "0.5.1MB"}) {
    WriteExampleWith("lake: lake ", "memory_limit: " + bad + "\nlake: lake ");
    ExpectInvalid({"sluice.yaml:2:15", "memory_limit", "'" + bad + "' is not a size"});
  }
  WriteExampleWith("lake: lake ", "memory_limit: 100MB\nlake: lake ");
  ExpectInvalid({"sluice.yaml:2:15", "memory_limit", "below the minimum of 384 MiB"});
  WriteExampleWith("lake: lake ", "memory_limit: {size: 2GB}\nlake: lake ");
  ExpectInvalid({"sluice.yaml:2:15", "memory_limit"});
}

TEST(MemoryLimit, PlanSharesTheLimitOut) {
  // A default budget is an eighth of the limit; DuckDB gets what the budget's copies and the
  // fixed overhead leave.
  const int64_t limit = int64_t{1} << 30;
  EXPECT_EQ(DefaultInflightBudget(limit), int64_t{128} << 20);
  auto plan = PlanMemory(limit, DefaultInflightBudget(limit));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->duckdb + kInflightCopies * plan->inflight + plan->overhead, limit);
  EXPECT_GE(plan->duckdb, kMinDuckDbMemory);
  // The smallest limit takes its default budget.
  plan = PlanMemory(kMinMemoryLimit, DefaultInflightBudget(kMinMemoryLimit));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_GE(plan->duckdb, kMinDuckDbMemory);
  // A budget that leaves DuckDB too little is refused, saying what would fit.
  plan = PlanMemory(limit, int64_t{512} << 20);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("--max-inflight-mb (at most 266)"), std::string::npos)
      << plan.status().message();
  EXPECT_FALSE(PlanMemory(kMinMemoryLimit - 1, 0).ok());
  // Defaults: a query gets at most 1 GiB, a pipeline at most 8 GiB, neither below the minimum.
  EXPECT_LE(DefaultMemoryLimit(MemoryUse::kQuery), std::max(kGiB, kMinMemoryLimit));
  EXPECT_LE(DefaultMemoryLimit(MemoryUse::kPipeline), 8 * kGiB);
  EXPECT_GE(DefaultMemoryLimit(MemoryUse::kQuery), kMinMemoryLimit);
  EXPECT_LE(DefaultMemoryLimit(MemoryUse::kPipeline), std::max(AvailableMemoryBytes() / 2, kMinMemoryLimit));
  EXPECT_EQ(FormatBytes(int64_t{3} << 29), "1.5 GiB");
  EXPECT_EQ(FormatBytes(int64_t{256} << 20), "256 MiB");
}

TEST(TableTestDescribe, Formats) {
  TableTest t;
  t.kind = "unique";
  t.columns = {"a", "b"};
  EXPECT_EQ(t.Describe(), "unique(a, b)");
}

TEST_F(SpecTest, ConsumersOfCuratedTablesAndFeedSettings) {
  WriteExample(std::string(kSluiceYaml) +
               "consumers:\n"
               "  ml_features: {table: curated.orders}\n"
               "  acme: {table: curated.orders, tenants: [t01]}\n"
               "feeds: {max_lag: 2h}\n");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->consumers.size(), 2u);
  EXPECT_EQ(r->consumers[0].name, "ml_features");
  EXPECT_EQ(r->consumers[0].table, "orders");
  EXPECT_FALSE(r->consumers[0].tenants.has_value());
  EXPECT_EQ(r->consumers[1].tenants, std::vector<std::string>{"t01"});
  EXPECT_EQ(r->feeds_max_lag_seconds, 7200);
  EXPECT_TRUE(r->HasConsumers("orders"));
  EXPECT_FALSE(r->HasConsumers("daily_revenue"));
  EXPECT_EQ(r->FindConsumer("acme"), &r->consumers[1]);

  // Without consumers: none, and the default max_lag of 7 days.
  WriteExample();
  auto plain = LoadProject(dir_);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->consumers.empty());
  EXPECT_EQ(plain->feeds_max_lag_seconds, 7 * 86400);
}

TEST_F(SpecTest, ConsumerErrorsNameFileLineAndTables) {
  WriteExample(std::string(kSluiceYaml) + "consumers:\n  ml: {table: curated.ordres}\n");
  ExpectInvalid({"sluice.yaml:20:", "consumers.ml.table", "unknown curated table 'curated.ordres'",
                 "curated tables: curated.orders"});
  // A mart has no per-key changes: refused, saying so.
  WriteExample(std::string(kSluiceYaml) + "consumers:\n  ml: {table: marts.daily_revenue}\n");
  ExpectInvalid({"consumers.ml.table", "is a mart", "curated tables only"});
  WriteExample(std::string(kSluiceYaml) + "consumers:\n  ml: {tabel: curated.orders}\n");
  ExpectInvalid({"consumers.ml", "tabel"});
  WriteExample(std::string(kSluiceYaml) + "consumers:\n  ml: {}\n");
  ExpectInvalid({"consumers.ml.table", "missing"});
  WriteExample(std::string(kSluiceYaml) + "feeds: {max_lag: soon}\n");
  ExpectInvalid({"feeds.max_lag", "'soon' is not a duration"});
  WriteExample(std::string(kSluiceYaml) + "feeds: {retention: 1d}\n");
  ExpectInvalid({"feeds", "retention"});
}

TEST_F(SpecTest, RetentionSettingsAndOverrides) {
  std::string spec = kSluiceYaml;
  const std::string partition = "    partition_by: {day: created_at, tenant: tenant_id}\n";
  spec.insert(spec.find(partition) + partition.size(),
              "    retention: {hot: 1d, cold: 30d}\n    replay_window: 3d\n");
  spec.insert(spec.find("    tests: [{not_null"), "    retention: {snapshots: {keep_last: 3}}\n");
  WriteExample(spec +
               "retention:\n"
               "  staging: {hot: 7d, cold: 90d, cold_path: archive}\n"
               "  dlq: 30d\n"
               "  snapshots: {keep_last: 20, keep_within: 14d}\n"
               "  idempotency_keys: 12h\n");
  auto r = LoadProject(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->retention.staging.hot_seconds, 7 * 86400);
  EXPECT_EQ(r->retention.staging.cold_seconds, 90 * 86400);
  EXPECT_EQ(r->retention.cold_path, r->root + "/archive");
  EXPECT_EQ(r->retention.dlq_seconds, 30 * 86400);
  EXPECT_EQ(r->retention.snapshots.keep_last, 20);
  EXPECT_EQ(r->retention.snapshots.keep_within_seconds, 14 * 86400);
  EXPECT_EQ(r->retention.idempotency_keys_seconds, 12 * 3600);
  const SourceSpec& orders = r->sources[0];
  EXPECT_EQ(r->StagingRetentionFor(orders).hot_seconds, 86400);
  EXPECT_EQ(r->StagingRetentionFor(orders).cold_seconds, 30 * 86400);
  EXPECT_EQ(orders.replay_window_seconds, 3 * 86400);
  EXPECT_EQ(r->SnapshotRetentionFor(*r->FindTable("orders")).keep_last, 3);
  EXPECT_FALSE(r->SnapshotRetentionFor(*r->FindTable("orders")).keep_within_seconds.has_value());
  EXPECT_EQ(r->SnapshotRetentionFor(*r->FindTable("daily_revenue")).keep_last, 20);

  // Without `retention:`: everything kept, ten snapshots, the cold tier under the lake.
  WriteExample();
  auto plain = LoadProject(dir_);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->retention.staging.hot_seconds.has_value());
  EXPECT_FALSE(plain->retention.dlq_seconds.has_value());
  EXPECT_FALSE(plain->retention.idempotency_keys_seconds.has_value());
  EXPECT_EQ(plain->retention.snapshots.keep_last, 10);
  EXPECT_EQ(plain->retention.cold_path, plain->lake + "/cold");
}

TEST_F(SpecTest, RetentionErrorsNameTheKey) {
  WriteExample(std::string(kSluiceYaml) + "retention: {staging: {hot: 7d, cold: 3d}}\n");
  ExpectInvalid({"sluice.yaml:", "retention.staging.cold", "must be longer than hot"});
  WriteExample(std::string(kSluiceYaml) + "retention: {staging: {hot: soon}}\n");
  ExpectInvalid({"retention.staging.hot", "'soon' is not a duration"});
  WriteExample(std::string(kSluiceYaml) + "retention: {snapshots: {keep_last: 0}}\n");
  ExpectInvalid({"retention.snapshots.keep_last", "at least 1"});
  WriteExample(std::string(kSluiceYaml) + "retention: {staging: {cold_path: lake/staging/old}}\n");
  ExpectInvalid({"retention.staging.cold_path", "inside the lake's staging directory"});
  WriteExample(std::string(kSluiceYaml) + "retention: {stagin: {hot: 1d}}\n");
  ExpectInvalid({"retention", "stagin"});
  WriteExample(std::string(kSluiceYaml) + "dlq: {retention: 1d}\nretention: {dlq: 2d}\n");
  ExpectInvalid({"retention.dlq", "keep one"});
  WriteExampleWith("    key: [order_id]\n", "    key: [order_id]\n    retention: {staging: {hot: 1d}}\n");
  ExpectInvalid({"tables.orders.retention", "staging", "set per source"});
}

}  // namespace
}  // namespace sluice
