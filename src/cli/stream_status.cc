#include "cli/stream_status.h"

#include <signal.h>

#include <fstream>
#include <ostream>

#include "catalog/ledger_reads.h"
#include "catalog/stream_ledger.h"
#include "common/env.h"

namespace sluice::cli {

Result<nlohmann::ordered_json> StreamStatus(Catalog& catalog) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& s : catalog.spec().sources) {
    if (!s.streaming()) continue;
    nlohmann::ordered_json j = {{"type", SourceTypeName(s.type)}};
    if (s.type == SourceType::kNats) {
      ASSIGN_OR_RETURN(std::optional<StreamPosition> pos, CommittedPosition(catalog, s.name, s.nats.stream));
      j["stream"] = s.nats.stream;
      j["committed_seq"] = pos ? pos->last_seq : 0;
      j["stream_created"] = pos && pos->stream_created != 0 ? nlohmann::ordered_json(pos->stream_created)
                                                            : nlohmann::ordered_json(nullptr);
      ASSIGN_OR_RETURN(std::vector<StreamReset> resets, StreamResets(catalog, s.name));
      if (!resets.empty()) {
        const StreamReset& r = resets.back();
        j["last_reset"] = {
            {"stream", r.stream},
            {"from_seq", r.from ? nlohmann::ordered_json(r.from->last_seq) : nlohmann::ordered_json(nullptr)},
            {"to_seq", r.to_seq},
            {"mode", r.mode},
            {"by", r.reset_by},
            {"at", r.reset_at},
            {"resets", resets.size()}};
      }
    }
    ASSIGN_OR_RETURN(SourceTotals totals, TotalsOf(catalog, s.name));
    j["late_rows"] = totals.rows_late;
    if (!s.event_time.empty()) {
      ASSIGN_OR_RETURN(std::vector<Watermark> watermarks, ListWatermarks(catalog, s.name));
      nlohmann::ordered_json marks = nlohmann::ordered_json::array();
      for (const Watermark& w : watermarks) {
        marks.push_back({{"partition", w.partition},
                         {"watermark", w.watermark},
                         {"max_event_time", w.max_event_time},
                         {"late_rows", w.late_rows}});
      }
      j["event_time"] = s.event_time;
      j["watermarks"] = marks;
    }
    out[s.name] = j;
  }
  return out;
}

std::optional<nlohmann::json> RunningServe(const ProjectSpec& spec) {
  Result<std::string> text = Env::Default()->ReadFile(spec.lake + "/serve.json");
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("pid") || !j["pid"].is_number_integer()) return std::nullopt;
  const pid_t pid = j["pid"].get<pid_t>();
  if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;  // left behind by a killed server
  return j;
}

void PrintStreamStatus(std::ostream& out, const nlohmann::ordered_json& streams) {
  if (streams.empty()) return;
  out << "\nstreams\n";
  for (auto& [name, s] : streams.items()) {
    out << "  " << name << " (" << s["type"].get<std::string>() << ")";
    if (s.contains("committed_seq")) {
      out << ": committed through " << s["stream"].get<std::string>() << " sequence " << s["committed_seq"];
    }
    out << "; " << s["late_rows"] << " late rows\n";
    if (s.contains("last_reset")) {
      const auto& r = s["last_reset"];
      out << "    reset " << r["mode"].get<std::string>() << " of " << r["stream"].get<std::string>()
          << " by " << r["by"].get<std::string>() << " at " << r["at"].get<std::string>()
          << " (from sequence " << (r["from_seq"].is_null() ? std::string("none") : r["from_seq"].dump())
          << " to " << r["to_seq"] << ")\n";
    }
    if (s.contains("watermarks")) {
      for (const auto& w : s["watermarks"]) {
        out << "    watermark "
            << (w["partition"].get<std::string>().empty() ? std::string("(all)")
                                                          : w["partition"].get<std::string>())
            << ": " << w["watermark"].get<std::string>() << " (max " << s["event_time"].get<std::string>()
            << " " << w["max_event_time"].get<std::string>() << ", " << w["late_rows"] << " late)\n";
      }
    }
  }
}

void PrintServeStatus(std::ostream& out, const nlohmann::json& serve) {
  out << "\nsluice serve (pid " << serve["pid"] << ") " << serve["state"].get<std::string>() << " on "
      << serve["listen"].get<std::string>() << "; in flight "
      << (serve["inflight_bytes"].get<int64_t>() >> 10) << " KiB of "
      << (serve["inflight_limit_bytes"].get<int64_t>() >> 20) << " MiB\n";
  if (serve.contains("transform_error") && serve["transform_error"].is_string()) {
    out << "  transform failing: " << serve["transform_error"].get<std::string>() << "\n";
  }
  for (auto& [name, s] : serve["sources"].items()) {
    out << "  " << name << " (" << s["type"].get<std::string>() << "): " << s["rows_staged"].get<double>()
        << " rows staged, " << s["rows_dead_lettered"].get<double>() << " dead-lettered, "
        << s["rows_late"].get<double>() << " late; lag " << s["lag_messages"].get<double>() << " messages / "
        << s["lag_seconds"].get<double>() << " s; queue " << s["queue_depth"].get<double>() << "; 429s "
        << s["rejected_429"].get<double>();
    if (s.contains("committed_seq")) out << "; committed seq " << s["committed_seq"];
    if (s.value("paused", false)) out << "; PAUSED (backpressure)";
    if (s.value("refused", false)) out << "; REFUSED (see `sluice streams reset`)";
    if (s.contains("error")) out << "; ERROR: " << s["error"].get<std::string>();
    out << "\n";
  }
  if (serve.contains("warehouse") && serve["warehouse"].is_object()) {
    const auto& w = serve["warehouse"];
    out << "  warehouse (PostgreSQL schema " << w["schema"].get<std::string>() << "): lag "
        << w["lag_versions"] << " versions / " << w["lag_seconds"].get<double>() << " s";
    for (auto& [table, t] : w["tables"].items()) {
      out << "; " << table << " v" << t["published_version"] << " of v" << t["lake_version"];
    }
    if (w["error"].is_string()) out << "; ERROR: " << w["error"].get<std::string>();
    out << "\n";
  }
}

}  // namespace sluice::cli
