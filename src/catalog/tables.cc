#include "catalog/tables.h"

#include "catalog/warehouse_changes.h"

namespace sluice {

using duck::Literal;

namespace {

std::string DayValue(const Partition& p) {
  return "CAST(" + (p.day ? Literal(*p.day) : std::string("NULL")) + " AS DATE)";
}
std::string TenantValue(const Partition& p) {
  return "CAST(" + (p.tenant ? Literal(*p.tenant) : std::string("NULL")) + " AS VARCHAR)";
}

Result<std::vector<Partition>> ReadPartitions(Catalog& catalog, const std::string& sql) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(sql));
  std::vector<Partition> out;
  out.reserve(rows.rows.size());
  for (auto& r : rows.rows) out.push_back({std::move(r[0]), std::move(r[1])});
  return out;
}

constexpr const char* kTableColumns =
    "SELECT table_name, layer, version, published_version, model_hash, rows, "
    "CAST(updated_at AS VARCHAR), CAST(epoch(now()::TIMESTAMP - updated_at) AS BIGINT) "
    "FROM meta.tables";

std::vector<TableState> ToTables(const duck::Rows& rows) {
  std::vector<TableState> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    TableState t;
    t.name = rows.At(r, 0);
    t.layer = rows.At(r, 1);
    t.version = rows.IntAt(r, 2);
    t.published_version = rows.IntAt(r, 3);
    t.model_hash = rows.rows[r][4];
    t.rows = rows.IntAt(r, 5);
    t.updated_at = rows.rows[r][6];
    t.freshness_seconds = rows.IntAt(r, 7);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::string PartitionsRelation(const std::vector<Partition>& partitions) {
  if (partitions.empty()) {
    return "(SELECT CAST(NULL AS DATE) AS day, CAST(NULL AS VARCHAR) AS tenant WHERE false)";
  }
  std::string values;
  for (const auto& p : partitions) {
    values += (values.empty() ? "(" : ", (") + DayValue(p) + ", " + TenantValue(p) + ")";
  }
  return "(SELECT * FROM (VALUES " + values + ") v(day, tenant))";
}

Result<std::optional<TableState>> FindTable(Catalog& catalog, const std::string& table) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(std::string(kTableColumns) +
                                                         " WHERE table_name = " + Literal(table)));
  std::vector<TableState> tables = ToTables(rows);
  if (tables.empty()) return std::optional<TableState>();
  return std::optional<TableState>(std::move(tables[0]));
}

Result<std::vector<TableState>> ListTables(Catalog& catalog) { return ListTables(catalog.conn()); }

Result<std::vector<TableState>> ListTables(duck::Connection& conn) {
  ASSIGN_OR_RETURN(duck::Rows rows, conn.Query(std::string(kTableColumns) + " ORDER BY layer, table_name"));
  return ToTables(rows);
}

Status EnsureTableRow(Catalog& catalog, const std::string& table, const std::string& layer) {
  return catalog.conn().Execute(
      "INSERT INTO meta.tables (table_name, layer, version, published_version) VALUES (" + Literal(table) +
      ", " + Literal(layer) + ", 0, 0) ON CONFLICT DO NOTHING");
}

Status RecordNewVersion(Catalog& catalog, const std::string& table, int64_t rows,
                        const std::optional<std::string>& model_hash) {
  RETURN_IF_ERROR(
      catalog.conn().Execute("UPDATE meta.tables SET version = version + 1, " +
                             (model_hash ? "model_hash = " + Literal(*model_hash) + ", " : std::string()) +
                             "updated_at = now()::TIMESTAMP, rows = " + std::to_string(rows) +
                             " WHERE table_name = " + Literal(table)));
  return StampWarehouseChanges(catalog, table);
}

Status RecordRewritten(Catalog& catalog, const std::string& table) {
  RETURN_IF_ERROR(
      catalog.conn().Execute("UPDATE meta.tables SET version = version + 1, updated_at = now()::TIMESTAMP "
                             "WHERE table_name = " +
                             Literal(table) +
                             ";"
                             "INSERT INTO meta.publish_pending VALUES (" +
                             Literal(table) + ", NULL, NULL);"));
  RETURN_IF_ERROR(AddWarehouseChanges(catalog, table, {}, /*all=*/true));
  return StampWarehouseChanges(catalog, table);
}

Status ForgetModelHash(Catalog& catalog, const std::string& table) {
  return catalog.conn().Execute("UPDATE meta.tables SET model_hash = NULL WHERE table_name = " +
                                Literal(table));
}

Status RecordPublished(Catalog& catalog, const std::string& table, int64_t version) {
  return catalog.conn().Execute("DELETE FROM meta.publish_pending WHERE table_name = " + Literal(table) +
                                "; UPDATE meta.tables SET published_version = " + std::to_string(version) +
                                ", published_at = now()::TIMESTAMP WHERE table_name = " + Literal(table));
}

Result<std::vector<Partition>> PublishPending(Catalog& catalog, const std::string& table) {
  return ReadPartitions(catalog,
                        "SELECT DISTINCT CAST(day AS VARCHAR), tenant FROM "
                        "meta.publish_pending WHERE table_name = " +
                            Literal(table));
}

Status AddPublishPending(Catalog& catalog, const std::string& table,
                         const std::vector<Partition>& partitions) {
  if (partitions.empty()) return Status::OK();
  RETURN_IF_ERROR(catalog.conn().Execute("INSERT INTO meta.publish_pending SELECT " + Literal(table) +
                                         ", day, tenant FROM " + PartitionsRelation(partitions)));
  return AddWarehouseChanges(catalog, table, partitions);
}

Status ReplacePublishPendingWithAll(Catalog& catalog, const std::string& table) {
  RETURN_IF_ERROR(
      catalog.conn().Execute("DELETE FROM meta.publish_pending WHERE table_name = " + Literal(table) +
                             "; INSERT INTO meta.publish_pending SELECT " + Literal(table) + ", NULL, NULL"));
  return AddWarehouseChanges(catalog, table, {}, /*all=*/true);
}

Result<std::vector<Partition>> PendingPartitions(Catalog& catalog) {
  return ReadPartitions(catalog,
                        "SELECT DISTINCT CAST(day AS VARCHAR), tenant FROM "
                        "meta.pending_partitions");
}

Status AddPendingPartitions(Catalog& catalog, const std::vector<Partition>& partitions) {
  if (partitions.empty()) return Status::OK();
  return catalog.conn().Execute("INSERT INTO meta.pending_partitions SELECT day, tenant FROM " +
                                PartitionsRelation(partitions));
}

Status ClearPendingPartitions(Catalog& catalog) {
  return catalog.conn().Execute("DELETE FROM meta.pending_partitions");
}

}  // namespace sluice
