#include "catalog/user_query.h"

namespace sluice {

const duck::ReadOnlyRules& UserQueryRules() {
  static const duck::ReadOnlyRules rules{
      // Table functions that compute rows from their arguments alone: they read no file, no
      // setting, no other database and run no SQL of their own. Everything else is refused:
      // read_csv/read_json/read_parquet/parquet_*/read_blob/read_text/glob read files (the
      // lake's database file holds every tenant's rows), query/query_table run SQL that this
      // gate never saw, duckdb_*/pragma_* describe the engine, and extensions add more.
      {"range", "generate_series", "unnest"},
      // What sluice puts in the lake: tables and views a user is meant to read.
      {"curated", "marts", "staging", "meta", "dlq", "information_schema"},
      // The lake's database, by the name the catalog attaches it under.
      {"lake"}};
  return rules;
}

Result<duck::ParsedSql> CheckUserQuery(duck::Connection& conn, std::string_view sql) {
  ASSIGN_OR_RETURN(duck::ParsedSql parsed, duck::ParseSql(conn, sql));
  RETURN_IF_ERROR(duck::CheckReadOnlySelect(parsed, UserQueryRules()));
  return parsed;
}

}  // namespace sluice
