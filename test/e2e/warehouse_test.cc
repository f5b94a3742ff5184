// The PostgreSQL warehouse (docs/WAREHOUSE.md) end to end: the real binary publishing to a real
// PostgreSQL (Debian's server binaries, started here on 127.0.0.1 in a temp directory), killed
// mid-publish on either side, and every published table compared row for row through psql with
// what `sluice query` reads from the lake.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <thread>

#include "harness.h"
#include "postgres_server.h"
#include "prometheus_text.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The published columns of each table, cast to text the same way on both sides.
const char kOrdersColumns[] =
    "order_id, tenant_id, status, CAST(amount AS VARCHAR), CAST(created_at AS VARCHAR), seq, "
    "CAST(day AS VARCHAR), tenant";
const char kRevenueColumns[] = "CAST(day AS VARCHAR), tenant_id, orders, CAST(revenue AS VARCHAR)";

// Every published table in PostgreSQL equals the lake's, row for row, and records the lake's
// version.
void ExpectSameTables(const Project& project, Postgres& pg) {
  const std::string orders_lake =
      "SELECT order_id, tenant_id, status, CAST(amount AS VARCHAR), "
      "CAST(created_at AS VARCHAR), CAST(seq AS VARCHAR), "
      "CAST(CAST(created_at AS DATE) AS VARCHAR), tenant_id "
      "FROM curated.orders ORDER BY order_id";
  const std::string orders_pg =
      std::string("SELECT ") + kOrdersColumns + " FROM analytics.orders ORDER BY order_id";
  auto lake_orders = project.Rows(orders_lake);
  auto pg_orders = pg.Rows(orders_pg);
  ASSERT_FALSE(lake_orders.empty());
  EXPECT_EQ(lake_orders.size(), pg_orders.size());
  EXPECT_TRUE(lake_orders == pg_orders) << "curated.orders differs";
  auto lake_rev = project.Rows(
      "SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), "
      "CAST(revenue AS VARCHAR) FROM marts.daily_revenue ORDER BY 1, 2");
  auto pg_rev =
      pg.Rows(std::string("SELECT ") + kRevenueColumns + " FROM analytics.daily_revenue ORDER BY 1, 2");
  EXPECT_EQ(lake_rev.size(), pg_rev.size());
  EXPECT_TRUE(lake_rev == pg_rev) << "marts.daily_revenue differs";
  for (const char* t : {"orders", "daily_revenue"}) {
    const std::string layer = std::string(t) == "orders" ? "curated." : "marts.";
    EXPECT_EQ(
        pg.Scalar("SELECT version FROM analytics._sluice_publish WHERE table_name = '" + layer + t + "'"),
        project.Scalar(std::string("SELECT version FROM meta.tables WHERE table_name = '") + t + "'"))
        << t;
  }
}

void AddWarehouse(const Project& project,
                  const std::string& publish = "[marts.daily_revenue, curated.orders]",
                  bool row_security = false) {
  std::string spec = ReadFileOrDie(project.Path("sluice.yaml"));
  spec += "serve:\n  postgres:\n    dsn_env: SLUICE_PG_DSN\n    schema: analytics\n    publish: " + publish +
          "\n    row_security: " + (row_security ? "true" : "false") + "\n";
  WriteFileOrDie(project.Path("sluice.yaml"), spec);
}

// Moves the landing files after the first `keep` aside; returns them.
std::vector<std::string> HoldBack(const Project& project, const std::string& aside, size_t keep) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(project.Landing())) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  fs::create_directories(aside);
  std::vector<std::string> held(files.begin() + static_cast<std::ptrdiff_t>(std::min(keep, files.size())),
                                files.end());
  for (const auto& f : held) fs::rename(project.Landing() + "/" + f, aside + "/" + f);
  return held;
}

class Warehouse : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pg_.available()) GTEST_SKIP() << "no PostgreSQL server binaries (scripts/setup.sh installs them)";
    OrderGeneratorOptions o;
    o.orders = 3000;
    o.batches = 4;
    project_ = std::make_unique<Project>(MakeExampleProject(dir_.path() + "/p", o));
  }
  std::vector<std::pair<std::string, std::string>> Env() const { return {{"SLUICE_PG_DSN", pg_.Dsn()}}; }
  ProcessResult Run(const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    auto env = Env();
    env.insert(env.end(), extra.begin(), extra.end());
    ProcessResult r = project_->Sluice("run", {}, env);
    EXPECT_EQ(r.err.find(kPassword), std::string::npos) << "the DSN's password leaked: " << r.err;
    EXPECT_EQ(r.out.find(kPassword), std::string::npos) << "the DSN's password leaked: " << r.out;
    return r;
  }
  // Every landing line, the files moved aside (nothing left for `sluice run`): events to push.
  std::vector<std::string> HeldBackLines() {
    std::vector<std::string> lines;
    for (const auto& f : HoldBack(*project_, dir_.path() + "/aside", 0)) {
      const std::string text = ReadFileOrDie(dir_.path() + "/aside/" + f);
      size_t pos = 0;
      while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        if (nl > pos) lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
      }
    }
    return lines;
  }
  TempDir dir_{"sluice-warehouse"};
  Postgres pg_;
  std::unique_ptr<Project> project_;
};

TEST_F(Warehouse, RunPublishesThenSendsOnlyChangedPartitions) {
  AddWarehouse(*project_);
  auto held = HoldBack(*project_, dir_.path() + "/aside", 1);
  const std::string metrics = dir_.path() + "/sluice.prom";
  ProcessResult r = project_->Sluice("run", {"--metrics-file", metrics}, Env());
  ASSERT_TRUE(r.ok()) << r.Describe();
  ExpectSameTables(*project_, pg_);
  // The metrics file counts the run's publish to PostgreSQL: one version of each table, every
  // row copied (docs/METRICS.md).
  ExpectPromtoolAccepts(metrics);
  const Json m = ParseExposition(metrics);
  EXPECT_EQ(Sample(m, "sluice_warehouse_publish_lag_seconds_count", {}), 2) << ReadFileOrDie(metrics);
  EXPECT_EQ(Sample(m, "sluice_warehouse_rows_published_total", {}),
            std::stod(pg_.Scalar("SELECT (SELECT count(*) FROM analytics.orders) + "
                                 "(SELECT count(*) FROM analytics.daily_revenue)")));
  EXPECT_EQ(pg_.Scalar("SELECT count(*) FROM pg_indexes WHERE schemaname = 'analytics' AND indexname = "
                       "'orders_sluice_partition'"),
            "1");
  EXPECT_EQ(pg_.Scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                       "'analytics.orders'::regclass AND attname = 'amount'"),
            "numeric(12,2)");
  // Later batches: new versions, published incrementally, and equal again.
  for (const auto& f : held) fs::rename(dir_.path() + "/aside/" + f, project_->Landing() + "/" + f);
  r = Run();
  ASSERT_TRUE(r.ok()) << r.Describe();
  ExpectSameTables(*project_, pg_);
  // Nothing new: nothing sent, the same state.
  r = Run();
  ASSERT_TRUE(r.ok()) << r.Describe();
  ExpectSameTables(*project_, pg_);
}

TEST_F(Warehouse, CrashBetweenCopyAndCommitThenCatchUpOnce) {
  AddWarehouse(*project_);
  ProcessResult r = Run({{"SLUICE_FAILPOINTS", "warehouse.before_commit=crash"}});
  ASSERT_TRUE(r.signaled) << "the failpoint was never reached: " << r.Describe();
  // PostgreSQL rolled the transaction back: nothing published, no version recorded.
  EXPECT_EQ(pg_.Scalar("SELECT count(*) FROM analytics._sluice_publish"), "0");
  r = Run();
  ASSERT_TRUE(r.ok()) << r.Describe();
  ExpectSameTables(*project_, pg_);
}

TEST_F(Warehouse, PostgresDownFailsThePublishNotTheRunAndCatchesUp) {
  AddWarehouse(*project_);
  auto held = HoldBack(*project_, dir_.path() + "/aside", 2);
  ASSERT_TRUE(Run().ok());
  for (const auto& f : held) fs::rename(dir_.path() + "/aside/" + f, project_->Landing() + "/" + f);
  ASSERT_NO_FATAL_FAILURE(pg_.KillImmediate());
  ProcessResult r = Run();
  EXPECT_EQ(r.exit_code, 5) << r.Describe();
  EXPECT_NE(r.err.find("$SLUICE_PG_DSN"), std::string::npos) << r.err;
  // The run itself committed: every batch is in the lake.
  EXPECT_EQ(project_->Scalar("SELECT count(*) FROM meta.batches"), "4");
  ASSERT_NO_FATAL_FAILURE(pg_.Start());
  r = Run();
  ASSERT_TRUE(r.ok()) << r.Describe();
  ExpectSameTables(*project_, pg_);
}

TEST_F(Warehouse, RowSecurityShowsATenantRoleOnlyItsTenant) {
  AddWarehouse(*project_, "[marts.daily_revenue, curated.orders]", /*row_security=*/true);
  ASSERT_TRUE(Run().ok());
  pg_.Rows(
      "CREATE ROLE acme LOGIN PASSWORD 'acme'; CREATE ROLE nobody LOGIN PASSWORD 'nobody'; "
      "GRANT USAGE ON SCHEMA analytics TO acme, nobody; "
      "GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO acme, nobody; "
      "INSERT INTO analytics._sluice_tenant_roles VALUES ('acme', 't01')");
  for (const char* table : {"orders", "daily_revenue"}) {
    const std::string t = table;
    auto seen = pg_.Rows("SELECT DISTINCT tenant_id FROM analytics." + t, "acme", "acme");
    EXPECT_EQ(seen, (std::vector<std::vector<std::string>>{{"t01"}})) << t;
    EXPECT_EQ(
        pg_.Rows("SELECT count(*) FROM analytics." + t + " WHERE tenant_id = 't01'", "acme", "acme")[0][0],
        project_->Scalar("SELECT count(*) FROM " + std::string(t == "orders" ? "curated." : "marts.") + t +
                         " WHERE tenant_id = 't01'"));
    // Asking for another tenant, or setting a variable, shows nothing more.
    EXPECT_EQ(pg_.Rows("SET sluice.tenant = 't00'; SELECT count(*) FROM analytics." + t +
                           " WHERE tenant_id = 't00'",
                       "acme", "acme")[0][0],
              "0");
    EXPECT_EQ(pg_.Rows("SELECT count(*) FROM analytics." + t, "nobody", "nobody")[0][0], "0") << t;
  }
  // The mapping of other roles is not readable either.
  EXPECT_EQ(pg_.Rows("SELECT count(*) FROM analytics._sluice_tenant_roles", "nobody", "nobody")[0][0], "0");
  // A later publish keeps the policies and the data right.
  ASSERT_TRUE(Run().ok());
  ExpectSameTables(*project_, pg_);
}

TEST_F(Warehouse, NewContractColumnBecomesAddColumn) {
  AddWarehouse(*project_);
  auto held = HoldBack(*project_, dir_.path() + "/aside", 3);
  ASSERT_TRUE(Run().ok());
  std::string contract = ReadFileOrDie(project_->Path("contracts/orders.yaml"));
  contract += "  coupon:     {type: string}\n";
  WriteFileOrDie(project_->Path("contracts/orders.yaml"), contract);
  WriteFileOrDie(project_->Landing() + "/batch-9000.jsonl",
                 R"({"order_id":"zz-1","tenant_id":"t01","status":"paid","amount":"12.50",)"
                 R"("created_at":"2026-01-02T10:00:00Z","seq":1,"coupon":"SPRING"})"
                 "\n");
  ProcessResult r = Run();
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(
      pg_.Scalar("SELECT data_type FROM information_schema.columns WHERE table_schema = 'analytics' AND "
                 "table_name = 'orders' AND column_name = 'coupon'"),
      "text");
  EXPECT_EQ(pg_.Scalar("SELECT coupon FROM analytics.orders WHERE order_id = 'zz-1'"), "SPRING");
  ExpectSameTables(*project_, pg_);
}

TEST_F(Warehouse, UnknownPublishedTableIsALoadError) {
  AddWarehouse(*project_, "[marts.daily_revenue, curated.nope]");
  ProcessResult r = Run();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("sluice.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("serve.postgres.publish"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'curated.nope'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("known: curated.orders, marts.daily_revenue"), std::string::npos) << r.err;
}

// The PostgreSQL publishes `sluice trace` shows for a batch (the warehouse_test Trace* tests).
struct ShownPublish {
  std::string table;
  int64_t version = 0, publish_seq = 0;
};
std::map<std::string, ShownPublish> PublishesInTrace(const Json& trace) {
  std::map<std::string, ShownPublish> out;
  if (!trace.contains("batches") || trace["batches"].size() != 1) return out;
  const Json& pg = trace["batches"][0].value("postgres", Json());
  for (const auto& p : pg.is_array() ? pg : Json::array()) {
    out[p["table"].get<std::string>()] = {p["pg_table"].get<std::string>(), p["version"].get<int64_t>(),
                                          p["publish_seq"].get<int64_t>()};
    EXPECT_EQ(p["published_at"].get<std::string>().size(), 24u) << p.dump();
    EXPECT_TRUE(p["visible_s"].is_number() && p["visible_s"].get<double>() >= 0) << p.dump();
  }
  return out;
}

// `sluice run`: each published version records, in PostgreSQL, the batches it brought with their
// correlation ids; a later run's batch is recorded against the later version only, and `sluice
// trace` shows the publish of each batch with PostgreSQL's version and sequence.
TEST_F(Warehouse, RunRecordsTheBatchesOfEachVersionAndTraceShowsThem) {
  AddWarehouse(*project_);
  auto held = HoldBack(*project_, dir_.path() + "/aside", 1);
  ASSERT_TRUE(Run().ok());
  fs::rename(dir_.path() + "/aside/" + held[0], project_->Landing() + "/" + held[0]);
  ASSERT_TRUE(Run().ok());
  auto batches = project_->Rows("SELECT batch_id, correlation_id FROM meta.batches ORDER BY batch_seq");
  ASSERT_EQ(batches.size(), 2u);
  const std::string published =
      "SELECT table_name, version, publish_seq FROM analytics._sluice_publish ORDER BY table_name";
  auto now = pg_.Rows(published);
  ASSERT_EQ(now.size(), 2u);
  // Per table: the first run's batch in version 1, the second's in the version PostgreSQL holds.
  for (size_t b = 0; b < 2; ++b) {
    auto rows = pg_.Rows(
        "SELECT table_name, version, publish_seq, source, batch_id FROM analytics._sluice_publish_batches "
        "WHERE correlation_id = '" +
        batches[b][1] + "' ORDER BY table_name");
    ASSERT_EQ(rows.size(), 2u) << batches[b][1];
    for (size_t t = 0; t < 2; ++t) {
      EXPECT_EQ(rows[t][0], now[t][0]);
      EXPECT_EQ(rows[t][1], b == 0 ? "1" : now[t][1]) << rows[t][0];
      if (b == 1) {
        EXPECT_EQ(rows[t][2], now[t][2]) << rows[t][0];
      }
      EXPECT_EQ(rows[t][3], "orders");
      EXPECT_EQ(rows[t][4], batches[b][0]);
    }
    // The published rows of the batch carry its id.
    EXPECT_EQ(pg_.Scalar("SELECT string_agg(DISTINCT _batch_id, ',') FROM analytics.orders WHERE "
                         "_correlation_id = '" +
                         batches[b][1] + "'"),
              batches[b][0]);
    ProcessResult r = project_->Sluice("trace", {batches[b][1], "--json"}, Env());
    ASSERT_TRUE(r.ok()) << r.Describe();
    auto shown = PublishesInTrace(Json::parse(r.out));
    ASSERT_EQ(shown.size(), 2u) << r.out;
    for (size_t t = 0; t < 2; ++t) {
      const ShownPublish& p = shown[rows[t][0]];
      EXPECT_EQ(std::to_string(p.version), rows[t][1]) << rows[t][0];
      EXPECT_EQ(std::to_string(p.publish_seq), rows[t][2]) << rows[t][0];
    }
    EXPECT_EQ(shown["curated.orders"].table, "analytics.orders");
  }
  // Publish sequences grow from one publish to the next.
  EXPECT_LT(std::stoll(pg_.Scalar("SELECT max(publish_seq) FROM analytics._sluice_publish_batches WHERE "
                                  "correlation_id = '" +
                                  batches[0][1] + "'")),
            std::stoll(pg_.Scalar("SELECT min(publish_seq) FROM analytics._sluice_publish_batches WHERE "
                                  "correlation_id = '" +
                                  batches[1][1] + "'")));
  // The text form names the stage; without the DSN, trace says why it cannot tell.
  ProcessResult text = project_->Sluice("trace", {batches[1][1]}, Env());
  ASSERT_TRUE(text.ok()) << text.Describe();
  EXPECT_NE(text.out.find("  postgres  "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("analytics.orders version " + now[0][1] + " (publish #" + now[0][2] + ")"),
            std::string::npos)
      << text.out;
  ProcessResult blind = project_->Sluice("trace", {batches[1][1]});
  ASSERT_TRUE(blind.ok()) << blind.Describe();
  EXPECT_NE(blind.out.find("  postgres  unknown: "), std::string::npos) << blind.out;
  EXPECT_NE(blind.err.find("SLUICE_PG_DSN"), std::string::npos) << blind.err;
}

// `sluice serve`: a batch pushed with a known correlation id is recorded in PostgreSQL against
// the version of each table that brought it, in the transaction that made its rows visible, and
// `sluice trace` (answered by the server) shows that publish with the same version and sequence.
TEST_F(Warehouse, ServeRecordsTheCorrelationIdOfAPublishedBatch) {
  MakeStreamSource(*project_, "    type: http\n", "transform: {interval: 300ms}");
  AddWarehouse(*project_);
  const std::vector<std::string> lines = HeldBackLines();
  ASSERT_GT(lines.size(), 100u);
  auto server = ServeProcess::Start(*project_, {}, Env());
  ASSERT_NE(server, nullptr);
  HttpClient http(server->port());
  auto caught_up = [&](int64_t min_version) {
    const auto until = Clock::now() + std::chrono::seconds(90);
    while (Clock::now() < until) {
      Json j = http.Get("/v1/stats").json();
      if (j.contains("warehouse") && j["warehouse"]["lag_versions"] == 0 &&
          j["sources"]["orders"]["queue_depth"] == 0) {
        const Json& t = j["warehouse"]["tables"]["curated.orders"];
        if (t["published_version"].get<int64_t>() >= min_version)
          return t["published_version"].get<int64_t>();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "not published; stderr: " << server->Stderr();
    return int64_t{-1};
  };
  const size_t half = lines.size() / 2;
  std::vector<std::string> ids = {"pg-trace-first", "pg-trace-second"};
  std::vector<std::string> batch_ids;
  std::vector<int64_t> versions;
  for (size_t i = 0; i < 2; ++i) {
    std::string body;
    for (size_t k = i == 0 ? 0 : half; k < (i == 0 ? half : lines.size()); ++k) body += lines[k] + "\n";
    HttpResponse r = http.Post("/v1/sources/orders/events", body,
                               {{"Idempotency-Key", "k" + std::to_string(i)}, {"X-Correlation-ID", ids[i]}});
    ASSERT_EQ(r.status, 200) << Describe(r);
    batch_ids.push_back(r.json()["batch_id"]);
    versions.push_back(caught_up(versions.empty() ? 1 : versions.back() + 1));
    ASSERT_GT(versions.back(), 0);
  }
  ASSERT_EQ(versions[1], versions[0] + 1);  // one batch, one merge, one version
  // psql: each batch against the curated version that merged it, in the publish recorded for
  // that version; the published rows of the batch carry it.
  for (size_t i = 0; i < 2; ++i) {
    auto rows = pg_.Rows(
        "SELECT version, publish_seq, batch_id FROM analytics._sluice_publish_batches WHERE table_name = "
        "'curated.orders' AND correlation_id = '" +
        ids[i] + "'");
    ASSERT_EQ(rows.size(), 1u) << ids[i];
    EXPECT_EQ(rows[0][0], std::to_string(versions[i]));
    EXPECT_EQ(rows[0][2], batch_ids[i]);
    EXPECT_EQ(pg_.Scalar("SELECT count(DISTINCT _batch_id) FROM analytics.orders WHERE _correlation_id = '" +
                         ids[i] + "'"),
              "1");
    if (i == 1) {
      EXPECT_EQ(rows[0][1],
                pg_.Scalar(
                    "SELECT publish_seq FROM analytics._sluice_publish WHERE table_name = 'curated.orders'"));
    }
    EXPECT_EQ(pg_.Scalar("SELECT count(*) FROM analytics._sluice_publish_batches WHERE table_name = "
                         "'marts.daily_revenue' AND correlation_id = '" +
                         ids[i] + "'"),
              "1");
    ProcessResult t = project_->Sluice("trace", {ids[i], "--json"}, Env());
    ASSERT_TRUE(t.ok()) << t.Describe();
    EXPECT_NE(t.err.find("answered by the running sluice serve"), std::string::npos) << t.err;
    auto shown = PublishesInTrace(Json::parse(t.out));
    EXPECT_EQ(shown["curated.orders"].version, versions[i]) << t.out;
    EXPECT_EQ(std::to_string(shown["curated.orders"].publish_seq), rows[0][1]) << t.out;
    EXPECT_EQ(shown.count("marts.daily_revenue"), 1u) << t.out;
  }
  ProcessResult stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();
  ExpectSameTables(*project_, pg_);
}

// `sluice serve`: ingest goes on while PostgreSQL is down, the lag grows, then catches up.
TEST_F(Warehouse, ServeKeepsIngestingWhilePostgresIsDown) {
  MakeStreamSource(*project_, "    type: http\n", "transform: {interval: 300ms}");
  AddWarehouse(*project_);
  const std::vector<std::string> lines = HeldBackLines();
  ASSERT_GT(lines.size(), 100u);
  auto server = ServeProcess::Start(*project_, {}, Env());
  ASSERT_NE(server, nullptr);
  HttpClient http(server->port());
  auto push = [&](size_t from, size_t to, const std::string& key) {
    std::string body;
    for (size_t i = from; i < to; ++i) body += lines[i] + "\n";
    HttpResponse r = http.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", key}});
    EXPECT_EQ(r.status, 200) << Describe(r);
  };
  auto stat = [&](const char* field) {
    Json j = http.Get("/v1/stats").json();
    return j.contains("warehouse") ? j["warehouse"].value(field, -1.0) : -1.0;
  };
  auto wait_for = [&](const std::function<bool()>& done, const std::string& what) {
    const auto until = Clock::now() + std::chrono::seconds(90);
    while (!done()) {
      if (Clock::now() > until) {
        ADD_FAILURE() << "timed out waiting for " << what << "; stderr: " << server->Stderr();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  };
  auto caught_up = [&] {
    Json j = http.Get("/v1/stats").json();
    if (!j.contains("warehouse")) return false;
    const Json& t = j["warehouse"]["tables"]["curated.orders"];
    return j["warehouse"]["lag_versions"] == 0 && t["published_version"].get<int64_t>() > 0 &&
           t["published_version"] == t["lake_version"];
  };
  const size_t third = lines.size() / 3;
  push(0, third, "a");
  ASSERT_TRUE(wait_for(caught_up, "the first publish"));
  ASSERT_NO_FATAL_FAILURE(pg_.KillImmediate());
  push(third, 2 * third, "b");  // answered 200 while PostgreSQL is down
  ASSERT_TRUE(wait_for([&] { return stat("lag_versions") > 0 && stat("lag_seconds") > 0; }, "a lag"));
  const std::string metrics = http.Get("/metrics").body;
  EXPECT_GT(MetricValue(metrics, "sluice_warehouse_lag_versions"), 0) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_warehouse_failing"), 1) << metrics;
  push(2 * third, lines.size(), "c");
  ASSERT_NO_FATAL_FAILURE(pg_.Start());
  ASSERT_TRUE(wait_for(caught_up, "catching up"));
  EXPECT_TRUE(wait_for([&] { return stat("lag_seconds") == 0; }, "the lag in seconds back to 0"));
  EXPECT_EQ(MetricValue(http.Get("/metrics").body, "sluice_warehouse_lag_versions"), 0);
  ProcessResult stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();
  EXPECT_EQ(stopped.err.find(kPassword), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("publishing failed"), std::string::npos) << stopped.err;
  ExpectSameTables(*project_, pg_);
}

// ---- PostgreSQL killed in the middle of a COPY ----------------------------------------------

// The process state letter of /proc/<pid>/stat ('T' when stopped); 0 when it cannot be read.
char ProcessState(pid_t pid) {
  const std::string stat = ReadFileOrDie("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

// PostgreSQL killed (immediate stop: a crash) while a COPY of a publish is in flight: sluice
// serve is stopped in the middle of the COPY (failpoint warehouse.during_copy=stop, after rows
// were sent), the server is killed, serve resumes and ingests on while PostgreSQL is down, and
// once it is back, publishing catches up: every published table equals the lake's, no row twice.
TEST_F(Warehouse, PostgresKilledDuringACopyThenServeCatchesUpOnce) {
  MakeStreamSource(*project_, "    type: http\n", "transform: {interval: 300ms}");
  AddWarehouse(*project_);
  const std::vector<std::string> lines = HeldBackLines();
  ASSERT_GT(lines.size(), 100u);
  auto env = Env();
  env.push_back({"SLUICE_FAILPOINTS", "warehouse.during_copy=stop"});
  auto server = ServeProcess::Start(*project_, {}, env);
  ASSERT_NE(server, nullptr);
  HttpClient http(server->port());
  auto push = [&](size_t from, size_t to, const std::string& key) {
    std::string body;
    for (size_t i = from; i < to; ++i) body += lines[i] + "\n";
    HttpResponse r = http.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", key}});
    EXPECT_EQ(r.status, 200) << Describe(r);
  };
  auto wait_for = [&](const std::function<bool()>& done, const std::string& what) {
    const auto until = Clock::now() + std::chrono::seconds(90);
    while (!done()) {
      if (Clock::now() > until) {
        ADD_FAILURE() << "timed out waiting for " << what << "; stderr: " << server->Stderr();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  };
  const size_t third = lines.size() / 3;
  push(0, third, "a");
  // The first publish stops serve in its COPY: PostgreSQL shows the COPY running.
  ASSERT_TRUE(wait_for([&] { return ProcessState(server->pid()) == 'T'; }, "serve stopped in a COPY"));
  auto copies = pg_.Rows("SELECT query FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %'");
  ASSERT_EQ(copies.size(), 1u) << "a COPY in flight; activity: "
                               << ::testing::PrintToString(pg_.Rows(
                                      "SELECT state, wait_event, left(query, 80) FROM pg_stat_activity"));
  EXPECT_NE(copies[0][0].find("FROM STDIN"), std::string::npos) << copies[0][0];
  ASSERT_NO_FATAL_FAILURE(pg_.KillImmediate());
  ASSERT_EQ(::kill(server->pid(), SIGCONT), 0);
  // The COPY fails; serve goes on ingesting while PostgreSQL is down, and says it is behind.
  push(third, 2 * third, "b");
  auto stats = [&] { return http.Get("/v1/stats").json(); };
  ASSERT_TRUE(wait_for(
      [&] {
        Json j = stats();
        return j.contains("warehouse") && j["warehouse"]["error"].is_string() &&
               j["warehouse"]["lag_versions"].get<int64_t>() > 0;
      },
      "the failed publish reported"));
  ASSERT_NO_FATAL_FAILURE(pg_.Start());
  push(2 * third, lines.size(), "c");
  ASSERT_TRUE(wait_for(
      [&] {
        Json j = stats();
        if (!j.contains("warehouse") || j["warehouse"]["lag_versions"] != 0) return false;
        for (auto& [name, t] : j["warehouse"]["tables"].items()) {
          if (t["published_version"].get<int64_t>() == 0 || t["published_version"] != t["lake_version"]) {
            return false;
          }
        }
        // Every batch curated: the lake's version is the last one.
        return j["sources"]["orders"]["queue_depth"] == 0;
      },
      "catching up"));
  ProcessResult stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();
  EXPECT_EQ(stopped.err.find(kPassword), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("publishing failed"), std::string::npos) << stopped.err;
  EXPECT_EQ(project_->Scalar("SELECT count(*) FROM meta.batches"), "3");  // one per push
  ExpectSameTables(*project_, pg_);
  // The versions PostgreSQL recorded are the lake's (ExpectSameTables), and a restarted serve
  // has nothing to send: the same tables.
  auto again = ServeProcess::Start(*project_, {}, Env());
  ASSERT_NE(again, nullptr);
  HttpClient http2(again->port());
  Json j2;
  ASSERT_TRUE(wait_for(
      [&] {
        j2 = http2.Get("/v1/stats").json();
        return j2.contains("warehouse") && j2["warehouse"]["lag_versions"] == 0;
      },
      "the restarted serve's warehouse state"));
  ProcessResult stopped2 = again->Terminate();
  ASSERT_TRUE(stopped2.ok()) << stopped2.Describe();
  ExpectSameTables(*project_, pg_);
}

}  // namespace
}  // namespace sluice::e2e
