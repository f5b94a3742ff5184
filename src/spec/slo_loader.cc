// `slo:` of sluice.yaml: the objectives sluice evaluates itself (docs/SLO.md).
#include <cmath>
#include <cstdlib>
#include <optional>

#include "spec/project_loader.h"

namespace sluice {

namespace {

class SloLoader {
 public:
  SloLoader(const YamlFile& file, ProjectSpec& spec) : file_(file), spec_(spec), slo_(spec.slo) {}

  Status Load(const YamlEntry& entry) {
    slo_.line = entry.key_node.Mark().line + 1;
    ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "slo"));
    RETURN_IF_ERROR(file_.CheckKeys(
        keys, "slo",
        {"window", "interval", "min_events", "min_intervals", "target", "error_rate", "consumer_lag",
         "ingest_latency_p99", "transform_duration", "freshness", "runbook_base", "alerts"}));
    for (const auto& e : keys) {
      const std::string field = "slo." + e.key;
      if (e.key == "window") {
        ASSIGN_OR_RETURN(double s, Seconds(e.value, field, /*allow_off=*/false));
        if (s < 3600) return file_.Error(e.value, field, "must be at least 1h (the page window)");
        slo_.window_seconds = static_cast<int64_t>(s);
      } else if (e.key == "interval") {
        ASSIGN_OR_RETURN(double s, Seconds(e.value, field, false));
        if (s < 0.1) return file_.Error(e.value, field, "must be at least 100ms");
        slo_.interval_ms = static_cast<int64_t>(std::llround(s * 1000));
      } else if (e.key == "min_events" || e.key == "min_intervals") {
        ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field));
        char* end = nullptr;
        long long n = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < 1 || n > 1000000000) {
          return file_.Error(e.value, field, "expected a positive whole number, found '" + v + "'");
        }
        (e.key == "min_events" ? slo_.min_events : slo_.min_intervals) = n;
      } else if (e.key == "target") {
        ASSIGN_OR_RETURN(std::optional<double> p, Percent(e.value, field, false));
        if (*p <= 0 || *p >= 1) return file_.Error(e.value, field, "must be between 0% and 100%, e.g. 99%");
        slo_.target = *p;
      } else if (e.key == "error_rate") {
        ASSIGN_OR_RETURN(slo_.error_rate, Percent(e.value, field, true));
        if (slo_.error_rate && (*slo_.error_rate <= 0 || *slo_.error_rate >= 1)) {
          return file_.Error(e.value, field, "must be between 0% and 100%, e.g. 1%");
        }
      } else if (e.key == "consumer_lag") {
        ASSIGN_OR_RETURN(slo_.consumer_lag_seconds, OptionalSeconds(e.value, field));
      } else if (e.key == "transform_duration") {
        ASSIGN_OR_RETURN(slo_.transform_duration_seconds, OptionalSeconds(e.value, field));
      } else if (e.key == "ingest_latency_p99") {
        RETURN_IF_ERROR(
            PerName(e, "sources", &slo_.ingest_latency_p99_seconds, &slo_.ingest_latency_p99_sources));
      } else if (e.key == "freshness") {
        RETURN_IF_ERROR(PerName(e, "tables", &slo_.freshness_seconds, &slo_.freshness_tables));
      } else if (e.key == "runbook_base") {
        ASSIGN_OR_RETURN(slo_.runbook_base, file_.String(e.value, field));
      } else if (e.key == "alerts") {
        RETURN_IF_ERROR(Alerts(e));
      }
    }
    return Status::OK();
  }

 private:
  // "30s", "500ms", "2h" as seconds (> 0); nullopt for `off` when allowed.
  Result<double> Seconds(const YAML::Node& node, const std::string& field, bool allow_off) {
    ASSIGN_OR_RETURN(std::optional<double> s, SecondsOrOff(node, field, allow_off));
    return *s;
  }
  Result<std::optional<double>> OptionalSeconds(const YAML::Node& node, const std::string& field) {
    return SecondsOrOff(node, field, true);
  }
  Result<std::optional<double>> SecondsOrOff(const YAML::Node& node, const std::string& field,
                                             bool allow_off) {
    ASSIGN_OR_RETURN(std::string v, file_.String(node, field));
    if (allow_off && v == "off") return std::optional<double>();
    std::optional<int64_t> ms = ParseDurationMillis(v);
    if (!ms || *ms <= 0) {
      return file_.Error(node, field,
                         "'" + v + "' is not a duration; write e.g. 500ms, 30s, 5m, 2h or 1d" +
                             (allow_off ? std::string(", or off") : std::string()));
    }
    return std::optional<double>(static_cast<double>(*ms) / 1000.0);
  }
  // "1%", "0.5%" or a fraction "0.01"; nullopt for `off` when allowed.
  Result<std::optional<double>> Percent(const YAML::Node& node, const std::string& field, bool allow_off) {
    ASSIGN_OR_RETURN(std::string v, file_.String(node, field));
    if (allow_off && v == "off") return std::optional<double>();
    std::string digits = v;
    const bool percent = !digits.empty() && digits.back() == '%';
    if (percent) digits.pop_back();
    char* end = nullptr;
    double d = std::strtod(digits.c_str(), &end);
    if (digits.empty() || *end != '\0' || !std::isfinite(d)) {
      return file_.Error(node, field, "'" + v + "' is not a percentage; write e.g. 1% or 0.01");
    }
    return std::optional<double>(percent ? d / 100 : d);
  }
  // `key: 2h` (every name) or `key: {default: 2h, <names>: {name: 30m}}`.
  Status PerName(const YamlEntry& e, const char* names_key, std::optional<double>* all,
                 std::map<std::string, double>* per) {
    const std::string field = "slo." + e.key;
    if (!e.value.IsMap()) {
      ASSIGN_OR_RETURN(*all, OptionalSeconds(e.value, field));
      return Status::OK();
    }
    ASSIGN_OR_RETURN(auto keys, file_.Entries(e.value, field));
    RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"default", names_key}));
    for (const auto& k : keys) {
      if (k.key == "default") {
        ASSIGN_OR_RETURN(*all, OptionalSeconds(k.value, field + ".default"));
        continue;
      }
      ASSIGN_OR_RETURN(auto named, file_.Entries(k.value, field + "." + k.key));
      for (const auto& n : named) {
        const std::string f = field + "." + k.key + "." + n.key;
        RETURN_IF_ERROR(CheckName(n.key_node, f, std::string(names_key) == "tables"));
        ASSIGN_OR_RETURN(std::optional<double> s, OptionalSeconds(n.value, f));
        (*per)[n.key] = s ? *s : -1;  // -1: off for this one
      }
    }
    return Status::OK();
  }
  // A per-name key must name a source (streaming) or a table ("curated.t" / "marts.t").
  Status CheckName(const YAML::Node& at, const std::string& field, bool table) {
    const std::string name = at.as<std::string>();
    if (table) {
      const size_t dot = name.find('.');
      const std::string layer = dot == std::string::npos ? "" : name.substr(0, dot);
      const TableSpec* t = dot == std::string::npos ? nullptr : spec_.FindTable(name.substr(dot + 1));
      const bool ok = t != nullptr && ((layer == "curated" && t->kind == TableKind::kCurated) ||
                                       (layer == "marts" && t->kind == TableKind::kMart));
      if (!ok) {
        std::vector<std::string> known;
        for (const auto& x : spec_.tables) {
          known.push_back((x.kind == TableKind::kCurated ? "curated." : "marts.") + x.name);
        }
        return file_.Error(
            at, field,
            "no table '" + name + "' (tables: " + (known.empty() ? "none" : JoinNames(known)) + ")");
      }
      return Status::OK();
    }
    const SourceSpec* s = spec_.FindSource(name);
    if (s == nullptr || !s->streaming()) {
      std::vector<std::string> known;
      for (const auto& x : spec_.sources) {
        if (x.streaming()) known.push_back(x.name);
      }
      return file_.Error(at, field,
                         "no streaming source '" + name + "' (http and nats sources: " +
                             (known.empty() ? "none" : JoinNames(known)) + ")");
    }
    return Status::OK();
  }
  Status Alerts(const YamlEntry& e) {
    ASSIGN_OR_RETURN(auto keys, file_.Entries(e.value, "slo.alerts"));
    RETURN_IF_ERROR(file_.CheckKeys(keys, "slo.alerts", {"webhook", "command"}));
    for (const auto& k : keys) {
      const std::string field = "slo.alerts." + k.key;
      if (k.key == "webhook") {
        ASSIGN_OR_RETURN(slo_.webhooks, file_.StringList(k.value, field, /*allow_single=*/true));
        for (const auto& url : slo_.webhooks) {
          if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
            return file_.Error(k.value, field, "'" + url + "' is not an http:// or https:// URL");
          }
        }
      } else {
        ASSIGN_OR_RETURN(slo_.command, file_.String(k.value, field));
        if (slo_.command.empty()) return file_.Error(k.value, field, "is empty");
      }
    }
    return Status::OK();
  }

  const YamlFile& file_;
  ProjectSpec& spec_;
  SloSpec& slo_;
};

}  // namespace

Status ParseSlo(const YamlFile& file, const YamlEntry& entry, ProjectSpec& spec) {
  return SloLoader(file, spec).Load(entry);
}

}  // namespace sluice
