#include "engine/summary.h"

namespace sluice {

nlohmann::json IngestOutcomeJson(const IngestOutcome& o) {
  return {{"source", o.source},       {"file", o.file},
          {"batch_id", o.batch_id},   {"duplicate", o.duplicate},
          {"rows_read", o.rows_read}, {"rows_staged", o.rows_staged},
          {"rows_dead", o.rows_dead}, {"dead_by_reason", o.dead_by_reason},
          {"seconds", o.seconds}};
}

nlohmann::json RunSummaryJson(const RunSummary& s) {
  nlohmann::json ingest = {{"batches", 0},
                           {"duplicates", 0},
                           {"rows_read", 0},
                           {"rows_staged", 0},
                           {"rows_dead", 0},
                           {"seconds", s.ingest_seconds},
                           {"cpu_seconds", s.ingest_cpu_seconds},
                           {"bytes_written", s.ingest_bytes_written}};
  nlohmann::json batches = nlohmann::json::array();
  for (const auto& b : s.batches) {
    if (b.duplicate) {
      ingest["duplicates"] = ingest["duplicates"].get<int64_t>() + 1;
    } else {
      ingest["batches"] = ingest["batches"].get<int64_t>() + 1;
      ingest["rows_read"] = ingest["rows_read"].get<int64_t>() + b.rows_read;
      ingest["rows_staged"] = ingest["rows_staged"].get<int64_t>() + b.rows_staged;
      ingest["rows_dead"] = ingest["rows_dead"].get<int64_t>() + b.rows_dead;
    }
    batches.push_back(IngestOutcomeJson(b));
  }
  ingest["files"] = batches;
  nlohmann::json curate = {{"tables", nlohmann::json::object()},
                           {"seconds", s.curate_seconds},
                           {"cpu_seconds", s.curate_cpu_seconds},
                           {"bytes_written", s.curate_bytes_written}};
  for (const auto& [name, rows_in] : s.curate_rows_in) {
    auto merge = s.curate_table_seconds.find(name);
    curate["tables"][name] = {
        {"rows_in", rows_in},
        {"rows_merged", s.curate_rows_merged.at(name)},
        {"partitions", s.curate_partitions.at(name)},
        {"seconds",
         merge == s.curate_table_seconds.end() ? nlohmann::json() : nlohmann::json(merge->second)}};
  }
  nlohmann::json marts = {{"tables", nlohmann::json::object()},
                          {"seconds", s.marts_seconds},
                          {"cpu_seconds", s.marts_cpu_seconds},
                          {"bytes_written", s.marts_bytes_written}};
  for (const auto& [name, parts] : s.mart_partitions) {
    auto rows = s.mart_rows.find(name);
    marts["tables"][name] = {
        {"partitions", parts},
        {"full", parts < 0},
        {"rows", rows == s.mart_rows.end() ? nlohmann::json() : nlohmann::json(rows->second)}};
  }
  auto outcome_json = [](const TestOutcome& o) {
    return nlohmann::json{{"test", o.test},
                          {"severity", o.severity == Severity::kWarn ? "warn" : "error"},
                          {"failing_rows", o.failing_rows},
                          {"sample", o.sample}};
  };
  nlohmann::json quarantined = nlohmann::json::array();
  for (const auto& q : s.quarantined) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : q.failures) failures.push_back(outcome_json(f));
    quarantined.push_back({{"table", q.table}, {"batch_id", q.batch_id}, {"failures", failures}});
  }
  auto notes = [&](const std::vector<TestNote>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : v) {
      nlohmann::json j = outcome_json(n.outcome);
      j["layer"] = n.layer;
      j["table"] = n.table;
      out.push_back(std::move(j));
    }
    return out;
  };
  nlohmann::json schemas = nlohmann::json::array();
  for (const auto& change : s.schemas) {
    schemas.push_back({{"source", change.source},
                       {"version", change.version},
                       {"first", change.first},
                       {"evolved_tables", change.evolved_tables}});
  }
  nlohmann::json refused = nlohmann::json::array();
  for (const auto& r : s.refused) {
    refused.push_back({{"source", r.source}, {"file", r.file}, {"error", r.error}});
  }
  // "failed": it stopped at `error` (what ran before is still listed); "refused": some landing
  // files were refused whole and wait for a fix (exit 4); "quarantined": the run went through,
  // but some batches are held back (`sluice run` exits 3).
  nlohmann::json out = {{"status", !s.error.empty()        ? "failed"
                                   : !s.refused.empty()    ? "refused"
                                   : s.quarantined.empty() ? "ok"
                                                           : "quarantined"},
                        {"refused", refused},
                        {"nothing_to_do", s.nothing_to_do},
                        {"schemas", schemas},
                        {"quarantined", quarantined},
                        {"test_warnings", notes(s.test_warnings)},
                        {"test_bypassed", notes(s.test_bypassed)},
                        {"ingest", ingest},
                        {"curate", curate},
                        {"marts", marts},
                        {"publish",
                         {{"tables", s.published},
                          {"table_rows", s.published_rows},
                          {"seconds", s.publish_seconds},
                          {"cpu_seconds", s.publish_cpu_seconds},
                          {"bytes_written", s.publish_bytes_written}}}};
  if (!s.error.empty()) {
    out["error"] = s.error;
    out["failed_stage"] = s.failed_stage.empty() ? nlohmann::json() : nlohmann::json(s.failed_stage);
    out["test_failures"] = notes(s.test_failures);
  }
  return out;
}

}  // namespace sluice
