// `retention:` of sluice.yaml, and the `retention:` / `replay_window:` overrides of sources and
// tables (docs/LIFECYCLE.md).
#include <cstdlib>
#include <optional>

#include "spec/project_loader.h"

namespace sluice {

namespace {

Result<int64_t> Duration(const YamlFile& file, const YAML::Node& node, const std::string& field) {
  ASSIGN_OR_RETURN(std::string text, file.String(node, field));
  std::optional<int64_t> seconds = ParseDuration(text);
  if (!seconds || *seconds <= 0) {
    return file.Error(node, field, "'" + text + "' is not a duration (a number and s, m, h or d: 7d)");
  }
  return *seconds;
}

// `hot` and `cold` among `keys` (checked by the caller).
Result<StagingRetention> StagingAges(const YamlFile& file, const std::vector<YamlEntry>& keys,
                                     const std::string& field) {
  StagingRetention out;
  if (const YamlEntry* hot = FindEntry(keys, "hot")) {
    ASSIGN_OR_RETURN(out.hot_seconds, Duration(file, hot->value, field + ".hot"));
  }
  if (const YamlEntry* cold = FindEntry(keys, "cold")) {
    ASSIGN_OR_RETURN(out.cold_seconds, Duration(file, cold->value, field + ".cold"));
    if (out.hot_seconds && *out.cold_seconds <= *out.hot_seconds) {
      return file.Error(cold->value, field + ".cold",
                        "must be longer than hot: data is deleted `cold` after it was staged, "
                        "having moved to the cold tier after `hot`");
    }
  }
  return out;
}

}  // namespace

Result<StagingRetention> ParseStagingRetention(const YamlFile& file, const YamlEntry& entry,
                                               const std::string& field) {
  ASSIGN_OR_RETURN(auto keys, file.Entries(entry.value, field));
  RETURN_IF_ERROR(file.CheckKeys(keys, field, {"hot", "cold"}));
  return StagingAges(file, keys, field);
}

Result<SnapshotRetention> ParseSnapshotRetention(const YamlFile& file, const YamlEntry& entry,
                                                 const std::string& field) {
  ASSIGN_OR_RETURN(auto keys, file.Entries(entry.value, field));
  RETURN_IF_ERROR(file.CheckKeys(keys, field, {"keep_last", "keep_within"}));
  SnapshotRetention out;
  if (const YamlEntry* last = FindEntry(keys, "keep_last")) {
    ASSIGN_OR_RETURN(std::string v, file.String(last->value, field + ".keep_last"));
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > 1000000) {
      return file.Error(
          last->value, field + ".keep_last",
          "expected a whole number of at least 1 (the current snapshot counts), found '" + v + "'");
    }
    out.keep_last = n;
  }
  if (const YamlEntry* within = FindEntry(keys, "keep_within")) {
    ASSIGN_OR_RETURN(out.keep_within_seconds, Duration(file, within->value, field + ".keep_within"));
  }
  return out;
}

Result<int64_t> ParseRetentionDuration(const YamlFile& file, const YamlEntry& entry,
                                       const std::string& field) {
  return Duration(file, entry.value, field);
}

Status ParseRetention(const YamlFile& file, const YamlEntry& entry, ProjectSpec& spec) {
  auto& r = spec.retention;
  r.line = entry.key_node.Mark().line + 1;
  ASSIGN_OR_RETURN(auto keys, file.Entries(entry.value, "retention"));
  RETURN_IF_ERROR(file.CheckKeys(keys, "retention", {"staging", "dlq", "snapshots", "idempotency_keys"}));
  for (const auto& e : keys) {
    const std::string field = "retention." + e.key;
    if (e.key == "staging") {
      ASSIGN_OR_RETURN(auto entries, file.Entries(e.value, field));
      RETURN_IF_ERROR(file.CheckKeys(entries, field, {"hot", "cold", "cold_path"}));
      if (const YamlEntry* path = FindEntry(entries, "cold_path")) {
        ASSIGN_OR_RETURN(std::string dir, file.String(path->value, field + ".cold_path"));
        if (dir.empty()) return file.Error(path->value, field + ".cold_path", "is empty");
        r.cold_path = Absolute(spec.root, dir);
      }
      ASSIGN_OR_RETURN(r.staging, StagingAges(file, entries, field));
    } else if (e.key == "dlq") {
      if (spec.retention.dlq_seconds) {
        return file.Error(e.key_node, field, "is also set by `dlq: {retention: ...}`; keep one");
      }
      ASSIGN_OR_RETURN(r.dlq_seconds, Duration(file, e.value, field));
    } else if (e.key == "snapshots") {
      ASSIGN_OR_RETURN(r.snapshots, ParseSnapshotRetention(file, e, field));
    } else {
      ASSIGN_OR_RETURN(r.idempotency_keys_seconds, Duration(file, e.value, field));
    }
  }
  if (r.cold_path.empty()) r.cold_path = spec.lake + "/cold";
  for (const char* dir : {"/staging", "/published"}) {
    const std::string inside = spec.lake + dir;
    if (r.cold_path == inside || r.cold_path.rfind(inside + "/", 0) == 0) {
      return file.Error(entry.value, "retention.staging.cold_path",
                        "'" + r.cold_path + "' is inside the lake's " + std::string(dir + 1) +
                            " directory; choose a directory of its own (default: <lake>/cold)");
    }
  }
  return Status::OK();
}

}  // namespace sluice
