#include "catalog/table_stats.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

Result<std::vector<TableCommit>> ListTableCommits(Catalog& catalog) {
  ASSIGN_OR_RETURN(duck::Rows r, catalog.conn().Query("SELECT layer || '.' || table_name, version, "
                                                      "epoch_us(updated_at) FROM meta.tables ORDER BY 1"));
  std::vector<TableCommit> out;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    TableCommit t{r.At(i, 0), r.IntAt(i, 1), std::nullopt};
    if (r.rows[i][2]) t.committed_us = r.IntAt(i, 2);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::optional<int64_t>> MaxEventMicros(Catalog& catalog, const std::string& table,
                                              const std::string& column) {
  const size_t dot = table.find('.');
  const std::string relation = Ident(table.substr(0, dot)) + "." + Ident(table.substr(dot + 1));
  Result<duck::Rows> r =
      catalog.conn().Query("SELECT epoch_us(CAST(max(" + Ident(column) + ") AS TIMESTAMP)) FROM " + relation);
  if (!r.ok()) return r.status().WithContext("max event time of " + table);
  if (r->rows.empty() || !r->rows[0][0]) return std::optional<int64_t>();
  return std::optional<int64_t>(r->IntAt(0, 0));
}

Result<std::vector<PartitionRows>> CountPartitionRows(Catalog& catalog, const std::string& table,
                                                      const std::string& day_column,
                                                      const std::string& tenant_column) {
  std::vector<PartitionRows> out;
  if (day_column.empty() && tenant_column.empty()) return out;
  const size_t dot = table.find('.');
  const std::string relation = Ident(table.substr(0, dot)) + "." + Ident(table.substr(dot + 1));
  std::string label;
  if (!day_column.empty()) {
    label = "'day=' || coalesce(CAST(CAST(" + Ident(day_column) + " AS DATE) AS VARCHAR), 'null')";
  }
  if (!tenant_column.empty()) {
    label += (label.empty() ? "'tenant=' || " : " || '/tenant=' || ") + std::string("coalesce(CAST(") +
             Ident(tenant_column) + " AS VARCHAR), 'null')";
  }
  Result<duck::Rows> r =
      catalog.conn().Query("SELECT " + label + " AS p, count(*) FROM " + relation + " GROUP BY p ORDER BY p");
  if (!r.ok()) return r.status().WithContext("partition rows of " + table);
  for (size_t i = 0; i < r->rows.size(); ++i) out.push_back({r->At(i, 0), r->IntAt(i, 1)});
  return out;
}

Result<std::vector<SourceLedgerStats>> LedgerStatsBySource(Catalog& catalog) {
  ASSIGN_OR_RETURN(
      duck::Rows r,
      catalog.conn().Query("SELECT source, coalesce(sum(rows_staged), 0), coalesce(sum(rows_dead), 0), "
                           "coalesce(sum(rows_late), 0), count(*) FILTER (WHERE status = "
                           "'quarantined') FROM meta.batches GROUP BY source ORDER BY source"));
  std::vector<SourceLedgerStats> out;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    out.push_back({r.At(i, 0), r.IntAt(i, 1), r.IntAt(i, 2), r.IntAt(i, 3), r.IntAt(i, 4)});
  }
  return out;
}

Result<StreamIngestCost> StreamIngestCostOf(Catalog& catalog) {
  ASSIGN_OR_RETURN(int64_t columns,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_columns() WHERE database_name = "
                                           "'lake' AND schema_name = 'meta' AND table_name = 'batches' "
                                           "AND column_name IN ('cpu_us', 'bytes_written')"));
  if (columns < 2) return StreamIngestCost{};
  ASSIGN_OR_RETURN(duck::Rows r,
                   catalog.conn().Query("SELECT coalesce(sum(rows_read), 0), coalesce(sum(cpu_us), "
                                        "0), coalesce(sum(bytes_written), 0) FROM meta.batches "
                                        "WHERE cpu_us IS NOT NULL"));
  return StreamIngestCost{static_cast<double>(r.IntAt(0, 0)), static_cast<double>(r.IntAt(0, 1)) / 1e6,
                          static_cast<double>(r.IntAt(0, 2))};
}

Result<CommitDurations> BatchCommitDurations(Catalog& catalog, const std::string& source, int64_t after_us) {
  ASSIGN_OR_RETURN(
      duck::Rows r,
      catalog.conn().Query("SELECT epoch_us(committed_at) - epoch_us(started_at), epoch_us(committed_at) "
                           "FROM meta.batches WHERE source = " +
                           Literal(source) + " AND epoch_us(committed_at) > " + std::to_string(after_us) +
                           " ORDER BY committed_at"));
  CommitDurations out;
  out.last_committed_us = after_us;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    out.seconds.push_back(static_cast<double>(r.IntAt(i, 0)) / 1e6);
    out.last_committed_us = std::max(out.last_committed_us, r.IntAt(i, 1));
  }
  return out;
}

Result<std::vector<QuarantinedRows>> QuarantinedRowsByTable(Catalog& catalog) {
  // One row per (table, batch) however often the batch was quarantined.
  ASSIGN_OR_RETURN(
      duck::Rows r,
      catalog.conn().Query("SELECT table_name, coalesce(sum(rows_staged), 0), coalesce(sum(rows_staged) "
                           "FILTER (WHERE status = 'dropped'), 0) FROM (SELECT DISTINCT q.table_name, "
                           "q.source, q.batch_id, b.rows_staged, b.status FROM meta.quarantine q JOIN "
                           "meta.batches b USING (source, batch_id)) GROUP BY table_name ORDER BY 1"));
  std::vector<QuarantinedRows> out;
  for (size_t i = 0; i < r.rows.size(); ++i) out.push_back({r.At(i, 0), r.IntAt(i, 1), r.IntAt(i, 2)});
  return out;
}

}  // namespace sluice
