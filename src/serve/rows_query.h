// The rows request of the query API (GET /v1/tables/<layer>.<name>/rows): its parameters read
// and checked against the table's columns, and the SQL that reads them from a published
// version's files. Pure functions; safe from any thread.
//
// Values of the client never become SQL text of their own: each is a quoted literal
// (duck::Literal) cast to its column's type, and names are checked against the table's columns
// before they are quoted (duck::Ident).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "serve/served_tables.h"

namespace sluice {

struct ColumnInfo {
  std::string name;
  std::string type;  // DuckDB's type name, as DESCRIBE prints it
  bool operator==(const ColumnInfo&) const = default;
};

struct RowsQuery {
  std::optional<std::string> day_from, day_to;  // "2026-01-03", inclusive
  std::optional<std::string> tenant;
  std::vector<std::pair<std::string, std::string>> filters;  // column = value, in request order
  std::vector<std::pair<std::string, bool>> order;           // column, descending
  bool operator==(const RowsQuery&) const = default;
};

// The parameters of a rows request besides `limit` and `cursor`: day_from, day_to, tenant,
// order=<col>[,-<col>...] and <column>=<value> for any of `columns`. InvalidArgument with a
// one-line reason: an unknown column (naming the columns), a malformed day, a parameter given
// twice, an empty order, day_from after day_to, a tenant on a table without a tenant key.
Result<RowsQuery> ParseRowsQuery(const std::vector<std::pair<std::string, std::string>>& params,
                                 const ServedTable& table, const std::vector<ColumnInfo>& columns);

// `limit`: `fallback` when absent; InvalidArgument unless 1..max.
Result<int64_t> ParseLimit(const std::optional<std::string>& text, int64_t fallback, int64_t max);

// The days of `days` (sorted, as a version's directories name them) within the query's range.
std::vector<std::string> SelectDays(const std::vector<std::string>& days, const RowsQuery& query);

// SELECT of `columns` from `files` (Parquet, at least one) with the query's filters, rows of
// `tenants` only (none: every tenant), in the query's order and then a total order (the
// table's key, or every column), rows [offset, offset + limit). With `limit` 0: every matching
// row, unordered (for a count).
std::string BuildRowsSql(const std::vector<std::string>& files, const ServedTable& table,
                         const std::vector<ColumnInfo>& columns, const RowsQuery& query,
                         const std::vector<std::string>& tenants, int64_t limit, int64_t offset);

}  // namespace sluice
