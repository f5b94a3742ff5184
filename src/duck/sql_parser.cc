#include "duck/sql_parser.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

namespace sluice::duck {

namespace {

using Json = nlohmann::json;

// query_location of a node DuckDB has no position for.
constexpr uint64_t kNoLocation = std::numeric_limits<uint64_t>::max();

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string StringField(const Json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// DuckDB's answer for `sql`: {"error": false, "statements": [...]} or {"error": true,
// "error_type": "parser" | "not implemented" | ..., "error_message", "position"}. The serializer
// reports its errors in the JSON instead of failing the query.
Result<Json> Serialize(Connection& conn, std::string_view sql) {
  ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT json_serialize_sql(" + Literal(sql) + ")"));
  if (rows.rows.size() != 1 || rows.names.size() != 1 || !rows.rows[0][0]) {
    return Status::Unavailable("duckdb: json_serialize_sql returned no document");
  }
  Json doc = Json::parse(*rows.rows[0][0], nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("error")) {
    return Status::Unavailable("duckdb: json_serialize_sql returned an unexpected document");
  }
  return doc;
}

bool Failed(const Json& doc) { return doc.value("error", true); }

// The decimal offset DuckDB reports as a parse error's "position", if any.
std::optional<size_t> ErrorOffset(const Json& doc) {
  const std::string pos = StringField(doc, "position");
  if (pos.empty() || pos.size() > 18 ||
      !std::all_of(pos.begin(), pos.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::stoull(pos));
}

// The statement as a reader would recognise it in a one-line message: whitespace runs as one
// space, at most 60 characters.
std::string Excerpt(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > 60) {
    size_t cut = 57;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

// How many statements DuckDB's parser splits `sql` into (duckdb_extract_statements parses
// without binding: nothing is looked up or read).
Result<size_t> CountStatements(Connection& conn, const std::string& sql) {
  duckdb_extracted_statements extracted = nullptr;
  const idx_t n = duckdb_extract_statements(conn.raw(), sql.c_str(), &extracted);
  std::string error;
  if (n == 0 && extracted != nullptr) {
    const char* e = duckdb_extract_statements_error(extracted);
    if (e != nullptr) error = e;
  }
  duckdb_destroy_extracted(&extracted);
  if (!error.empty()) return Status::InvalidArgument(error);
  return static_cast<size_t>(n);
}

// Walks a serialized parse tree, collecting table references and table functions. The walk is
// generic (every object and array is visited), so clauses it has no rule for -- window
// definitions, LATERAL, PIVOT sources, IN/EXISTS subqueries, lambdas -- are still searched;
// only CTE scoping needs rules:
//  - a query node's `cte_map` puts its CTE names in scope for the node's body; a CTE's own
//    definition sees the outer scope and the CTEs defined before it in the same WITH (a
//    non-recursive CTE that reads a table of its own name reads the table, as in DuckDB);
//  - a RECURSIVE_CTE_NODE sees its own name;
//  - a CTE_NODE (a materialized CTE) repeats its definition in `query` and again in its
//    child's cte_map: only the child is walked.
// A node may be visited under several scopes (DuckDB repeats a materialized CTE's definitions
// at each level); a name is a table reference if any visit finds it unscoped, once per position.
class TreeWalker {
 public:
  TreeWalker(std::string_view sql, size_t offset_base) : sql_(sql), base_(offset_base) {}

  void Walk(const Json& v, std::vector<std::string>& scope) {
    if (v.is_array()) {
      for (const auto& item : v) Walk(item, scope);
      return;
    }
    if (!v.is_object()) return;
    const std::string type = StringField(v, "type");
    const size_t scope_size = scope.size();
    if (type == "BASE_TABLE" && v.contains("table_name")) AddTable(v, scope);
    if (type == "TABLE_FUNCTION") AddFunction(v);
    if (type == "RECURSIVE_CTE_NODE") scope.push_back(Lower(StringField(v, "cte_name")));
    auto ctes = v.find("cte_map");
    if (ctes != v.end() && ctes->is_object() && ctes->contains("map")) {
      for (const auto& entry : (*ctes)["map"]) {
        if (entry.contains("value")) Walk(entry["value"], scope);
        scope.push_back(Lower(entry.value("key", std::string())));
      }
    }
    for (const auto& [key, child] : v.items()) {
      if (key == "cte_map" || (type == "CTE_NODE" && key == "query")) continue;
      Walk(child, scope);
    }
    scope.resize(scope_size);
  }

  std::vector<SqlTableRef> TakeTables() {
    std::vector<SqlTableRef> out;
    for (auto& [key, ref] : tables_) out.push_back(std::move(ref));
    return out;
  }
  std::vector<SqlTableFunction> TakeFunctions() {
    std::vector<SqlTableFunction> out;
    for (auto& [key, f] : functions_) out.push_back(std::move(f));
    return out;
  }

 private:
  // Tables and functions keyed by (text offset, name): text order, each position once.
  using Key = std::tuple<uint64_t, std::string>;

  SqlPosition Position(const Json& node) const {
    const uint64_t loc = node.value("query_location", kNoLocation);
    if (loc == kNoLocation || base_ + loc > sql_.size()) return SqlPosition{};
    return PositionAt(sql_, base_ + static_cast<size_t>(loc));
  }

  void AddTable(const Json& node, const std::vector<std::string>& scope) {
    SqlTableRef ref;
    ref.catalog = Lower(StringField(node, "catalog_name"));
    ref.schema = Lower(StringField(node, "schema_name"));
    ref.name = Lower(StringField(node, "table_name"));
    if (ref.catalog.empty() && ref.schema.empty() &&
        std::find(scope.begin(), scope.end(), ref.name) != scope.end()) {
      return;  // a CTE
    }
    ref.position = Position(node);
    tables_.emplace(Key{node.value("query_location", kNoLocation), ref.QualifiedName()}, ref);
  }

  void AddFunction(const Json& node) {
    auto f = node.find("function");
    if (f == node.end() || !f->is_object()) return;
    SqlTableFunction fn{Lower(StringField(*f, "function_name")), Position(node), {}};
    auto children = f->find("children");
    if (children != f->end() && children->is_array()) {
      for (const auto& arg : *children) {
        if (IsNamedParameter(arg)) continue;
        fn.arguments.push_back(Argument(arg));
      }
    }
    functions_.emplace(Key{node.value("query_location", kNoLocation), fn.name}, fn);
  }

  // `name = value` in a call's argument list: DuckDB passes it as a named parameter.
  static bool IsNamedParameter(const Json& arg) {
    if (StringField(arg, "class") != "COMPARISON" || StringField(arg, "type") != "COMPARE_EQUAL")
      return false;
    auto left = arg.find("left");
    return left != arg.end() && StringField(*left, "class") == "COLUMN_REF";
  }

  // A string constant, or nullopt.
  static std::optional<std::string> StringConstant(const Json& expr) {
    if (StringField(expr, "class") != "CONSTANT") return std::nullopt;
    auto value = expr.find("value");
    if (value == expr.end() || !value->is_object() || value->value("is_null", true)) return std::nullopt;
    auto type = value->find("type");
    if (type == value->end() || !type->is_object()) return std::nullopt;
    const std::string id = StringField(*type, "id");
    auto text = value->find("value");
    if ((id != "VARCHAR" && id != "STRING_LITERAL") || text == value->end() || !text->is_string()) {
      return std::nullopt;
    }
    return text->get<std::string>();
  }

  static SqlArgument Argument(const Json& arg) {
    SqlArgument out;
    if (std::optional<std::string> s = StringConstant(arg)) {
      out.literal = true;
      out.strings.push_back(std::move(*s));
      return out;
    }
    auto children = arg.find("children");
    if (StringField(arg, "class") != "FUNCTION" || Lower(StringField(arg, "function_name")) != "list_value" ||
        children == arg.end() || !children->is_array()) {
      return out;
    }
    for (const auto& item : *children) {
      std::optional<std::string> s = StringConstant(item);
      if (!s) return SqlArgument{};
      out.strings.push_back(std::move(*s));
    }
    out.literal = true;
    return out;
  }

  std::string_view sql_;  // the whole text; the serialized one starts at base_
  size_t base_;
  std::map<Key, SqlTableRef> tables_;
  std::map<Key, SqlTableFunction> functions_;
};

// True when `statements` is exactly `SELECT <expr> [AS alias]`: one select item, with the
// given alias ("" for none, compared case-insensitively), and nothing else.
bool IsSingleItem(const Json& statements, std::string_view alias) {
  if (statements.size() != 1 || !statements[0].contains("node")) return false;
  const Json& node = statements[0]["node"];
  if (StringField(node, "type") != "SELECT_NODE") return false;
  for (const auto& [key, v] : node.items()) {
    if (key == "type") continue;
    if (key == "select_list") {
      if (!v.is_array() || v.size() != 1 || Lower(StringField(v[0], "alias")) != alias) return false;
    } else if (key == "from_table") {
      if (StringField(v, "type") != "EMPTY") return false;
    } else if (key == "aggregate_handling") {
      if (v != "STANDARD_HANDLING") return false;
    } else if (key == "cte_map") {
      if (!v.is_object() || !v.value("map", Json::array()).empty()) return false;
    } else if (!(v.is_null() || (v.is_array() && v.empty()))) {
      return false;  // WHERE, GROUP BY, HAVING, QUALIFY, SAMPLE, ORDER BY/LIMIT/DISTINCT, ...
    }
  }
  return true;
}

void SetSyntaxError(ParsedSql& parsed, std::string_view sql, const Json& doc) {
  parsed.kind = SqlStatementKind::kInvalid;
  parsed.statement_count = 0;
  parsed.error = doc.value("error_message", std::string("cannot parse the SQL"));
  const std::optional<size_t> at = ErrorOffset(doc);
  if (at && *at <= sql.size()) parsed.error_position = PositionAt(sql, *at);
}

void Collect(ParsedSql& parsed, std::string_view sql, size_t offset_base, const Json& statements) {
  TreeWalker walker(sql, offset_base);
  std::vector<std::string> scope;
  walker.Walk(statements, scope);
  parsed.tables = walker.TakeTables();
  parsed.table_functions = walker.TakeFunctions();
}

// Where `text` splits into `<word> <rest>` as DuckDB's tokenizer reads it, found with the
// parser: in `SELECT 1 AS <word> <rest>` the word is a column label (even a reserved word such
// as ANALYZE may be one) and DuckDB reports a syntax error at the offset of <rest>'s first
// token. The text before that offset must read as exactly `SELECT 1 AS <word>`. nullopt when
// `text` does not start with the word or <rest> continues a select list (e.g. a FROM clause).
Result<std::optional<size_t>> SplitAfterWord(Connection& conn, std::string_view text, std::string_view word) {
  static constexpr std::string_view kProbe = "SELECT 1 AS ";
  const std::optional<size_t> kNoSplit;
  ASSIGN_OR_RETURN(Json probe, Serialize(conn, std::string(kProbe) + std::string(text)));
  if (!Failed(probe) || StringField(probe, "error_type") != "parser") return kNoSplit;
  const std::optional<size_t> at = ErrorOffset(probe);
  if (!at || *at < kProbe.size() || *at - kProbe.size() > text.size()) return kNoSplit;
  const size_t split = *at - kProbe.size();
  ASSIGN_OR_RETURN(Json head, Serialize(conn, std::string(kProbe) + std::string(text.substr(0, split))));
  if (Failed(head) || !IsSingleItem(head["statements"], word)) return kNoSplit;
  if (StringField(head["statements"][0]["node"]["select_list"][0], "class") != "CONSTANT") {
    return kNoSplit;
  }
  return std::optional<size_t>(split);
}

// The serializer takes SELECT statements only, so an EXPLAIN is recognised with the parser
// too: the text must split into the word EXPLAIN, optionally the word ANALYZE (or ANALYSE),
// and one query. Since the whole text is one statement (checked before) made of those tokens,
// it is `EXPLAIN [ANALYZE] <query>`; EXPLAIN with options or VERBOSE is not recognised.
// Sets parsed.kind to kExplain, and the tables of the query, when it is one.
Status ParseExplain(Connection& conn, std::string_view sql, ParsedSql& parsed) {
  ASSIGN_OR_RETURN(std::optional<size_t> after_explain, SplitAfterWord(conn, sql, "explain"));
  if (!after_explain) return Status::OK();
  size_t start = *after_explain;
  ASSIGN_OR_RETURN(Json query, Serialize(conn, sql.substr(start)));
  for (const char* analyze : {"analyze", "analyse"}) {
    if (!Failed(query)) break;
    ASSIGN_OR_RETURN(std::optional<size_t> after, SplitAfterWord(conn, sql.substr(start), analyze));
    if (!after) continue;
    start += *after;
    ASSIGN_OR_RETURN(query, Serialize(conn, sql.substr(start)));
    break;
  }
  if (Failed(query) || query["statements"].size() != 1) return Status::OK();
  parsed.kind = SqlStatementKind::kExplain;
  Collect(parsed, sql, start, query["statements"]);
  return Status::OK();
}

}  // namespace

std::string SqlPosition::ToString() const { return std::to_string(line) + ":" + std::to_string(column); }

SqlPosition PositionAt(std::string_view sql, size_t offset) {
  SqlPosition p{1, 1};
  offset = std::min(offset, sql.size());
  for (size_t i = 0; i < offset; ++i) {
    if (sql[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) {
      ++p.column;  // a code point starts here (UTF-8 continuation bytes do not count)
    }
  }
  return p;
}

std::string SqlTableRef::QualifiedName() const {
  std::string out;
  if (!catalog.empty()) out += catalog + ".";
  if (!schema.empty()) out += schema + ".";
  return out + name;
}

std::string ParsedSql::ErrorWithPosition() const {
  return error_position.line > 0 ? error_position.ToString() + ": " + error : error;
}

Result<ParsedSql> ParseSql(Connection& conn, std::string_view sql) {
  ParsedSql parsed;
  parsed.excerpt = Excerpt(sql);
  if (sql.find('\0') != std::string_view::npos) {
    parsed.error = "the SQL text contains a NUL byte";
    parsed.error_position = PositionAt(sql, sql.find('\0'));
    return parsed;
  }
  ASSIGN_OR_RETURN(Json doc, Serialize(conn, sql));
  if (!Failed(doc)) {
    const Json& statements = doc["statements"];
    parsed.statement_count = statements.size();
    parsed.kind = statements.empty() ? SqlStatementKind::kNone : SqlStatementKind::kSelect;
    parsed.single_expression = IsSingleItem(statements, "");
    Collect(parsed, sql, 0, statements);
    return parsed;
  }
  if (StringField(doc, "error_type") == "parser") {
    SetSyntaxError(parsed, sql, doc);
    return parsed;
  }
  // The serializer refused a statement that parses: not every statement is a query.
  ASSIGN_OR_RETURN(parsed.statement_count, CountStatements(conn, std::string(sql)));
  parsed.kind = SqlStatementKind::kOther;
  if (parsed.statement_count == 1) RETURN_IF_ERROR(ParseExplain(conn, sql, parsed));
  return parsed;
}

Result<std::string> SerializedParseTree(Connection& conn, std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos)
    return Status::InvalidArgument("the SQL text contains a NUL byte");
  ASSIGN_OR_RETURN(Json doc, Serialize(conn, sql));
  if (Failed(doc)) {
    const std::optional<size_t> at = ErrorOffset(doc);
    const std::string where = at && *at <= sql.size() ? PositionAt(sql, *at).ToString() + ": " : "";
    return Status::InvalidArgument(where + doc.value("error_message", std::string("not a query")));
  }
  return doc.dump();
}

Status CheckReadOnlySelect(const ParsedSql& parsed, const ReadOnlyRules& rules) {
  if (parsed.kind == SqlStatementKind::kInvalid) {
    return Status::InvalidArgument(parsed.ErrorWithPosition());
  }
  if (parsed.statement_count != 1) {
    return Status::InvalidArgument(parsed.statement_count == 0
                                       ? std::string("no SQL statement to run")
                                       : std::to_string(parsed.statement_count) + " statements in '" +
                                             parsed.excerpt + "'; a read-only query is exactly one SELECT");
  }
  if (parsed.kind != SqlStatementKind::kSelect && parsed.kind != SqlStatementKind::kExplain) {
    return Status::InvalidArgument("'" + parsed.excerpt +
                                   "' is not a query: a read-only query is one SELECT (or EXPLAIN "
                                   "of one); COPY, ATTACH, PRAGMA, SET, INSTALL, LOAD, EXPORT and "
                                   "statements that change anything are refused");
  }
  for (const auto& fn : parsed.table_functions) {
    if (rules.table_functions.count(fn.name) == 0) {
      std::string allowed;
      for (const auto& a : rules.table_functions) allowed += (allowed.empty() ? "" : ", ") + a;
      return Status::InvalidArgument(
          fn.position.ToString() + ": table function " + fn.name +
          " is not allowed in a read-only query (allowed: " + (allowed.empty() ? "none" : allowed) + ")");
    }
  }
  for (const auto& t : parsed.tables) {
    if (t.schema.empty() || rules.schemas.count(t.schema) == 0 ||
        (!t.catalog.empty() && rules.catalogs.count(t.catalog) == 0)) {
      std::string schemas;
      for (const auto& s : rules.schemas) schemas += (schemas.empty() ? "" : ", ") + s;
      return Status::InvalidArgument(
          t.position.ToString() + ": table " + t.QualifiedName() +
          ": a read-only query reads tables as <schema>.<table> with schema one of " + schemas +
          " (never files)");
    }
  }
  return Status::OK();
}

}  // namespace sluice::duck
