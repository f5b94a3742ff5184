// The query API of `sluice serve` through the real binary: tables and their metadata, rows of
// published versions (JSON, CSV, Parquet) against the generator's expected.json, partition
// pruning in the header and the metrics, cursor pagination that stays on its first page's
// version while a writer commits and publishes, the SQL endpoint and its limits, and refusals.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

const char kEvents[] = "/v1/sources/orders/events";

Json Expected(const Project& p) { return Json::parse(ReadFileOrDie(p.Landing() + "/expected.json")); }

void Post(HttpClient& client, const std::vector<std::string>& bodies, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    HttpResponse r = client.Post(kEvents, bodies[i], {{"Idempotency-Key", "k" + std::to_string(i)}});
    ASSERT_EQ(r.status, 200) << Describe(r);
  }
}

// The table's entry of GET /v1/tables/<name>.
Json TableInfo(HttpClient& client, const std::string& name) {
  HttpResponse r = client.Get("/v1/tables/" + name);
  EXPECT_EQ(r.status, 200) << Describe(r);
  return r.json();
}

// Waits until every table's latest version is published and curated.orders holds `rows` rows.
void WaitPublished(HttpClient& client, int64_t rows) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    HttpResponse r = client.Get("/v1/tables");
    bool done = r.status == 200;
    for (const auto& t : r.json().value("tables", Json::array())) {
      if (t["layer"] == "staging") continue;
      done = done && t["version"].is_number() && t["version"] == t["published_version"];
      if (t["name"] == "curated.orders") done = done && t["rows"] == rows;
    }
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "tables not published within 120 s: " << client.Get("/v1/tables").body;
}

// "2026-01-02 12:22:59" -> "2026-01-02T12:22:59Z" (the JSON encoding of a TIMESTAMP).
std::string Rfc3339(const std::string& ts) { return ts.substr(0, 10) + "T" + ts.substr(11) + "Z"; }

// Rows of every page of `path` (a rows URL), following next_cursor; the versions seen.
struct Paged {
  std::vector<Json> rows;
  std::set<int64_t> versions;
  int pages = 0;
};
Paged ReadAllPages(HttpClient& client, const std::string& path) {
  Paged out;
  std::string next = path;
  while (!next.empty() && out.pages < 10000) {
    HttpResponse r = client.Get(next);
    EXPECT_EQ(r.status, 200) << next << ": " << Describe(r);
    if (r.status != 200) break;
    ++out.pages;
    Json j = r.json();
    out.versions.insert(j["version"].get<int64_t>());
    for (const auto& row : j["rows"]) out.rows.push_back(row);
    const size_t q = path.find('?');
    next = j["next_cursor"].is_null() ? ""
                                      : path.substr(0, q) + "?cursor=" + j["next_cursor"].get<std::string>();
  }
  return out;
}

class ServeQueryApiTest : public ::testing::Test {
 protected:
  void Start(const std::string& query_settings, int orders) {
    OrderGeneratorOptions o;
    o.orders = orders;
    o.batches = 4;
    o.tenants = 5;
    o.days = 7;
    project_ = std::make_unique<Project>(MakeExampleProject(tmp_.path() + "/p", o));
    MakeStreamSource(
        *project_, "    type: http\n",
        "transform: {interval: 100ms, publish_interval: 200ms}\nserve:\n  query:\n" + query_settings);
    server_ = ServeProcess::Start(*project_);
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<HttpClient>(server_->port());
    bodies_ = LandingBodies(*project_, 200);
    expected_ = Expected(*project_);
  }
  TempDir tmp_{"sluice-query-api"};
  std::unique_ptr<Project> project_;
  std::unique_ptr<ServeProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::string> bodies_;
  Json expected_;
};

TEST_F(ServeQueryApiTest, TablesRowsFormatsAndSql) {
  Start("    max_rows: 5000\n    timeout: 1s\n    max_concurrent: 2\n", 1500);
  ASSERT_NO_FATAL_FAILURE(Post(*client_, bodies_, 0, bodies_.size()));
  const Json& final_state = expected_["final_state"];
  WaitPublished(*client_, static_cast<int64_t>(final_state.size()));

  // The listing: every table with columns and types, rows, versions.
  HttpResponse list = client_->Get("/v1/tables");
  ASSERT_EQ(list.status, 200) << Describe(list);
  std::vector<std::string> names;
  const Json doc1 = list.json();
  for (const auto& t : doc1["tables"]) names.push_back(t["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"curated.orders", "marts.daily_revenue", "staging.orders"}));
  Json orders = TableInfo(*client_, "curated.orders");
  EXPECT_EQ(orders["rows"], final_state.size());
  EXPECT_EQ(orders["upstream"], Json::array({"staging.orders"}));
  EXPECT_EQ(orders["key"], Json::array({"order_id"}));
  EXPECT_EQ(orders["partitions"]["count"], 7);
  EXPECT_EQ(orders["max_day"], "2026-01-07");
  bool typed = false;
  for (const auto& c : orders["columns"]) typed |= c["name"] == "amount" && c["type"] == "DECIMAL(12,2)";
  EXPECT_TRUE(typed) << orders.dump();
  EXPECT_EQ(TableInfo(*client_, "marts.daily_revenue")["upstream"], Json::array({"curated.orders"}));
  HttpResponse unknown = client_->Get("/v1/tables/curated.nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("curated.orders, marts.daily_revenue, staging.orders"), std::string::npos)
      << unknown.body;

  // Every row of curated.orders over pages of 97 equals expected.json's final state, typed.
  Paged all = ReadAllPages(*client_, "/v1/tables/curated.orders/rows?limit=97");
  EXPECT_EQ(all.rows.size(), final_state.size());
  EXPECT_EQ(all.versions.size(), 1u);
  std::set<std::string> seen;
  for (const auto& row : all.rows) {
    const std::string id = row["order_id"];
    ASSERT_TRUE(final_state.contains(id)) << row.dump();
    EXPECT_TRUE(seen.insert(id).second) << id << " twice";
    const Json& f = final_state[id];
    EXPECT_EQ(row["status"], f["status"]) << id;
    EXPECT_EQ(row["seq"], f["seq"]) << id;
    EXPECT_EQ(row["amount"].get<double>(), std::stod(f["amount"].get<std::string>())) << id;
    EXPECT_EQ(row["tenant_id"], f["tenant_id"]) << id;
    EXPECT_EQ(row["created_at"], Rfc3339(f["created_at"])) << id;
  }
  EXPECT_TRUE(std::is_sorted(all.rows.begin(), all.rows.end(),
                             [](const Json& a, const Json& b) { return a["order_id"] < b["order_id"]; }));

  // One tenant, two days: two partitions of seven read, the rows those of expected.json.
  HttpResponse some = client_->Get(
      "/v1/tables/curated.orders/"
      "rows?tenant=t03&day_from=2026-01-02&day_to=2026-01-03&limit=5000&order=-seq");
  ASSERT_EQ(some.status, 200) << Describe(some);
  EXPECT_EQ(Header(some, "X-Sluice-Partitions"), "read=2 total=7");
  std::multiset<std::string> want, got;
  for (auto& [id, f] : final_state.items()) {
    const std::string day = f["created_at"].get<std::string>().substr(0, 10);
    if (f["tenant_id"] == "t03" && day >= "2026-01-02" && day <= "2026-01-03") want.insert(id);
  }
  int64_t last_seq = 1 << 30;
  const Json doc2 = some.json();
  for (const auto& row : doc2["rows"]) {
    got.insert(row["order_id"].get<std::string>());
    EXPECT_LE(row["seq"].get<int64_t>(), last_seq) << "order=-seq";
    last_seq = row["seq"].get<int64_t>();
  }
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(got, want);
  EXPECT_EQ(some.json()["rows_total"], want.size());

  // The mart for one tenant equals expected.json's rows of that tenant.
  HttpResponse mart = client_->Get("/v1/tables/marts.daily_revenue/rows?tenant=t01&limit=5000");
  ASSERT_EQ(mart.status, 200) << Describe(mart);
  std::vector<std::string> mart_want, mart_got;
  for (const auto& r : expected_["mart_daily_revenue"]) {
    if (r["tenant_id"] == "t01")
      mart_want.push_back(Str(r["day"]) + " " + Str(r["orders"]) + " " + Str(r["revenue"]));
  }
  const Json doc3 = mart.json();
  for (const auto& r : doc3["rows"]) {
    char revenue[64];
    std::snprintf(revenue, sizeof revenue, "%.2f", r["revenue"].get<double>());
    mart_got.push_back(Str(r["day"]) + " " + Str(r["orders"]) + " " + revenue);
  }
  EXPECT_EQ(mart_got, mart_want);

  // CSV: DuckDB's text of each value (the decimal's digits exactly); Parquet: a file another
  // reader opens, holding the same rows.
  HttpResponse csv = client_->Get(
      "/v1/tables/curated.orders/rows?tenant=t03&day_from=2026-01-02&day_to=2026-01-03"
      "&limit=5000",
      {{"Accept", "text/csv"}});
  ASSERT_EQ(csv.status, 200) << Describe(csv);
  EXPECT_EQ(Header(csv, "Content-Type").rfind("text/csv", 0), 0u);
  std::multiset<std::string> csv_got;
  size_t line_start = csv.body.find('\n') + 1;
  EXPECT_EQ(csv.body.substr(0, line_start).rfind("order_id,tenant_id,status,amount,created_at,seq,", 0), 0u)
      << csv.body.substr(0, line_start);
  while (line_start < csv.body.size()) {
    const size_t nl = csv.body.find('\n', line_start);
    const std::string line = csv.body.substr(line_start, nl - line_start);
    const std::string id = line.substr(0, line.find(','));
    csv_got.insert(id);
    const Json& f = final_state[id];
    EXPECT_EQ(line.substr(0, line.find(',', line.find(',', line.find(',', id.size() + 1) + 1) + 1)),
              id + "," + Str(f["tenant_id"]) + "," + Str(f["status"]) + "," + Str(f["amount"]))
        << line;
    line_start = nl + 1;
  }
  EXPECT_EQ(csv_got, want);
  HttpResponse parquet = client_->Get(
      "/v1/tables/curated.orders/rows?tenant=t03&day_from=2026-01-02&day_to=2026-01-03&limit=5000",
      {{"Accept", "application/vnd.apache.parquet"}});
  ASSERT_EQ(parquet.status, 200) << Describe(parquet);
  WriteFileOrDie(tmp_.path() + "/rows.parquet", parquet.body);
  DuckReader reader;
  std::multiset<std::string> parquet_got;
  for (const auto& r : reader.Rows("SELECT order_id, CAST(amount AS VARCHAR) FROM read_parquet(" +
                                   Quote(tmp_.path() + "/rows.parquet") + ")")) {
    parquet_got.insert(r[0]);
    EXPECT_EQ(r[1], Str(final_state[r[0]]["amount"])) << r[0];
  }
  EXPECT_EQ(parquet_got, want);

  // `sluice query` while serve holds the lake: the server answers, with the same gate; the local
  // secret it uses is in serve.json, readable by the owner only. `sluice status` still works.
  ProcessResult q =
      project_->Sluice("query", {"SELECT count(*) AS n FROM curated.orders", "--format", "json"});
  ASSERT_TRUE(q.ok()) << q.Describe();
  EXPECT_EQ(Json::parse(q.out), Json::parse("[{\"n\":" + std::to_string(final_state.size()) + "}]")) << q.out;
  EXPECT_NE(q.err.find("answered by the running sluice serve"), std::string::npos) << q.err;
  ProcessResult table =
      project_->Sluice("query", {"SELECT order_id, amount FROM curated.orders ORDER BY 1 LIMIT 1"});
  ASSERT_TRUE(table.ok()) << table.Describe();
  EXPECT_NE(table.out.find(final_state.begin().key() + " | " + Str(final_state.begin().value()["amount"])),
            std::string::npos)
      << table.out;
  ProcessResult refused_q = project_->Sluice("query", {"COPY curated.orders TO 'out.csv'"});
  ExpectCleanFailure(refused_q, "COPY through the server");
  EXPECT_NE(refused_q.err.find("refused"), std::string::npos) << refused_q.err;
  struct stat st {};
  ASSERT_EQ(::stat((project_->Lake() + "/serve.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(ReadFileOrDie(project_->Lake() + "/serve.json").find("\"local_secret\""), std::string::npos);
  EXPECT_EQ(client_->Get("/v1/stats").body.find("local_secret"), std::string::npos);
  ProcessResult status = project_->Sluice("status");
  EXPECT_TRUE(status.ok()) << status.Describe();
  EXPECT_NE(status.out.find("curated.orders: " + std::to_string(final_state.size()) + " rows"),
            std::string::npos)
      << status.out;
  EXPECT_NE(status.err.find("answered by the running sluice serve"), std::string::npos) << status.err;

  // Metrics: the partitions read and those of the versions read from.
  HttpResponse metrics = client_->Get("/metrics");
  EXPECT_GT(MetricValue(metrics.body, "sluice_query_partitions_read_total{table=\"curated.orders\"}"), 0);
  EXPECT_GT(MetricValue(metrics.body, "sluice_query_partitions_total{table=\"curated.orders\"}"),
            MetricValue(metrics.body, "sluice_query_partitions_read_total{table=\"curated.orders\"}"));

  // SQL: a count equal to expected.json's; refusals with one-line reasons.
  HttpResponse count = client_->Post("/v1/query", R"j({"sql": "SELECT count(*) AS n FROM curated.orders;"})j",
                                     {}, "application/json");
  ASSERT_EQ(count.status, 200) << Describe(count);
  EXPECT_EQ(count.json()["rows"][0]["n"], final_state.size());
  for (const std::string sql :
       {"COPY curated.orders TO 'x.csv'", "SELECT * FROM read_blob('lake/sluice.duckdb')",
        "ATTACH 'lake/sluice.duckdb' AS x", "SET threads = 1", "PRAGMA version"}) {
    HttpResponse r = client_->Post("/v1/query", Json{{"sql", sql}}.dump(), {}, "application/json");
    EXPECT_EQ(r.status, 400) << sql << ": " << Describe(r);
    EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << "one line: " << r.body;
  }
  HttpResponse too_many =
      client_->Post("/v1/query", R"j({"sql": "SELECT * FROM range(5001)"})j", {}, "application/json");
  EXPECT_EQ(too_many.status, 413) << Describe(too_many);
  // The time limit: a query of hours is stopped after 1 s.
  const auto t0 = Clock::now();
  HttpResponse slow = client_->Post(
      "/v1/query", R"j({"sql": "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"})j", {},
      "application/json");
  EXPECT_EQ(slow.status, 408) << Describe(slow);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30));
  // The concurrency limit (2): of 3 slow queries sent at once and the quick ones sent while they
  // run, some are answered 429 with Retry-After.
  std::atomic<int> finished{0}, refused_429{0};
  std::atomic<bool> retry_after{true};
  auto tally = [&](const HttpResponse& r) {
    if (r.status != 429) return;
    ++refused_429;
    if (Header(r, "Retry-After") != "1") retry_after = false;
  };
  std::vector<std::thread> slow_clients;
  for (int i = 0; i < 3; ++i) {
    slow_clients.emplace_back([&] {
      HttpClient c(server_->port());
      tally(c.Post("/v1/query",
                   R"j({"sql": "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"})j", {},
                   "application/json"));
      ++finished;
    });
  }
  while (finished < 3) {
    tally(client_->Post("/v1/query", R"j({"sql": "SELECT 1 AS one"})j", {}, "application/json"));
  }
  for (auto& t : slow_clients) t.join();
  const bool refused = refused_429 > 0;
  EXPECT_TRUE(retry_after);
  EXPECT_TRUE(refused) << "no 429 while 2 queries ran";
}

// Pages of one cursor come from the first page's version while new batches commit and are
// published (each publish would delete the version before the last one, but the cursor pins
// it): no row twice, none missing, each page from that one version.
TEST_F(ServeQueryApiTest, CursorPagesStayOnTheirVersionWhileWritersPublish) {
  Start("    max_rows: 5000\n", 2000);
  const size_t half = bodies_.size() / 2;
  ASSERT_NO_FATAL_FAILURE(Post(*client_, bodies_, 0, half));
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  Json info;
  while (Clock::now() < deadline) {
    info = TableInfo(*client_, "curated.orders");
    if (info["rows"].is_number() && info["rows"].get<int64_t>() > 0 &&
        info["version"] == info["published_version"]) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  HttpResponse first = client_->Get("/v1/tables/curated.orders/rows?limit=50&order=tenant_id,-seq");
  ASSERT_EQ(first.status, 200) << Describe(first);
  const int64_t version = first.json()["version"];
  const int64_t total = first.json()["rows_total"];
  std::vector<Json> rows;
  const Json doc4 = first.json();
  for (const auto& r : doc4["rows"]) rows.push_back(r);
  std::string cursor = first.json()["next_cursor"];
  // The rest of the data, and three more publishes at least.
  std::thread writer([&] {
    HttpClient c(server_->port());
    Post(c, bodies_, half, bodies_.size());
  });
  int pages = 1;
  while (!cursor.empty()) {
    HttpResponse page = client_->Get("/v1/tables/curated.orders/rows?cursor=" + cursor);
    ASSERT_EQ(page.status, 200) << "page " << pages << ": " << Describe(page);
    EXPECT_EQ(page.json()["version"], version);
    EXPECT_EQ(Header(page, "X-Sluice-Version"), std::to_string(version));
    const Json doc5 = page.json();
    for (const auto& r : doc5["rows"]) rows.push_back(r);
    cursor = page.json()["next_cursor"].is_null() ? "" : page.json()["next_cursor"].get<std::string>();
    if (++pages == 3) {
      // Wait until the version would have been deleted without its pin: publishing keeps the current and the
      // previous version, and publish V+3 starts after V+2 removed older ones.
      const auto until = Clock::now() + std::chrono::seconds(120);
      while (Clock::now() < until &&
             TableInfo(*client_, "curated.orders")["published_version"] < version + 3) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ASSERT_GE(TableInfo(*client_, "curated.orders")["published_version"], version + 3);
    }
  }
  writer.join();
  EXPECT_EQ(static_cast<int64_t>(rows.size()), total);
  // The same snapshot read by another reader: the version's files, in the cursor's order.
  DuckReader duck;
  const std::string dir = project_->Lake() + "/published/curated/orders/v" + std::to_string(version);
  auto want = duck.Rows("SELECT order_id FROM read_parquet(" + Quote(dir + "/*/*.parquet") +
                        ", hive_partitioning = false) ORDER BY tenant_id, seq DESC, order_id");
  ASSERT_EQ(want.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i]["order_id"], want[i][0]) << "row " << i;
  }
  // And that snapshot is not the current one any more.
  EXPECT_GT(TableInfo(*client_, "curated.orders")["rows"].get<int64_t>(), total);
}

}  // namespace
}  // namespace sluice::e2e
