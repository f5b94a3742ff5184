// OpenLineage run events of `sluice run` and `sluice serve` (docs/LINEAGE.md, "Run events"),
// the correlation id through JSON logs, and `sluice trace` (docs/OBSERVABILITY.md), driven
// through the real binary. Every event written to lake/lineage is validated against the
// OpenLineage JSON schemas of ../shared/specs/openlineage by Ajv (validate_json_schema.js): the
// event against OpenLineage.json and each of its facets against the facet's own schema. The
// expected values come from elsewhere: the run's own --json summary, `sluice batches list`,
// `sluice lineage`, and the requests the test sent.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/failpoint.h"
#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Every event of lake/lineage/*.jsonl, oldest file first.
std::vector<Json> ReadEvents(const Project& p) {
  std::vector<Json> out;
  const std::string dir = p.Lake() + "/lineage";
  if (!fs::exists(dir)) return out;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    EXPECT_TRUE(std::regex_match(Basename(f), std::regex(R"(\d{4}-\d{2}-\d{2}\.jsonl)"))) << f;
    std::string text = ReadFileOrDie(f);
    EXPECT_TRUE(text.empty() || text.back() == '\n') << f << " ends in a torn line";
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      Json e = Json::parse(text.substr(start, end - start), nullptr, false);
      EXPECT_FALSE(e.is_discarded()) << f << ": not JSON: " << text.substr(start, end - start);
      out.push_back(e);
      start = end + 1;
    }
  }
  return out;
}

std::vector<std::string> Names(const Json& datasets) {
  std::vector<std::string> out;
  for (const auto& d : datasets) out.push_back(d["name"]);
  return out;
}

const Json& DatasetOf(const Json& event, const std::string& list, const std::string& name) {
  static const Json kNull;
  for (const auto& d : event[list]) {
    if (d["name"] == name) return d;
  }
  ADD_FAILURE() << name << " is not in " << list << " of " << event.dump();
  return kNull;
}

class LineageEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(std::string(SLUICE_DOCS_ROOT) + "/third_party/node/node_modules/ajv"))
        << "Ajv is not installed: run scripts/setup.sh";
    ASSERT_TRUE(fs::exists(std::string(SLUICE_OPENLINEAGE_SPECS) + "/OpenLineage.json"))
        << "no OpenLineage schemas at " << SLUICE_OPENLINEAGE_SPECS;
  }

  // Runs Ajv on `docs` (one document each) against `schema` of the OpenLineage specs.
  ProcessResult Validate(const std::vector<Json>& docs, const std::string& schema) const {
    const std::string file = tmp_.path() + "/docs.jsonl";
    std::string text;
    for (const auto& d : docs) text += d.dump() + "\n";
    WriteFileOrDie(file, text);
    ProcessOptions options;
    options.env = {{"NODE_PATH", std::string(SLUICE_DOCS_ROOT) + "/third_party/node/node_modules"}};
    return RunProcess("/usr/bin/node",
                      {std::string(SLUICE_DOCS_ROOT) + "/test/e2e/validate_json_schema.js",
                       SLUICE_OPENLINEAGE_SPECS, schema, file},
                      options);
  }

  // Each event against OpenLineage.json, and every facet against its own schema.
  void ExpectValid(const std::vector<Json>& events) const {
    ASSERT_FALSE(events.empty());
    ProcessResult r = Validate(events, "OpenLineage.json");
    EXPECT_TRUE(r.ok()) << "OpenLineage.json: " << r.Describe();
    std::vector<Json> dataset_facets, run_facets;
    int schemas = 0, lineages = 0, assertions = 0, errors = 0;
    for (const auto& e : events) {
      for (const char* list : {"inputs", "outputs"}) {
        for (const auto& d : e[list]) {
          dataset_facets.push_back(d["facets"]);
          schemas += d["facets"].contains("schema");
          lineages += d["facets"].contains("columnLineage");
          assertions += d["facets"].contains("dataQualityAssertions");
        }
      }
      run_facets.push_back(e["run"]["facets"]);
      errors += e["run"]["facets"].contains("errorMessage");
    }
    // The facet schemas only check the facet of their name: count that each was there to check.
    const std::vector<std::pair<std::string, int>> facet_schemas = {
        {"SchemaDatasetFacet.json", schemas},
        {"ColumnLineageDatasetFacet.json", lineages},
        {"DataQualityAssertionsDatasetFacet.json", assertions}};
    for (const auto& [schema, n] : facet_schemas) {
      if (n == 0) continue;
      r = Validate(dataset_facets, schema);
      EXPECT_TRUE(r.ok()) << schema << ": " << r.Describe();
    }
    if (errors > 0) {
      r = Validate(run_facets, "ErrorMessageRunFacet.json");
      EXPECT_TRUE(r.ok()) << "ErrorMessageRunFacet.json: " << r.Describe();
    }
  }

  Json LineageJson(const Project& p, const std::string& target) const {
    ProcessResult r = p.Sluice("lineage", {target, "--json"});
    EXPECT_TRUE(r.ok()) << r.Describe();
    return Json::parse(r.out, nullptr, false);
  }

  TempDir tmp_{"sluice-lineage-events"};
};

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

TEST_F(LineageEventsTest, RunEmitsStartAndCompleteThatValidate) {
  OrderGeneratorOptions o;
  o.orders = 300;
  o.batches = 2;
  o.seed = 7;
  Project p = MakeExampleProject(tmp_.path() + "/shop", o);
  const Json summary = p.RunJson();
  ASSERT_FALSE(summary.is_null());
  std::vector<Json> events = ReadEvents(p);
  ASSERT_EQ(events.size(), 2u);
  const Json& start = events[0];
  const Json& done = events[1];
  EXPECT_EQ(start["eventType"], "START");
  EXPECT_EQ(done["eventType"], "COMPLETE");
  EXPECT_EQ(start["run"]["runId"], done["run"]["runId"]);
  EXPECT_TRUE(std::regex_match(Str(done["run"]["runId"]), kUuid)) << done["run"]["runId"];
  const Json lineage = LineageJson(p, "curated.orders");
  const std::string ns = lineage["namespace"];
  EXPECT_EQ(done["job"], (Json{{"namespace", ns}, {"name", "run"}}));
  EXPECT_EQ(done["producer"], "urn:sluice");
  EXPECT_LE(Str(start["eventTime"]), Str(done["eventTime"]));

  EXPECT_EQ(Names(done["inputs"]), std::vector<std::string>{"sources.orders"});
  EXPECT_EQ(Names(done["outputs"]),
            (std::vector<std::string>{"staging.orders", "curated.orders", "marts.daily_revenue",
                                      "published.curated.orders", "published.marts.daily_revenue"}));
  // Row counts: the run's own summary.
  EXPECT_EQ(DatasetOf(done, "inputs", "sources.orders")["inputFacets"]["dataQualityMetrics"]["rowCount"],
            summary["ingest"]["rows_read"]);
  EXPECT_EQ(DatasetOf(done, "outputs", "staging.orders")["outputFacets"]["outputStatistics"]["rowCount"],
            summary["ingest"]["rows_staged"]);
  EXPECT_EQ(DatasetOf(done, "outputs", "curated.orders")["outputFacets"]["outputStatistics"]["rowCount"],
            summary["curate"]["tables"]["orders"]["rows_merged"]);
  // Column lineage: what `sluice lineage` computes for the same datasets.
  EXPECT_EQ(DatasetOf(done, "outputs", "curated.orders")["facets"]["columnLineage"],
            lineage["columnLineage"]);
  EXPECT_EQ(DatasetOf(done, "outputs", "marts.daily_revenue")["facets"]["columnLineage"],
            LineageJson(p, "marts.daily_revenue")["columnLineage"]);
  // Schema: the lake's columns and types, as DuckDB describes the table.
  std::vector<std::vector<std::string>> fields;
  for (const auto& f : DatasetOf(done, "outputs", "curated.orders")["facets"]["schema"]["fields"]) {
    fields.push_back({Str(f["name"]), Str(f["type"])});
  }
  EXPECT_EQ(fields,
            p.Rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
                   "'curated' AND table_name = 'orders' ORDER BY ordinal_position"));
  // The table tests of curated.orders (sluice.yaml), each as one assertion.
  std::set<std::string> tests;
  for (const auto& a :
       DatasetOf(done, "outputs", "curated.orders")["facets"]["dataQualityAssertions"]["assertions"]) {
    tests.insert(Str(a["name"]) + " " + Str(a["assertion"]) + " " + Str(a["success"]) + " " +
                 Str(a["actual"]));
  }
  EXPECT_EQ(tests,
            (std::set<std::string>{"accepted_values(status) accepted_values true 0",
                                   "not_null(order_id) not_null true 0", "unique(order_id) unique true 0"}));
  // The batches, with the correlation ids of the ledger.
  ProcessResult listed = p.Sluice("batches", {"list", "--json"});
  ASSERT_TRUE(listed.ok()) << listed.Describe();
  std::set<std::string> want, got;
  for (const auto& b : Json::parse(listed.out)) {
    want.insert(Str(b["batch_id"]) + " " + Str(b["correlation_id"]) + " " + Str(b["rows_read"]));
  }
  for (const auto& b : done["run"]["facets"]["sluice_batches"]["batches"]) {
    got.insert(Str(b["batchId"]) + " " + Str(b["correlationId"]) + " " + Str(b["rowsRead"]));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(want.size(), 2u);
  ExpectValid(events);

  // A second run has nothing to do: one more START and COMPLETE, appended.
  ASSERT_FALSE(p.RunJson().is_null());
  events = ReadEvents(p);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2]["eventType"], "START");
  EXPECT_EQ(events[3]["eventType"], "COMPLETE");
  EXPECT_NE(events[2]["run"]["runId"], events[0]["run"]["runId"]);
  ExpectValid(events);

  // The validator does reject what the schema forbids: a run without runId, a bad eventType.
  Json bad = events[1];
  bad["run"].erase("runId");
  EXPECT_EQ(Validate({bad}, "OpenLineage.json").exit_code, 1);
  bad = events[1];
  bad["eventType"] = "DONE";
  EXPECT_EQ(Validate({bad}, "OpenLineage.json").exit_code, 1);
}

// A power cut (common/fault_env.h) keeps every event an Append returned from -- the first one
// of a new lineage directory too -- and never one it had not synced; the next run appends after
// them and every line stays whole and valid.
TEST_F(LineageEventsTest, PowerCutsKeepEveryWrittenEventAndNoHalfWrittenOne) {
  OrderGeneratorOptions o;
  o.orders = 200;
  o.batches = 2;
  Project p = MakeExampleProject(tmp_.path() + "/shop", o);
  auto cut_at = [&](const std::string& failpoint) {
    fs::remove(p.Path(kPowerCutMarker));
    ProcessResult r = p.Sluice("run", {}, {{"SLUICE_FAILPOINTS", failpoint + "=powercut"}});
    ASSERT_TRUE(r.signaled) << failpoint << " was not reached: " << r.Describe();
    ASSERT_TRUE(fs::exists(p.Path(kPowerCutMarker)))
        << "no power cut at " << failpoint << ": " << r.Describe();
  };
  // A lake without lake/lineage (as one made before sluice wrote lineage events), and a batch
  // left for the next run.
  const std::string held = tmp_.path() + "/batch-0002.jsonl";
  fs::rename(p.Landing() + "/batch-0002.jsonl", held);
  ASSERT_FALSE(p.RunJson().is_null());
  fs::remove_all(p.Lake() + "/lineage");
  fs::rename(held, p.Landing() + "/batch-0002.jsonl");

  // A run cut after its START event was written and before anything else synced the lake (its
  // staging files are written, not yet synced): the event survives, in the directory it created.
  cut_at("ingest.after_stage_write");
  std::vector<Json> events = ReadEvents(p);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["eventType"], "START");

  // Run again: its START and COMPLETE follow; the cut run stays a START without an end.
  ASSERT_FALSE(p.RunJson().is_null());
  events = ReadEvents(p);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["eventType"], "START");
  EXPECT_EQ(events[2]["eventType"], "COMPLETE");
  EXPECT_EQ(events[2]["run"]["runId"], events[1]["run"]["runId"]);
  EXPECT_NE(events[1]["run"]["runId"], events[0]["run"]["runId"]);

  // Cut between the write of an event and its fsync: the file is exactly what it was before.
  const std::string file =
      p.Lake() + "/lineage/" + Basename(fs::directory_iterator(p.Lake() + "/lineage")->path());
  const std::string before = ReadFileOrDie(file);
  cut_at("lineage.after_append");
  EXPECT_EQ(ReadFileOrDie(file), before);

  ASSERT_FALSE(p.RunJson().is_null());
  events = ReadEvents(p);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[3]["eventType"], "START");
  EXPECT_EQ(events[4]["eventType"], "COMPLETE");
  ExpectValid(events);
}

TEST_F(LineageEventsTest, FailedRunEmitsFailThatValidates) {
  OrderGeneratorOptions o;
  o.orders = 200;
  o.batches = 1;
  Project p = MakeExampleProject(tmp_.path() + "/shop", o);
  // A mart test that every positive revenue fails: the run stops at the marts step.
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string last = "partition_by: {day: day, tenant: tenant_id}\n";  // of daily_revenue
  ASSERT_EQ(yaml.substr(yaml.size() - last.size()), last);
  WriteFileOrDie(p.Path("sluice.yaml"), yaml + "    tests: [{range: {column: revenue, max: 0}}]\n");
  ProcessResult r = p.Sluice("run", {"--json"});
  ASSERT_EQ(r.exit_code, 1) << r.Describe();
  const Json summary = Json::parse(r.out);
  std::vector<Json> events = ReadEvents(p);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["eventType"], "START");
  const Json& fail = events[1];
  EXPECT_EQ(fail["eventType"], "FAIL");
  EXPECT_EQ(fail["run"]["runId"], events[0]["run"]["runId"]);
  EXPECT_EQ(fail["run"]["facets"]["errorMessage"]["message"], summary["error"]);
  EXPECT_EQ(fail["run"]["facets"]["errorMessage"]["programmingLanguage"], "C++");
  // The failing test, on the mart it checked, with its failing rows.
  const Json& mart = DatasetOf(fail, "outputs", "marts.daily_revenue");
  ASSERT_EQ(mart["facets"]["dataQualityAssertions"]["assertions"].size(), 1u);
  const Json& a = mart["facets"]["dataQualityAssertions"]["assertions"][0];
  EXPECT_EQ(a["assertion"], "range");
  EXPECT_EQ(a["column"], "revenue");
  EXPECT_EQ(a["success"], false);
  EXPECT_EQ(a["severity"], "error");
  EXPECT_EQ(a["actual"], Str(summary["test_failures"][0]["failing_rows"]));
  ExpectValid(events);
}

TEST_F(LineageEventsTest, EventsArePostedAndRetried) {
  PostReceiver receiver("/api/v1/lineage", /*fail_first=*/1);
  ASSERT_GT(receiver.port(), 0);
  OrderGeneratorOptions o;
  o.orders = 100;
  o.batches = 1;
  Project p = MakeExampleProject(tmp_.path() + "/shop", o);
  const std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  WriteFileOrDie(p.Path("sluice.yaml"),
                 yaml + "lineage: {endpoint: http://127.0.0.1:" + std::to_string(receiver.port()) +
                     "/api/v1/lineage, timeout: 2s, retries: 3}\n");
  ProcessResult r = p.Sluice("run");
  ASSERT_TRUE(r.ok()) << r.Describe();
  const std::vector<Json> events = ReadEvents(p);
  ASSERT_EQ(events.size(), 2u);
  // The START answered 500 came again; then the COMPLETE. What arrived is what the file holds.
  const std::vector<std::string> bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 3u) << r.err;
  EXPECT_EQ(Json::parse(bodies[0]), events[0]);
  EXPECT_EQ(Json::parse(bodies[1]), events[0]);
  EXPECT_EQ(Json::parse(bodies[2]), events[1]);
  ExpectValid({Json::parse(bodies[1]), Json::parse(bodies[2])});

  // An endpoint that does not answer never fails the run: the events are dropped after the
  // retries, one line each says so, and the file still has them.
  TempDir other;
  Project q = MakeExampleProject(other.path() + "/shop", o);
  int closed_port = 0;
  {
    PostReceiver gone("/api/v1/lineage", 0);
    closed_port = gone.port();
  }
  WriteFileOrDie(q.Path("sluice.yaml"),
                 ReadFileOrDie(q.Path("sluice.yaml")) + "lineage: {endpoint: http://127.0.0.1:" +
                     std::to_string(closed_port) + "/api/v1/lineage, timeout: 200ms, retries: 1}\n");
  r = q.Sluice("run");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(ReadEvents(q).size(), 2u);
  size_t dropped = 0;
  for (size_t pos = 0; (pos = r.err.find("lineage: an event was not delivered", pos)) != std::string::npos;
       ++pos) {
    ++dropped;
  }
  EXPECT_EQ(dropped, 2u) << r.err;

  // A bad endpoint is refused where it is written.
  WriteFileOrDie(q.Path("sluice.yaml"),
                 ReadFileOrDie(q.Path("sluice.yaml")) + "lineage: {endpoint: ftp://x}\n");
  r = q.Sluice("run");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
}

// Serve: a request's correlation id in the JSON log, the micro-batch's and the transform's run
// events, and `sluice trace` of it, through the running server and after it stopped.
TEST_F(LineageEventsTest, ServeBatchesAreTracedByCorrelationId) {
  OrderGeneratorOptions o;
  o.orders = 50;
  o.batches = 1;
  Project p = MakeExampleProject(tmp_.path() + "/shop", o);
  MakeStreamSource(p, "    type: http\n");
  auto server = ServeProcess::Start(p, {"--log-format", "json"});
  ASSERT_TRUE(server);
  const std::string id = "trace-me-1";
  const std::string body =
      "{\"order_id\":\"o1\",\"tenant_id\":\"t01\",\"status\":\"created\",\"amount\":12.5,"
      "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n"
      "{\"order_id\":\"o2\",\"tenant_id\":\"t01\",\"status\":\"nope\",\"amount\":1,"
      "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
  HttpClient client(server->port());
  HttpResponse res = client.Post("/v1/sources/orders/events", body, {{"X-Correlation-ID", id}});
  ASSERT_EQ(res.status, 200) << Describe(res);
  EXPECT_EQ(Header(res, "X-Correlation-ID"), id);
  const std::string batch_id = res.json()["batch_id"];

  // `sluice trace` is answered by the running server; poll until the transform merged it.
  Json trace;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  ProcessResult r;
  while (Clock::now() < deadline) {
    r = p.Sluice("trace", {id, "--json"});
    ASSERT_TRUE(r.ok()) << r.Describe();
    trace = Json::parse(r.out);
    bool transformed = false;
    for (const auto& run : trace["lineage"]) transformed = transformed || run["job"] == "transform";
    if (!trace["batches"][0]["merges"].empty() && transformed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(r.err.find("sluice trace: answered by the running sluice serve"), std::string::npos) << r.err;
  ASSERT_EQ(trace["batches"].size(), 1u) << trace.dump();
  const Json& b = trace["batches"][0];
  EXPECT_EQ(b["batch_id"], batch_id);
  EXPECT_EQ(b["source"], "orders");
  EXPECT_EQ(b["correlation_id"], id);  // a batch of one request takes its id
  EXPECT_EQ(b["rows_read"], 2);
  EXPECT_EQ(b["rows_staged"], 1);
  EXPECT_EQ(b["rows_dead"], 1);
  EXPECT_EQ(b["dead_letters"], (Json{{"not_in_enum", 1}})) << b.dump();
  ASSERT_EQ(b["merges"].size(), 1u) << b.dump();
  EXPECT_EQ(b["merges"][0]["table"], "orders");
  ASSERT_FALSE(b["merges"][0]["run"].is_null()) << b.dump();
  EXPECT_TRUE(b["merges"][0]["run"]["stages"].contains("curate")) << b.dump();
  std::vector<std::string> jobs;
  for (const auto& run : trace["lineage"]) {
    jobs.push_back(Str(run["job"]));
    EXPECT_EQ(run["events"][0]["type"], "START") << run.dump();
    EXPECT_EQ(run["events"][1]["type"], "COMPLETE") << run.dump();
    EXPECT_FALSE(run["duration_ms"].is_null()) << run.dump();
  }
  EXPECT_EQ(jobs, (std::vector<std::string>{"ingest.orders", "transform"}));

  ProcessResult stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.Describe();
  // Every log line is a JSON object; the batch's names its correlation id.
  bool found = false;
  std::string err = server->Stderr();
  size_t start = 0;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    const std::string line = err.substr(start, end - start);
    start = end + 1;
    Json j = Json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON log line: " << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    if (j.value("correlation_id", "") == id) {
      found = true;
      EXPECT_EQ(j["batch_id"], batch_id) << line;
      EXPECT_EQ(j["source"], "orders") << line;
    }
  }
  EXPECT_TRUE(found) << err;

  // The events of the micro-batch and of the transform, validated.
  std::vector<Json> events = ReadEvents(p);
  ExpectValid(events);
  const Json* ingest = nullptr;
  for (const auto& e : events) {
    if (e["job"]["name"] == "ingest.orders" && e["eventType"] == "COMPLETE") ingest = &e;
  }
  ASSERT_NE(ingest, nullptr);
  const Json& facet = (*ingest)["run"]["facets"]["sluice_batches"]["batches"][0];
  EXPECT_EQ(facet["correlationId"], id);
  EXPECT_EQ(facet["batchId"], batch_id);
  EXPECT_EQ(DatasetOf(*ingest, "outputs", "staging.orders")["outputFacets"]["outputStatistics"]["rowCount"],
            1);

  // After serve stopped, trace reads the lake itself; text names each stage.
  r = p.Sluice("trace", {id});
  ASSERT_TRUE(r.ok()) << r.Describe();
  for (const std::string& want : std::vector<std::string>{
           "trace " + id + "\n", "batch " + batch_id + " of source orders", "  accepted  ", "  staged    ",
           "2 rows read = 1 staged + 1 dead-lettered", "  dlq       not_in_enum 1\n",
           "curated.orders merged it", "  lineage   ingest.orders ", "  lineage   transform "}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  // An id nothing carries: one clear line.
  r = p.Sluice("trace", {"no-such-id"});
  ExpectCleanFailure(r, "unknown correlation id");
  EXPECT_NE(r.err.find("has correlation id 'no-such-id'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::e2e
