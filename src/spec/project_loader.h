// ProjectLoader: turns a parsed sluice.yaml into a ProjectSpec. Private to spec/.
//
// The loader is split by concern: project_loader.cc (top-level keys, names and columns),
// project_settings.cc (transform:, dlq:, memory_limit:), source_loader.cc
// (sources), table_loader.cc (curated tables and marts), table_tests_loader.cc (`tests:`),
// table_order.cc (cross-references between tables and their order). Every method returns
// InvalidArgument naming file:line:col and the field on bad input. Not thread-safe; one instance
// per LoadProject call.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "duck/sql_parser.h"
#include "spec/spec.h"
#include "spec/yaml_file.h"

namespace sluice {

inline constexpr const char* kSpecFile = "sluice.yaml";

// "jsonl", "csv" or "parquet".
std::string FormatName(SourceFormat f);

// An absolute, lexically normal path without a trailing separator.
std::string Absolute(const std::filesystem::path& root, const std::string& p);

// The entry named `key`, or null.
const YamlEntry* FindEntry(const std::vector<YamlEntry>& entries, const std::string& key);

// The identifier rule as said in messages.
std::string IdentifierRule();

// Why a parsed text is not one SELECT statement ("" when it is), for messages.
std::string NotOneSelect(const duck::ParsedSql& parsed);

// Appends `name` unless `names` holds it already.
void AddOnce(std::vector<std::string>& names, const std::string& name);

// The schema a model's table reference names, when it is one of the lake's own catalog
// (written `curated.t` or `lake.curated.t`); "" otherwise.
std::string LakeSchema(const duck::SqlTableRef& ref);

// `consumers:` and `feeds:` (consumer_loader.cc), once every table is known: each consumer
// names a curated table. InvalidArgument naming file:line:col and the field.
Status ParseConsumers(const YamlFile& file, const std::vector<YamlEntry>& top, ProjectSpec& spec);

// `slo:` (slo_loader.cc), once every source and table is known. InvalidArgument naming
// file:line:col and the key.
Status ParseSlo(const YamlFile& file, const YamlEntry& entry, ProjectSpec& spec);

// `retention:` (retention_loader.cc), once the lake is known. InvalidArgument naming
// file:line:col and the key.
Status ParseRetention(const YamlFile& file, const YamlEntry& entry, ProjectSpec& spec);
// A source's `retention: {hot, cold}` and a table's `retention: {snapshots: {...}}` (its value
// here is the `snapshots:` entry); `field` names the key in messages.
Result<StagingRetention> ParseStagingRetention(const YamlFile& file, const YamlEntry& entry,
                                               const std::string& field);
Result<SnapshotRetention> ParseSnapshotRetention(const YamlFile& file, const YamlEntry& entry,
                                                 const std::string& field);
// A positive duration such as `replay_window: 3d`, in seconds.
Result<int64_t> ParseRetentionDuration(const YamlFile& file, const YamlEntry& entry,
                                       const std::string& field);

// Loads sluice.yaml into a ProjectSpec. One instance per LoadProject call.
class ProjectLoader {
 public:
  ProjectLoader(const YamlFile& file, ProjectSpec* spec) : file_(file), spec_(*spec) {}

  Status Load();

 private:
  Status ParseSource(const YamlEntry& entry);
  Status ParseTransform(const YamlEntry& entry);
  Status ParseDlq(const YamlEntry& entry);
  Status ParseMemoryLimit(const YamlEntry& entry);
  Status ParseLineage(const YamlEntry& entry);
  // serve_loader.cc: `serve:` and each of its sections in a function of its own.
  Status ParseServe(const YamlEntry& entry);
  Status ParseServeAuth(const YamlEntry& entry);
  Status ParseServeQuery(const YamlEntry& entry);
  Status ParsePostgres(const YamlEntry& entry);  // warehouse_loader.cc
  Status ParseServeTls(const YamlEntry& entry);
  Status ParseServeLimits(const YamlEntry& entry);
  Status ParseNats(const YamlEntry& entry, SourceSpec* source);
  Status ParseBatch(const YamlEntry& entry, SourceSpec* source);
  Status ParseEventTime(const std::vector<YamlEntry>& keys, SourceSpec* source);
  Status ParseSourcePartition(const YamlEntry& entry, SourceSpec* source);
  Status ParseTable(const YamlEntry& entry);
  Status ParseCurated(const YamlEntry& entry, const std::vector<YamlEntry>& keys, TableSpec* t);
  Status ParseHeldColumns(const YamlEntry& entry, const std::string& field, const Contract& contract,
                          TableSpec* t);
  Status ParseMart(const YamlEntry& entry, const std::vector<YamlEntry>& keys, TableSpec* t);
  // `contract` is null for marts, whose output columns are only known when the SQL is bound;
  // their test columns are added to `output_columns` instead.
  Status ParseTests(const YamlEntry& entry, const std::string& field, const Contract* contract,
                    std::vector<TableTest>* tests, std::vector<OutputColumnRef>* output_columns = nullptr);
  // A mart output column named at `at` (field `field`), to be checked before a run.
  OutputColumnRef OutputColumn(const YAML::Node& at, const std::string& field,
                               const std::string& column) const {
    YAML::Mark mark = YAML::Mark::null_mark();
    if (at.IsDefined()) mark = at.Mark();
    std::string where = LocatedMessage(file_.path(), mark, field, "");
    while (!where.empty() && (where.back() == ' ' || where.back() == ':')) where.pop_back();
    return {column, where};
  }
  Status CheckColumn(const YAML::Node& at, const std::string& field, const std::string& column,
                     const Contract* contract);
  Status ResolveMartRefs();
  // A model reads the lake's tables and files under the project directory only (model_reads.cc):
  // `error` locates a message in the model file.
  using ModelErrorFn = std::function<Status(const duck::SqlPosition&, const std::string&)>;
  // The paths it reads are added to `mart.reads_files`.
  Status CheckModelReads(const duck::ParsedSql& parsed, const ModelErrorFn& error, TableSpec& mart);
  // Every `relationships` test names an existing table (and, for curated, a contract column).
  Status ResolveRelationships();
  Status OrderTables();

  // `sql` read by DuckDB's parser, on an in-memory DuckDB opened at the first use.
  Result<duck::ParsedSql> ParseSql(const std::string& sql);

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
  std::unique_ptr<duck::Connection> sql_conn_;      // for ParseSql only: nothing is stored in it
};

}  // namespace sluice
