// The project spec: sluice.yaml with its contracts and SQL models, loaded and cross-checked.
//
// LoadProject either returns a ProjectSpec in which every reference resolves (sources name
// existing contracts, tables name existing sources and columns, marts' SQL files exist) or an
// InvalidArgument that names the file, line and field. Plain data, safe to share read-only.
#pragma once

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

// A table test from `tests:`: not_null, unique, accepted_values.
struct TableTest {
  std::string kind;                 // "not_null" | "unique" | "accepted_values"
  std::vector<std::string> columns; // unique may name several: {unique: [a, b]}
  std::vector<std::string> values;  // accepted_values: {accepted_values: {column: c, values: [...]}}
  int line = 0;
  // "not_null(order_id)", "accepted_values(status)": how the test is named in messages.
  std::string Describe() const;
};

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

  const SourceSpec* FindSource(const std::string& name) const;
  const TableSpec* FindTable(const std::string& name) const;
};

// Loads <project_dir>/sluice.yaml and everything it references.
Result<ProjectSpec> LoadProject(const std::string& project_dir);

}  // namespace sluice
