// Column-level lineage of one query, read from DuckDB's own parse tree.
//
// LineageOfQuery parses the query with `json_serialize_sql` (as sql_parser.h does; nothing is
// bound or run) and resolves every output column to the input columns it is computed from,
// with the OpenLineage transformation types (ColumnLineageDatasetFacet, facets 1-2-0):
//   DIRECT   IDENTITY        the value is copied unchanged (`SELECT a`, `SELECT t.a AS b`)
//            TRANSFORMATION  computed from it (`a + 1`, `CAST(a AS DATE)`, a CASE branch)
//            AGGREGATION     an aggregate over it (`sum(a)`; count is also `masking`)
//   INDIRECT JOIN            a join condition or USING column
//            FILTER          WHERE, HAVING, QUALIFY, an aggregate's FILTER clause
//            GROUP_BY        GROUP BY (GROUP BY ALL: the select items without an aggregate)
//            SORT            ORDER BY of the query, an aggregate's ORDER BY
//            WINDOW          a window's PARTITION BY / ORDER BY
//            CONDITIONAL     a CASE condition
// INDIRECT edges of JOIN, FILTER, GROUP_BY and SORT touch every row of the result: they are
// the query's `dataset` edges, not any one column's. WINDOW and CONDITIONAL edges belong to the
// column whose expression holds them. Lineage composes through CTEs, subqueries in FROM,
// set operations (each branch; UNION BY NAME by name), joins with aliases, `*`, `t.*`,
// `* EXCLUDE`, `* REPLACE`, correlated and LATERAL subqueries, VALUES, unnest in FROM and
// ORDER BY ALL; filters inside a CTE or subquery become dataset edges of the query reading it.
//
// Not resolved (InvalidArgument naming what): COLUMNS(...), recursive CTEs, PIVOT/UNPIVOT,
// `*` over a table function other than unnest (whose columns are unknown without reading it).
// Columns of such a table function are accepted by name without lineage (a file is not a
// dataset of the project).
//
// Not safe for concurrent use of the same Connection (see duck.h).
#pragma once

#include <compare>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "duck/duck.h"

namespace sluice::duck {

// The subtypes, ordered so that a DIRECT edge through an expression takes the larger of its
// own subtype and the expression's (an aggregate of a transformation is an aggregation).
enum class Transformation {
  kIdentity,
  kTransformation,
  kAggregation,
  kJoin,
  kFilter,
  kGroupBy,
  kSort,
  kWindow,
  kConditional,
};

bool IsDirect(Transformation t);
const char* TransformationType(Transformation t);     // "DIRECT" | "INDIRECT"
const char* TransformationSubtype(Transformation t);  // "IDENTITY", ..., "CONDITIONAL"

// One input column of an output column (or of the whole result): `table` as the query names it
// after resolution ("curated.orders", lower case), `column` as the table declares it.
struct LineageEdge {
  std::string table;
  std::string column;
  Transformation how = Transformation::kIdentity;
  bool masking = false;  // the output does not reveal the input's values (count, hashes)
  auto operator<=>(const LineageEdge&) const = default;
};

struct ColumnLineage {
  std::string name;  // as DuckDB names the output column when the select item sets it
  std::set<LineageEdge> inputs;
};

struct QueryLineage {
  std::vector<ColumnLineage> columns;  // in output order
  std::set<LineageEdge> dataset;       // INDIRECT edges that shape every row
};

// "schema.table" (lower case) -> its columns, in order: the tables a query may read.
using TableColumns = std::map<std::string, std::vector<std::string>>;

// The lineage of `sql`, one SELECT statement, over `tables`. InvalidArgument for text that is
// not one query, a table not in `tables`, a column no relation in scope has ("unknown column
// 'x'") or several have ("ambiguous column 'x' (a.x, b.x)"), and the constructs above.
// Unavailable when DuckDB itself fails. An output column the query does not name (`SELECT
// a + 1`) gets DuckDB's name only after binding; here it is named by its position ("#2").
Result<QueryLineage> LineageOfQuery(Connection& conn, std::string_view sql, const TableColumns& tables);

}  // namespace sluice::duck
