// Project-wide settings of sluice.yaml: `transform:`, `dlq:`, `memory_limit:` and `lineage:`.
#include <cstdlib>
#include <optional>

#include "common/memory_limit.h"
#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ParseTransform(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "transform"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "transform", {"interval", "max_rows", "publish_interval"}));
  for (const auto& e : keys) {
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, "transform." + e.key));
    if (e.key == "interval" || e.key == "publish_interval") {
      std::optional<int64_t> ms = ParseDurationMillis(v);
      if (!ms || *ms <= 0) {
        return file_.Error(e.value, "transform." + e.key,
                           "'" + v + "' is not a duration; write e.g. 500ms, 5s or 1m");
      }
      (e.key == "interval" ? spec_.transform_interval_ms : spec_.publish_interval_ms) = *ms;
    } else {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1) {
        return file_.Error(e.value, "transform.max_rows", "expected a positive number, found '" + v + "'");
      }
      spec_.transform_max_rows = n;
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseDlq(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto entries, file_.Entries(entry.value, "dlq"));
  RETURN_IF_ERROR(file_.CheckKeys(entries, "dlq", {"retention"}));
  if (const YamlEntry* retention = FindEntry(entries, "retention")) {
    ASSIGN_OR_RETURN(std::string text, file_.String(retention->value, "dlq.retention"));
    spec_.retention.dlq_seconds = ParseDuration(text);
    if (!spec_.retention.dlq_seconds) {
      return file_.Error(retention->value, "dlq.retention",
                         "'" + text + "' is not a duration (a number and s, m, h or d: 30d)");
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseMemoryLimit(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(std::string text, file_.String(entry.value, "memory_limit"));
  std::optional<int64_t> bytes = ParseByteSize(text);
  if (!bytes) {
    return file_.Error(entry.value, "memory_limit",
                       "'" + text + "' is not a size; write e.g. 512MB, 2GB or 1.5GiB");
  }
  if (*bytes < kMinMemoryLimit) {
    return file_.Error(entry.value, "memory_limit",
                       "'" + text + "' is below the minimum of " + FormatBytes(kMinMemoryLimit));
  }
  spec_.memory_limit_bytes = *bytes;
  return Status::OK();
}

Status ProjectLoader::ParseLineage(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "lineage"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "lineage", {"endpoint", "timeout", "retries"}));
  for (const auto& e : keys) {
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, "lineage." + e.key));
    if (e.key == "endpoint") {
      // Plain http only: the POST goes out through cpp-httplib without TLS settings of its own.
      if (v.rfind("http://", 0) != 0 || v.size() <= 7) {
        return file_.Error(e.value, "lineage.endpoint",
                           "'" + v + "' is not an http:// URL (e.g. http://127.0.0.1:5000/api/v1/lineage)");
      }
      spec_.lineage.endpoint = v;
    } else if (e.key == "timeout") {
      std::optional<int64_t> ms = ParseDurationMillis(v);
      if (!ms || *ms <= 0) {
        return file_.Error(e.value, "lineage.timeout",
                           "'" + v + "' is not a duration; write e.g. 500ms or 5s");
      }
      spec_.lineage.timeout_ms = *ms;
    } else {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 20) {
        return file_.Error(e.value, "lineage.retries", "expected a number from 0 to 20, found '" + v + "'");
      }
      spec_.lineage.retries = static_cast<int>(n);
    }
  }
  return Status::OK();
}

}  // namespace sluice
