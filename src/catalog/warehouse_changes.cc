#include "catalog/warehouse_changes.h"

#include <algorithm>

namespace sluice {

using duck::Literal;

bool WarehouseTracked(const ProjectSpec& spec, const std::string& table) {
  if (!spec.serve.postgres) return false;
  const auto& names = spec.serve.postgres->publish;
  return std::find(names.begin(), names.end(), "curated." + table) != names.end() ||
         std::find(names.begin(), names.end(), "marts." + table) != names.end();
}

Status SyncWarehouseTracking(Catalog& catalog) {
  std::string keep = "''";
  std::string start;
  for (const TableSpec& t : catalog.spec().tables) {
    if (!WarehouseTracked(catalog.spec(), t.name)) continue;
    keep += ", " + Literal(t.name);
    start += "INSERT INTO meta.warehouse_tables SELECT " + Literal(t.name) +
             ", COALESCE((SELECT version FROM meta.tables WHERE table_name = " + Literal(t.name) +
             "), 0) ON CONFLICT DO NOTHING;";
  }
  return catalog.conn().Execute("DELETE FROM meta.warehouse_changes WHERE table_name NOT IN (" + keep +
                                "); DELETE FROM meta.warehouse_tables WHERE table_name NOT IN (" + keep +
                                ");" + start);
}

Status AddWarehouseChanges(Catalog& catalog, const std::string& table,
                           const std::vector<Partition>& partitions, bool all) {
  if (!WarehouseTracked(catalog.spec(), table)) return Status::OK();
  if (all) {
    return catalog.conn().Execute("INSERT INTO meta.warehouse_changes VALUES (" + Literal(table) +
                                  ", NULL, NULL, NULL)");
  }
  if (partitions.empty()) return Status::OK();
  return catalog.conn().Execute("INSERT INTO meta.warehouse_changes SELECT " + Literal(table) +
                                ", NULL, day, tenant FROM " + PartitionsRelation(partitions));
}

Status StampWarehouseChanges(Catalog& catalog, const std::string& table) {
  if (!WarehouseTracked(catalog.spec(), table)) return Status::OK();
  return catalog.conn().Execute(
      "UPDATE meta.warehouse_changes SET version = (SELECT version FROM meta.tables WHERE table_name = " +
      Literal(table) + ") WHERE table_name = " + Literal(table) + " AND version IS NULL");
}

Result<WarehouseDelta> ReadWarehouseDelta(duck::Connection& conn, const std::string& table, int64_t from) {
  const std::string name = Literal(table);
  ASSIGN_OR_RETURN(
      duck::Rows head,
      conn.Query("SELECT (SELECT version FROM meta.tables WHERE table_name = " + name +
                 "), (SELECT complete_from FROM meta.warehouse_tables WHERE table_name = " + name + ")"));
  WarehouseDelta delta;
  delta.version = head.IntAt(0, 0);
  const bool tracked = head.rows[0][1].has_value();
  const int64_t complete_from = head.IntAt(0, 1);
  if (delta.version <= from) return delta;
  // Nothing in PostgreSQL yet, or changes between `from` and now that were never recorded.
  if (from == 0 || !tracked || from < complete_from) {
    delta.full = true;
    return delta;
  }
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT DISTINCT CAST(day AS VARCHAR), tenant, day IS NULL AND tenant IS NULL "
                              "FROM meta.warehouse_changes WHERE table_name = " +
                              name + " AND version > " + std::to_string(from) +
                              " AND version <= " + std::to_string(delta.version)));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    if (rows.At(r, 2) == "true") {
      delta.full = true;
      delta.partitions.clear();
      return delta;
    }
    delta.partitions.push_back({rows.rows[r][0], rows.rows[r][1]});
  }
  return delta;
}

Status PruneWarehouseChanges(Catalog& catalog, const std::string& table, int64_t version) {
  const std::string v = std::to_string(version);
  return catalog.conn().Execute(
      "DELETE FROM meta.warehouse_changes WHERE table_name = " + Literal(table) + " AND version <= " + v +
      "; UPDATE meta.warehouse_tables SET complete_from = greatest(complete_from, " + v +
      ") WHERE table_name = " + Literal(table));
}

}  // namespace sluice
