// `tables:` of sluice.yaml: curated tables (from, key, version) and marts (sql, partition_by).
#include <set>

#include "spec/project_loader.h"

namespace sluice {

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
    return file_.Error(sql->key_node, field, "has both `from` (curated table) and `sql` (mart); use one");
  }
  if (!from && !sql) {
    return file_.Error(entry.key_node, field,
                       "needs either `from: <source>` (a curated table) or `sql: <file>` (a mart)");
  }
  if (const YamlEntry* retention = FindEntry(keys, "retention")) {
    ASSIGN_OR_RETURN(auto entries, file_.Entries(retention->value, field + ".retention"));
    RETURN_IF_ERROR(
        file_.CheckKeys(entries, field + ".retention", {"snapshots"}, "staging retention is set per source"));
    if (const YamlEntry* snapshots = FindEntry(entries, "snapshots")) {
      ASSIGN_OR_RETURN(table.snapshot_retention,
                       ParseSnapshotRetention(file_, *snapshots, field + ".retention.snapshots"));
    }
  }
  if (from) {
    table.kind = TableKind::kCurated;
    RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"from", "key", "version", "columns", "tests", "retention"},
                                    "a curated table is partitioned like its source"));
    RETURN_IF_ERROR(ParseCurated(entry, keys, &table));
    curated_.push_back(std::move(table));
  } else {
    table.kind = TableKind::kMart;
    RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"sql", "partition_by", "tests", "retention"}));
    RETURN_IF_ERROR(ParseMart(entry, keys, &table));
    marts_.push_back(std::move(table));
  }
  return Status::OK();
}

Status ProjectLoader::ParseCurated(const YamlEntry& entry, const std::vector<YamlEntry>& keys, TableSpec* t) {
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
                         "key column '" + t->key[i] + "' sets allow_empty in contract '" + contract.name +
                             "' (" + contract.path + ":" + std::to_string(kcol.line) +
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
    case TypeKind::kTimestamp:
      break;
    default:
      return file_.Error(
          version->value, field + ".version",
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
  if (const YamlEntry* columns = FindEntry(keys, "columns")) {
    RETURN_IF_ERROR(ParseHeldColumns(*columns, field + ".columns", contract, t));
  }
  return Status::OK();
}

// `columns: [...]` of a curated table: contract columns, each once; the key, version and
// partition columns are held whether listed or not, and every test column must be held.
Status ProjectLoader::ParseHeldColumns(const YamlEntry& entry, const std::string& field,
                                       const Contract& contract, TableSpec* t) {
  ASSIGN_OR_RETURN(t->columns, file_.StringList(entry.value, field, /*allow_single=*/false));
  if (t->columns.empty()) return file_.Error(entry.value, field, "names no columns");
  std::set<std::string> seen;
  for (size_t i = 0; i < t->columns.size(); ++i) {
    YAML::Node at = entry.value.IsSequence() ? entry.value[i] : entry.value;
    RETURN_IF_ERROR(CheckColumn(at, field, t->columns[i], &contract));
    if (!seen.insert(t->columns[i]).second) {
      return file_.Error(at, field, "column '" + t->columns[i] + "' is listed twice");
    }
  }
  std::vector<std::string> implied = t->key;
  implied.push_back(t->version);
  for (const auto* p : {&t->partition_by.day, &t->partition_by.tenant}) {
    if (!p->empty()) implied.push_back(*p);
  }
  for (const auto& c : implied) {
    if (seen.insert(c).second) t->columns.push_back(c);
  }
  for (const auto& test : t->tests) {
    for (const auto& c : test.columns) {
      if (seen.count(c) == 0) {
        return file_.Error(entry.value, field,
                           "column '" + c + "' is used by test " + test.Describe() +
                               " but the table does not hold it; add it to columns");
      }
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseMart(const YamlEntry& entry, const std::vector<YamlEntry>& keys, TableSpec* t) {
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
      t->output_columns.push_back(OutputColumn(e.value, f + "." + e.key, column));
    }
  }
  if (const YamlEntry* tests = FindEntry(keys, "tests")) {
    RETURN_IF_ERROR(ParseTests(*tests, field + ".tests", nullptr, &t->tests, &t->output_columns));
  }
  return Status::OK();
}

}  // namespace sluice
