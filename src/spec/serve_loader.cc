// `serve:` of sluice.yaml: the settings of `sluice serve`, one function per section.
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ParseServe(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve",
                                  {
                                      "query",
                                  }));
  if (const YamlEntry* query = FindEntry(keys, "query"); query && !query->value.IsNull()) {
    RETURN_IF_ERROR(ParseServeQuery(*query));
  }
  return Status::OK();
}

// `serve.query: {default_rows, max_rows, timeout, max_concurrent, cursor_ttl}`.
Status ProjectLoader::ParseServeQuery(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve.query"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve.query",
                                  {"default_rows", "max_rows", "timeout", "max_concurrent", "cursor_ttl"}));
  ServeQuerySpec& q = spec_.serve.query;
  for (const auto& e : keys) {
    const std::string field = "serve.query." + e.key;
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field));
    if (e.key == "timeout" || e.key == "cursor_ttl") {
      std::optional<int64_t> ms = ParseDurationMillis(v);
      if (!ms || *ms <= 0) {
        return file_.Error(e.value, field, "'" + v + "' is not a duration; write e.g. 500ms, 30s or 10m");
      }
      (e.key == "timeout" ? q.timeout_ms : q.cursor_ttl_ms) = *ms;
      continue;
    }
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > 1000000000) {
      return file_.Error(e.value, field, "expected a positive number, found '" + v + "'");
    }
    if (e.key == "default_rows") q.default_rows = n;
    if (e.key == "max_rows") q.max_rows = n;
    if (e.key == "max_concurrent") q.max_concurrent = n;
  }
  if (FindEntry(keys, "default_rows") == nullptr) q.default_rows = std::min(q.default_rows, q.max_rows);
  if (q.default_rows > q.max_rows) {
    return file_.Error(entry.value, "serve.query.default_rows",
                       "default_rows " + std::to_string(q.default_rows) + " is above max_rows " +
                           std::to_string(q.max_rows));
  }
  return Status::OK();
}

}  // namespace sluice
