// `serve:` of sluice.yaml: the settings of `sluice serve`, one function per section (auth:
// docs/SECURITY.md; query: docs/QUERY_API.md).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

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

bool IsEnvName(const std::string& s) {
  if (s.empty() || s.size() > 128 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

}  // namespace

Status ProjectLoader::ParseServe(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve",
                                  {
                                      "auth",
                                      "query",
                                      "postgres",
                                      "tls",
                                      "limits",
                                  }));
  if (const YamlEntry* auth = FindEntry(keys, "auth")) RETURN_IF_ERROR(ParseServeAuth(*auth));
  if (const YamlEntry* postgres = FindEntry(keys, "postgres"); postgres && !postgres->value.IsNull()) {
    RETURN_IF_ERROR(ParsePostgres(*postgres));  // warehouse_loader.cc
  }
  if (const YamlEntry* tls = FindEntry(keys, "tls"); tls && !tls->value.IsNull()) {
    RETURN_IF_ERROR(ParseServeTls(*tls));
  }
  if (const YamlEntry* limits = FindEntry(keys, "limits"); limits && !limits->value.IsNull()) {
    RETURN_IF_ERROR(ParseServeLimits(*limits));
  }
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

Status ProjectLoader::ParseServeAuth(const YamlEntry& entry) {
  ServeAuthSpec& auth = spec_.serve.auth;
  if (entry.value.IsScalar()) {
    ASSIGN_OR_RETURN(std::string text, file_.String(entry.value, "serve.auth"));
    if (text != "none") {
      return file_.Error(entry.value, "serve.auth", "expected none or {tokens: [...]}, found '" + text + "'");
    }
    auth.none = true;
    return Status::OK();
  }
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve.auth"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve.auth", {"tokens"}));
  const YamlEntry* tokens = FindEntry(keys, "tokens");
  if (tokens == nullptr || !tokens->value.IsSequence() || tokens->value.size() == 0) {
    return file_.Error(tokens ? tokens->value : entry.value, "serve.auth.tokens",
                       "expected a list of tokens ({name, secret_env, scopes, tenants}); write `auth: none` "
                       "for none");
  }
  auth.none = false;
  // What a scope may name.
  std::set<std::string> tables, sources;
  for (const TableSpec& t : spec_.tables) {
    tables.insert((t.kind == TableKind::kMart ? "marts." : "curated.") + t.name);
  }
  for (const auto& s : spec_.sources) {
    tables.insert("staging." + s.name);
    sources.insert(s.name);
  }
  std::set<std::string> names, envs;
  for (size_t i = 0; i < tokens->value.size(); ++i) {
    const YAML::Node node = tokens->value[i];
    const std::string field = "serve.auth.tokens[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(auto tk, file_.Entries(node, field));
    RETURN_IF_ERROR(file_.CheckKeys(tk, field, {"name", "secret_env", "scopes", "tenants"}));
    TokenSpec token;
    token.line = node.Mark().line + 1;
    for (const char* required : {"name", "secret_env", "scopes"}) {
      if (FindEntry(tk, required) == nullptr) return file_.Error(node, field + "." + required, "missing");
    }
    const YamlEntry* name = FindEntry(tk, "name");
    ASSIGN_OR_RETURN(token.name, file_.String(name->value, field + ".name"));
    RETURN_IF_ERROR(CheckName(name->value, field + ".name", "token", token.name));
    if (!names.insert(token.name).second) {
      return file_.Error(name->value, field + ".name", "token '" + token.name + "' is declared twice");
    }
    const YamlEntry* env = FindEntry(tk, "secret_env");
    ASSIGN_OR_RETURN(token.secret_env, file_.String(env->value, field + ".secret_env"));
    if (!IsEnvName(token.secret_env)) {
      return file_.Error(env->value, field + ".secret_env",
                         "'" + token.secret_env +
                             "' is not an environment variable name; the secret itself never goes in "
                             "sluice.yaml");
    }
    if (!envs.insert(token.secret_env).second) {
      return file_.Error(env->value, field + ".secret_env",
                         token.secret_env + " is the secret of another token too; give each token its own");
    }
    const YamlEntry* scopes = FindEntry(tk, "scopes");
    ASSIGN_OR_RETURN(token.scopes, file_.StringList(scopes->value, field + ".scopes", true));
    if (token.scopes.empty()) return file_.Error(scopes->value, field + ".scopes", "is empty");
    for (const std::string& scope : token.scopes) {
      const std::string what = "scope '" + scope + "'";
      if (scope == "admin" || scope == "read:*") continue;
      if (scope.rfind("read:", 0) == 0) {
        const std::string table = scope.substr(5);
        if (table == "curated.*" || table == "marts.*" || table == "staging.*" || tables.count(table))
          continue;
        return file_.Error(scopes->value, field + ".scopes",
                           what + ": no table " + table + " (tables: " +
                               JoinNames(std::vector<std::string>(tables.begin(), tables.end())) +
                               "; or read:*, read:<layer>.*)");
      }
      if (scope.rfind("ingest:", 0) == 0) {
        const std::string source = scope.substr(7);
        if (source == "*" || sources.count(source)) continue;
        return file_.Error(scopes->value, field + ".scopes",
                           what + ": no source " + source + " (sources: " +
                               JoinNames(std::vector<std::string>(sources.begin(), sources.end())) +
                               "; or ingest:*)");
      }
      return file_.Error(scopes->value, field + ".scopes",
                         what +
                             " is not one of read:<layer>.<table>, read:<layer>.*, read:*, "
                             "ingest:<source>, ingest:*, admin");
    }
    if (const YamlEntry* tenants = FindEntry(tk, "tenants")) {
      ASSIGN_OR_RETURN(auto list, file_.StringList(tenants->value, field + ".tenants", true));
      if (list.empty()) {
        return file_.Error(
            tenants->value, field + ".tenants",
            "is empty (a token that sees no tenant sees nothing); leave it out for all tenants");
      }
      for (const std::string& scope : token.scopes) {
        if (scope == "admin") {
          return file_.Error(tenants->value, field + ".tenants",
                             "an admin token sees every tenant; drop `admin` or `tenants`");
        }
      }
      token.tenants = std::move(list);
    }
    auth.tokens.push_back(std::move(token));
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
