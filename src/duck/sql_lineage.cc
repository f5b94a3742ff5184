#include "duck/sql_lineage.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "duck/sql_parser.h"

namespace sluice::duck {

namespace {

using Json = nlohmann::json;
using Edges = std::set<LineageEdge>;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Str(const Json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json& Field(const Json& node, const char* key) {
  static const Json kNull;
  auto it = node.find(key);
  return it == node.end() ? kNull : *it;
}

// Functions whose result does not reveal their argument's values.
bool Masks(const std::string& fn) {
  static const std::set<std::string> kMasking = {
      "count",      "count_star",       "approx_count_distinct", "md5", "sha1", "sha256", "hash",
      "md5_number", "md5_number_lower", "md5_number_upper"};
  return kMasking.count(fn) > 0;
}

// A DIRECT edge used inside an expression of kind `level` takes the larger of the two.
void Bump(Edges& edges, Transformation level, bool masking = false) {
  Edges out;
  for (LineageEdge e : edges) {
    if (IsDirect(e.how)) {
      e.how = std::max(e.how, level);
      e.masking = e.masking || masking;
    }
    out.insert(std::move(e));
  }
  edges = std::move(out);
}

// Every edge of a value used to decide (join, filter, sort, ...) becomes that INDIRECT kind.
Edges Indirect(const Edges& edges, Transformation how) {
  Edges out;
  for (const LineageEdge& e : edges) out.insert(LineageEdge{e.table, e.column, how, false});
  return out;
}

void Add(Edges& to, const Edges& from) { to.insert(from.begin(), from.end()); }

struct Column {
  std::string name;
  Edges edges;
};

// What a FROM item or a query yields: its columns, and the INDIRECT edges that shaped its rows.
struct Relation {
  std::vector<Column> columns;
  Edges dataset;
};

// A name a FROM clause puts in scope.
struct Binding {
  std::string alias;  // lower case: the alias, else the table (or CTE, function) name
  std::string table;  // lower case "schema.table" of a base table; "" otherwise
  Relation rel;
  bool opaque = false;                 // a table function: columns unknown
  std::set<std::string> using_hidden;  // lower case: USING columns `*` shows from the left side only

  const Column* Find(const std::string& lower) const {
    for (const Column& c : rel.columns)
      if (Lower(c.name) == lower) return &c;
    return nullptr;
  }
};

struct Scope {
  std::vector<Binding> bindings;
  std::map<std::string, Edges> merged;  // lower case USING / NATURAL column -> both sides' edges
  const Scope* parent = nullptr;
};

// How a column reference is looked up, besides the FROM scope.
struct ExprContext {
  const Scope* scope = nullptr;
  const std::map<std::string, Edges>* aliases = nullptr;  // the select list's aliases
  bool alias_first = false;                               // ORDER BY: aliases before columns
  std::set<std::string> lambda_params;
  bool saw_aggregate = false;
};

std::string Dotted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ".") + n;
  return out;
}

class Analyzer {
 public:
  Analyzer(std::string_view sql, const TableColumns& tables, const std::set<std::string>& aggregates)
      : sql_(sql), tables_(tables), aggregates_(aggregates) {}

  Result<Relation> Query(const Json& node, const Scope* outer) {
    const size_t mark = ctes_.size();
    const Json& ctes = Field(Field(node, "cte_map"), "map");
    if (ctes.is_array()) {
      for (const Json& entry : ctes) {
        const Json& value = Field(entry, "value");
        ASSIGN_OR_RETURN(Relation rel, Query(Field(Field(value, "query"), "node"), outer));
        Rename(rel, Field(value, "aliases"));
        ctes_.emplace_back(Lower(Str(entry, "key")), std::move(rel));
      }
    }
    const std::string type = Str(node, "type");
    Result<Relation> out = Status::InvalidArgument("a query of kind " + type + " is not resolved");
    if (type == "SELECT_NODE") {
      out = Select(node, outer);
    } else if (type == "SET_OPERATION_NODE") {
      out = SetOperation(node, outer);
    } else if (type == "CTE_NODE") {
      out = Query(Field(node, "child"), outer);
    } else if (type == "RECURSIVE_CTE_NODE") {
      out = Status::InvalidArgument("recursive CTE " + Str(node, "cte_name") + " is not resolved");
    }
    ctes_.resize(mark);
    return out;
  }

 private:
  static void Rename(Relation& rel, const Json& aliases) {
    if (!aliases.is_array()) return;
    for (size_t i = 0; i < aliases.size() && i < rel.columns.size(); ++i) {
      if (aliases[i].is_string()) rel.columns[i].name = aliases[i].get<std::string>();
    }
  }

  Result<Relation> SetOperation(const Json& node, const Scope* outer) {
    std::vector<const Json*> branches;
    if (Field(node, "children").is_array() && !node["children"].empty()) {
      for (const Json& c : node["children"]) branches.push_back(&c);
    } else {
      branches = {&Field(node, "left"), &Field(node, "right")};
    }
    const bool by_name = Str(node, "setop_type") == "UNION_BY_NAME";
    Relation out;
    for (size_t b = 0; b < branches.size(); ++b) {
      ASSIGN_OR_RETURN(Relation rel, Query(*branches[b], outer));
      Add(out.dataset, rel.dataset);
      if (b == 0) {
        out.columns = std::move(rel.columns);
        continue;
      }
      if (by_name) {
        for (Column& c : rel.columns) {
          auto it = std::find_if(out.columns.begin(), out.columns.end(),
                                 [&](const Column& o) { return Lower(o.name) == Lower(c.name); });
          if (it == out.columns.end()) {
            out.columns.push_back(std::move(c));
          } else {
            Add(it->edges, c.edges);
          }
        }
        continue;
      }
      if (rel.columns.size() != out.columns.size()) {
        return Status::InvalidArgument("the branches of " + Str(node, "setop_type") + " have " +
                                       std::to_string(out.columns.size()) + " and " +
                                       std::to_string(rel.columns.size()) + " columns");
      }
      for (size_t i = 0; i < rel.columns.size(); ++i) Add(out.columns[i].edges, rel.columns[i].edges);
    }
    // ORDER BY of a set operation names its output columns.
    Scope result_scope;
    result_scope.parent = outer;
    result_scope.bindings.push_back(Binding{"", "", out, false, {}});
    std::map<std::string, Edges> by_alias;
    for (const Column& c : out.columns) by_alias[Lower(c.name)] = c.edges;
    RETURN_IF_ERROR(Modifiers(node, result_scope, by_alias, out));
    return out;
  }

  Result<Relation> Select(const Json& node, const Scope* outer) {
    Scope scope;
    scope.parent = outer;
    Relation out;
    RETURN_IF_ERROR(From(Field(node, "from_table"), scope, out.dataset));

    std::map<std::string, Edges> aliases;
    std::vector<bool> aggregated;  // per output column: holds an aggregate
    ExprContext ctx;
    ctx.scope = &scope;
    ctx.aliases = &aliases;
    const Json& items = Field(node, "select_list");
    for (size_t i = 0; items.is_array() && i < items.size(); ++i) {
      const Json& item = items[i];
      if (Str(item, "class") == "STAR") {
        ASSIGN_OR_RETURN(std::vector<Column> cols, Star(item, scope, ctx));
        for (Column& c : cols) {
          out.columns.push_back(std::move(c));
          aggregated.push_back(false);
        }
        continue;
      }
      ctx.saw_aggregate = false;
      ASSIGN_OR_RETURN(Edges edges, Expr(item, ctx));
      std::string name = Str(item, "alias");
      if (name.empty() && Str(item, "class") == "COLUMN_REF" && !Field(item, "column_names").empty()) {
        name = Field(item, "column_names").back().get<std::string>();
      }
      if (name.empty()) name = "#" + std::to_string(out.columns.size() + 1);
      aliases.emplace(Lower(name), edges);
      out.columns.push_back(Column{name, std::move(edges)});
      aggregated.push_back(ctx.saw_aggregate);
    }

    ASSIGN_OR_RETURN(Edges where, Expr(Field(node, "where_clause"), ctx));
    Add(out.dataset, Indirect(where, Transformation::kFilter));
    const Json& groups = Field(node, "group_expressions");
    if (groups.is_array() && !groups.empty()) {
      for (const Json& g : groups) {
        ASSIGN_OR_RETURN(Edges e, ByPositionOrExpr(g, out, ctx));
        Add(out.dataset, Indirect(e, Transformation::kGroupBy));
      }
    } else if (Str(node, "aggregate_handling") == "FORCE_AGGREGATES") {
      // GROUP BY ALL: every select item without an aggregate.
      for (size_t i = 0; i < out.columns.size(); ++i) {
        if (!aggregated[i]) Add(out.dataset, Indirect(out.columns[i].edges, Transformation::kGroupBy));
      }
    }
    for (const char* key : {"having", "qualify"}) {
      ASSIGN_OR_RETURN(Edges e, Expr(Field(node, key), ctx));
      Add(out.dataset, Indirect(e, Transformation::kFilter));
    }
    RETURN_IF_ERROR(Modifiers(node, scope, aliases, out));
    return out;
  }

  // ORDER BY (SORT) and DISTINCT ON (GROUP_BY) of a query node; LIMIT takes no column.
  Status Modifiers(const Json& node, const Scope& scope, const std::map<std::string, Edges>& aliases,
                   Relation& out) {
    const Json& mods = Field(node, "modifiers");
    if (!mods.is_array()) return Status::OK();
    ExprContext ctx;
    ctx.scope = &scope;
    ctx.aliases = &aliases;
    ctx.alias_first = true;
    for (const Json& m : mods) {
      const std::string type = Str(m, "type");
      if (type == "ORDER_MODIFIER" && Field(m, "orders").is_array()) {
        for (const Json& o : m["orders"]) {
          if (Str(Field(o, "expression"), "class") == "STAR") {  // ORDER BY ALL
            for (const Column& c : out.columns) Add(out.dataset, Indirect(c.edges, Transformation::kSort));
            continue;
          }
          ASSIGN_OR_RETURN(Edges e, ByPositionOrExpr(Field(o, "expression"), out, ctx));
          Add(out.dataset, Indirect(e, Transformation::kSort));
        }
      } else if (type == "DISTINCT_MODIFIER" && Field(m, "distinct_on_targets").is_array()) {
        for (const Json& t : m["distinct_on_targets"]) {
          ASSIGN_OR_RETURN(Edges e, ByPositionOrExpr(t, out, ctx));
          Add(out.dataset, Indirect(e, Transformation::kGroupBy));
        }
      }
    }
    return Status::OK();
  }

  // `GROUP BY 2`, `ORDER BY 1`: the output column at that position; anything else an expression.
  Result<Edges> ByPositionOrExpr(const Json& e, const Relation& out, ExprContext& ctx) {
    if (Str(e, "class") == "CONSTANT") {
      const Json& v = Field(Field(e, "value"), "value");
      if (v.is_number_integer()) {
        const int64_t pos = v.get<int64_t>();
        if (pos < 1 || pos > static_cast<int64_t>(out.columns.size())) {
          return Status::InvalidArgument("position " + std::to_string(pos) +
                                         " is not a column of the select list");
        }
        return out.columns[static_cast<size_t>(pos - 1)].edges;
      }
    }
    return Expr(e, ctx);
  }

  Result<std::vector<Column>> Star(const Json& item, const Scope& scope, ExprContext& ctx) {
    if (Field(item, "columns").is_boolean() && item["columns"].get<bool>()) {
      return Status::InvalidArgument("COLUMNS(...) is not resolved");
    }
    const std::string relation = Lower(Str(item, "relation_name"));
    std::set<std::string> excluded;
    std::set<std::pair<std::string, std::string>> excluded_qualified;
    if (Field(item, "exclude_list").is_array()) {
      for (const Json& x : item["exclude_list"]) {
        if (x.is_string()) excluded.insert(Lower(x.get<std::string>()));
      }
    }
    if (Field(item, "qualified_exclude_list").is_array()) {
      for (const Json& x : item["qualified_exclude_list"]) {
        excluded_qualified.emplace(Lower(Str(x, "table")), Lower(Str(x, "column")));
      }
    }
    std::map<std::string, const Json*> replaced;
    if (Field(item, "replace_list").is_array()) {
      for (const Json& r : item["replace_list"]) replaced[Lower(Str(r, "key"))] = &Field(r, "value");
    }
    std::vector<Column> out;
    bool matched = false;
    for (const Binding& b : scope.bindings) {
      if (!relation.empty() && b.alias != relation && b.table != relation) continue;
      matched = true;
      if (b.opaque) return Status::InvalidArgument("* over table function " + b.alias + " is not resolved");
      for (const Column& c : b.rel.columns) {
        const std::string lower = Lower(c.name);
        if (excluded.count(lower) || excluded_qualified.count({b.alias, lower})) continue;
        if (relation.empty() && b.using_hidden.count(lower)) continue;
        Column col = c;
        if (relation.empty() && scope.merged.count(lower)) col.edges = scope.merged.at(lower);
        if (auto r = replaced.find(lower); r != replaced.end()) {
          ASSIGN_OR_RETURN(col.edges, Expr(*r->second, ctx));
        }
        out.push_back(std::move(col));
      }
    }
    if (!matched) {
      return Status::InvalidArgument(
          Where(item) + (relation.empty() ? std::string("* without a FROM clause")
                                          : "unknown relation '" + relation + "' in " + relation + ".*"));
    }
    return out;
  }

  // Adds the bindings of FROM item `ref` to `scope` and its JOIN edges (and the dataset edges
  // of the relations it reads) to `dataset`.
  Status From(const Json& ref, Scope& scope, Edges& dataset) {
    if (!ref.is_object()) return Status::OK();
    const std::string type = Str(ref, "type");
    const std::string alias = Lower(Str(ref, "alias"));
    Binding b;
    if (type == "EMPTY") return Status::OK();
    if (type == "BASE_TABLE") {
      const std::string schema = Lower(Str(ref, "schema_name"));
      const std::string name = Lower(Str(ref, "table_name"));
      b.alias = alias.empty() ? name : alias;
      const Relation* cte = schema.empty() && Str(ref, "catalog_name").empty() ? FindCte(name) : nullptr;
      if (cte != nullptr) {
        b.rel = *cte;
      } else {
        const std::string qualified = schema.empty() ? name : schema + "." + name;
        auto it = tables_.find(qualified);
        if (it == tables_.end()) return Status::InvalidArgument(Where(ref) + "unknown table " + qualified);
        b.table = qualified;
        for (const std::string& c : it->second) {
          b.rel.columns.push_back(Column{c, {LineageEdge{qualified, c, Transformation::kIdentity, false}}});
        }
      }
    } else if (type == "SUBQUERY") {
      ASSIGN_OR_RETURN(b.rel, Query(Field(Field(ref, "subquery"), "node"), &scope));
      b.alias = alias;
    } else if (type == "EXPRESSION_LIST") {
      // VALUES: columns col0, col1, ... (DuckDB's names), each from its expression in every row.
      b.alias = alias;
      for (const Json& row : Field(ref, "values")) {
        ExprContext ctx;
        ctx.scope = &scope;
        for (size_t i = 0; i < row.size(); ++i) {
          if (b.rel.columns.size() <= i) b.rel.columns.push_back(Column{"col" + std::to_string(i), {}});
          ASSIGN_OR_RETURN(Edges e, Expr(row[i], ctx));
          Add(b.rel.columns[i].edges, e);
        }
      }
    } else if (type == "TABLE_FUNCTION" && Lower(Str(Field(ref, "function"), "function_name")) == "unnest") {
      // unnest(list) in FROM: one column `unnest`, the elements of its (LATERAL) argument.
      b.alias = alias.empty() ? "unnest" : alias;
      ExprContext ctx;
      ctx.scope = &scope;
      ASSIGN_OR_RETURN(Edges e, Expr(Field(ref, "function"), ctx));
      b.rel.columns.push_back(Column{"unnest", std::move(e)});
    } else if (type == "TABLE_FUNCTION") {
      b.opaque = true;
      b.alias = alias.empty() ? Lower(Str(Field(ref, "function"), "function_name")) : alias;
    } else if (type == "JOIN") {
      return Join(ref, scope, dataset);
    } else {
      return Status::InvalidArgument("a FROM item of kind " + type + " is not resolved");
    }
    Rename(b.rel, Field(ref, "column_name_alias"));
    Add(dataset, b.rel.dataset);
    scope.bindings.push_back(std::move(b));
    return Status::OK();
  }

  Status Join(const Json& ref, Scope& scope, Edges& dataset) {
    const size_t left_begin = scope.bindings.size();
    RETURN_IF_ERROR(From(Field(ref, "left"), scope, dataset));
    const size_t right_begin = scope.bindings.size();
    RETURN_IF_ERROR(From(Field(ref, "right"), scope, dataset));
    std::vector<std::string> using_columns;
    if (Field(ref, "using_columns").is_array()) {
      for (const Json& c : ref["using_columns"]) using_columns.push_back(Lower(c.get<std::string>()));
    }
    if (Str(ref, "ref_type") == "NATURAL") {
      for (size_t l = left_begin; l < right_begin; ++l) {
        for (const Column& c : scope.bindings[l].rel.columns) {
          const std::string lower = Lower(c.name);
          for (size_t r = right_begin; r < scope.bindings.size(); ++r) {
            if (scope.bindings[r].Find(lower) != nullptr &&
                std::find(using_columns.begin(), using_columns.end(), lower) == using_columns.end()) {
              using_columns.push_back(lower);
            }
          }
        }
      }
    }
    for (const std::string& col : using_columns) {
      Edges both;
      bool in_left = false, in_right = false;
      for (size_t i = left_begin; i < scope.bindings.size(); ++i) {
        const Column* c = scope.bindings[i].Find(col);
        if (c == nullptr) continue;
        (i < right_begin ? in_left : in_right) = true;
        Add(both, c->edges);
        if (i >= right_begin) scope.bindings[i].using_hidden.insert(col);
      }
      if (!in_left || !in_right)
        return Status::InvalidArgument("USING column '" + col + "' is not on both sides");
      scope.merged[col] = both;
      Add(dataset, Indirect(both, Transformation::kJoin));
    }
    ExprContext ctx;
    ctx.scope = &scope;
    ASSIGN_OR_RETURN(Edges on, Expr(Field(ref, "condition"), ctx));
    Add(dataset, Indirect(on, Transformation::kJoin));
    return Status::OK();
  }

  const Relation* FindCte(const std::string& name) const {
    for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  // The edges of a column reference, looked up in the FROM scope, then the enclosing queries'
  // (correlated subqueries), then the select list's aliases.
  Result<Edges> ColumnRef(const Json& e, ExprContext& ctx) {
    std::vector<std::string> names;
    for (const Json& n : Field(e, "column_names")) names.push_back(Lower(n.get<std::string>()));
    if (names.empty()) return Edges{};
    if (ctx.lambda_params.count(names[0])) return Edges{};
    if (ctx.alias_first && names.size() == 1 && ctx.aliases && ctx.aliases->count(names[0])) {
      return ctx.aliases->at(names[0]);
    }
    for (const Scope* s = ctx.scope; s != nullptr; s = s->parent) {
      Result<std::optional<Edges>> looked_up = Lookup(*s, names);
      if (!looked_up.ok()) return Status::InvalidArgument(Where(e) + looked_up.status().message());
      const std::optional<Edges>& found = *looked_up;
      if (found) return *found;
    }
    if (names.size() == 1 && ctx.aliases && ctx.aliases->count(names[0])) return ctx.aliases->at(names[0]);
    return Status::InvalidArgument(Where(e) + "unknown column '" + Dotted(names) + "'");
  }

  // nullopt: not in this scope.
  static Result<std::optional<Edges>> Lookup(const Scope& s, const std::vector<std::string>& names) {
    // A qualified name: alias.column, schema.table.column, catalog.schema.table.column.
    std::string qualifier;
    if (names.size() == 2) qualifier = names[0];
    if (names.size() == 3) qualifier = names[0] + "." + names[1];
    if (names.size() == 4) qualifier = names[1] + "." + names[2];
    for (const Binding& b : s.bindings) {
      if (qualifier.empty() || (names.size() == 2 ? b.alias != qualifier : b.table != qualifier)) continue;
      if (b.opaque) return std::optional<Edges>(Edges{});
      const Column* c = b.Find(names.back());
      if (c == nullptr) return Status::InvalidArgument("unknown column '" + Dotted(names) + "'");
      return std::optional<Edges>(c->edges);
    }
    // An unqualified name; with more parts, a struct field of a column (`s.field`).
    const std::string& col = names[0];
    std::vector<const Binding*> found;
    size_t opaque = 0;
    for (const Binding& b : s.bindings) {
      if (b.opaque) ++opaque;
      if (b.Find(col) != nullptr) found.push_back(&b);
    }
    if (found.size() > 1) {
      if (s.merged.count(col)) return std::optional<Edges>(s.merged.at(col));
      std::string where;
      for (const Binding* b : found) where += (where.empty() ? "" : ", ") + b->alias + "." + col;
      return Status::InvalidArgument("ambiguous column '" + col + "' (" + where + ")");
    }
    if (found.size() == 1) {
      Edges edges = found[0]->Find(col)->edges;
      if (names.size() > 1) Bump(edges, Transformation::kTransformation);
      return std::optional<Edges>(std::move(edges));
    }
    if (opaque == 1 && names.size() == 1) return std::optional<Edges>(Edges{});
    return std::optional<Edges>();
  }

  // The edges of expression `e`: DIRECT ones in its own terms (a bare column is IDENTITY).
  Result<Edges> Expr(const Json& e, ExprContext& ctx) {
    if (!e.is_object()) return Edges{};
    const std::string cls = Str(e, "class");
    if (cls == "COLUMN_REF") return ColumnRef(e, ctx);
    if (cls == "CONSTANT" || cls == "PARAMETER" || cls == "DEFAULT") return Edges{};
    if (cls == "STAR") return Status::InvalidArgument("* inside an expression is not resolved");
    Edges out;
    auto add = [&](const Json& child, Transformation how, bool masking = false) -> Status {
      ASSIGN_OR_RETURN(Edges edges, Expr(child, ctx));
      if (IsDirect(how)) {
        Bump(edges, how, masking);
        Add(out, edges);
      } else {
        Add(out, Indirect(edges, how));
      }
      return Status::OK();
    };
    auto add_all = [&](const Json& list, Transformation how, const char* key = nullptr) -> Status {
      if (!list.is_array()) return Status::OK();
      for (const Json& item : list) RETURN_IF_ERROR(add(key ? Field(item, key) : item, how));
      return Status::OK();
    };
    if (cls == "FUNCTION" || cls == "WINDOW") {
      const std::string fn = Lower(Str(e, "function_name"));
      const bool aggregate = aggregates_.count(fn) > 0;
      if (aggregate && cls == "FUNCTION") ctx.saw_aggregate = true;
      const Transformation how = aggregate ? Transformation::kAggregation : Transformation::kTransformation;
      for (const Json& child : Field(e, "children")) RETURN_IF_ERROR(add(child, how, Masks(fn)));
      RETURN_IF_ERROR(add(Field(e, "filter"), Transformation::kFilter));
      RETURN_IF_ERROR(add(Field(e, "filter_expr"), Transformation::kFilter));
      RETURN_IF_ERROR(add_all(Field(Field(e, "order_bys"), "orders"), Transformation::kSort, "expression"));
      RETURN_IF_ERROR(add_all(Field(e, "partitions"), Transformation::kWindow));
      RETURN_IF_ERROR(add_all(Field(e, "orders"), Transformation::kWindow, "expression"));
      for (const char* key : {"start_expr", "end_expr", "offset_expr", "default_expr"}) {
        RETURN_IF_ERROR(add(Field(e, key), Transformation::kTransformation));
      }
      return out;
    }
    if (cls == "CASE") {
      RETURN_IF_ERROR(add_all(Field(e, "case_checks"), Transformation::kConditional, "when_expr"));
      RETURN_IF_ERROR(add_all(Field(e, "case_checks"), Transformation::kTransformation, "then_expr"));
      RETURN_IF_ERROR(add(Field(e, "else_expr"), Transformation::kTransformation));
      return out;
    }
    if (cls == "LAMBDA") {
      ExprContext inner = ctx;
      CollectParams(Field(e, "lhs"), inner.lambda_params);
      ASSIGN_OR_RETURN(Edges edges, Expr(Field(e, "expr"), inner));
      Bump(edges, Transformation::kTransformation);
      ctx.saw_aggregate = ctx.saw_aggregate || inner.saw_aggregate;
      return edges;
    }
    if (cls == "SUBQUERY") {
      ASSIGN_OR_RETURN(Relation rel, Query(Field(Field(e, "subquery"), "node"), ctx.scope));
      for (const Column& c : rel.columns) {
        Edges edges = c.edges;
        Bump(edges, Transformation::kTransformation);
        Add(out, edges);
      }
      Add(out, rel.dataset);
      RETURN_IF_ERROR(add(Field(e, "child"), Transformation::kTransformation));
      return out;
    }
    // Operators, casts, comparisons, conjunctions, BETWEEN, COLLATE, ...: every expression
    // found below this one is an operand.
    RETURN_IF_ERROR(Operands(e, out, ctx));
    return out;
  }

  Status Operands(const Json& v, Edges& out, ExprContext& ctx) {
    for (const auto& [key, child] : v.items()) {
      if (child.is_object() && child.contains("class")) {
        ASSIGN_OR_RETURN(Edges edges, Expr(child, ctx));
        Bump(edges, Transformation::kTransformation);
        Add(out, edges);
      } else if (child.is_structured()) {
        RETURN_IF_ERROR(Operands(child, out, ctx));
      }
    }
    return Status::OK();
  }

  static void CollectParams(const Json& v, std::set<std::string>& params) {
    if (v.is_object() && Str(v, "class") == "COLUMN_REF") {
      const Json& names = Field(v, "column_names");
      if (names.is_array() && !names.empty()) params.insert(Lower(names[0].get<std::string>()));
      return;
    }
    if (v.is_structured()) {
      for (const auto& [key, child] : v.items()) CollectParams(child, params);
    }
  }

  // "3:14: " of a node of the tree, for messages; "" when DuckDB gives no position.
  std::string Where(const Json& node) const {
    const Json& loc = Field(node, "query_location");
    if (!loc.is_number_unsigned() || loc.get<uint64_t>() >= sql_.size()) return "";
    return PositionAt(sql_, static_cast<size_t>(loc.get<uint64_t>())).ToString() + ": ";
  }

  std::string_view sql_;
  const TableColumns& tables_;
  const std::set<std::string>& aggregates_;
  std::vector<std::pair<std::string, Relation>> ctes_;  // in scope, innermost last
};

Result<std::set<std::string>> AggregateFunctions(Connection& conn) {
  ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT DISTINCT function_name FROM duckdb_functions() "
                                         "WHERE function_type = 'aggregate'"));
  std::set<std::string> out;
  for (const auto& row : rows.rows) {
    if (row[0]) out.insert(Lower(*row[0]));
  }
  return out;
}

}  // namespace

bool IsDirect(Transformation t) { return t <= Transformation::kAggregation; }

const char* TransformationType(Transformation t) { return IsDirect(t) ? "DIRECT" : "INDIRECT"; }

const char* TransformationSubtype(Transformation t) {
  switch (t) {
    case Transformation::kIdentity:
      return "IDENTITY";
    case Transformation::kTransformation:
      return "TRANSFORMATION";
    case Transformation::kAggregation:
      return "AGGREGATION";
    case Transformation::kJoin:
      return "JOIN";
    case Transformation::kFilter:
      return "FILTER";
    case Transformation::kGroupBy:
      return "GROUP_BY";
    case Transformation::kSort:
      return "SORT";
    case Transformation::kWindow:
      return "WINDOW";
    case Transformation::kConditional:
      return "CONDITIONAL";
  }
  return "UNKNOWN";
}

Result<QueryLineage> LineageOfQuery(Connection& conn, std::string_view sql, const TableColumns& tables) {
  ASSIGN_OR_RETURN(std::string tree, SerializedParseTree(conn, sql));
  const Json doc = Json::parse(tree, nullptr, /*allow_exceptions=*/false);
  const Json& statements = Field(doc, "statements");
  if (!statements.is_array() || statements.size() != 1) {
    return Status::InvalidArgument("a model is exactly one SELECT statement");
  }
  ASSIGN_OR_RETURN(std::set<std::string> aggregates, AggregateFunctions(conn));
  Analyzer analyzer(sql, tables, aggregates);
  Result<Relation> walked = Status::Unavailable("duckdb: no parse tree");
  try {
    walked = analyzer.Query(Field(statements[0], "node"), nullptr);
  } catch (const Json::exception& e) {
    // A tree of a shape this walk does not expect (a field of another type): DuckDB's
    // serializer changed, not the user's SQL.
    return Status::Unavailable(std::string("duckdb: unexpected parse tree: ") + e.what());
  }
  ASSIGN_OR_RETURN(Relation rel, std::move(walked));
  QueryLineage out;
  for (Column& c : rel.columns) out.columns.push_back(ColumnLineage{std::move(c.name), std::move(c.edges)});
  out.dataset = std::move(rel.dataset);
  return out;
}

}  // namespace sluice::duck
