// The read endpoints of `sluice serve` (docs/QUERY_API.md):
//
//   GET  /v1/tables                          the tables the principal may read: columns, rows,
//                                            freshness, versions
//   GET  /v1/tables/<layer>.<name>           one table: schema, partitions, upstream tables
//   GET  /v1/tables/<layer>.<name>/rows      filtered rows of its published version, paginated
//                                            by cursor (JSON, CSV or Parquet)
//   POST /v1/query                           {"sql": "..."}: one read-only query (sql_endpoint.cc)
//
// Each needs the scope read:<layer>.<table> of what it reads (http::Principal::Can) and returns
// only the rows of the principal's tenants when it is tenant-bound.
#pragma once

#include <memory>
#include <vector>

#include "serve/http.h"
#include "serve/server_impl.h"

namespace sluice {

class QueryService;

// The routes above, sharing one QueryService over `impl` (which must outlive them).
std::vector<http::Route> QueryRoutes(Server::Impl& impl);

// POST /v1/query (sql_endpoint.cc).
http::Route SqlQueryRoute(std::shared_ptr<QueryService> service);

}  // namespace sluice
