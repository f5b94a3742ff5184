#include "catalog/warehouse_changes.h"

#include <algorithm>
#include <set>

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
                                "); DELETE FROM meta.warehouse_batches WHERE table_name NOT IN (" + keep +
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

Status AddWarehouseBatches(Catalog& catalog, const std::string& table, const std::string& source,
                           const std::vector<std::string>& batch_ids) {
  if (!WarehouseTracked(catalog.spec(), table) || batch_ids.empty()) return Status::OK();
  std::string values;
  for (const std::string& id : batch_ids) values += (values.empty() ? "(" : ", (") + Literal(id) + ")";
  return catalog.conn().Execute("INSERT INTO meta.warehouse_batches SELECT " + Literal(table) + ", NULL, " +
                                Literal(source) + ", batch_id, NULL FROM (VALUES " + values +
                                ") v(batch_id)");
}

Status AddMartWarehouseBatches(Catalog& catalog, const std::string& mart) {
  if (!WarehouseTracked(catalog.spec(), mart)) return Status::OK();
  std::string upstream;
  for (const std::string& t : WarehouseUpstream(catalog.spec(), mart)) {
    upstream += (upstream.empty() ? "" : ", ") + Literal(t);
  }
  if (upstream.empty()) return Status::OK();
  // Curate and marts commit one after the other on the catalog's thread, so the merges after
  // the mart's last build are those applied after its updated_at.
  const std::string built = "(SELECT updated_at FROM meta.tables WHERE table_name = " + Literal(mart) + ")";
  return catalog.conn().Execute("INSERT INTO meta.warehouse_batches SELECT DISTINCT " + Literal(mart) +
                                ", NULL, source, batch_id, NULL FROM meta.applied WHERE table_name IN (" +
                                upstream + ") AND (" + built + " IS NULL OR applied_at > " + built + ")");
}

Status StampWarehouseChanges(Catalog& catalog, const std::string& table) {
  if (!WarehouseTracked(catalog.spec(), table)) return Status::OK();
  const std::string version = "(SELECT version FROM meta.tables WHERE table_name = " + Literal(table) + ")";
  const std::string unstamped = " WHERE table_name = " + Literal(table) + " AND version IS NULL";
  return catalog.conn().Execute("UPDATE meta.warehouse_changes SET version = " + version + unstamped +
                                "; UPDATE meta.warehouse_batches SET version = " + version +
                                ", committed_at = now()::TIMESTAMP" + unstamped);
}

std::vector<std::string> WarehouseUpstream(const ProjectSpec& spec, const std::string& table) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<std::string> todo = {table};
  while (!todo.empty()) {
    const std::string name = todo.back();
    todo.pop_back();
    if (!seen.insert(name).second) continue;
    for (const TableSpec& t : spec.tables) {
      if (t.name != name) continue;
      if (t.kind == TableKind::kCurated) {
        out.push_back(name);
        continue;
      }
      // reads_curated: curated tables; depends_on: marts (both unqualified).
      todo.insert(todo.end(), t.reads_curated.begin(), t.reads_curated.end());
      todo.insert(todo.end(), t.depends_on.begin(), t.depends_on.end());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The batches of `table`'s versions after `from`; with `unknown`, also every batch merged into
// `upstream` (versions whose batches were not recorded). Each (source, batch_id) once.
Result<std::vector<WarehouseBatch>> ReadWarehouseBatches(duck::Connection& conn, const std::string& table,
                                                         int64_t from, int64_t to, bool unknown,
                                                         const std::vector<std::string>& upstream) {
  std::string sql =
      "SELECT 0 AS o, source, batch_id, CAST(committed_at AS VARCHAR) AS at FROM meta.warehouse_batches "
      "WHERE table_name = " +
      Literal(table) + " AND version > " + std::to_string(from) + " AND version <= " + std::to_string(to);
  if (unknown && !upstream.empty()) {
    std::string names;
    for (const std::string& t : upstream) names += (names.empty() ? "" : ", ") + Literal(t);
    sql +=
        " UNION ALL SELECT 1, source, batch_id, CAST(applied_at AS VARCHAR) FROM meta.applied WHERE "
        "table_name IN (" +
        names + ")";
  }
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      conn.Query("SELECT w.source, w.batch_id, coalesce(b.correlation_id, ''), coalesce(w.at, '') "
                 "FROM (" +
                 sql +
                 ") w LEFT JOIN meta.batches b ON b.source = w.source AND b.batch_id = w.batch_id "
                 "ORDER BY w.o, w.at, w.source, w.batch_id"));
  std::vector<WarehouseBatch> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    if (!seen.insert({rows.At(r, 0), rows.At(r, 1)}).second) continue;
    out.push_back({rows.At(r, 0), rows.At(r, 1), rows.At(r, 2), rows.At(r, 3)});
  }
  return out;
}

}  // namespace

Result<WarehouseDelta> ReadWarehouseDelta(duck::Connection& conn, const std::string& table, int64_t from,
                                          const std::vector<std::string>& upstream) {
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
  ASSIGN_OR_RETURN(delta.batches, ReadWarehouseBatches(conn, table, from, delta.version,
                                                       !tracked || from < complete_from, upstream));
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
      "; DELETE FROM meta.warehouse_batches WHERE table_name = " + Literal(table) + " AND version <= " + v +
      "; UPDATE meta.warehouse_tables SET complete_from = greatest(complete_from, " + v +
      ") WHERE table_name = " + Literal(table));
}

}  // namespace sluice
