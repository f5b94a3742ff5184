#include "spec/spec.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "common/env.h"
#include "spec/sql_refs.h"
#include "spec/yaml_file.h"

namespace fs = std::filesystem;

namespace sluice {
namespace {

constexpr const char* kSpecFile = "sluice.yaml";

std::string FormatName(SourceFormat f) {
  switch (f) {
    case SourceFormat::kJsonl: return "jsonl";
    case SourceFormat::kCsv: return "csv";
    case SourceFormat::kParquet: return "parquet";
  }
  return "jsonl";
}

// An absolute, lexically normal path without a trailing separator.
std::string Absolute(const fs::path& root, const std::string& p) {
  fs::path path(p);
  fs::path abs = path.is_absolute() ? path : root / path;
  std::string out = abs.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

const YamlEntry* FindEntry(const std::vector<YamlEntry>& entries, const std::string& key) {
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::string IdentifierRule() { return "use [a-z_][a-z0-9_]*, at most 63 characters"; }

// Loads sluice.yaml into a ProjectSpec. One instance per LoadProject call.
class ProjectLoader {
 public:
  ProjectLoader(const YamlFile& file, ProjectSpec* spec) : file_(file), spec_(*spec) {}

  Status Load();

 private:
  Status ParseSource(const YamlEntry& entry);
  Status ParseTransform(const YamlEntry& entry);
  Status ParseNats(const YamlEntry& entry, SourceSpec* source);
  Status ParseBatch(const YamlEntry& entry, SourceSpec* source);
  Status ParseEventTime(const std::vector<YamlEntry>& keys, SourceSpec* source);
  Status ParseSourcePartition(const YamlEntry& entry, SourceSpec* source);
  Status ParseTable(const YamlEntry& entry);
  Status ParseCurated(const YamlEntry& entry, const std::vector<YamlEntry>& keys, TableSpec* t);
  Status ParseMart(const YamlEntry& entry, const std::vector<YamlEntry>& keys, TableSpec* t);
  // `contract` is null for marts, whose output columns are only known when the SQL runs.
  Status ParseTests(const YamlEntry& entry, const std::string& field, const Contract* contract,
                    std::vector<TableTest>* tests);
  Status CheckColumn(const YAML::Node& at, const std::string& field, const std::string& column,
                     const Contract* contract);
  Status ResolveMartRefs();
  // Every `relationships` test names an existing table (and, for curated, a contract column).
  Status ResolveRelationships();
  Status OrderTables();

  // Checks that `name` is an identifier usable as a `kind` name.
  Status CheckName(const YAML::Node& at, const std::string& field, const std::string& kind,
                   const std::string& name) {
    if (IsValidIdentifier(name)) return Status::OK();
    return file_.Error(at, field,
                       "'" + name + "' is not a valid " + kind + " name (" + IdentifierRule() + ")");
  }

  const YamlFile& file_;
  ProjectSpec& spec_;
  std::vector<TableSpec> curated_;
  std::vector<TableSpec> marts_;
  std::map<std::string, YAML::Node> sql_nodes_;   // mart name -> its `sql:` value, for messages
  std::map<std::string, std::string> sql_paths_;  // mart name -> path as written
  struct RelationshipRef {
    YAML::Node to_node, field_node;
    std::string field, table, column;
  };
  std::vector<RelationshipRef> relationship_refs_;  // checked once every table is known
};

Status ProjectLoader::Load() {
  ASSIGN_OR_RETURN(auto top, file_.Entries(file_.root(), ""));
  RETURN_IF_ERROR(file_.CheckKeys(top, "", {"name", "lake", "sources", "tables", "dlq", "transform"}));
  if (const YamlEntry* transform = FindEntry(top, "transform"); transform && !transform->value.IsNull()) {
    RETURN_IF_ERROR(ParseTransform(*transform));
  }
  if (const YamlEntry* dlq = FindEntry(top, "dlq"); dlq && !dlq->value.IsNull()) {
    ASSIGN_OR_RETURN(auto entries, file_.Entries(dlq->value, "dlq"));
    RETURN_IF_ERROR(file_.CheckKeys(entries, "dlq", {"retention"}));
    if (const YamlEntry* retention = FindEntry(entries, "retention")) {
      ASSIGN_OR_RETURN(std::string text, file_.String(retention->value, "dlq.retention"));
      spec_.dlq_retention_seconds = ParseDuration(text);
      if (!spec_.dlq_retention_seconds) {
        return file_.Error(retention->value, "dlq.retention",
                           "'" + text + "' is not a duration (a number and s, m, h or d: 30d)");
      }
    }
  }
  const YamlEntry* name = FindEntry(top, "name");
  if (name == nullptr) return file_.Error(file_.root(), "name", "missing; a project needs a name");
  ASSIGN_OR_RETURN(spec_.name, file_.String(name->value, "name"));
  RETURN_IF_ERROR(CheckName(name->value, "name", "project", spec_.name));

  spec_.lake = Absolute(spec_.root, "lake");
  if (const YamlEntry* lake = FindEntry(top, "lake")) {
    ASSIGN_OR_RETURN(std::string dir, file_.String(lake->value, "lake"));
    if (dir.empty()) return file_.Error(lake->value, "lake", "is empty");
    spec_.lake = Absolute(spec_.root, dir);
  }

  if (const YamlEntry* sources = FindEntry(top, "sources"); sources && !sources->value.IsNull()) {
    ASSIGN_OR_RETURN(auto entries, file_.Entries(sources->value, "sources"));
    for (const auto& e : entries) RETURN_IF_ERROR(ParseSource(e));
  }
  if (const YamlEntry* tables = FindEntry(top, "tables"); tables && !tables->value.IsNull()) {
    ASSIGN_OR_RETURN(auto entries, file_.Entries(tables->value, "tables"));
    for (const auto& e : entries) RETURN_IF_ERROR(ParseTable(e));
  }
  RETURN_IF_ERROR(ResolveMartRefs());
  RETURN_IF_ERROR(ResolveRelationships());
  return OrderTables();
}

Status ProjectLoader::ParseSource(const YamlEntry& entry) {
  const std::string field = "sources." + entry.key;
  SourceSpec source;
  source.name = entry.key;
  source.line = entry.key_node.Mark().line + 1;
  RETURN_IF_ERROR(CheckName(entry.key_node, field, "source", source.name));
  if (!entry.value.IsMap()) {
    return file_.Error(entry.value.IsNull() ? entry.key_node : entry.value, field,
                       "expected a mapping such as {type: files, path: ..., contract: ...}");
  }
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  if (const YamlEntry* type = FindEntry(keys, "type")) {
    ASSIGN_OR_RETURN(std::string t, file_.String(type->value, field + ".type"));
    if (t == "files") {
      source.type = SourceType::kFiles;
    } else if (t == "http") {
      source.type = SourceType::kHttp;
    } else if (t == "nats") {
      source.type = SourceType::kNats;
    } else if (t == "postgres" || t == "kafka") {
      return file_.Error(type->value, field + ".type",
                         "source type '" + t + "' is not supported yet (supported: files, http, nats)");
    } else {
      return file_.Error(type->value, field + ".type",
                         "unknown source type '" + t +
                             "' (known: files, http, nats, postgres; supported: files, http, nats)");
    }
  }
  std::vector<std::string> allowed = {"type", "format", "contract", "partition_by", "event_time",
                                      "allowed_lateness"};
  if (source.type == SourceType::kFiles) {
    allowed.insert(allowed.end(), {"path", "csv"});
  } else {
    allowed.push_back("batch");
    if (source.type == SourceType::kNats) allowed.push_back("nats");
  }
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, allowed));

  if (source.type == SourceType::kFiles) {
    const YamlEntry* path = FindEntry(keys, "path");
    if (path == nullptr) {
      return file_.Error(entry.key_node, field + ".path",
                         "missing; a files source needs a glob such as landing/orders/*.jsonl");
    }
    ASSIGN_OR_RETURN(std::string glob, file_.String(path->value, field + ".path"));
    if (glob.empty()) return file_.Error(path->value, field + ".path", "is empty");
    source.path = Absolute(spec_.root, glob);
  }

  if (const YamlEntry* format = FindEntry(keys, "format")) {
    ASSIGN_OR_RETURN(std::string f, file_.String(format->value, field + ".format"));
    if (f == "jsonl") {
      source.format = SourceFormat::kJsonl;
    } else if (source.streaming()) {
      return file_.Error(format->value, field + ".format",
                         "a " + std::string(SourceTypeName(source.type)) +
                             " source takes JSON events: format jsonl (found '" + f + "')");
    } else if (f == "csv") {
      source.format = SourceFormat::kCsv;
    } else if (f == "parquet") {
      source.format = SourceFormat::kParquet;
    } else {
      return file_.Error(format->value, field + ".format",
                         "unknown format '" + f + "' (known: jsonl, csv, parquet)");
    }
  }
  if (const YamlEntry* nats = FindEntry(keys, "nats")) RETURN_IF_ERROR(ParseNats(*nats, &source));
  if (source.type == SourceType::kNats && source.nats.stream.empty()) {
    return file_.Error(entry.key_node, field + ".nats",
                       "missing; a nats source needs {url: nats://127.0.0.1:4222, stream: ORDERS,"
                       " subject: orders.>}");
  }
  if (const YamlEntry* batch = FindEntry(keys, "batch")) RETURN_IF_ERROR(ParseBatch(*batch, &source));

  if (const YamlEntry* csv = FindEntry(keys, "csv")) {
    const std::string f = field + ".csv";
    if (source.format != SourceFormat::kCsv) {
      return file_.Error(csv->key_node, f,
                         "csv options only apply to format: csv (this source is " +
                             FormatName(source.format) + ")");
    }
    ASSIGN_OR_RETURN(auto opts, file_.Entries(csv->value, f));
    RETURN_IF_ERROR(file_.CheckKeys(opts, f, {"delimiter"}));
    if (const YamlEntry* d = FindEntry(opts, "delimiter")) {
      ASSIGN_OR_RETURN(std::string delim, file_.String(d->value, f + ".delimiter"));
      if (delim.size() != 1 || delim[0] == '\n' || delim[0] == '\r' || delim[0] == '"') {
        return file_.Error(d->value, f + ".delimiter",
                           "expected a single character other than a quote or line break, found '" +
                               delim + "'");
      }
      source.csv_delimiter = delim[0];
    }
  }

  const YamlEntry* contract = FindEntry(keys, "contract");
  if (contract == nullptr) {
    return file_.Error(entry.key_node, field + ".contract",
                       "missing; a source needs a contract file such as contracts/" + entry.key +
                           ".yaml");
  }
  ASSIGN_OR_RETURN(std::string contract_path, file_.String(contract->value, field + ".contract"));
  if (contract_path.empty()) return file_.Error(contract->value, field + ".contract", "is empty");
  source.contract_path = Absolute(spec_.root, contract_path);
  Result<std::string> text = ReadSpecFile(source.contract_path, kMaxYamlBytes);
  if (!text.ok()) {
    std::string why = text.status().message();
    if (why.rfind(source.contract_path, 0) == 0) why = why.substr(source.contract_path.size());
    if (why.rfind(": ", 0) == 0) why = why.substr(2);
    return file_.Error(contract->value, field + ".contract",
                       "cannot read contract " + contract_path + ": " + why);
  }
  // Contract errors name the contract file as written here, relative to the project.
  ASSIGN_OR_RETURN(source.contract, ParseContract(*text, contract_path));

  if (const YamlEntry* part = FindEntry(keys, "partition_by")) {
    RETURN_IF_ERROR(ParseSourcePartition(*part, &source));
  }
  RETURN_IF_ERROR(ParseEventTime(keys, &source));
  spec_.sources.push_back(std::move(source));
  return Status::OK();
}

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

Status ProjectLoader::ParseNats(const YamlEntry& entry, SourceSpec* source) {
  const std::string field = "sources." + source->name + ".nats";
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"url", "stream", "subject", "durable"}));
  NatsSourceSpec& n = source->nats;
  n.url = "nats://127.0.0.1:4222";
  n.durable = "sluice_" + source->name;
  for (const auto& e : keys) {
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field + "." + e.key));
    if (v.empty()) return file_.Error(e.value, field + "." + e.key, "is empty");
    if (e.key == "url") {
      if (v.rfind("nats://", 0) != 0) {
        return file_.Error(e.value, field + ".url", "expected nats://host:port, found '" + v + "'");
      }
      n.url = v;
    } else if (e.key == "stream" || e.key == "durable") {
      // JetStream names: no spaces, dots, wildcards or path separators.
      if (v.find_first_of(" \t.*>/\\") != std::string::npos) {
        return file_.Error(e.value, field + "." + e.key,
                           "'" + v + "' is not a valid JetStream name (no spaces, '.', '*', '>', '/')");
      }
      (e.key == "stream" ? n.stream : n.durable) = v;
    } else {
      n.subject = v;
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseBatch(const YamlEntry& entry, SourceSpec* source) {
  const std::string field = "sources." + source->name + ".batch";
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"max_rows", "max_wait"}));
  for (const auto& e : keys) {
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field + "." + e.key));
    if (e.key == "max_rows") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 10000000) {
        return file_.Error(e.value, field + ".max_rows",
                           "expected a number of rows from 1 to 10000000, found '" + v + "'");
      }
      source->batch.max_rows = n;
    } else {
      std::optional<int64_t> ms = ParseDurationMillis(v);
      if (!ms || *ms <= 0) {
        return file_.Error(e.value, field + ".max_wait",
                           "'" + v + "' is not a duration; write e.g. 200ms, 1s or 1m");
      }
      source->batch.max_wait_ms = *ms;
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseEventTime(const std::vector<YamlEntry>& keys, SourceSpec* source) {
  const std::string field = "sources." + source->name;
  if (const YamlEntry* e = FindEntry(keys, "event_time")) {
    ASSIGN_OR_RETURN(std::string column, file_.String(e->value, field + ".event_time"));
    int idx = source->contract.Find(column);
    if (idx < 0) {
      return file_.Error(e->value, field + ".event_time",
                         "column '" + column + "' is not in contract '" + source->contract.name +
                             "' (" + source->contract.path + ")");
    }
    if (source->contract.columns[static_cast<size_t>(idx)].type.kind != TypeKind::kTimestamp) {
      return file_.Error(e->value, field + ".event_time",
                         "column '" + column + "' is " +
                             source->contract.columns[static_cast<size_t>(idx)].type.Name() +
                             "; event time needs a timestamp column");
    }
    source->event_time = column;
  }
  if (const YamlEntry* e = FindEntry(keys, "allowed_lateness")) {
    if (source->event_time.empty()) {
      return file_.Error(e->key_node, field + ".allowed_lateness",
                         "needs event_time: the timestamp column lateness is measured on");
    }
    ASSIGN_OR_RETURN(std::string v, file_.String(e->value, field + ".allowed_lateness"));
    std::optional<int64_t> ms = ParseDurationMillis(v);
    if (!ms) {
      return file_.Error(e->value, field + ".allowed_lateness",
                         "'" + v + "' is not a duration; write e.g. 30s, 5m or 1h");
    }
    source->allowed_lateness_ms = *ms;
  }
  return Status::OK();
}

Status ProjectLoader::ParseSourcePartition(const YamlEntry& part, SourceSpec* source) {
  const std::string field = "sources." + source->name + ".partition_by";
  if (part.value.IsNull()) return Status::OK();
  ASSIGN_OR_RETURN(auto keys, file_.Entries(part.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"day", "tenant"}));
  const Contract& c = source->contract;
  const std::string in_contract = "contract '" + c.name + "' (" + c.path + ")";
  for (const auto& e : keys) {
    const std::string f = field + "." + e.key;
    ASSIGN_OR_RETURN(std::string column, file_.String(e.value, f));
    int idx = c.Find(column);
    if (idx < 0) {
      return file_.Error(e.value, f, "column '" + column + "' is not in " + in_contract);
    }
    const ColumnSpec& col = c.columns[static_cast<size_t>(idx)];
    if (e.key == "day") {
      if (col.type.kind != TypeKind::kDate && col.type.kind != TypeKind::kTimestamp) {
        return file_.Error(e.value, f,
                           "column '" + column + "' is " + col.type.Name() +
                               "; a day partition needs a date or timestamp column");
      }
      source->partition_by.day = column;
    } else {
      if (col.type.kind != TypeKind::kString) {
        return file_.Error(e.value, f,
                           "column '" + column + "' is " + col.type.Name() +
                               "; a tenant partition needs a string column");
      }
      source->partition_by.tenant = column;
    }
    if (!col.required) {
      return file_.Error(e.value, f,
                         "partition column '" + column + "' must be `required: true` in contract '" +
                             c.name + "' (" + c.path + ":" + std::to_string(col.line) + ")");
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseTable(const YamlEntry& entry) {
  const std::string field = "tables." + entry.key;
  TableSpec table;
  table.name = entry.key;
  table.line = entry.key_node.Mark().line + 1;
  RETURN_IF_ERROR(CheckName(entry.key_node, field, "table", table.name));
  if (!entry.value.IsMap()) {
    return file_.Error(entry.value.IsNull() ? entry.key_node : entry.value, field,
                       "expected a mapping: {from: <source>, key: [...], version: <column>} for a "
                       "curated table or {sql: <file>} for a mart");
  }
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  const YamlEntry* from = FindEntry(keys, "from");
  const YamlEntry* sql = FindEntry(keys, "sql");
  if (from && sql) {
    return file_.Error(sql->key_node, field,
                       "has both `from` (curated table) and `sql` (mart); use one");
  }
  if (!from && !sql) {
    return file_.Error(entry.key_node, field,
                       "needs either `from: <source>` (a curated table) or `sql: <file>` (a mart)");
  }
  if (from) {
    table.kind = TableKind::kCurated;
    RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"from", "key", "version", "tests"},
                                    "a curated table is partitioned like its source"));
    RETURN_IF_ERROR(ParseCurated(entry, keys, &table));
    curated_.push_back(std::move(table));
  } else {
    table.kind = TableKind::kMart;
    RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"sql", "partition_by", "tests"}));
    RETURN_IF_ERROR(ParseMart(entry, keys, &table));
    marts_.push_back(std::move(table));
  }
  return Status::OK();
}

Status ProjectLoader::CheckColumn(const YAML::Node& at, const std::string& field,
                                  const std::string& column, const Contract* contract) {
  if (!IsValidIdentifier(column)) {
    return file_.Error(at, field,
                       "'" + column + "' is not a valid column name (" + IdentifierRule() + ")");
  }
  if (contract != nullptr && contract->Find(column) < 0) {
    return file_.Error(at, field,
                       "column '" + column + "' is not in contract '" + contract->name + "' (" +
                           contract->path + ")");
  }
  return Status::OK();
}

Status ProjectLoader::ParseCurated(const YamlEntry& entry, const std::vector<YamlEntry>& keys,
                                   TableSpec* t) {
  const std::string field = "tables." + entry.key;
  const YamlEntry* from = FindEntry(keys, "from");
  ASSIGN_OR_RETURN(t->from, file_.String(from->value, field + ".from"));
  const SourceSpec* source = spec_.FindSource(t->from);
  if (source == nullptr) {
    std::vector<std::string> known;
    for (const auto& s : spec_.sources) known.push_back(s.name);
    return file_.Error(from->value, field + ".from",
                       "source '" + t->from + "' is not defined under sources (known: " +
                           (known.empty() ? std::string("none") : JoinNames(known)) + ")");
  }
  const Contract& contract = source->contract;
  t->partition_by = source->partition_by;

  const YamlEntry* key = FindEntry(keys, "key");
  if (key == nullptr) {
    return file_.Error(entry.key_node, field + ".key",
                       "missing; a curated table merges by a business key, e.g. key: [order_id]");
  }
  ASSIGN_OR_RETURN(t->key, file_.StringList(key->value, field + ".key", /*allow_single=*/true));
  if (t->key.empty()) return file_.Error(key->value, field + ".key", "names no columns");
  std::set<std::string> seen;
  for (size_t i = 0; i < t->key.size(); ++i) {
    YAML::Node at = key->value.IsSequence() ? key->value[i] : key->value;
    RETURN_IF_ERROR(CheckColumn(at, field + ".key", t->key[i], &contract));
    // A NULL key or version has no place in "the highest version per key wins" (G3).
    if (!contract.columns[static_cast<size_t>(contract.Find(t->key[i]))].required) {
      return file_.Error(at, field + ".key",
                         "key column '" + t->key[i] + "' must be required: true in contract '" +
                             contract.name + "' (" + contract.path + ")");
    }
    // An empty key would merge every such row into one (docs/CONTRACTS.md, empty values).
    const ColumnSpec& kcol = contract.columns[static_cast<size_t>(contract.Find(t->key[i]))];
    if (kcol.allow_empty) {
      return file_.Error(at, field + ".key",
                         "key column '" + t->key[i] + "' sets allow_empty in contract '" +
                             contract.name + "' (" + contract.path + ":" + std::to_string(kcol.line) +
                             "); a key may not be empty");
    }
    if (!seen.insert(t->key[i]).second) {
      return file_.Error(at, field + ".key", "column '" + t->key[i] + "' is listed twice");
    }
  }

  const YamlEntry* version = FindEntry(keys, "version");
  if (version == nullptr) {
    return file_.Error(entry.key_node, field + ".version",
                       "missing; name the column whose highest value wins, e.g. version: seq");
  }
  ASSIGN_OR_RETURN(t->version, file_.String(version->value, field + ".version"));
  RETURN_IF_ERROR(CheckColumn(version->value, field + ".version", t->version, &contract));
  const ColumnSpec& vcol = contract.columns[static_cast<size_t>(contract.Find(t->version))];
  switch (vcol.type.kind) {
    case TypeKind::kInt32:
    case TypeKind::kInt64:
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kDecimal:
    case TypeKind::kDate:
    case TypeKind::kTimestamp: break;
    default:
      return file_.Error(version->value, field + ".version",
                         "column '" + t->version + "' is " + vcol.type.Name() +
                             "; a version column must be int32, int64, float, double, decimal, date or timestamp");
  }
  if (!vcol.required) {
    return file_.Error(version->value, field + ".version",
                       "version column '" + t->version + "' must be required: true in contract '" +
                           contract.name + "' (" + contract.path + ")");
  }

  if (const YamlEntry* tests = FindEntry(keys, "tests")) {
    RETURN_IF_ERROR(ParseTests(*tests, field + ".tests", &contract, &t->tests));
  }
  return Status::OK();
}

Status ProjectLoader::ParseMart(const YamlEntry& entry, const std::vector<YamlEntry>& keys,
                                TableSpec* t) {
  const std::string field = "tables." + entry.key;
  const YamlEntry* sql = FindEntry(keys, "sql");
  ASSIGN_OR_RETURN(std::string path, file_.String(sql->value, field + ".sql"));
  if (path.empty()) return file_.Error(sql->value, field + ".sql", "is empty");
  t->sql_path = Absolute(spec_.root, path);
  Result<std::string> text = ReadSpecFile(t->sql_path, kMaxSqlBytes);
  if (!text.ok()) {
    std::string why = text.status().message();
    if (why.rfind(t->sql_path, 0) == 0) why = why.substr(t->sql_path.size());
    if (why.rfind(": ", 0) == 0) why = why.substr(2);
    return file_.Error(sql->value, field + ".sql", "cannot read SQL model " + path + ": " + why);
  }
  t->sql = std::move(*text);
  sql_nodes_[t->name] = sql->value;
  sql_paths_[t->name] = path;

  if (const YamlEntry* part = FindEntry(keys, "partition_by"); part && !part->value.IsNull()) {
    const std::string f = field + ".partition_by";
    ASSIGN_OR_RETURN(auto pkeys, file_.Entries(part->value, f));
    RETURN_IF_ERROR(file_.CheckKeys(pkeys, f, {"day", "tenant"}));
    for (const auto& e : pkeys) {
      ASSIGN_OR_RETURN(std::string column, file_.String(e.value, f + "." + e.key));
      RETURN_IF_ERROR(CheckColumn(e.value, f + "." + e.key, column, nullptr));
      (e.key == "day" ? t->partition_by.day : t->partition_by.tenant) = column;
    }
  }
  if (const YamlEntry* tests = FindEntry(keys, "tests")) {
    RETURN_IF_ERROR(ParseTests(*tests, field + ".tests", nullptr, &t->tests));
  }
  return Status::OK();
}

Status ProjectLoader::ParseTests(const YamlEntry& entry, const std::string& field,
                                 const Contract* contract, std::vector<TableTest>* tests) {
  if (entry.value.IsNull()) return Status::OK();
  if (!entry.value.IsSequence()) {
    return file_.Error(entry.value, field,
                       "expected a list such as [{not_null: id}, {unique: id}]");
  }
  const std::vector<std::string> kinds = {"not_null", "unique", "accepted_values", "relationships",
                                          "range", "freshness", "row_count_change", "sql"};
  for (size_t i = 0; i < entry.value.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    YAML::Node item = entry.value[i];
    if (!item.IsMap() || item.size() < 1 || item.size() > 2) {
      return file_.Error(item, f,
                         "expected one test such as {not_null: id}, {unique: [a, b]} or "
                         "{range: {column: c, min: 0}, severity: warn}");
    }
    ASSIGN_OR_RETURN(auto kv, file_.Entries(item, f));
    TableTest test;
    const YamlEntry* test_entry = nullptr;
    for (const auto& e : kv) {
      if (e.key == "severity") {
        ASSIGN_OR_RETURN(std::string sev, file_.String(e.value, f + ".severity"));
        if (sev != "error" && sev != "warn") {
          return file_.Error(e.value, f + ".severity",
                             "unknown severity '" + sev + "' (known: error, warn)");
        }
        test.severity = sev == "warn" ? Severity::kWarn : Severity::kError;
      } else if (test_entry != nullptr) {
        return file_.Error(e.key_node, f,
                           "one test per list item: '" + test_entry->key + "' and '" + e.key +
                               "' (only `severity` may sit beside a test)");
      } else {
        test_entry = &e;
      }
    }
    if (test_entry == nullptr) {
      return file_.Error(item, f, "names no test, only a severity (known tests: " + JoinNames(kinds) + ")");
    }
    const YamlEntry& e = *test_entry;
    test.kind = e.key;
    test.line = e.key_node.Mark().line + 1;
    const std::string tf = f + "." + e.key;
    // The options mapping of a test written as {kind: {...}}, with its required keys.
    std::vector<YamlEntry> opts;
    auto options = [&](const std::vector<std::string>& known,
                       const std::vector<std::string>& required) -> Status {
      ASSIGN_OR_RETURN(opts, file_.Entries(e.value, tf));
      RETURN_IF_ERROR(file_.CheckKeys(opts, tf, known));
      for (const auto& r : required) {
        if (FindEntry(opts, r) == nullptr) {
          return file_.Error(e.value, tf, "missing `" + r + "` (needs: " + JoinNames(required) + ")");
        }
      }
      return Status::OK();
    };
    std::vector<YAML::Node> column_nodes;  // where each of test.columns was written
    auto column_option = [&]() -> Status {
      const YamlEntry* column = FindEntry(opts, "column");
      ASSIGN_OR_RETURN(std::string col, file_.String(column->value, tf + ".column"));
      test.columns.push_back(std::move(col));
      column_nodes.push_back(column->value);
      return Status::OK();
    };
    if (e.key == "not_null") {
      ASSIGN_OR_RETURN(std::string col, file_.String(e.value, tf));
      test.columns.push_back(std::move(col));
      column_nodes.push_back(e.value);
    } else if (e.key == "unique") {
      ASSIGN_OR_RETURN(test.columns, file_.StringList(e.value, tf, /*allow_single=*/true));
      if (test.columns.empty()) return file_.Error(e.value, tf, "names no columns");
      for (size_t c = 0; c < test.columns.size(); ++c) {
        column_nodes.push_back(e.value.IsSequence() ? e.value[c] : e.value);
      }
    } else if (e.key == "accepted_values") {
      RETURN_IF_ERROR(options({"column", "values"}, {"column", "values"}));
      RETURN_IF_ERROR(column_option());
      const YamlEntry* values = FindEntry(opts, "values");
      ASSIGN_OR_RETURN(test.values, file_.StringList(values->value, tf + ".values", false));
      if (test.values.empty()) return file_.Error(values->value, tf + ".values", "lists no values");
    } else if (e.key == "relationships") {
      RETURN_IF_ERROR(options({"column", "to", "field"}, {"column", "to", "field"}));
      RETURN_IF_ERROR(column_option());
      const YamlEntry* to = FindEntry(opts, "to");
      ASSIGN_OR_RETURN(test.to_table, file_.String(to->value, tf + ".to"));
      const size_t dot = test.to_table.find('.');
      const std::string layer = dot == std::string::npos ? "" : test.to_table.substr(0, dot);
      if ((layer != "curated" && layer != "marts") ||
          !IsValidIdentifier(test.to_table.substr(dot + 1))) {
        return file_.Error(to->value, tf + ".to",
                           "'" + test.to_table + "' is not a table; write curated.<table> or marts.<table>");
      }
      const YamlEntry* to_field = FindEntry(opts, "field");
      ASSIGN_OR_RETURN(test.to_field, file_.String(to_field->value, tf + ".field"));
      RETURN_IF_ERROR(CheckColumn(to_field->value, tf + ".field", test.to_field, nullptr));
      relationship_refs_.push_back({to->value, to_field->value, tf, test.to_table, test.to_field});
    } else if (e.key == "range") {
      RETURN_IF_ERROR(options({"column", "min", "max"}, {"column"}));
      RETURN_IF_ERROR(column_option());
      for (const char* bound : {"min", "max"}) {
        if (const YamlEntry* b = FindEntry(opts, bound)) {
          ASSIGN_OR_RETURN(std::string v, file_.String(b->value, tf + "." + bound));
          if (v.empty()) return file_.Error(b->value, tf + "." + bound, "is empty");
          (std::string(bound) == "min" ? test.min : test.max) = std::move(v);
        }
      }
      if (test.min.empty() && test.max.empty()) {
        return file_.Error(e.value, tf, "needs `min`, `max` or both");
      }
    } else if (e.key == "freshness") {
      RETURN_IF_ERROR(options({"column", "max_age"}, {"column", "max_age"}));
      RETURN_IF_ERROR(column_option());
      const YamlEntry* age = FindEntry(opts, "max_age");
      ASSIGN_OR_RETURN(test.max_age, file_.String(age->value, tf + ".max_age"));
      std::optional<int64_t> secs = ParseDuration(test.max_age);
      if (!secs || *secs <= 0) {
        return file_.Error(age->value, tf + ".max_age",
                           "'" + test.max_age + "' is not a duration; write e.g. 30m, 24h or 7d");
      }
      test.max_age_seconds = *secs;
      if (contract != nullptr && contract->Find(test.columns[0]) >= 0) {
        TypeKind k = contract->columns[static_cast<size_t>(contract->Find(test.columns[0]))].type.kind;
        if (k != TypeKind::kDate && k != TypeKind::kTimestamp) {
          return file_.Error(column_nodes[0], tf + ".column",
                             "column '" + test.columns[0] + "' is not a date or timestamp");
        }
      }
    } else if (e.key == "row_count_change") {
      RETURN_IF_ERROR(options({"max_pct"}, {"max_pct"}));
      const YamlEntry* pct = FindEntry(opts, "max_pct");
      ASSIGN_OR_RETURN(test.max_pct, file_.Number(pct->value, tf + ".max_pct"));
      if (test.max_pct < 0) return file_.Error(pct->value, tf + ".max_pct", "must be >= 0");
    } else if (e.key == "sql") {
      ASSIGN_OR_RETURN(test.sql, file_.String(e.value, tf));
      while (!test.sql.empty() && (std::isspace(static_cast<unsigned char>(test.sql.back())) ||
                                   test.sql.back() == ';')) {
        test.sql.pop_back();
      }
      if (test.sql.empty()) {
        return file_.Error(e.value, tf, "is empty; write a query returning the failing rows");
      }
    } else {
      return file_.Error(e.key_node, tf,
                         "unknown test '" + e.key + "' (known: " + JoinNames(kinds) + ")");
    }
    for (size_t c = 0; c < test.columns.size(); ++c) {
      RETURN_IF_ERROR(CheckColumn(column_nodes[c], tf, test.columns[c], contract));
    }
    tests->push_back(std::move(test));
  }
  return Status::OK();
}

Status ProjectLoader::ResolveRelationships() {
  for (const auto& ref : relationship_refs_) {
    const std::string layer = ref.table.substr(0, ref.table.find('.'));
    const std::string name = ref.table.substr(ref.table.find('.') + 1);
    const std::vector<TableSpec>& pool = layer == "curated" ? curated_ : marts_;
    const TableSpec* target = nullptr;
    for (const auto& t : pool) {
      if (t.name == name) target = &t;
    }
    if (target == nullptr) {
      std::vector<std::string> known;
      for (const auto& t : pool) known.push_back(layer + "." + t.name);
      return file_.Error(ref.to_node, ref.field + ".to",
                         "unknown table " + ref.table + " (known: " +
                             (known.empty() ? std::string("none") : JoinNames(known)) + ")");
    }
    if (layer == "curated") {
      const SourceSpec* source = spec_.FindSource(target->from);
      if (source != nullptr) {
        RETURN_IF_ERROR(CheckColumn(ref.field_node, ref.field + ".field", ref.column, &source->contract));
      }
    }
  }
  return Status::OK();
}

Status ProjectLoader::ResolveMartRefs() {
  std::set<std::string> curated_names, mart_names;
  std::vector<std::string> curated_list, mart_list, source_list;
  for (const auto& t : curated_) curated_names.insert(t.name), curated_list.push_back(t.name);
  for (const auto& t : marts_) mart_names.insert(t.name), mart_list.push_back(t.name);
  for (const auto& s : spec_.sources) source_list.push_back(s.name);
  auto known = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("none") : JoinNames(v);
  };
  for (auto& mart : marts_) {
    const std::string field = "tables." + mart.name + ".sql";
    const std::string& sql_path = sql_paths_[mart.name];
    for (const SqlTableRef& ref : FindTableRefs(mart.sql)) {
      auto error = [&](const std::string& what) {
        return Status::InvalidArgument(sql_path + ":" + std::to_string(ref.line) + ":" +
                                       std::to_string(ref.column) + ": " + field + ": " + what);
      };
      const std::string ref_text = ref.schema + "." + ref.name;
      if (ref.schema == "curated") {
        if (curated_names.count(ref.name) == 0) {
          std::string what = "unknown table " + ref_text + ": '" + ref.name +
                             "' is not a curated table (known: " + known(curated_list) + ")";
          if (mart_names.count(ref.name)) what += "; it is a mart, write marts." + ref.name;
          return error(what);
        }
      } else if (ref.schema == "marts") {
        if (mart_names.count(ref.name) == 0) {
          std::string what = "unknown table " + ref_text + ": '" + ref.name +
                             "' is not a mart (known: " + known(mart_list) + ")";
          if (curated_names.count(ref.name)) what += "; it is a curated table, write curated." + ref.name;
          return error(what);
        }
        bool dup = false;
        for (const auto& d : mart.depends_on) dup = dup || d == ref.name;
        if (!dup) mart.depends_on.push_back(ref.name);
      } else if (ref.schema == "staging") {
        if (spec_.FindSource(ref.name) == nullptr) {
          return error("unknown table " + ref_text + ": '" + ref.name +
                       "' is not a source (known: " + known(source_list) + ")");
        }
        bool dup = false;
        for (const auto& d : mart.reads_staging) dup = dup || d == ref.name;
        if (!dup) mart.reads_staging.push_back(ref.name);
      }
    }
  }
  return Status::OK();
}

Status ProjectLoader::OrderTables() {
  std::vector<TableSpec> ordered = std::move(curated_);
  std::vector<bool> placed(marts_.size(), false);
  std::set<std::string> done;
  std::vector<size_t> order;  // indexes into marts_, dependencies first
  size_t remaining = marts_.size();
  while (remaining > 0) {
    bool progress = false;
    for (size_t i = 0; i < marts_.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (const auto& d : marts_[i].depends_on) ready = ready && done.count(d) > 0;
      if (!ready) continue;
      placed[i] = true;
      done.insert(marts_[i].name);
      order.push_back(i);
      --remaining;
      progress = true;
      break;  // restart so that the earliest ready mart in file order always goes next
    }
    if (progress) continue;
    // Every unplaced mart waits on another unplaced one: walk until a name repeats.
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < marts_.size(); ++i) index[marts_[i].name] = i;
    size_t cur = 0;
    while (placed[cur]) ++cur;
    std::vector<size_t> path;
    while (std::find(path.begin(), path.end(), cur) == path.end()) {
      path.push_back(cur);
      for (const auto& d : marts_[cur].depends_on) {
        if (!placed[index[d]]) {
          cur = index[d];
          break;
        }
      }
    }
    auto start = std::find(path.begin(), path.end(), cur);
    std::string cycle;
    for (auto it = start; it != path.end(); ++it) cycle += marts_[*it].name + " -> ";
    cycle += marts_[cur].name;
    const TableSpec& first = marts_[*start];
    return file_.Error(sql_nodes_[first.name], "tables." + first.name + ".sql",
                       "marts depend on each other in a cycle: " + cycle);
  }
  for (size_t i : order) ordered.push_back(std::move(marts_[i]));
  spec_.tables = std::move(ordered);
  return Status::OK();
}

}  // namespace

std::string TableTest::Describe() const {
  if (kind == "row_count_change") return kind;
  if (kind == "sql") {
    // The query itself, on one line and shortened: it is the test's only name.
    std::string q;
    for (char c : sql) {
      bool space = std::isspace(static_cast<unsigned char>(c));
      if (space && (q.empty() || q.back() == ' ')) continue;
      q += space ? ' ' : c;
    }
    if (q.size() > 60) q = q.substr(0, 57) + "...";
    return "sql(" + q + ")";
  }
  std::string out = kind + "(";
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + columns[i];
  return out + ")";
}

std::optional<int64_t> ParseDuration(const std::string& text) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return std::nullopt;
  }
}

std::optional<int64_t> ParseDurationMillis(const std::string& text) {
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "ms") == 0) {
    std::string digits = text.substr(0, text.size() - 2);
    if (digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(digits);
  }
  std::optional<int64_t> s = ParseDuration(text);
  if (!s) return std::nullopt;
  return *s * 1000;
}

const char* SourceTypeName(SourceType type) {
  switch (type) {
    case SourceType::kFiles: return "files";
    case SourceType::kHttp: return "http";
    case SourceType::kNats: return "nats";
  }
  return "?";
}

const SourceSpec* ProjectSpec::FindSource(const std::string& name) const {
  for (const auto& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const TableSpec* ProjectSpec::FindTable(const std::string& name) const {
  for (const auto& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<ProjectSpec> LoadProject(const std::string& project_dir) {
  const std::string dir = project_dir.empty() ? "." : project_dir;
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(dir), ec);
  if (ec) return Status::InvalidArgument(dir + ": cannot resolve project directory: " + ec.message());
  ProjectSpec spec;
  spec.root = Absolute(abs, ".");
  spec.spec_path = Absolute(spec.root, kSpecFile);
  if (!Env::Default()->Exists(spec.spec_path)) {
    return Status::NotFound("no sluice.yaml in " + dir + " (run `sluice init DIR` to create a project)");
  }
  Result<std::string> text = ReadSpecFile(spec.spec_path, kMaxYamlBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no sluice.yaml in " + dir +
                              " (run `sluice init DIR` to create a project)");
    }
    std::string why = text.status().message();
    if (why.rfind(spec.spec_path, 0) == 0) why = kSpecFile + why.substr(spec.spec_path.size());
    return Status(text.status().code(), why);
  }
  Status st = CatchYamlErrors(kSpecFile, [&]() -> Status {
    ASSIGN_OR_RETURN(YamlFile file, YamlFile::Parse(*text, kSpecFile));
    return ProjectLoader(file, &spec).Load();
  });
  if (!st.ok()) return st;
  return spec;
}

}  // namespace sluice
