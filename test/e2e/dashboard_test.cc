// The dashboard of `sluice serve` (docs/DASHBOARD.md) in a real browser: Debian's headless
// Chromium driven by playwright-core (test/e2e/dashboard_check.js) on a real server with the
// example project's events pushed over HTTP. The graph shows every node of the project with the
// generator's counts (expected.json) and those a query through the API answers, the page asks
// for a token and fetches nothing but its own server, the charts have points, and the JSON
// endpoints refuse what docs/SECURITY.md says they refuse. An SLO breached on the server
// (GET /v1/slo) shows as breached in the SLO panel and on its node. A screenshot is kept in the test's
// temp dir and, when SLUICE_SCREENSHOT_DIR is set, there.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "harness.h"
#include "postgres_server.h"
#include "serve_harness.h"
#include "support/nats_server.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

const char kOpsToken[] = "ops-secret-0123456789abcdef";
const char kLoaderToken[] = "loader-secret-0123456789abcdef";
const char kAcmeToken[] = "acme-secret-0123456789abcdef";

std::map<std::string, std::string> Bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

bool HaveBrowser() {
  return std::filesystem::exists("/usr/bin/chromium") &&
         std::filesystem::exists(std::string(SLUICE_DOCS_ROOT) +
                                 "/third_party/node/node_modules/playwright-core");
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HaveBrowser()) << "/usr/bin/chromium or third_party/node/node_modules/playwright-core is "
                                  "missing: run scripts/setup.sh";
  }

  // The example project with `orders` as an HTTP source, a feed consumer and three tokens;
  // `extra` is added to the top of sluice.yaml.
  void Start(const std::string& extra = "") {
    OrderGeneratorOptions o;
    o.orders = 600;
    o.batches = 3;
    o.tenants = 4;
    o.days = 5;
    project_ = std::make_unique<Project>(MakeExampleProject(tmp_.path() + "/p", o));
    MakeStreamSource(
        *project_, "    type: http\n",
        "transform: {interval: 100ms, publish_interval: 200ms}\n"
        "consumers:\n  ml_features: {table: curated.orders}\n"
        "serve:\n  auth:\n    tokens:\n"
        "      - {name: ops, secret_env: DASH_OPS_TOKEN, scopes: [\"read:*\"]}\n"
        "      - {name: loader, secret_env: DASH_LOADER_TOKEN, scopes: [\"ingest:orders\"]}\n"
        "      - {name: acme, secret_env: DASH_ACME_TOKEN, scopes: [\"read:*\"], tenants: [t01]}\n" +
            extra);
    server_ = ServeProcess::Start(*project_, {},
                                  {{"DASH_OPS_TOKEN", kOpsToken},
                                   {"DASH_LOADER_TOKEN", kLoaderToken},
                                   {"DASH_ACME_TOKEN", kAcmeToken}});
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<HttpClient>(server_->port());
    expected_ = Json::parse(ReadFileOrDie(project_->Landing() + "/expected.json"));
  }

  void PushAll() {
    std::vector<std::string> bodies = LandingBodies(*project_, 150);
    for (size_t i = 0; i < bodies.size(); ++i) {
      auto headers = Bearer(kLoaderToken);
      headers["Idempotency-Key"] = "k" + std::to_string(i);
      HttpResponse r = client_->Post("/v1/sources/orders/events", bodies[i], headers);
      ASSERT_EQ(r.status, 200) << Describe(r);
    }
  }

  // Polls GET `path` (ops token) until `done` holds for its JSON; the last JSON either way.
  Json WaitFor(const std::string& path, const std::function<bool(const Json&)>& done, int seconds = 120) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    Json last;
    while (Clock::now() < deadline) {
      HttpResponse r = client_->Get(path, Bearer(kOpsToken));
      last = r.json();
      if (r.status == 200 && done(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << path << " did not reach the awaited state within " << seconds << " s: " << last.dump();
    return last;
  }

  // A count through the SQL endpoint: the second ground truth, independent of /v1/pipeline.
  int64_t Count(const std::string& table) {
    HttpResponse r = client_->Post("/v1/query", Json{{"sql", "SELECT count(*) AS n FROM " + table}}.dump(),
                                   Bearer(kOpsToken), "application/json");
    EXPECT_EQ(r.status, 200) << Describe(r);
    Json j = r.json();
    return j.contains("rows") && j["rows"].size() == 1 ? j["rows"][0]["n"].get<int64_t>() : -1;
  }

  // Runs dashboard_check.js against the server; its JSON (null and a test failure when it fails).
  // Also keeps the screenshot as `shot_name` in SLUICE_SCREENSHOT_DIR when that is set.
  Json Browse(const std::string& shot_name = "dashboard.png") {
    const std::string shot = tmp_.path() + "/dashboard.png";
    ProcessOptions options;
    options.env = {{"NODE_PATH", std::string(SLUICE_DOCS_ROOT) + "/third_party/node/node_modules"}};
    options.timeout_seconds = 180;
    ProcessResult r = RunProcess("/usr/bin/node",
                                 {std::string(SLUICE_DOCS_ROOT) + "/test/e2e/dashboard_check.js",
                                  "http://127.0.0.1:" + std::to_string(server_->port()) + "/", kOpsToken,
                                  shot, tmp_.path() + "/chromium"},
                                 options);
    EXPECT_TRUE(r.ok()) << r.Describe();
    EXPECT_TRUE(std::filesystem::exists(shot)) << shot;
    if (const char* dir = std::getenv("SLUICE_SCREENSHOT_DIR"); dir != nullptr && *dir != '\0') {
      std::filesystem::create_directories(dir);
      std::filesystem::copy_file(shot, std::string(dir) + "/" + shot_name,
                                 std::filesystem::copy_options::overwrite_existing);
    }
    if (!r.ok()) return nullptr;
    return Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  }

  TempDir tmp_{"sluice-dashboard"};
  std::unique_ptr<Project> project_;
  std::unique_ptr<ServeProcess> server_;
  std::unique_ptr<HttpClient> client_;
  Json expected_;
};

TEST_F(DashboardTest, GraphCountsAndChartsInChromium) {
  // ~5.5% of the generator's lines are invalid: against an error_rate objective of 0.1% that
  // burns the budget ~55 times too fast, a breach (docs/SLO.md); consumer_lag stays ok.
  ASSERT_NO_FATAL_FAILURE(Start("slo: {interval: 200ms, error_rate: 0.1%}\n"));
  ASSERT_NO_FATAL_FAILURE(PushAll());

  // Ground truth from the generator.
  int64_t dead = 0;
  for (const auto& [reason, n] : expected_["dead_by_reason"].items()) dead += n.get<int64_t>();
  const int64_t read = expected_["lines_total"];
  const int64_t staged = read - dead;
  ASSERT_EQ(staged, expected_["events_valid"].get<int64_t>());
  const int64_t curated = static_cast<int64_t>(expected_["final_state"].size());
  const int64_t mart = static_cast<int64_t>(expected_["mart_daily_revenue"].size());

  // Everything merged and published, and the history holds a sample taken after the push.
  auto node_rows = [](const Json& p, const std::string& id) {
    for (const auto& n : p["nodes"]) {
      if (n["id"] == id) return n["rows"];
    }
    return Json();
  };
  Json pipeline = WaitFor("/v1/pipeline", [&](const Json& p) {
    return node_rows(p, "published.curated.orders") == curated &&
           node_rows(p, "published.marts.daily_revenue") == mart;
  });
  WaitFor(
      "/v1/history",
      [&](const Json& h) {
        int with_data = 0;
        for (const auto& s : h["samples"])
          with_data += s["sources"]["orders"]["rows_staged"].get<double>() > 0;
        return h["samples"].size() >= 2 && with_data >= 1;
      },
      60);
  pipeline = WaitFor("/v1/pipeline", [](const Json&) { return true; });
  std::map<std::string, std::string> slo_states;
  WaitFor("/v1/slo", [&](const Json& j) {
    slo_states.clear();
    for (const auto& x : j["slos"]) slo_states[x["name"].get<std::string>()] = x["state"];
    return slo_states["error_rate:orders"] == "breach";
  });
  EXPECT_EQ(slo_states["consumer_lag:orders"], "ok");

  // The second ground truth: counts through the SQL endpoint.
  EXPECT_EQ(Count("curated.orders"), curated);
  EXPECT_EQ(Count("marts.daily_revenue"), mart);
  EXPECT_EQ(Count("staging.orders"), staged);

  // /v1/pipeline itself: nodes, rows, edges, DLQ by reason.
  const std::map<std::string, int64_t> want_rows = {{"sources.orders", read},
                                                    {"staging.orders", staged},
                                                    {"curated.orders", curated},
                                                    {"marts.daily_revenue", mart},
                                                    {"published.curated.orders", curated},
                                                    {"published.marts.daily_revenue", mart}};
  std::set<std::string> ids;
  for (const auto& n : pipeline["nodes"]) ids.insert(n["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"sources.orders", "staging.orders", "curated.orders",
                                        "marts.daily_revenue", "published.curated.orders",
                                        "published.marts.daily_revenue", "consumers.ml_features"}));
  for (const auto& [id, rows] : want_rows) EXPECT_EQ(node_rows(pipeline, id), rows) << id;
  std::map<std::string, int64_t> dlq;
  for (const auto& d : pipeline["dlq"]) dlq[d["reason"].get<std::string>()] = d["rows"];
  std::map<std::string, int64_t> want_dlq;
  for (const auto& [reason, n] : expected_["dead_by_reason"].items()) {
    if (n.get<int64_t>() > 0) want_dlq[reason] = n;
  }
  EXPECT_EQ(dlq, want_dlq);
  int64_t batch_rows = 0;
  for (const auto& b : pipeline["batches"]) batch_rows += b["rows_read"].get<int64_t>();
  EXPECT_GT(batch_rows, 0);

  // Who may read what: the page is public, its data is not.
  HttpResponse page = client_->Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<script src=\"dashboard.js\""), std::string::npos);
  EXPECT_EQ(Header(page, "Content-Security-Policy").find("default-src 'self'"), 0u)
      << Header(page, "Content-Security-Policy");
  // The assets are the files of src/serve/dashboard/, byte for byte, from the binary.
  for (const std::string name : {"index.html", "dashboard.js", "dashboard.css", "favicon.svg"}) {
    HttpResponse asset = client_->Get(name == "index.html" ? "/" : "/" + name);
    EXPECT_EQ(asset.status, 200) << name;
    EXPECT_EQ(asset.body, ReadFileOrDie(std::string(SLUICE_DOCS_ROOT) + "/src/serve/dashboard/" + name))
        << name;
  }
  EXPECT_EQ(Header(client_->Get("/dashboard.js"), "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(client_->Get("/dashboard.map").status, 404);
  EXPECT_EQ(client_->Get("/v1/pipeline").status, 401);
  EXPECT_EQ(client_->Get("/v1/history").status, 401);
  EXPECT_EQ(client_->Get("/v1/pipeline", Bearer(kAcmeToken)).status, 403);
  EXPECT_EQ(client_->Get("/v1/pipeline", Bearer(kLoaderToken)).json()["nodes"][0]["rows"], Json());

  // The browser.
  Json seen = Browse();
  ASSERT_TRUE(seen.is_object()) << seen.dump();
  EXPECT_TRUE(seen["prompted"].get<bool>());
  EXPECT_TRUE(seen["token_kept"].get<bool>());
  EXPECT_EQ(seen["external"], Json::array()) << "the page fetched another origin";
  EXPECT_EQ(seen["console_errors"], Json::array()) << "a script error or a refusal by the CSP";
  EXPECT_EQ(seen["csp"], Header(page, "Content-Security-Policy"));
  // Answers >= 400 the page met: its first /v1/pipeline without the token, and /v1/slo when the
  // server evaluates no SLOs.
  for (const auto& f : seen["failed_loads"]) {
    const bool expected =
        (f["url"] == "/v1/pipeline" && f["status"] == 401) || (f["url"] == "/v1/slo" && f["status"] == 404);
    EXPECT_TRUE(expected) << f.dump();
  }
  std::set<std::string> drawn;
  for (const auto& n : seen["nodes"]) {
    const std::string id = n["id"];
    drawn.insert(id);
    EXPECT_EQ(n["box"][0].get<double>() > 0 && n["box"][1].get<double>() > 0, true) << id << " has no size";
    auto want = want_rows.find(id);
    if (want != want_rows.end()) {
      EXPECT_EQ(n["rows"], want->second) << id;
      EXPECT_EQ(n["state"], "ok") << id;
    }
  }
  EXPECT_EQ(drawn, ids);
  std::set<std::string> edges;
  for (const auto& e : pipeline["edges"]) edges.insert(Str(e["from"]) + ">" + Str(e["to"]));
  EXPECT_EQ(seen["edges"].get<std::set<std::string>>(), edges);
  std::map<std::string, int64_t> shown_dlq;
  for (const auto& d : seen["dlq"])
    shown_dlq[d["key"].get<std::string>().substr(7)] = d["rows"];  // "orders/"
  EXPECT_EQ(shown_dlq, want_dlq);
  EXPECT_EQ(seen["batches"].get<size_t>(), pipeline["batches"].size());
  EXPECT_GT(seen["chart_points"]["throughput"].get<int>(), 0);
  EXPECT_GT(seen["chart_points"]["lag"].get<int>(), 0);
  EXPECT_EQ(seen["lag_legend"], Json::parse(R"j(["orders", "ml_features (feed)"])j"));
  for (const auto& r : seen["requests"]) EXPECT_EQ(Str(r).rfind("http://127.0.0.1:", 0), 0u) << r;

  // The SLOs as /v1/slo has them, the breached one shown as breached, and its source's node
  // marked.
  std::map<std::string, std::string> shown_slos;
  for (const auto& x : seen["slos"]) {
    shown_slos[x["name"].get<std::string>()] = x["state"];
    EXPECT_EQ(x["shown"], x["state"]) << x.dump();
    EXPECT_TRUE(x["visible"].get<bool>()) << x.dump();
  }
  EXPECT_EQ(shown_slos, slo_states);
  EXPECT_EQ(shown_slos["error_rate:orders"], "breach");
  EXPECT_FALSE(seen["slo_empty"].get<bool>());
  for (const auto& n : seen["nodes"]) {
    EXPECT_EQ(n["slo"], n["id"] == "sources.orders" ? "breach" : "") << n.dump();
  }
}

// A NATS JetStream source (a real nats-server) and the PostgreSQL warehouse (a real PostgreSQL):
// the browser shows the source node with the rows its consumer read and its lag, and a node per
// PostgreSQL table with its rows and the version PostgreSQL holds. Ground truths: the lines
// published to the stream and the stream's last sequence (the NATS client), the rows and
// versions in PostgreSQL (psql).
TEST_F(DashboardTest, NatsSourceAndPostgresNodesInChromium) {
  Postgres pg;
  ASSERT_TRUE(pg.available()) << "no PostgreSQL server binaries: run scripts/setup.sh";
  auto nats = test::NatsServer::Start();
  ASSERT_NE(nats, nullptr);
  OrderGeneratorOptions o;
  o.orders = 400;
  o.batches = 2;
  o.tenants = 3;
  o.days = 4;
  project_ = std::make_unique<Project>(MakeExampleProject(tmp_.path() + "/p", o));
  MakeStreamSource(*project_,
                   "    type: nats\n    nats: {url: " + nats->url() +
                       ", stream: ORDERS, subject: orders.>, durable: sluice_orders}\n"
                       "    batch: {max_rows: 200, max_wait: 200ms}\n",
                   "transform: {interval: 100ms, publish_interval: 200ms}\n"
                   "serve:\n  auth:\n    tokens:\n"
                   "      - {name: ops, secret_env: DASH_OPS_TOKEN, scopes: [\"read:*\"]}\n"
                   "  postgres:\n    dsn_env: SLUICE_PG_DSN\n    schema: analytics\n"
                   "    publish: [curated.orders, marts.daily_revenue]\n");
  expected_ = Json::parse(ReadFileOrDie(project_->Landing() + "/expected.json"));
  std::vector<std::string> lines;
  for (const std::string& body : LandingBodies(*project_, 1))
    lines.push_back(body.substr(0, body.size() - 1));
  ASSERT_EQ(static_cast<int64_t>(lines.size()), expected_["lines_total"].get<int64_t>());
  ASSERT_NO_FATAL_FAILURE(test::CreateStream(nats->url(), "ORDERS", {"orders.>"}));
  server_ = ServeProcess::Start(*project_, {}, {{"DASH_OPS_TOKEN", kOpsToken}, {"SLUICE_PG_DSN", pg.Dsn()}});
  ASSERT_NE(server_, nullptr);
  client_ = std::make_unique<HttpClient>(server_->port());
  ASSERT_NO_FATAL_FAILURE(test::PublishAll(nats->url(), "orders.new", lines));
  const test::StreamState stream = test::GetStreamState(nats->url(), "ORDERS");
  ASSERT_EQ(stream.messages, lines.size());

  // Everything consumed, merged and in PostgreSQL.
  const int64_t read = expected_["lines_total"];
  const int64_t curated = static_cast<int64_t>(expected_["final_state"].size());
  const int64_t mart = static_cast<int64_t>(expected_["mart_daily_revenue"].size());
  auto node = [](const Json& p, const std::string& id) {
    for (const auto& n : p["nodes"]) {
      if (n["id"] == id) return n;
    }
    return Json();
  };
  Json pipeline = WaitFor("/v1/pipeline", [&](const Json& p) {
    const Json source = node(p, "sources.orders");
    return source["rows"] == read && source["detail"]["lag_messages"] == 0 &&
           node(p, "postgres.analytics.orders")["rows"] == curated &&
           node(p, "postgres.analytics.daily_revenue")["rows"] == mart;
  });
  WaitFor(
      "/v1/history",
      [&](const Json& h) {
        int with_data = 0;
        for (const auto& s : h["samples"])
          with_data += s["sources"]["orders"]["rows_staged"].get<double>() > 0;
        return h["samples"].size() >= 2 && with_data >= 1;
      },
      60);

  // The ground truths: PostgreSQL through psql, the stream through the NATS client.
  const std::map<std::string, std::string> pg_table = {
      {"postgres.analytics.orders", "curated.orders"},
      {"postgres.analytics.daily_revenue", "marts.daily_revenue"}};
  std::map<std::string, int64_t> pg_rows, pg_version;
  for (const auto& [id, table] : pg_table) {
    const std::string name = id.substr(std::string("postgres.").size());
    pg_rows[id] = std::stoll(pg.Scalar("SELECT count(*) FROM " + name));
    pg_version[id] = std::stoll(
        pg.Scalar("SELECT version FROM analytics._sluice_publish WHERE table_name = '" + table + "'"));
  }
  EXPECT_EQ(pg_rows["postgres.analytics.orders"], curated);
  EXPECT_EQ(pg_rows["postgres.analytics.daily_revenue"], mart);

  Json seen = Browse("dashboard-nats-postgres.png");
  ASSERT_TRUE(seen.is_object()) << seen.dump();
  EXPECT_EQ(seen["console_errors"], Json::array());
  EXPECT_EQ(seen["external"], Json::array());
  std::map<std::string, Json> shown;
  for (const auto& n : seen["nodes"]) shown[n["id"].get<std::string>()] = n;
  ASSERT_TRUE(shown.count("sources.orders")) << seen.dump();
  const Json& source = shown["sources.orders"];
  EXPECT_EQ(source["kind"], "source");
  EXPECT_EQ(source["state"], "ok");
  EXPECT_EQ(source["rows"], read);
  // "1,234 rows read" (en-US grouping).
  std::string grouped = std::to_string(read);
  for (int i = static_cast<int>(grouped.size()) - 3; i > 0; i -= 3)
    grouped.insert(static_cast<size_t>(i), ",");
  EXPECT_EQ(source["text"][1], grouped + " rows read") << source.dump();
  EXPECT_EQ(source["text"][2], "lag 0 msgs") << source.dump();
  const std::string tooltip = source["tooltip"];
  EXPECT_NE(tooltip.find("committed_seq: " + std::to_string(stream.last_seq)), std::string::npos) << tooltip;
  EXPECT_NE(tooltip.find("lag_messages: 0"), std::string::npos) << tooltip;
  for (const auto& [id, table] : pg_table) {
    ASSERT_TRUE(shown.count(id)) << id << " not drawn: " << seen.dump();
    const Json& n = shown[id];
    EXPECT_EQ(n["kind"], "postgres") << id;
    EXPECT_EQ(n["state"], "ok") << id;
    EXPECT_EQ(n["rows"], pg_rows[id]) << id;
    EXPECT_EQ(n["text"][2], "published v" + std::to_string(pg_version[id])) << n.dump();
    EXPECT_NE(n["tooltip"].get<std::string>().find("published_version: " + std::to_string(pg_version[id])),
              std::string::npos)
        << n.dump();
  }
  // The lag chart has the stream source and the warehouse.
  const std::set<std::string> legend = seen["lag_legend"].get<std::set<std::string>>();
  EXPECT_TRUE(legend.count("orders")) << seen["lag_legend"].dump();
  EXPECT_TRUE(legend.count("PostgreSQL")) << seen["lag_legend"].dump();
  ProcessResult stopped = server_->Terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.Describe();
}

}  // namespace
}  // namespace sluice::e2e
