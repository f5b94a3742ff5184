#include "serve/rows_query.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "duck/duck.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

bool IsDay(const std::string& v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  const int month = std::atoi(v.substr(5, 2).c_str()), day = std::atoi(v.substr(8, 2).c_str());
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string ColumnList(const std::vector<ColumnInfo>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

const ColumnInfo* FindColumn(const std::vector<ColumnInfo>& columns, const std::string& name) {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

Result<RowsQuery> ParseRowsQuery(const std::vector<std::pair<std::string, std::string>>& params,
                                 const ServedTable& table, const std::vector<ColumnInfo>& columns) {
  RowsQuery q;
  std::vector<std::string> seen;
  for (const auto& [name, value] : params) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return Status::InvalidArgument("parameter '" + name + "' is given twice; give it once");
    }
    seen.push_back(name);
    if (name == "limit" || name == "cursor" || name == "as_of") continue;
    if (name == "day_from" || name == "day_to") {
      if (table.day_key.empty()) {
        return Status::InvalidArgument(table.qualified() + " has no day partition; drop " + name);
      }
      if (!IsDay(value)) {
        return Status::InvalidArgument(name + "='" + value + "' is not a day; write e.g. 2026-01-03");
      }
      (name == "day_from" ? q.day_from : q.day_to) = value;
    } else if (name == "tenant") {
      if (table.tenant_key.empty()) {
        return Status::InvalidArgument(table.qualified() + " has no tenant partition; drop tenant=");
      }
      if (value.empty()) return Status::InvalidArgument("tenant= is empty; name a tenant");
      q.tenant = value;
    } else if (name == "order") {
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        std::string col = value.substr(pos, comma - pos);
        const bool desc = !col.empty() && col[0] == '-';
        if (desc) col = col.substr(1);
        if (col.empty()) {
          return Status::InvalidArgument("order='" + value + "' names an empty column; write order=a,-b");
        }
        if (!FindColumn(columns, col)) {
          return Status::InvalidArgument("order: unknown column '" + col + "' of " + table.qualified() +
                                         " (columns: " + ColumnList(columns) + ")");
        }
        q.order.emplace_back(col, desc);
        pos = comma + 1;
      }
    } else {
      if (!FindColumn(columns, name)) {
        return Status::InvalidArgument(
            "unknown parameter or column '" + name + "' of " + table.qualified() + " (columns: " +
            ColumnList(columns) + "; parameters: day_from, day_to, tenant, order, limit, cursor, as_of)");
      }
      q.filters.emplace_back(name, value);
    }
  }
  if (q.day_from && q.day_to && *q.day_from > *q.day_to) {
    return Status::InvalidArgument("day_from " + *q.day_from + " is after day_to " + *q.day_to);
  }
  return q;
}

Result<int64_t> ParseLimit(const std::optional<std::string>& text, int64_t fallback, int64_t max) {
  if (!text) return fallback;
  char* end = nullptr;
  const long long n = text->size() > 12 ? -1 : std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || n < 1 || (end != nullptr && *end != '\0') || n > max) {
    return Status::InvalidArgument("limit='" + *text + "' must be a number from 1 to " + std::to_string(max));
  }
  return n;
}

std::vector<std::string> SelectDays(const std::vector<std::string>& days, const RowsQuery& query) {
  std::vector<std::string> out;
  for (const std::string& d : days) {
    if (query.day_from && d < *query.day_from) continue;
    if (query.day_to && d > *query.day_to) continue;
    out.push_back(d);
  }
  return out;
}

std::string BuildRowsSql(const std::vector<std::string>& files, const ServedTable& table,
                         const std::vector<ColumnInfo>& columns, const RowsQuery& query,
                         const std::vector<std::string>& tenants, int64_t limit, int64_t offset) {
  std::string select;
  for (const auto& c : columns) select += (select.empty() ? "" : ", ") + Ident(c.name);
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + Literal(f);
  std::string sql = "SELECT " + select + " FROM read_parquet([" + list + "], hive_partitioning = false)";
  std::vector<std::string> where;
  if (!tenants.empty()) {
    std::string in;
    for (const auto& t : tenants) in += (in.empty() ? "" : ", ") + Literal(t);
    where.push_back(Ident(table.tenant_key) + " IN (" + in + ")");
  }
  for (const auto& [col, value] : query.filters) {
    const ColumnInfo* c = FindColumn(columns, col);
    where.push_back(Ident(col) + " = CAST(" + Literal(value) + " AS " + (c ? c->type : "VARCHAR") + ")");
  }
  for (size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  if (limit <= 0) return sql;
  std::vector<std::string> order_cols;
  std::string order;
  auto add = [&](const std::string& col, bool desc) {
    if (std::find(order_cols.begin(), order_cols.end(), col) != order_cols.end()) return;
    order_cols.push_back(col);
    order += (order.empty() ? "" : ", ") + Ident(col) + (desc ? " DESC NULLS LAST" : " ASC NULLS LAST");
  };
  for (const auto& [col, desc] : query.order) add(col, desc);
  if (!table.key.empty()) {
    for (const auto& k : table.key) add(k, false);
  } else {
    for (const auto& c : columns) add(c.name, false);
  }
  sql += " ORDER BY " + order + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  return sql;
}

}  // namespace sluice
