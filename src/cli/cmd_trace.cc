// `sluice trace <correlation-id> [--json]`: everything the lake knows about one batch, stage by
// stage with timings (docs/OBSERVABILITY.md). A read command: it runs on the lake opened
// read-only, or inside the `sluice serve` holding it (cli/read_commands.h).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/trace_reads.h"
#include "cli/commands.h"
#include "cli/read_commands.h"
#include "common/env.h"
#include "ops/lineage_log.h"
#include "warehouse/publish_records.h"

namespace sluice::cli {

namespace {

using OJson = nlohmann::ordered_json;

// "2026-12-04T10:15:00.123Z" (milliseconds) for micros; "" for 0.
std::string Time(int64_t us) {
  if (us <= 0) return "";
  std::string t = FormatTimestampMicros(us);  // ...T10:15:00.123456Z
  return t.substr(0, 23) + "Z";
}

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  return buf;
}

// Micros of an OpenLineage eventTime as sluice writes it ("...T10:15:00.123456Z"); 0 otherwise.
int64_t ParseEventTime(const std::string& text) {
  int y, mo, d, h, mi, s, us = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &us) < 6) return 0;
  // days from civil (Howard Hinnant's algorithm)
  y -= mo <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = static_cast<unsigned>((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  return ((days * 24 + h) * 60 + mi) * int64_t{60000000} + int64_t{s} * 1000000 + us;
}

// Whether a run event is about `ids` (a batch's or a request's correlation id).
bool Mentions(const nlohmann::json& event, const std::set<std::string>& ids) {
  const auto& facets = event["run"].value("facets", nlohmann::json::object());
  if (!facets.contains("sluice_batches")) return false;
  for (const auto& b : facets["sluice_batches"].value("batches", nlohmann::json::array())) {
    if (ids.count(b.value("correlationId", ""))) return true;
    for (const auto& r : b.value("requestCorrelationIds", nlohmann::json::array())) {
      if (ids.count(r.get<std::string>())) return true;
    }
  }
  return false;
}

// The lineage runs (lake/lineage) about `ids`: every event of each run one of whose events
// names them (a START may not list the batches yet), one entry per run id, events in order.
OJson LineageRuns(const ProjectSpec& spec, const std::set<std::string>& ids, std::string* error) {
  OJson runs = OJson::array();
  Result<std::vector<std::string>> lines = ReadLineageLines(Env::Default(), spec.lake + "/lineage");
  if (!lines.ok()) {
    *error = lines.status().message();
    return runs;
  }
  std::vector<nlohmann::json> events;
  std::set<std::string> matched;
  for (const auto& line : *lines) {
    nlohmann::json e = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!e.is_object() || !e.contains("run") || !e["run"].is_object()) continue;
    if (Mentions(e, ids)) matched.insert(e["run"].value("runId", ""));
    events.push_back(std::move(e));
  }
  std::map<std::string, size_t> index;  // run id -> position in runs
  for (const auto& e : events) {
    const std::string run_id = e["run"].value("runId", "");
    if (!matched.count(run_id)) continue;
    auto [it, fresh] = index.emplace(run_id, runs.size());
    if (fresh) {
      runs.push_back(OJson{{"run_id", run_id},
                           {"job", e["job"].value("name", "")},
                           {"events", OJson::array()},
                           {"duration_ms", nullptr}});
    }
    OJson& run = runs[it->second];
    run["events"].push_back(OJson{{"type", e.value("eventType", "")}, {"time", e.value("eventTime", "")}});
    const auto& list = run["events"];
    if (list.size() >= 2) {
      const int64_t first = ParseEventTime(list.front()["time"].get<std::string>());
      const int64_t last = ParseEventTime(list.back()["time"].get<std::string>());
      if (first > 0 && last >= first) run["duration_ms"] = (last - first) / 1000;
    }
  }
  return runs;
}

// The stages of a recorded run's summary JSON, with their seconds.
OJson RunStages(const RunRecord& run) {
  OJson stages = OJson::object();
  nlohmann::json summary = nlohmann::json::parse(run.summary, nullptr, false);
  for (const char* stage : {"ingest", "curate", "marts", "publish"}) {
    if (summary.is_object() && summary.contains(stage) && summary[stage].contains("seconds")) {
      OJson s{{"seconds", summary[stage]["seconds"]}};
      if (summary[stage].contains("tables")) s["tables"] = summary[stage]["tables"];
      stages[stage] = s;
    }
  }
  return stages;
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

void PrintText(const OJson& doc, std::ostream& out) {
  out << "trace " << doc["correlation_id"].get<std::string>() << "\n";
  for (const auto& b : doc["batches"]) {
    out << "batch " << b["batch_id"].get<std::string>() << " of source " << b["source"].get<std::string>()
        << " (" << b["status"].get<std::string>() << ", correlation id "
        << b["correlation_id"].get<std::string>() << ")\n";
    out << "  accepted  " << b["accepted_at"].get<std::string>() << "  " << b["file"].get<std::string>()
        << "\n";
    out << "  staged    " << b["committed_at"].get<std::string>() << "  " << b["rows_read"].get<int64_t>()
        << " rows read = " << b["rows_staged"].get<int64_t>() << " staged + " << b["rows_dead"].get<int64_t>()
        << " dead-lettered  [decode " << Ms(b["decode_ms"].get<double>()) << ", stage "
        << Ms(b["stage_ms"].get<double>()) << ", accepted to committed " << Ms(b["commit_ms"].get<double>())
        << "]\n";
    std::vector<std::string> dead;
    for (const auto& [reason, n] : b["dead_letters"].items()) dead.push_back(reason + " " + n.dump());
    out << "  dlq       " << (dead.empty() ? "none" : Join(dead, ", ")) << "\n";
    if (b["merges"].empty()) out << "  curated   not merged yet\n";
    for (const auto& m : b["merges"]) {
      out << "  curated   " << m["applied_at"].get<std::string>() << "  curated."
          << m["table"].get<std::string>() << " merged it  [committed to merged "
          << Ms(m["wait_ms"].get<double>()) << "]\n";
      const OJson& run = m["run"];
      if (run.is_null()) continue;
      const OJson& stages = run["stages"];
      auto secs = [&](const char* stage) {
        return stages.contains(stage) ? Ms(stages[stage]["seconds"].get<double>() * 1000) : std::string("-");
      };
      std::vector<std::string> marts;
      if (stages.contains("marts") && stages["marts"].contains("tables")) {
        for (const auto& [name, t] : stages["marts"]["tables"].items()) marts.push_back("marts." + name);
      }
      out << "  run       " << run["started_at"].get<std::string>() << " .. "
          << run["finished_at"].get<std::string>() << "  " << run["status"].get<std::string>() << ": curate "
          << secs("curate") << ", marts " << secs("marts")
          << (marts.empty() ? "" : " (" + Join(marts, ", ") + ")") << ", publish " << secs("publish");
      if (stages.contains("publish")) out << " (" << stages["publish"]["tables"].dump() << " Parquet tables)";
      out << "\n";
    }
    if (b.contains("postgres")) {
      const OJson& pg = b["postgres"];
      if (pg.is_null()) out << "  postgres  unknown: " << doc["postgres_error"].get<std::string>() << "\n";
      if (pg.is_array() && pg.empty()) out << "  postgres  not published yet\n";
      for (const auto& p : pg.is_array() ? pg : OJson::array()) {
        out << "  postgres  " << p["published_at"].get<std::string>() << "  "
            << p["pg_table"].get<std::string>() << " version " << p["version"].get<int64_t>() << " (publish #"
            << p["publish_seq"].get<int64_t>() << ")";
        if (!p["visible_s"].is_null()) {
          out << "  [lake commit to visible " << Ms(p["visible_s"].get<double>() * 1000) << "]";
        }
        out << "\n";
      }
    }
  }
  for (const auto& r : doc["lineage"]) {
    std::vector<std::string> events;
    for (const auto& e : r["events"])
      events.push_back(e["type"].get<std::string>() + " " + e["time"].get<std::string>());
    out << "  lineage   " << r["job"].get<std::string>() << " " << r["run_id"].get<std::string>() << ": "
        << Join(events, ", ");
    if (!r["duration_ms"].is_null()) out << "  [" << Ms(r["duration_ms"].get<double>()) << "]";
    out << "\n";
  }
  if (doc["lineage"].empty()) out << "  lineage   no run events (lake/lineage)\n";
}

}  // namespace

int TraceOf(const TraceArgs& args, ReadContext& ctx) {
  auto catalog = ctx.open();
  if (!catalog.ok()) return ctx.Fail(catalog.status().message());
  Catalog& cat = **catalog;
  auto batches = BatchesOfCorrelationId(cat, args.correlation_id);
  if (!batches.ok()) return ctx.Fail(batches.status().message());
  if (batches->empty()) {
    return ctx.Fail("trace: no batch, request or row in " + ctx.spec.lake + " has correlation id '" +
                    args.correlation_id + "' (see `sluice batches list`)");
  }
  OJson doc{{"correlation_id", args.correlation_id}, {"batches", OJson::array()}};
  std::set<std::string> ids = {args.correlation_id};
  for (const BatchRecord& b : *batches) {
    ids.insert(b.correlation_id);
    // A request's id (not the batch's): its own DLQ rows are the ones shown.
    const std::string only = b.correlation_id == args.correlation_id ? "" : args.correlation_id;
    auto dead = DeadLettersOfBatch(cat, b.source, b.batch_id, only);
    if (!dead.ok()) return ctx.Fail(dead.status().message());
    OJson dead_json = OJson::object();
    for (const auto& [reason, n] : *dead) dead_json[reason] = n;
    auto merges = MergesOfBatch(cat, b.source, b.batch_id);
    if (!merges.ok()) return ctx.Fail(merges.status().message());
    OJson merges_json = OJson::array();
    for (const AppliedMerge& m : *merges) {
      auto run = RunAt(cat, m.applied_us);
      if (!run.ok()) return ctx.Fail(run.status().message());
      OJson run_json = nullptr;
      if (*run) {
        run_json = OJson{{"started_at", Time((*run)->started_us)},
                         {"finished_at", Time((*run)->finished_us)},
                         {"status", (*run)->status},
                         {"seconds", static_cast<double>((*run)->finished_us - (*run)->started_us) / 1e6},
                         {"stages", RunStages(**run)}};
      }
      merges_json.push_back(OJson{{"table", m.table},
                                  {"applied_at", Time(m.applied_us)},
                                  {"wait_ms", std::max<int64_t>(0, (m.applied_us - b.committed_at) / 1000)},
                                  {"run", run_json}});
    }
    doc["batches"].push_back(
        OJson{{"source", b.source},
              {"batch_id", b.batch_id},
              {"correlation_id", b.correlation_id},
              {"status", b.status},
              {"file", b.file},
              {"accepted_at", Time(b.started_at)},
              {"committed_at", Time(b.committed_at)},
              {"commit_ms", std::max<int64_t>(0, (b.committed_at - b.started_at) / 1000)},
              {"rows_read", b.rows_read},
              {"rows_staged", b.rows_staged},
              {"rows_dead", b.rows_dead},
              {"decode_ms", b.decode_ms},
              {"stage_ms", b.stage_ms},
              {"dead_letters", dead_json},
              {"merges", merges_json}});
  }
  // The PostgreSQL publishes of the batches, from PostgreSQL itself (warehouse/publish_records.h).
  if (ctx.spec.serve.postgres) {
    std::vector<BatchKey> keys;
    for (const BatchRecord& b : *batches) keys.emplace_back(b.source, b.batch_id);
    auto publishes = ReadBatchPublishes(ctx.spec, keys);
    if (!publishes.ok()) {
      doc["postgres_error"] = publishes.status().message();
      ctx.err << "warning: PostgreSQL publishes not read: " << publishes.status().message() << "\n";
    }
    for (auto& b : doc["batches"]) {
      if (!publishes.ok()) {
        b["postgres"] = nullptr;
        continue;
      }
      OJson list = OJson::array();
      auto it = publishes->find({b["source"].get<std::string>(), b["batch_id"].get<std::string>()});
      for (const BatchPublish& p : it == publishes->end() ? std::vector<BatchPublish>() : it->second) {
        list.push_back(OJson{{"table", p.table},
                             {"pg_table", p.pg_table},
                             {"version", p.version},
                             {"publish_seq", p.publish_seq},
                             {"published_at", p.published_at},
                             {"visible_s", p.visible_seconds < 0 ? OJson() : OJson(p.visible_seconds)}});
      }
      b["postgres"] = list;
    }
  }
  std::string lineage_error;
  doc["lineage"] = LineageRuns(ctx.spec, ids, &lineage_error);
  if (!lineage_error.empty()) ctx.err << "warning: lineage events not read: " << lineage_error << "\n";
  if (args.json) {
    ctx.out << doc.dump() << std::endl;
  } else {
    PrintText(doc, ctx.out);
    ctx.out.flush();
  }
  return 0;
}

int Trace(const TraceArgs& args) {
  std::vector<std::string> argv = {"trace", args.correlation_id};
  if (args.json) argv.push_back("--json");
  return RunRead(args.project, "", argv, /*needs_lake=*/true,
                 [&](ReadContext& ctx) { return TraceOf(args, ctx); });
}

}  // namespace sluice::cli
