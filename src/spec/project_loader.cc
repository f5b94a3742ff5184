// The top level of sluice.yaml, and the checks of names and columns every part uses.
#include "spec/project_loader.h"

#include <algorithm>
#include <filesystem>

namespace sluice {

namespace fs = std::filesystem;

std::string FormatName(SourceFormat f) {
  switch (f) {
    case SourceFormat::kJsonl:
      return "jsonl";
    case SourceFormat::kCsv:
      return "csv";
    case SourceFormat::kParquet:
      return "parquet";
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

std::string NotOneSelect(const duck::ParsedSql& parsed) {
  switch (parsed.kind) {
    case duck::SqlStatementKind::kInvalid:
      return parsed.ErrorWithPosition();
    case duck::SqlStatementKind::kNone:
      return "holds no SQL statement; write one SELECT";
    case duck::SqlStatementKind::kSelect:
      if (parsed.statement_count == 1) return "";
      return "holds " + std::to_string(parsed.statement_count) + " statements; write one SELECT";
    case duck::SqlStatementKind::kExplain:
    case duck::SqlStatementKind::kOther:
      break;
  }
  return "'" + parsed.excerpt + "' is not a SELECT statement; write one SELECT";
}

void AddOnce(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

std::string LakeSchema(const duck::SqlTableRef& ref) {
  return ref.catalog.empty() || ref.catalog == "lake" ? ref.schema : std::string();
}

Result<duck::ParsedSql> ProjectLoader::ParseSql(const std::string& sql) {
  if (sql_conn_ == nullptr) {
    duck::OpenOptions options;
    options.threads = 1;
    ASSIGN_OR_RETURN(sql_conn_, duck::Connection::Open(options));
  }
  return duck::ParseSql(*sql_conn_, sql);
}

Status ProjectLoader::Load() {
  ASSIGN_OR_RETURN(auto top, file_.Entries(file_.root(), ""));
  RETURN_IF_ERROR(file_.CheckKeys(top, "",
                                  {"name",          //
                                   "lake",          //
                                   "sources",       //
                                   "tables",        //
                                   "dlq",           //
                                   "transform",     //
                                   "memory_limit",  //
                                   "consumers",     //
                                   "feeds",         //
                                   "slo",           //
                                   "lineage",       //
                                   "retention",     //
                                   "serve"}));
  if (const YamlEntry* transform = FindEntry(top, "transform"); transform && !transform->value.IsNull()) {
    RETURN_IF_ERROR(ParseTransform(*transform));
  }
  if (const YamlEntry* dlq = FindEntry(top, "dlq"); dlq && !dlq->value.IsNull()) {
    RETURN_IF_ERROR(ParseDlq(*dlq));
  }
  if (const YamlEntry* memory = FindEntry(top, "memory_limit")) RETURN_IF_ERROR(ParseMemoryLimit(*memory));
  if (const YamlEntry* lineage = FindEntry(top, "lineage"); lineage && !lineage->value.IsNull()) {
    RETURN_IF_ERROR(ParseLineage(*lineage));
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
  if (const YamlEntry* retention = FindEntry(top, "retention"); retention && !retention->value.IsNull()) {
    RETURN_IF_ERROR(ParseRetention(file_, *retention, spec_));
  } else {
    spec_.retention.cold_path = spec_.lake + "/cold";
  }
  RETURN_IF_ERROR(ResolveMartRefs());
  RETURN_IF_ERROR(ResolveRelationships());
  RETURN_IF_ERROR(OrderTables());
  // After sources and tables: its scopes name them.
  if (const YamlEntry* serve = FindEntry(top, "serve"); serve && !serve->value.IsNull()) {
    RETURN_IF_ERROR(ParseServe(*serve));
  }
  RETURN_IF_ERROR(ParseConsumers(file_, top, spec_));
  if (const YamlEntry* slo = FindEntry(top, "slo"); slo && !slo->value.IsNull()) {
    RETURN_IF_ERROR(ParseSlo(file_, *slo, spec_));
  }
  return Status::OK();
}

Status ProjectLoader::CheckColumn(const YAML::Node& at, const std::string& field, const std::string& column,
                                  const Contract* contract) {
  if (!IsValidIdentifier(column)) {
    return file_.Error(at, field, "'" + column + "' is not a valid column name (" + IdentifierRule() + ")");
  }
  if (contract != nullptr && contract->Find(column) < 0) {
    return file_.Error(
        at, field,
        "column '" + column + "' is not in contract '" + contract->name + "' (" + contract->path + ")");
  }
  return Status::OK();
}

}  // namespace sluice
