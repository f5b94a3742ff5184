// `sluice query` and `sluice status`: read-only views of the lake.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "catalog/cold_files.h"
#include "catalog/dlq.h"
#include "catalog/ledger_reads.h"
#include "catalog/lifecycle_log.h"
#include "catalog/quarantine_log.h"
#include "catalog/runs.h"
#include "catalog/slo_history.h"
#include "catalog/snapshots.h"
#include "catalog/tables.h"
#include "catalog/test_results.h"
#include "catalog/user_query.h"
#include "cli/commands.h"
#include "cli/feed_status.h"
#include "cli/read_commands.h"
#include "cli/serve_client.h"
#include "cli/stream_status.h"
#include "duck/json_encoder.h"
#include "duck/result_stream.h"
#include "ingest/csv_reader.h"
#include "ops/pipeline_metrics.h"
#include "ops/slo.h"
#include "storage/time_travel.h"

namespace sluice::cli {

namespace {

constexpr const char* kTimeTravelDatabase = "as_of";

// `travel`, when given, receives the snapshots of `as_of` (non-empty), attached before the
// sandbox is locked (storage/time_travel.h).
Result<std::unique_ptr<Catalog>> OpenReadOnly(const std::string& project, const std::string& memory_limit,
                                              const std::string& as_of = "", TimeTravel* travel = nullptr) {
  ASSIGN_OR_RETURN(ProjectSpec spec, LoadProject(project));
  if (auto limit = MemoryLimitFlag(memory_limit)) spec.memory_limit_bytes = limit;
  CatalogOptions options;
  options.read_only = true;
  if (!as_of.empty()) {
    options.before_sandbox = [&](Catalog& catalog) -> Status {
      ASSIGN_OR_RETURN(*travel, ResolveTimeTravel(catalog.conn(), as_of));
      return AttachTimeTravel(catalog.conn(), catalog.spec(), *travel, kTimeTravelDatabase);
    };
  }
  return Catalog::Open(spec, options);
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Display width of a UTF-8 string, in code points.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void PrintTable(const duck::Rows& rows) {
  std::vector<size_t> w(rows.names.size());
  for (size_t c = 0; c < w.size(); ++c) w[c] = Width(rows.names[c]);
  for (const auto& r : rows.rows) {
    for (size_t c = 0; c < w.size(); ++c) w[c] = std::max(w[c], Width(r[c].value_or("NULL")));
  }
  auto line = [&](auto cell) {
    for (size_t c = 0; c < w.size(); ++c) {
      std::string v = cell(c);
      std::cout << (c ? " | " : "") << v << std::string(w[c] - Width(v), ' ');
    }
    std::cout << "\n";
  };
  line([&](size_t c) { return rows.names[c]; });
  for (size_t c = 0; c < w.size(); ++c) std::cout << (c ? "-+-" : "") << std::string(w[c], '-');
  std::cout << "\n";
  for (const auto& r : rows.rows) line([&](size_t c) { return r[c].value_or("NULL"); });
  std::cout << "(" << rows.rows.size() << (rows.rows.size() == 1 ? " row)" : " rows)") << std::endl;
}

// Writes the result of `sql` as one JSON array of row objects, typed by duck::JsonRowWriter
// (docs/PROJECT.md, "Query output"), a chunk at a time.
int PrintJson(duck::Connection& conn, const std::string& sql) {
  auto result = duck::ResultStream::Open(conn, sql);
  if (!result.ok()) return Fail("query failed: " + result.status().message());
  auto writer = duck::JsonRowWriter::Create((*result)->names(), (*result)->types(),
                                            duck::JsonRowWriter::Layout::kArray);
  if (!writer.ok()) return Fail("query failed: " + writer.status().message());
  std::string out;
  (*writer)->Begin(&out);
  std::unique_ptr<duck::Chunk> chunk;
  while ((*result)->Next(&chunk)) {
    (*writer)->WriteChunk(*chunk, &out);
    std::cout << out;
    out.clear();
  }
  (*writer)->End(&out);
  std::cout << out << std::flush;
  return 0;
}

// Quality gates for `sluice status`: per test, its result in the latest run that checked it
// (the worst of that run: fail > bypassed > warn > pass), and the batches still quarantined.
Result<nlohmann::ordered_json> GateStatus(Catalog& catalog) {
  nlohmann::ordered_json counts = {{"pass", 0}, {"warn", 0}, {"fail", 0}, {"bypassed", 0}};
  nlohmann::ordered_json out = {{"tests", {{"counts", counts}, {"results", nlohmann::ordered_json::array()}}},
                                {"quarantined", nlohmann::ordered_json::array()}};
  auto opt = [](const std::optional<std::string>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
  };
  ASSIGN_OR_RETURN(std::vector<LatestTestResult> results, LatestTestResults(catalog));
  for (const auto& t : results) {
    out["tests"]["counts"][t.status] = out["tests"]["counts"][t.status].get<int64_t>() + 1;
    out["tests"]["results"].push_back({{"table", t.layer + "." + t.table},
                                       {"test", t.test},
                                       {"severity", t.severity},
                                       {"status", t.status},
                                       {"failing_rows", t.failing_rows},
                                       {"sample", opt(t.sample)},
                                       {"batches", opt(t.batch_ids)},
                                       {"checked_at", t.checked_at}});
  }
  ASSIGN_OR_RETURN(std::vector<BatchListing> quarantined, QuarantinedBatches(catalog));
  for (const auto& b : quarantined) {
    const QuarantineRecord& q = *b.quarantine;
    out["quarantined"].push_back({{"source", b.source},
                                  {"batch_id", b.batch_id},
                                  {"table", "curated." + q.table},
                                  {"failed_tests", q.tests},
                                  {"sample", opt(q.sample)},
                                  {"quarantined_at", q.quarantined_at}});
  }
  return out;
}

void PrintGateStatus(std::ostream& os, const nlohmann::ordered_json& tests,
                     const nlohmann::ordered_json& quarantined) {
  const auto& c = tests["counts"];
  if (tests["results"].empty()) return;
  os << "\ntests (latest run of each): " << c["pass"] << " pass, " << c["warn"] << " warn, " << c["fail"]
     << " fail" << (c["bypassed"].get<int64_t>() ? ", " + c["bypassed"].dump() + " bypassed" : "") << "\n";
  for (const auto& r : tests["results"]) {
    if (r["status"] == "pass") continue;
    os << "  " << r["status"].get<std::string>() << "  " << r["table"].get<std::string>() << ": "
       << r["test"].get<std::string>() << ": " << r["failing_rows"] << " failing rows";
    if (!r["sample"].is_null()) os << " (e.g. " << r["sample"].get<std::string>() << ")";
    if (!r["batches"].is_null()) os << " [batches " << r["batches"].get<std::string>() << "]";
    os << "\n";
  }
  if (quarantined.empty()) return;
  os << "\nquarantined batches (`sluice batches release|drop ID`)\n";
  for (const auto& q : quarantined) {
    os << "  " << q["source"].get<std::string>() << "/" << q["batch_id"].get<std::string>() << ": "
       << q["table"].get<std::string>() << ": " << q["failed_tests"].get<std::string>();
    if (!q["sample"].is_null()) os << " (" << q["sample"].get<std::string>() << ")";
    os << ", since " << q["quarantined_at"].get<std::string>() << "\n";
  }
}

// `sluice query` answered by the `sluice serve` that holds the lake (cli/serve_client.h), printed
// as a local answer would be; nullopt when no server runs there.
std::optional<int> QueryThroughServe(const QueryArgs& args, std::string sql) {
  auto spec = LoadProject(args.project);
  if (!spec.ok()) return std::nullopt;
  std::optional<nlohmann::json> serve = RunningServe(*spec);
  if (!serve) return std::nullopt;
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
    sql.pop_back();
  }
  const bool json = args.format == "json";
  Result<std::string> body = AskServe(*serve, sql, json ? "application/x-ndjson" : "text/csv");
  if (!body.ok()) return Fail(body.status().message());
  std::cerr << "sluice query: answered by the running sluice serve (pid " << (*serve)["pid"] << ", "
            << serve->value("listen", "") << ")" << std::endl;
  if (json) {
    // NDJSON lines joined into the array `--format json` prints (JsonRowWriter's kArray layout).
    std::string out = "[";
    size_t pos = 0;
    bool first = true;
    while (pos < body->size()) {
      size_t nl = body->find('\n', pos);
      if (nl == std::string::npos) nl = body->size();
      out += (first ? "" : ",\n") + body->substr(pos, nl - pos);
      first = false;
      pos = nl + 1;
    }
    std::cout << out << "]\n" << std::flush;
    return 0;
  }
  if (args.format == "csv") {
    std::cout << *body << std::flush;
    return 0;
  }
  duck::Rows rows;
  CsvReader reader(*body, ',');
  CsvRecord record;
  while (reader.Next(&record)) {
    std::vector<std::optional<std::string>> row;
    for (size_t i = 0; i < record.size(); ++i) {
      if (record.field(i).empty() && !record.quoted(i)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(record.field(i)));
      }
    }
    if (rows.names.empty()) {
      for (auto& v : row) rows.names.push_back(v.value_or(""));
    } else {
      rows.rows.push_back(std::move(row));
    }
  }
  PrintTable(rows);
  return 0;
}

// How many lifecycle actions `sluice status` shows.
constexpr int64_t kStatusLifecycleEntries = 10;

// On stderr, so that the answer on stdout stays as it is: how many cold-tier files the staging
// views the query names read (docs/LIFECYCLE.md); nothing when none.
void ReportColdFiles(Catalog& catalog, const duck::ParsedSql& parsed) {
  std::set<std::string> sources;
  for (const auto& t : parsed.tables) {
    if (t.schema == "staging" || (t.catalog == "staging" && !t.schema.empty())) sources.insert(t.name);
  }
  int64_t files = 0;
  std::string names;
  for (const auto& source : sources) {
    auto cold = ColdFiles(catalog, source);
    if (!cold.ok() || cold->empty()) continue;
    files += static_cast<int64_t>(cold->size());
    names += (names.empty() ? "" : ", ") + ("staging." + source);
  }
  if (files > 0) std::cerr << "sluice query: read " << files << " cold files (" << names << ")" << std::endl;
}

}  // namespace

int Query(const QueryArgs& args) {
  TimeTravel travel;
  auto catalog = OpenReadOnly(args.project, args.memory_limit, args.as_of, &travel);
  if (!catalog.ok() && catalog.status().code() == StatusCode::kUnavailable && args.as_of.empty()) {
    // `sluice serve` holds the lake: it answers instead.
    if (std::optional<int> answered = QueryThroughServe(args, args.sql)) return *answered;
  }
  if (!catalog.ok()) return Fail(catalog.status().message());
  std::string sql = args.sql;
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
    sql.pop_back();
  }
  // One query over the lake's tables, or nothing runs (catalog/user_query.h).
  Result<duck::ParsedSql> admitted = CheckUserQuery((*catalog)->conn(), sql);
  if (!admitted.ok()) return Fail("query refused: " + admitted.status().message());
  if (!args.as_of.empty()) {
    std::vector<std::string> reads;
    for (const duck::SqlTableRef& t : admitted->tables) {
      if (t.catalog.empty() && !t.schema.empty()) reads.push_back(t.schema + "." + t.name);
    }
    if (Status st = CheckTimeTravelReads(travel, reads); !st.ok())
      return Fail("query refused: " + st.message());
  }
  if (args.format == "json") {
    const int rc = PrintJson((*catalog)->conn(), sql);
    if (rc == 0) ReportColdFiles(**catalog, *admitted);
    return rc;
  }
  // Table and CSV output print DuckDB's own text of every value, whatever its type (LIST,
  // STRUCT, ...): a query is wrapped in a cast to VARCHAR; an EXPLAIN's columns are text already.
  const bool is_query = admitted->kind == duck::SqlStatementKind::kSelect;
  auto rows = (*catalog)->conn().Query(is_query ? "SELECT COLUMNS(*)::VARCHAR FROM (" + sql + "\n)" : sql);
  if (!rows.ok()) return Fail("query failed: " + rows.status().message());
  if (args.format == "csv") {
    for (size_t c = 0; c < rows->names.size(); ++c) std::cout << (c ? "," : "") << CsvField(rows->names[c]);
    std::cout << "\n";
    for (const auto& r : rows->rows) {
      for (size_t c = 0; c < r.size(); ++c) std::cout << (c ? "," : "") << (r[c] ? CsvField(*r[c]) : "");
      std::cout << "\n";
    }
    std::cout.flush();
  } else {
    PrintTable(*rows);
  }
  ReportColdFiles(**catalog, *admitted);
  return 0;
}

// One line per SLO: "  breach   error_rate:orders  0.5 ratio (objective 0.01), budget -4900%,
// burn 1h 50, since ..." (docs/SLO.md).
void PrintSloStatus(std::ostream& out, const nlohmann::ordered_json& slos) {
  out << "\nslo\n";
  for (const auto& s : slos) {
    if (!s.contains("value")) {
      out << "  " << s.value("state", "ok") << "  " << s.value("name", "") << "\n";
      continue;
    }
    char line[512];
    std::snprintf(line, sizeof line,
                  "  %-8s %s: %.4g %s (objective %.4g), budget left %.1f%%, burn 5m %.3g 1h %.3g 6h %.3g 3d "
                  "%.3g, since %s\n",
                  s["state"].get<std::string>().c_str(), s["name"].get<std::string>().c_str(),
                  s["value"].get<double>(), s["unit"].get<std::string>().c_str(),
                  s["objective"].get<double>(), s["budget_remaining"].get<double>() * 100,
                  s["burn_rates"]["5m"].get<double>(), s["burn_rates"]["1h"].get<double>(),
                  s["burn_rates"]["6h"].get<double>(), s["burn_rates"]["3d"].get<double>(),
                  s["since"].get<std::string>().c_str());
    out << line;
  }
}

int StatusOf(const StatusArgs& args, ReadContext& ctx) {
  auto opened = ctx.open();
  if (!opened.ok()) return ctx.Fail(opened.status().message());
  Catalog& catalog = **opened;
  nlohmann::ordered_json out = {{"project", catalog.spec().name}, {"lake", catalog.lake()}};
  nlohmann::ordered_json sources = nlohmann::ordered_json::object();
  for (const auto& s : catalog.spec().sources) {
    auto totals = TotalsOf(catalog, s.name);
    if (!totals.ok()) return ctx.Fail(totals.status().message());
    auto dlq = CountDeadLetters(catalog, s.name);
    if (!dlq.ok()) return ctx.Fail(dlq.status().message());
    sources[s.name] = {
        {"batches", totals->batches},
        {"rows_read", totals->rows_read},
        {"rows_staged", totals->rows_staged},
        {"rows_dead", totals->rows_dead},
        {"last_batch_at", totals->last_batch_at.empty() ? nlohmann::ordered_json(nullptr)
                                                        : nlohmann::ordered_json(totals->last_batch_at)},
        {"dlq_rows", dlq->rows},
        {"dlq_open", dlq->open}};
  }
  nlohmann::ordered_json tables = nlohmann::ordered_json::object();
  auto t = ListTables(catalog);
  if (!t.ok()) return ctx.Fail(t.status().message());
  for (const TableState& table : *t) {
    tables[table.name] = {
        {"layer", table.layer},
        {"rows", table.rows},
        {"version", table.version},
        {"published_version", table.published_version},
        {"updated_at",
         table.updated_at ? nlohmann::ordered_json(*table.updated_at) : nlohmann::ordered_json(nullptr)},
        {"freshness_seconds", table.updated_at ? nlohmann::ordered_json(table.freshness_seconds)
                                               : nlohmann::ordered_json(nullptr)}};
  }
  // The time-travel range of each table: its live snapshots (catalog/snapshots.h).
  auto snapshots = AllSnapshots(catalog);
  if (!snapshots.ok()) return ctx.Fail(snapshots.status().message());
  for (const SnapshotRecord& s : *snapshots) {
    if (!tables.contains(s.table)) continue;
    auto& tt = tables[s.table]["time_travel"];
    if (tt.is_null()) tt = {{"snapshots", 0}, {"expired", 0}, {"oldest", nullptr}, {"newest", nullptr}};
    if (!s.live()) {
      tt["expired"] = tt["expired"].get<int64_t>() + 1;
      continue;
    }
    nlohmann::ordered_json point = {{"snapshot", s.snapshot},
                                    {"version", s.version},
                                    {"committed_at", FormatTimestampMicros(s.committed_at_us)}};
    tt["snapshots"] = tt["snapshots"].get<int64_t>() + 1;
    if (tt["oldest"].is_null()) tt["oldest"] = point;
    tt["newest"] = point;
  }
  auto run = LastRun(catalog);
  if (!run.ok()) return ctx.Fail(run.status().message());
  out["sources"] = sources;
  out["tables"] = tables;
  auto gates = GateStatus(catalog);
  if (!gates.ok()) return ctx.Fail(gates.status().message());
  out["tests"] = (*gates)["tests"];
  auto streams = StreamStatus(catalog);
  if (!streams.ok()) return ctx.Fail(streams.status().message());
  if (!streams->empty()) out["streams"] = *streams;
  if (nlohmann::json feeds = FeedStatus(catalog); !feeds.empty()) {
    out["feeds"] = nlohmann::ordered_json::parse(feeds.dump());
  }
  out["quarantined"] = (*gates)["quarantined"];
  // The pipeline metrics (docs/METRICS.md), as /metrics and --metrics-file have them.
  PipelineMetrics metrics;
  const int64_t now_us = catalog.env()->NowMicros();
  if (Status st = metrics.Collect(catalog, now_us); !st.ok()) return ctx.Fail(st.message());
  out["metrics"] = nlohmann::ordered_json::parse(metrics.Json(now_us).dump());
  // The SLOs as last evaluated (by serve or at the end of a run), docs/SLO.md.
  auto slos = LoadSloStates(catalog);
  if (!slos.ok()) return ctx.Fail(slos.status().message());
  if (!slos->empty()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    std::set<std::string> defined;  // an SLO since switched off in sluice.yaml is not shown
    for (const SloDefinition& d : SloDefinitions(catalog.spec())) defined.insert(d.name);
    for (const SloStateRow& row : *slos) {
      if (defined.count(row.slo) == 0) continue;
      nlohmann::ordered_json j =
          nlohmann::ordered_json::parse(row.evaluation, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) j = {{"name", row.slo}, {"state", row.state}};
      list.push_back(j);
    }
    if (!list.empty()) out["slo"] = list;
  }
  // The latest data lifecycle actions (docs/LIFECYCLE.md): moves to the cold tier, deletes, expiries.
  auto lifecycle = RecentLifecycle(catalog, kStatusLifecycleEntries);
  if (!lifecycle.ok()) return ctx.Fail(lifecycle.status().message());
  if (!lifecycle->empty()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const LifecycleEntry& e : *lifecycle) {
      list.push_back({{"at", FormatTimestampMicros(e.at_us)},
                      {"action", LifecycleActionName(e.action)},
                      {"target", e.target},
                      {"files", e.files},
                      {"bytes", e.bytes},
                      {"rows", e.rows},
                      {"detail", e.detail}});
    }
    out["lifecycle"] = list;
  }
  out["last_run"] = !*run ? nlohmann::ordered_json(nullptr)
                          : nlohmann::ordered_json{{"started_at", (*run)->started_at},
                                                   {"finished_at", (*run)->finished_at},
                                                   {"status", (*run)->status}};
  // Run by the `sluice serve` that holds the lake (cli/read_commands.h): what it reports of
  // itself too (lag, queues, the warehouse), as in <lake>/serve.json less its secret.
  std::optional<nlohmann::json> serve = RunningServe(ctx.spec);
  if (serve) serve->erase("local_secret");
  if (serve && args.json) out["serve"] = nlohmann::ordered_json::parse(serve->dump());
  if (args.json) {
    ctx.out << out.dump() << std::endl;
    return 0;
  }
  ctx.out << "project " << catalog.spec().name << "  lake " << catalog.lake() << "\n";
  ctx.out << "last run: "
          << (!*run ? std::string("never") : (*run)->finished_at + " (" + (*run)->status + ")")
          << "\n\nsources\n";
  for (auto& [name, s] : sources.items()) {
    if (s["last_batch_at"].is_null()) {
      ctx.out << "  " << name << ": no batches yet\n";
      continue;
    }
    ctx.out << "  " << name << ": " << s["batches"] << " batches, " << s["rows_read"]
            << " rows read = " << s["rows_staged"] << " staged + " << s["rows_dead"] << " dead-lettered; DLQ "
            << s["dlq_open"] << " open of " << s["dlq_rows"] << " rows; last batch "
            << s["last_batch_at"].get<std::string>() << "\n";
  }
  ctx.out << "\ntables\n";
  for (auto& [name, s] : tables.items()) {
    ctx.out << "  " << s["layer"].get<std::string>() << "." << name << ": ";
    if (s["updated_at"].is_null()) {
      ctx.out << "not built yet\n";
      continue;
    }
    ctx.out << s["rows"] << " rows, version " << s["version"] << " (published " << s["published_version"]
            << "), updated " << s["updated_at"].get<std::string>() << ", " << s["freshness_seconds"]
            << " s ago\n";
    if (s.contains("time_travel") && !s["time_travel"]["oldest"].is_null()) {
      const auto& tt = s["time_travel"];
      ctx.out << "    time travel: snapshots " << tt["oldest"]["snapshot"] << " ("
              << tt["oldest"]["committed_at"].get<std::string>() << ") to " << tt["newest"]["snapshot"]
              << " (" << tt["newest"]["committed_at"].get<std::string>() << "), " << tt["snapshots"]
              << " kept, " << tt["expired"] << " expired\n";
    }
  }
  if (out.contains("streams")) PrintStreamStatus(ctx.out, out["streams"]);
  if (out.contains("feeds")) PrintFeedStatus(ctx.out, nlohmann::json::parse(out["feeds"].dump()));
  PrintGateStatus(ctx.out, out["tests"], out["quarantined"]);
  if (out.contains("slo")) PrintSloStatus(ctx.out, out["slo"]);
  if (out.contains("lifecycle")) {
    ctx.out << "\nlifecycle (latest first)\n";
    for (const auto& e : out["lifecycle"]) {
      ctx.out << "  " << e["at"].get<std::string>() << "  " << e["action"].get<std::string>() << " "
              << e["target"].get<std::string>() << ": " << e["files"] << " files, " << e["bytes"]
              << " bytes, " << e["rows"] << " rows" << (e["detail"].get<std::string>().empty() ? "" : "; ")
              << e["detail"].get<std::string>() << "\n";
    }
  }
  if (serve) PrintServeStatus(ctx.out, *serve);
  ctx.out.flush();
  return 0;
}

int ShowStatus(const StatusArgs& args) {
  std::vector<std::string> argv = {"status"};
  if (args.json) argv.push_back("--json");
  // A server that cannot be asked: what it last wrote to lake/serve.json.
  auto unanswered = [&](const ProjectSpec& spec, nlohmann::json serve, const Status& why) {
    serve.erase("local_secret");
    std::cerr << "warning: " << why.message() << "; showing what it reports in lake/serve.json" << std::endl;
    if (args.json) {
      std::cout
          << nlohmann::ordered_json{{"project", spec.name}, {"lake", spec.lake}, {"serve", serve}}.dump()
          << std::endl;
      return 0;
    }
    std::cout
        << "project " << spec.name << "  lake " << spec.lake
        << "\n(the lake is held by sluice serve; tables and batches are shown once it answers or stops)\n";
    PrintServeStatus(std::cout, serve);
    if (serve.contains("feeds")) PrintFeedStatus(std::cout, serve["feeds"]);
    std::cout.flush();
    return 0;
  };
  return RunRead(
      args.project, args.memory_limit, argv, /*needs_lake=*/true,
      [&](ReadContext& ctx) { return StatusOf(args, ctx); }, unanswered);
}

}  // namespace sluice::cli
