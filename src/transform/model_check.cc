#include "transform/model_check.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "transform/curate.h"

namespace sluice {

using duck::Ident;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Status CheckOne(Catalog& catalog, const TableSpec& mart) {
  auto& conn = catalog.conn();
  const std::string model = "(" + mart.sql + "\n)";
  const std::string context = "mart " + mart.name + " (" + mart.sql_path + ")";
  Result<duck::Rows> bound = conn.Query("DESCRIBE SELECT * FROM " + model);
  if (!bound.ok()) return bound.status().WithContext(context);
  const duck::Rows& described = *bound;
  std::vector<std::string> outputs;
  outputs.reserve(described.rows.size());
  for (size_t r = 0; r < described.rows.size(); ++r) outputs.push_back(described.At(r, 0));
  for (const OutputColumnRef& ref : mart.output_columns) {
    // DuckDB matches column names case-insensitively, as every later use of this one does.
    bool found = std::any_of(outputs.begin(), outputs.end(),
                             [&](const std::string& o) { return Lower(o) == Lower(ref.column); });
    if (!found) {
      std::string list;
      for (const auto& o : outputs) list += (list.empty() ? "" : ", ") + o;
      return Status::InvalidArgument(ref.where + ": column '" + ref.column + "' is not an output of model " +
                                     mart.sql_path + " (outputs: " + list + ")");
    }
  }
  // Marts read later see this model's columns, whether the mart was built before or not.
  return conn.Execute("DROP TABLE IF EXISTS marts." + Ident(mart.name) + "; CREATE VIEW marts." +
                      Ident(mart.name) + " AS SELECT * FROM " + model);
}

}  // namespace

Status CheckMartModels(Catalog& catalog) {
  const auto& tables = catalog.spec().tables;
  if (std::none_of(tables.begin(), tables.end(),
                   [](const TableSpec& t) { return t.kind == TableKind::kMart; })) {
    return Status::OK();
  }
  RETURN_IF_ERROR(catalog.Begin());
  Status st = [&]() -> Status {
    for (const auto& t : tables) {
      if (t.kind == TableKind::kCurated) RETURN_IF_ERROR(EnsureCuratedTable(catalog, t));
    }
    for (const auto& t : tables) {
      if (t.kind == TableKind::kMart) RETURN_IF_ERROR(CheckOne(catalog, t));
    }
    return Status::OK();
  }();
  Status rolled_back = catalog.Rollback();
  RETURN_IF_ERROR(st);
  return rolled_back;
}

}  // namespace sluice
