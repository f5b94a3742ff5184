// The statement gate for SQL a user runs against the lake: `sluice query` today, the serve API's
// SQL endpoint later. One rule for both, so that they can never admit different things.
//
// The gate is the first wall: DuckDB's parser must read the text as exactly one query over the
// lake's own schemas. The second wall is the sandbox of a read-only Catalog (Catalog::Open with
// read_only: external access off, only the lake's directory allowed, configuration locked),
// which still holds if the gate ever lets something through.
#pragma once

#include <string_view>

#include "common/status.h"
#include "duck/duck.h"
#include "duck/sql_parser.h"

namespace sluice {

// The rules: schemas curated, marts, staging, meta, dlq and information_schema (optionally in
// catalog `lake`), and the table functions of kUserQueryTableFunctions.
const duck::ReadOnlyRules& UserQueryRules();

// The admitted statement when `sql` may run read-only (duck::CheckReadOnlySelect under
// UserQueryRules()): its kind says whether it is a query or an EXPLAIN of one. Otherwise
// InvalidArgument with a one-line reason naming the statement, table or function refused.
// Parses through `conn` (nothing is bound or run); not safe for concurrent use of `conn`.
Result<duck::ParsedSql> CheckUserQuery(duck::Connection& conn, std::string_view sql);

}  // namespace sluice
