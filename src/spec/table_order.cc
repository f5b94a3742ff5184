// Cross-references between tables (mart SQL, relationships) and the order tables run in.
#include <algorithm>
#include <map>
#include <set>

#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ResolveRelationships() {
  for (const auto& ref : relationship_refs_) {
    const std::string layer = ref.table.substr(0, ref.table.find('.'));
    const std::string name = ref.table.substr(ref.table.find('.') + 1);
    std::vector<TableSpec>& pool = layer == "curated" ? curated_ : marts_;
    TableSpec* target = nullptr;
    for (auto& t : pool) {
      if (t.name == name) target = &t;
    }
    if (target == nullptr) {
      std::vector<std::string> known;
      known.reserve(pool.size());
      for (const auto& t : pool) known.push_back(layer + "." + t.name);
      return file_.Error(ref.to_node, ref.field + ".to",
                         "unknown table " + ref.table +
                             " (known: " + (known.empty() ? std::string("none") : JoinNames(known)) + ")");
    }
    if (layer == "curated") {
      const SourceSpec* source = spec_.FindSource(target->from);
      if (source != nullptr) {
        RETURN_IF_ERROR(CheckColumn(ref.field_node, ref.field + ".field", ref.column, &source->contract));
      }
    } else {
      target->output_columns.push_back(OutputColumn(ref.field_node, ref.field + ".field", ref.column));
    }
  }
  return Status::OK();
}

Status ProjectLoader::ResolveMartRefs() {
  std::set<std::string> curated_names, mart_names;
  std::vector<std::string> curated_list, mart_list, source_list;
  for (const auto& t : curated_) curated_names.insert(t.name), curated_list.push_back(t.name);
  for (const auto& t : marts_) mart_names.insert(t.name), mart_list.push_back(t.name);
  for (const auto& s : spec_.sources) source_list.push_back(s.name);
  auto known = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("none") : JoinNames(v);
  };
  for (auto& mart : marts_) {
    const std::string field = "tables." + mart.name + ".sql";
    const std::string& sql_path = sql_paths_[mart.name];
    auto located = [&](const duck::SqlPosition& at, const std::string& what) {
      const duck::SqlPosition p = at.line > 0 ? at : duck::SqlPosition{1, 1};
      return Status::InvalidArgument(sql_path + ":" + p.ToString() + ": " + field + ": " + what);
    };
    ASSIGN_OR_RETURN(duck::ParsedSql parsed, ParseSql(mart.sql));
    if (parsed.kind == duck::SqlStatementKind::kInvalid) {
      return located(parsed.error_position, parsed.error);
    }
    if (std::string why = NotOneSelect(parsed); !why.empty()) return located({1, 1}, why);
    RETURN_IF_ERROR(CheckModelReads(parsed, located, mart));
    for (const duck::SqlTableRef& ref : parsed.tables) {
      auto error = [&](const std::string& what) { return located(ref.position, what); };
      const std::string schema = LakeSchema(ref);
      const std::string ref_text = schema + "." + ref.name;
      if (schema == "curated") {
        if (curated_names.count(ref.name) == 0) {
          std::string what = "unknown table " + ref_text + ": '" + ref.name +
                             "' is not a curated table (known: " + known(curated_list) + ")";
          if (mart_names.count(ref.name)) what += "; it is a mart, write marts." + ref.name;
          return error(what);
        }
        AddOnce(mart.reads_curated, ref.name);
      } else if (schema == "marts") {
        if (mart_names.count(ref.name) == 0) {
          std::string what = "unknown table " + ref_text + ": '" + ref.name +
                             "' is not a mart (known: " + known(mart_list) + ")";
          if (curated_names.count(ref.name)) what += "; it is a curated table, write curated." + ref.name;
          return error(what);
        }
        AddOnce(mart.depends_on, ref.name);
      } else if (schema == "staging") {
        if (spec_.FindSource(ref.name) == nullptr) {
          return error("unknown table " + ref_text + ": '" + ref.name +
                       "' is not a source (known: " + known(source_list) + ")");
        }
        AddOnce(mart.reads_staging, ref.name);
      }
    }
  }
  return Status::OK();
}

Status ProjectLoader::OrderTables() {
  std::vector<TableSpec> ordered = std::move(curated_);
  std::vector<bool> placed(marts_.size(), false);
  std::set<std::string> done;
  std::vector<size_t> order;  // indexes into marts_, dependencies first
  size_t remaining = marts_.size();
  while (remaining > 0) {
    bool progress = false;
    for (size_t i = 0; i < marts_.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (const auto& d : marts_[i].depends_on) ready = ready && done.count(d) > 0;
      if (!ready) continue;
      placed[i] = true;
      done.insert(marts_[i].name);
      order.push_back(i);
      --remaining;
      progress = true;
      break;  // restart so that the earliest ready mart in file order always goes next
    }
    if (progress) continue;
    // Every unplaced mart waits on another unplaced one: walk until a name repeats.
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < marts_.size(); ++i) index[marts_[i].name] = i;
    size_t cur = 0;
    while (placed[cur]) ++cur;
    std::vector<size_t> path;
    while (std::find(path.begin(), path.end(), cur) == path.end()) {
      path.push_back(cur);
      for (const auto& d : marts_[cur].depends_on) {
        if (!placed[index[d]]) {
          cur = index[d];
          break;
        }
      }
    }
    auto start = std::find(path.begin(), path.end(), cur);
    std::string cycle;
    for (auto it = start; it != path.end(); ++it) cycle += marts_[*it].name + " -> ";
    cycle += marts_[cur].name;
    const TableSpec& first = marts_[*start];
    return file_.Error(sql_nodes_[first.name], "tables." + first.name + ".sql",
                       "marts depend on each other in a cycle: " + cycle);
  }
  for (size_t i : order) ordered.push_back(std::move(marts_[i]));
  spec_.tables = std::move(ordered);
  return Status::OK();
}

}  // namespace sluice
