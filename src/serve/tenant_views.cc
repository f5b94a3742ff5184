#include "serve/tenant_views.h"

#include <atomic>
#include <set>

namespace sluice {

using duck::Ident;
using duck::Literal;

const duck::ReadOnlyRules& TenantQueryRules() {
  static const duck::ReadOnlyRules rules{{"range", "generate_series", "unnest"}, {"curated", "marts"}, {}};
  return rules;
}

Result<std::unique_ptr<TenantViews>> TenantViews::Bind(duck::Connection& conn,
                                                       const std::vector<const ServedTable*>& tables,
                                                       const std::vector<std::string>& tenants,
                                                       const std::string& from) {
  if (tenants.empty()) return Status::InvalidArgument("no tenant to filter on");
  static std::atomic<int64_t> next{0};
  const std::string database = "tenant_views_" + std::to_string(next.fetch_add(1));
  std::string in;
  for (const std::string& t : tenants) in += (in.empty() ? "" : ", ") + Literal(t);
  std::string sql = "ATTACH ':memory:' AS " + Ident(database) + ";";
  std::set<std::string> schemas;
  for (const ServedTable* t : tables) {
    if (schemas.insert(t->layer).second)
      sql += "CREATE SCHEMA " + Ident(database) + "." + Ident(t->layer) + ";";
  }
  RETURN_IF_ERROR(conn.Execute(sql).WithContext("preparing the tenant views"));
  // From here on the database exists: the binding owns it, and undoes it on every path.
  std::unique_ptr<TenantViews> views(new TenantViews(conn, database));
  for (const ServedTable* t : tables) {
    if (t->lake_tenant_column.empty()) {
      return Status::InvalidArgument(t->qualified() + " has no tenant column");
    }
    RETURN_IF_ERROR(conn.Execute("CREATE VIEW " + Ident(database) + "." + Ident(t->layer) + "." +
                                 Ident(t->name) + " AS SELECT * FROM " + Ident(from) + "." + Ident(t->layer) +
                                 "." + Ident(t->name) + " WHERE CAST(" + Ident(t->lake_tenant_column) +
                                 " AS VARCHAR) IN (" + in + ")")
                        .WithContext("the tenant view of " + t->qualified()));
  }
  RETURN_IF_ERROR(conn.Execute("USE " + Ident(database)));
  return views;
}

TenantViews::~TenantViews() { (void)Unbind(); }

Status TenantViews::Unbind() {
  if (database_.empty()) return Status::OK();
  RETURN_IF_ERROR(conn_->Execute("USE lake; DETACH " + Ident(database_)));
  database_.clear();
  return Status::OK();
}

}  // namespace sluice
