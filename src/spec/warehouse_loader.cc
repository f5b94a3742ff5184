// `serve.postgres:` of sluice.yaml: the PostgreSQL warehouse (docs/WAREHOUSE.md).
#include <algorithm>

#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ParsePostgres(const YamlEntry& entry) {
  const std::string field = "serve.postgres";
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"dsn_env", "schema", "publish", "row_security"}));
  PostgresServeSpec pg;
  pg.line = entry.value.Mark().line + 1;
  const YamlEntry* dsn_env = FindEntry(keys, "dsn_env");
  if (dsn_env == nullptr) {
    return file_.Error(entry.value, field + ".dsn_env",
                       "missing; name the environment variable that holds the connection string, "
                       "e.g. dsn_env: SLUICE_PG_DSN (the DSN itself never goes in sluice.yaml)");
  }
  ASSIGN_OR_RETURN(pg.dsn_env, file_.String(dsn_env->value, field + ".dsn_env"));
  const bool env_name_ok = !pg.dsn_env.empty() && !std::isdigit(static_cast<unsigned char>(pg.dsn_env[0])) &&
                           std::all_of(pg.dsn_env.begin(), pg.dsn_env.end(), [](char c) {
                             return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                           });
  if (!env_name_ok) {
    return file_.Error(dsn_env->value, field + ".dsn_env",
                       "'" + pg.dsn_env +
                           "' is not an environment variable name (letters, digits and _); the DSN "
                           "itself never goes in sluice.yaml");
  }
  if (const YamlEntry* schema = FindEntry(keys, "schema")) {
    ASSIGN_OR_RETURN(pg.schema, file_.String(schema->value, field + ".schema"));
    RETURN_IF_ERROR(CheckName(schema->value, field + ".schema", "schema", pg.schema));
  }
  if (const YamlEntry* rls = FindEntry(keys, "row_security")) {
    ASSIGN_OR_RETURN(pg.row_security, file_.Bool(rls->value, field + ".row_security"));
  }
  const YamlEntry* publish = FindEntry(keys, "publish");
  if (publish == nullptr) {
    return file_.Error(entry.value, field + ".publish",
                       "missing; list the tables to publish, e.g. [marts.daily_revenue]");
  }
  ASSIGN_OR_RETURN(pg.publish, file_.StringList(publish->value, field + ".publish", /*allow_single=*/false));
  std::vector<std::string> known;
  for (const TableSpec& t : spec_.tables) {
    known.push_back((t.kind == TableKind::kMart ? "marts." : "curated.") + t.name);
  }
  for (size_t i = 0; i < pg.publish.size(); ++i) {
    const std::string& name = pg.publish[i];
    YAML::Node at = publish->value.IsSequence() ? publish->value[i] : publish->value;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return file_.Error(at, field + ".publish",
                         "unknown table '" + name +
                             "' (known: " + (known.empty() ? std::string("none") : JoinNames(known)) + ")");
    }
    if (std::find(pg.publish.begin(), pg.publish.begin() + static_cast<std::ptrdiff_t>(i), name) !=
        pg.publish.begin() + static_cast<std::ptrdiff_t>(i)) {
      return file_.Error(at, field + ".publish", "'" + name + "' is listed twice");
    }
  }
  spec_.serve.postgres = std::move(pg);
  return Status::OK();
}

}  // namespace sluice
