// The project spec: sluice.yaml with its contracts and SQL models, loaded and cross-checked.
//
// LoadProject either returns a ProjectSpec in which every reference resolves (sources name
// existing contracts, tables name existing sources and columns, marts' SQL files exist) or an
// InvalidArgument that names the file, line and field. Plain data, safe to share read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "spec/contract.h"

namespace sluice {

// The (day, tenant) partitioning of a source or mart: column names, either may be empty.
// For a source, `day` names a date or timestamp column of its contract; for a mart, columns of
// the model's output. Partition columns of a source must be `required` in its contract.
struct PartitionBy {
  std::string day;
  std::string tenant;
  bool empty() const { return day.empty() && tenant.empty(); }
};

enum class SourceFormat { kJsonl, kCsv, kParquet };

struct SourceSpec {
  std::string name;
  std::string type = "files";     // only "files" for now
  std::string path;               // glob, absolute (resolved against the project root)
  SourceFormat format = SourceFormat::kJsonl;
  std::string contract_path;      // absolute
  Contract contract;
  PartitionBy partition_by;
  char csv_delimiter = ',';       // csv only: `csv: {delimiter: ";"}`
  int line = 0;
};

// How a failing table test is treated: `error` blocks (quarantines the batch on curated, fails
// the marts step), `warn` is recorded in meta.test_results and lets the data through.
enum class Severity { kError, kWarn };

// A table test from `tests:`. Every kind takes an optional sibling `severity: warn|error`:
//   {not_null: c}, {unique: c | [a, b]}, {accepted_values: {column: c, values: [...]}},
//   {relationships: {column: c, to: curated.t, field: f}}, {range: {column: c, min: x, max: y}},
//   {freshness: {column: c, max_age: 24h}}, {row_count_change: {max_pct: 50}}, {sql: "SELECT ..."}.
struct TableTest {
  std::string kind;                 // one of the kinds above
  std::vector<std::string> columns; // unique may name several; row_count_change and sql none
  std::vector<std::string> values;  // accepted_values
  Severity severity = Severity::kError;
  std::string to_table;             // relationships: "curated.customers" or "marts.x"
  std::string to_field;             // relationships: the referenced column
  std::string min, max;             // range: bounds as written ("" = unbounded), inclusive
  std::string max_age;              // freshness: as written, e.g. "24h"
  int64_t max_age_seconds = 0;      // freshness: parsed
  double max_pct = 0;               // row_count_change
  std::string sql;                  // sql: a query returning the failing rows
  int line = 0;
  // "not_null(order_id)", "range(amount)", "row_count_change", "sql(SELECT ...)": how the test
  // is named in messages and in meta.test_results.
  std::string Describe() const;
  const char* SeverityName() const { return severity == Severity::kWarn ? "warn" : "error"; }
};

// "30s", "30m", "24h", "7d" as seconds; nullopt for anything else.
std::optional<int64_t> ParseDuration(const std::string& text);

enum class TableKind { kCurated, kMart };

struct TableSpec {
  std::string name;
  TableKind kind = TableKind::kCurated;
  // Curated: merge the source `from` by `key`, highest `version` wins (ties: later batch).
  std::string from;
  std::vector<std::string> key;
  std::string version;
  // Mart: a SELECT over curated.<t> / marts.<t>; `sql` holds the file's text.
  std::string sql_path;  // absolute
  std::string sql;
  PartitionBy partition_by;  // for curated: inherited from the source
  std::vector<TableTest> tests;
  std::vector<std::string> depends_on;  // marts.<t> names this model reads (marts only)
  int line = 0;
};

struct ProjectSpec {
  std::string name;
  std::string root;       // absolute project directory
  std::string spec_path;  // absolute path of sluice.yaml
  std::string lake;       // absolute lake directory
  std::vector<SourceSpec> sources;  // in file order
  std::vector<TableSpec> tables;    // curated first, then marts in dependency order
  // `dlq: {retention: 30d}`: `sluice vacuum` deletes DLQ rows ingested longer ago than this
  // many seconds; nullopt (the default) keeps them forever.
  std::optional<int64_t> dlq_retention_seconds;

  const SourceSpec* FindSource(const std::string& name) const;
  const TableSpec* FindTable(const std::string& name) const;
};

// Loads <project_dir>/sluice.yaml and everything it references.
Result<ProjectSpec> LoadProject(const std::string& project_dir);

}  // namespace sluice
