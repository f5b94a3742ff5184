// `serve:` in sluice.yaml: the settings of `sluice serve`. Each sub-key has its own Parse function.
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "common/memory_limit.h"
#include "spec/project_loader.h"

namespace sluice {

namespace {

// The largest values taken: past them a setting is a typo, not a plan.
constexpr int64_t kMaxConnections = 1000000;
constexpr int64_t kMaxTimeoutMs = int64_t{24} * 3600 * 1000;
constexpr int64_t kMinHeaderBytes = 1024;
constexpr int64_t kMaxHeaderBytes = int64_t{1} << 20;
constexpr int64_t kMaxBodyBytes = int64_t{1} << 40;

}  // namespace

Status ProjectLoader::ParseServe(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve",
                                  {
                                      "tls",
                                      "limits",
                                  }));
  if (const YamlEntry* tls = FindEntry(keys, "tls"); tls && !tls->value.IsNull()) {
    RETURN_IF_ERROR(ParseServeTls(*tls));
  }
  if (const YamlEntry* limits = FindEntry(keys, "limits"); limits && !limits->value.IsNull()) {
    RETURN_IF_ERROR(ParseServeLimits(*limits));
  }
  return Status::OK();
}

Status ProjectLoader::ParseServeTls(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve.tls"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve.tls", {"cert", "key"}));
  ServeTlsSpec tls;
  for (const char* name : {"cert", "key"}) {
    const std::string field = std::string("serve.tls.") + name;
    const YamlEntry* e = FindEntry(keys, name);
    if (e == nullptr) {
      return file_.Error(entry.value, field, "missing; TLS needs a PEM certificate (cert) and its key (key)");
    }
    ASSIGN_OR_RETURN(std::string path, file_.String(e->value, field));
    if (path.empty()) return file_.Error(e->value, field, "is empty; write the path of a PEM file");
    (std::string(name) == "cert" ? tls.cert : tls.key) = Absolute(spec_.root, path);
  }
  spec_.serve.tls = std::move(tls);
  return Status::OK();
}

Status ProjectLoader::ParseServeLimits(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve.limits"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve.limits",
                                  {"max_connections", "max_connections_per_client", "idle_timeout",
                                   "request_timeout", "max_header_bytes", "max_body"}));
  ServeLimitsSpec& limits = spec_.serve.limits;
  for (const auto& e : keys) {
    const std::string field = "serve.limits." + e.key;
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field));
    if (e.key == "max_connections" || e.key == "max_connections_per_client") {
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > kMaxConnections) {
        return file_.Error(e.value, field,
                           "expected a number of connections from 1 to " + std::to_string(kMaxConnections) +
                               ", found '" + v + "'");
      }
      (e.key == "max_connections" ? limits.max_connections : limits.max_connections_per_client) = n;
    } else if (e.key == "idle_timeout" || e.key == "request_timeout") {
      std::optional<int64_t> ms = ParseDurationMillis(v);
      if (!ms || *ms <= 0 || *ms > kMaxTimeoutMs) {
        return file_.Error(e.value, field,
                           "'" + v + "' is not a duration up to 24h; write e.g. 500ms, 30s or 1m");
      }
      if (e.key == "idle_timeout" && *ms % 1000 != 0) {
        return file_.Error(e.value, field, "'" + v + "' is not a whole number of seconds (e.g. 1s, 30s)");
      }
      (e.key == "idle_timeout" ? limits.idle_timeout_ms : limits.request_timeout_ms) = *ms;
    } else {
      std::optional<int64_t> bytes = ParseByteSize(v);
      const bool header = e.key == "max_header_bytes";
      const int64_t low = header ? kMinHeaderBytes : 1;
      const int64_t high = header ? kMaxHeaderBytes : kMaxBodyBytes;
      if (!bytes || *bytes < low || *bytes > high) {
        return file_.Error(e.value, field,
                           "'" + v + "' is not a size from " + FormatBytes(low) + " to " + FormatBytes(high) +
                               "; write e.g. 16KiB or 64MiB");
      }
      (header ? limits.max_header_bytes : limits.max_body_bytes) = *bytes;
    }
  }
  if (limits.max_connections_per_client > limits.max_connections) {
    return file_.Error(entry.value, "serve.limits.max_connections_per_client",
                       "is above max_connections (" + std::to_string(limits.max_connections) + ")");
  }
  return Status::OK();
}

}  // namespace sluice
