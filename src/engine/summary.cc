#include "engine/summary.h"

namespace sluice {

nlohmann::json IngestOutcomeJson(const IngestOutcome& o) {
  return {{"source", o.source},         {"file", o.file},
          {"batch_id", o.batch_id},     {"duplicate", o.duplicate},
          {"rows_read", o.rows_read},   {"rows_staged", o.rows_staged},
          {"rows_dead", o.rows_dead},   {"dead_by_reason", o.dead_by_reason},
          {"seconds", o.seconds}};
}

nlohmann::json RunSummaryJson(const RunSummary& s) {
  nlohmann::json ingest = {{"batches", 0}, {"duplicates", 0}, {"rows_read", 0},
                           {"rows_staged", 0}, {"rows_dead", 0}, {"seconds", s.ingest_seconds}};
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
  nlohmann::json curate = {{"tables", nlohmann::json::object()}, {"seconds", s.curate_seconds}};
  for (const auto& [name, rows_in] : s.curate_rows_in) {
    curate["tables"][name] = {{"rows_in", rows_in},
                              {"rows_merged", s.curate_rows_merged.at(name)},
                              {"partitions", s.curate_partitions.at(name)}};
  }
  nlohmann::json marts = {{"tables", nlohmann::json::object()}, {"seconds", s.marts_seconds}};
  for (const auto& [name, parts] : s.mart_partitions) {
    marts["tables"][name] = {{"partitions", parts}, {"full", parts < 0}};
  }
  return {{"status", "ok"},
          {"nothing_to_do", s.nothing_to_do},
          {"ingest", ingest},
          {"curate", curate},
          {"marts", marts},
          {"publish", {{"tables", s.published}, {"seconds", s.publish_seconds}}}};
}

}  // namespace sluice
