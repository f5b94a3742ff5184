// SQL text read by DuckDB's own parser: which statements, which tables, which table functions.
//
// The one place where sluice looks inside SQL. ParseSql runs `SELECT json_serialize_sql(...)`
// on a Connection (any one: nothing is bound or executed, an in-memory one will do) and walks
// the parse tree DuckDB returns, so a name is read exactly as DuckDB reads it: quoted or not,
// in any case, inside CTEs, subqueries (IN, EXISTS, scalar, LATERAL), set operations, joins,
// PIVOTs and window clauses. Spec loading uses it to find a model's tables, the contract
// checks to know an expression is one expression, and `sluice query` as its statement gate
// (CheckReadOnlySelect).
//
// Nothing here is safe for concurrent use of the same Connection (see duck.h).
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "duck/duck.h"

namespace sluice::duck {

// 1-based line and column (in code points) of a byte offset in a SQL text; 0:0 when unknown.
struct SqlPosition {
  int line = 0;
  int column = 0;
  std::string ToString() const;  // "3:14"
};
SqlPosition PositionAt(std::string_view sql, size_t offset);

// A table (or view) the SQL reads: `[catalog.][schema.]name`. Names are lower case, as DuckDB
// matches identifiers case-insensitively whether quoted or not: `"Curated"."ORDERS"` and
// curated.orders are the same table. References to a CTE in scope are not table references.
struct SqlTableRef {
  std::string catalog;  // "" when not written
  std::string schema;   // "" when not written
  std::string name;
  SqlPosition position;  // of the reference's first name

  std::string QualifiedName() const;  // "curated.orders", "orders", "lake.curated.orders"
};

// A positional argument of a table function call as written: `literal` when it is a string
// constant or a list of string constants (`'a.csv'`, `['a.csv', 'b/*.csv']`), with those
// strings; anything else (an expression, a number, a column, a subquery) is not literal.
struct SqlArgument {
  bool literal = false;
  std::vector<std::string> strings;
};

// A table function called in a FROM clause: read_csv(...), range(...).
struct SqlTableFunction {
  std::string name;  // lower case, without a schema
  SqlPosition position;
  std::vector<SqlArgument> arguments;  // positional ones, in order; named ones (`x = v`) are not
};

enum class SqlStatementKind {
  kInvalid,  // DuckDB cannot parse the text (see ParsedSql::error)
  kNone,     // no statement at all (empty text, only comments or ';')
  kSelect,   // every statement is a query: SELECT, WITH, VALUES, FROM-first, DESCRIBE, SUMMARIZE
  kExplain,  // one EXPLAIN [ANALYZE] of a query (not with options or VERBOSE)
  kOther,    // anything else: COPY, ATTACH, PRAGMA, SET, INSTALL, CREATE, ... or a mix
};

struct ParsedSql {
  SqlStatementKind kind = SqlStatementKind::kInvalid;
  size_t statement_count = 0;  // 0 for kInvalid
  std::string excerpt;         // the text on one line, shortened: for messages
  // kInvalid: DuckDB's reason ("syntax error at or near \"selec\"") and where; 0:0 when DuckDB
  // gives no position.
  std::string error;
  SqlPosition error_position;
  // Of the queries (for kExplain: of the query explained); empty for kOther, whose statements
  // DuckDB's serializer does not describe. In text order, each reference once.
  std::vector<SqlTableRef> tables;
  std::vector<SqlTableFunction> table_functions;
  // kSelect with one statement whose only select item is one expression, with no FROM, WHERE,
  // GROUP BY, HAVING, QUALIFY, ORDER BY, LIMIT, DISTINCT, CTE or alias: `SELECT <expr>`.
  bool single_expression = false;

  // "3:7: syntax error at or near ..." (kInvalid only).
  std::string ErrorWithPosition() const;
};

// Parses `sql` with DuckDB's parser through `conn`; nothing is bound or run. Text DuckDB cannot
// parse (or holding a NUL byte) is kind kInvalid, not an error; statements that parse but are
// not queries are kOther. Unavailable when DuckDB itself fails (e.g. no JSON extension).
Result<ParsedSql> ParseSql(Connection& conn, std::string_view sql);

// The parse tree DuckDB's json_serialize_sql gives for `sql`, as JSON text: {"error": false,
// "statements": [{"node": {...}}]}, for the column lineage walk (sql_lineage.h). InvalidArgument
// with DuckDB's reason when it serializes no tree (a syntax error, a statement not a query);
// Unavailable when DuckDB itself fails.
Result<std::string> SerializedParseTree(Connection& conn, std::string_view sql);

// The rule of SQL a user may run against the lake through a read-only entry point (`sluice
// query`, the serve API's SQL endpoint): exactly one statement, a query or an EXPLAIN of one;
// every table function it calls is in `table_functions`; every table it reads is either a CTE
// or names a schema in `schemas` (and, if it names a catalog, one in `catalogs`), so that a
// file path, which DuckDB would read as a table through a replacement scan (`FROM 'x.csv'`,
// `FROM x.csv`), never is one. InvalidArgument with a one-line reason naming the offending
// statement, table or function and its line:col.
struct ReadOnlyRules {
  std::set<std::string> table_functions;  // lower case
  std::set<std::string> schemas;          // lower case
  std::set<std::string> catalogs;         // lower case
};
Status CheckReadOnlySelect(const ParsedSql& parsed, const ReadOnlyRules& rules);

}  // namespace sluice::duck
