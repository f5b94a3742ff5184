// SQL of a tenant-bound token (POST /v1/query): bound by the engine to tenant-filtered views.
//
// The client sends no filter and the query text is not rewritten. For the request, an
// in-memory database `tenant_views_<n>` is attached holding, for each table the query names, a
// view of the same two-part name (`curated.orders`, `marts.daily_revenue`) that selects the lake
// table's rows whose tenant column is one of the token's tenants; the connection then runs
// `USE tenant_views_<n>`, so every two-part name of the query resolves to a view wherever it
// appears: joins, unions, subqueries, CTEs, EXPLAIN. The stricter gate (TenantQueryRules) makes
// sure no name can reach past them:
//   - no catalog-qualified name (`lake.curated.orders` would be the unfiltered table);
//   - only the schemas curated and marts (staging views, meta, dlq and information_schema are
//     every tenant's);
//   - only the table functions range, generate_series and unnest (the rest read files, other
//     databases or run SQL the gate never saw);
// and Bind refuses a table without a tenant column. Destroying the binding runs `USE lake` and
// detaches the database; a connection whose binding could not be undone must not be reused.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "duck/duck.h"
#include "duck/sql_parser.h"
#include "serve/served_tables.h"

namespace sluice {

// The gate's rules for a tenant-bound token's SQL (see above).
const duck::ReadOnlyRules& TenantQueryRules();

class TenantViews {
 public:
  // Binds `conn` (on the lake's database, `USE lake` in effect) to views of `tables` (each a
  // served curated table or mart with a lake tenant column) filtered to `tenants` (not empty).
  // The views read `from`.<layer>.<table>: the lake's tables, or a snapshot's views attached
  // by storage/time_travel.h (as_of). Errors: DuckDB's, with the table named.
  static Result<std::unique_ptr<TenantViews>> Bind(duck::Connection& conn,
                                                   const std::vector<const ServedTable*>& tables,
                                                   const std::vector<std::string>& tenants,
                                                   const std::string& from = "lake");
  // Unbind(), ignoring its error (the caller asked `ok()` when it mattered).
  ~TenantViews();
  TenantViews(const TenantViews&) = delete;
  TenantViews& operator=(const TenantViews&) = delete;

  // `USE lake` and detach the views' database; OK when already done.
  Status Unbind();

 private:
  TenantViews(duck::Connection& conn, std::string database) : conn_(&conn), database_(std::move(database)) {}

  duck::Connection* conn_;
  std::string database_;  // "" once unbound
};

}  // namespace sluice
