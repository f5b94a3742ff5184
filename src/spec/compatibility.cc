#include "spec/compatibility.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

namespace sluice {
namespace {

// What each rule means, in the words of the error message.
std::string RuleText(const std::string& rule) {
  static const std::map<std::string, std::string> kText = {
      {"column_added_without_default",
       "a required column without a default was added: data written before has no value for it"},
      {"column_removed_without_default",
       "a required column without a default was removed: readers of the previous version need a "
       "value for it"},
      {"type_widened", "readers of the previous version cannot read values of the wider type"},
      {"type_narrowed", "the new type cannot hold every value of the old one"},
      {"type_changed", "the type changed other than by a lossless widening"},
      {"required_added", "data written before may have no value (NULL) for a now required column"},
      {"required_removed",
       "new data may have no value (NULL) where readers of the previous version require one"},
      {"enum_values_removed", "data written before may hold values the new enum no longer allows"},
      {"enum_values_added", "new data may hold values readers of the previous version do not allow"},
      {"range_narrowed", "data written before may be outside the new min/max/max_length"},
      {"range_widened",
       "new data may be outside the min/max/max_length readers of the previous version allow"},
      {"empty_allowed", "new data may hold empty values where readers of the previous version refuse them"},
      {"empty_refused", "data written before may hold empty values the new version refuses"},
      {"pattern_added", "data written before may not match the new pattern"},
      {"pattern_removed", "new data may not match the pattern readers of the previous version expect"},
      {"pattern_changed", "the pattern changed: neither version's values are known to match the other"},
      {"check_added", "data written before may fail the new check"},
      {"check_removed", "new data may fail a check readers of the previous version rely on"},
      {"default_changed",
       "old rows already read the previous default in curated and published tables, and sluice "
       "does not rewrite data"},
  };
  auto it = kText.find(rule);
  return it == kText.end() ? rule : it->second;
}

std::string Num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Value-domain rules of a column (enum, min, max, max_length): does going from `a` to `b`
// remove allowed values (narrow) and/or add some (widen)?
struct DomainChange {
  bool enum_narrowed = false, enum_widened = false;
  bool range_narrowed = false, range_widened = false;
};

DomainChange CompareDomains(const ColumnSpec& a, const ColumnSpec& b) {
  DomainChange d;
  // An empty enum allows any value.
  if (!b.enum_values.empty()) {
    if (a.enum_values.empty()) {
      d.enum_narrowed = true;
    } else {
      for (const auto& v : a.enum_values) d.enum_narrowed |= !Contains(b.enum_values, v);
    }
  }
  if (!a.enum_values.empty()) {
    if (b.enum_values.empty()) {
      d.enum_widened = true;
    } else {
      for (const auto& v : b.enum_values) d.enum_widened |= !Contains(a.enum_values, v);
    }
  }
  // A lower bound: absent is -infinity; an upper bound: absent is +infinity.
  auto lower = [&](const std::optional<double>& x, const std::optional<double>& y) {
    if (x == y) return;
    if (!x || (y && *y > *x))
      d.range_narrowed = true;  // raised or added
    else
      d.range_widened = true;  // lowered or removed
  };
  auto upper = [&](auto x, auto y) {
    if (x == y) return;
    if (!x || (y && *y < *x))
      d.range_narrowed = true;
    else
      d.range_widened = true;
  };
  lower(a.min, b.min);
  upper(a.max, b.max);
  upper(a.max_length, b.max_length);
  return d;
}

// Problems of one direction. `backward`: the new contract reads data written under the old
// one; otherwise the old contract reads data written under the new one. Rule ids name the
// change from prev to next.
void CheckDirection(const Contract& prev, const Contract& next, bool backward, std::vector<Violation>* out,
                    const CompatibilityMode& mode, int64_t prev_version) {
  auto add = [&](const std::string& column, const ColumnSpec* o, const ColumnSpec* n,
                 const std::string& rule) {
    Violation v;
    v.column = column;
    v.old_def = o ? DescribeColumn(*o) : "";
    v.new_def = n ? DescribeColumn(*n) : "";
    v.rule = rule;
    v.direction = backward ? "backward" : "forward";
    v.mode = mode.name;
    v.against_version = prev_version;
    v.detail = RuleText(rule);
    out->push_back(std::move(v));
  };
  for (const auto& o : prev.columns) {
    int j = next.Find(o.name);
    if (j < 0) {
      // Removed: a reader of the old contract must fill it in.
      if (!backward && !o.HasDefault()) add(o.name, &o, nullptr, "column_removed_without_default");
      continue;
    }
    const ColumnSpec& n = next.columns[static_cast<size_t>(j)];
    if (!(o.type == n.type)) {
      if (IsWidening(o.type, n.type)) {
        if (!backward) add(o.name, &o, &n, "type_widened");
      } else if (IsWidening(n.type, o.type)) {
        if (backward) add(o.name, &o, &n, "type_narrowed");
      } else {
        add(o.name, &o, &n, "type_changed");
      }
    }
    if (!o.required && n.required && backward) add(o.name, &o, &n, "required_added");
    if (o.required && !n.required && !backward) add(o.name, &o, &n, "required_removed");
    DomainChange d = CompareDomains(o, n);
    if (backward && d.enum_narrowed) add(o.name, &o, &n, "enum_values_removed");
    if (!backward && d.enum_widened) add(o.name, &o, &n, "enum_values_added");
    if (backward && d.range_narrowed) add(o.name, &o, &n, "range_narrowed");
    if (!backward && d.range_widened) add(o.name, &o, &n, "range_widened");
    // Only a required string column refuses empty values, so compare what each one accepts.
    const bool o_empty = !o.required || o.allow_empty, n_empty = !n.required || n.allow_empty;
    if (o.required && n.required && o_empty != n_empty) {
      if (n_empty && !backward) add(o.name, &o, &n, "empty_allowed");
      if (!n_empty && backward) add(o.name, &o, &n, "empty_refused");
    }
    if (o.pattern != n.pattern) {
      if (!o.pattern) {
        if (backward) add(o.name, &o, &n, "pattern_added");
      } else if (!n.pattern) {
        if (!backward) add(o.name, &o, &n, "pattern_removed");
      } else {
        add(o.name, &o, &n, "pattern_changed");
      }
    }
  }
  for (const auto& n : next.columns) {
    if (prev.Find(n.name) >= 0) continue;
    // Added: a reader of the new contract must fill it in for old data.
    if (backward && !n.HasDefault()) add(n.name, nullptr, &n, "column_added_without_default");
  }
  // Checks compare by expression: a renamed check with the same expression is the same rule.
  auto has_expr = [](const Contract& c, const std::string& expr) {
    for (const auto& k : c.checks) {
      if (k.expr == expr) return true;
    }
    return false;
  };
  for (const auto& k : next.checks) {
    if (backward && !has_expr(prev, k.expr)) {
      add("check " + k.name, nullptr, nullptr, "check_added");
      out->back().new_def = k.expr;
    }
  }
  for (const auto& k : prev.checks) {
    if (!backward && !has_expr(next, k.expr)) {
      add("check " + k.name, nullptr, nullptr, "check_removed");
      out->back().old_def = k.expr;
    }
  }
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Identifier-like words of `sql` outside comments and '...' literals, lower case; the text of
// "quoted identifiers" counts as a word.
std::set<std::string> SqlWords(const std::string& sql) {
  std::set<std::string> words;
  const size_t n = sql.size();
  size_t i = 0;
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < n) {
    char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      i += 2;
      while (i < n && !(sql[i] == '*' && i + 1 < n && sql[i + 1] == '/')) ++i;
      i = std::min(n, i + 2);
    } else if (c == '\'') {
      ++i;
      while (i < n && sql[i] != '\'') ++i;
      ++i;
    } else if (c == '"') {
      size_t start = ++i;
      while (i < n && sql[i] != '"') ++i;
      words.insert(Lower(sql.substr(start, i - start)));
      ++i;
    } else if (word_char(c)) {
      size_t start = i;
      while (i < n && word_char(sql[i])) ++i;
      words.insert(Lower(sql.substr(start, i - start)));
    } else {
      ++i;
    }
  }
  return words;
}

void AddUser(ColumnUsers* users, const std::string& column, const std::string& who) {
  auto& v = users->by_column[column];
  if (!Contains(v, who)) v.push_back(who);
}

}  // namespace

Result<CompatibilityMode> ParseCompatibilityMode(const std::string& text) {
  CompatibilityMode m;
  m.name = text;
  std::string base = text;
  const std::string suffix = "_transitive";
  if (base.size() > suffix.size() && base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0) {
    m.transitive = true;
    base.resize(base.size() - suffix.size());
  }
  if (base == "backward") {
    m.backward = true;
  } else if (base == "forward") {
    m.forward = true;
  } else if (base == "full") {
    m.backward = m.forward = true;
  } else if (base != "none") {
    return Status::InvalidArgument("unknown compatibility mode '" + text +
                                   "' (known: backward, forward, full, none, each optionally "
                                   "with _transitive)");
  }
  return m;
}

std::string Violation::Describe() const {
  std::string out = "column " + column + ": ";
  out += (old_def.empty() ? "(absent)" : old_def) + " -> " + (new_def.empty() ? "(absent)" : new_def);
  out += ": " + rule + " (";
  if (!direction.empty()) out += direction + ", ";
  out += mode;
  if (against_version > 0) out += ", against v" + std::to_string(against_version);
  out += "): " + detail;
  return out;
}

std::string DescribeColumn(const ColumnSpec& c) {
  std::string out = c.name + " " + c.type.Name();
  if (c.required) out += " required";
  if (!c.enum_values.empty()) {
    out += " enum=[";
    for (size_t i = 0; i < c.enum_values.size(); ++i) out += (i ? "," : "") + c.enum_values[i];
    out += "]";
  }
  if (c.min) out += " min=" + Num(*c.min);
  if (c.max) out += " max=" + Num(*c.max);
  if (c.max_length) out += " max_length=" + std::to_string(*c.max_length);
  if (c.pattern) out += " pattern=" + *c.pattern;
  if (c.default_value) out += " default=" + *c.default_value;
  if (c.allow_empty) out += " allow_empty";
  return out;
}

bool IsWidening(const ColumnType& from, const ColumnType& to) {
  using K = TypeKind;
  if (from.kind == K::kInt32) return to.kind == K::kInt64 || to.kind == K::kDouble;
  if (from.kind == K::kFloat) return to.kind == K::kDouble;
  if (from.kind == K::kDecimal && to.kind == K::kDecimal) {
    return to.scale == from.scale && to.precision > from.precision;
  }
  return false;
}

std::vector<Violation> CheckCompatibility(const Contract& prev, const Contract& next,
                                          const CompatibilityMode& mode, int64_t prev_version) {
  std::vector<Violation> out;
  if (!mode.backward && !mode.forward) return out;  // none
  if (mode.backward) CheckDirection(prev, next, /*backward=*/true, &out, mode, prev_version);
  if (mode.forward) {
    // A rule both directions break (type_changed, pattern_changed) is reported once.
    std::vector<Violation> fwd;
    CheckDirection(prev, next, /*backward=*/false, &fwd, mode, prev_version);
    for (auto& f : fwd) {
      bool dup = false;
      for (const auto& b : out) dup = dup || (b.column == f.column && b.rule == f.rule);
      if (!dup) out.push_back(std::move(f));
    }
  }
  return out;
}

std::vector<Violation> CheckDefaultChanges(const std::vector<ContractVersion>& history, const Contract& next,
                                           const RetainedVersions& retained) {
  std::vector<Violation> out;
  Result<CompatibilityMode> mode = ParseCompatibilityMode(next.compatibility);
  if (history.empty() || !mode.ok() || (!mode->backward && !mode->forward)) return out;
  const ContractVersion& latest = history.back();
  for (const auto& o : latest.contract.columns) {
    int j = next.Find(o.name);
    if (j < 0) continue;
    const ColumnSpec& n = next.columns[static_cast<size_t>(j)];
    if (o.default_value == n.default_value) continue;
    // Rows of files written under a version without the column read its default.
    std::string versions;
    int64_t batches = 0;
    bool any_lacks = false;
    for (const auto& h : history) {
      if (h.contract.Find(o.name) >= 0) continue;
      any_lacks = true;
      auto it = retained.find(h.version);
      if (it == retained.end() || it->second == 0) continue;
      versions += (versions.empty() ? "v" : ", v") + std::to_string(h.version);
      batches += it->second;
    }
    auto unrecorded = retained.find(0);
    if (any_lacks && unrecorded != retained.end() && unrecorded->second > 0) {
      versions += std::string(versions.empty() ? "" : ", ") + "unrecorded versions";
      batches += unrecorded->second;
    }
    if (versions.empty()) continue;
    Violation v;
    v.column = o.name;
    v.old_def = DescribeColumn(o);
    v.new_def = DescribeColumn(n);
    v.rule = "default_changed";
    v.mode = mode->name;
    v.against_version = latest.version;
    v.detail = "retained staging data written under " + versions + " (" + std::to_string(batches) + " batch" +
               (batches == 1 ? "" : "es") + ") lacks column " + o.name + " and reads its default; " +
               RuleText(v.rule);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<Violation> WithoutAccepted(std::vector<Violation> violations,
                                       const std::vector<Acceptance>& accepted) {
  std::vector<Violation> out;
  for (auto& v : violations) {
    bool covered = false;
    for (const auto& a : accepted) {
      covered = covered || (a.column == v.column && a.rule == v.rule &&
                            (a.version == 0 || v.against_version < a.version));
    }
    if (!covered) out.push_back(std::move(v));
  }
  return out;
}

std::string HowToProceed(const Violation& v, const std::string& source, int64_t latest) {
  std::vector<std::string> modes;
  if (v.mode != "lineage") {
    for (const std::string base : {"backward", "forward", "full", "none"}) {
      for (const bool transitive : {false, true}) {
        const std::string name = base + (transitive ? "_transitive" : "");
        Result<CompatibilityMode> parsed = ParseCompatibilityMode(name);
        const CompatibilityMode& m = *parsed;
        // A transitive-only refusal (against an older version) passes a non-transitive mode.
        const bool checked = transitive || v.against_version == 0 || v.against_version >= latest;
        bool refuses = false;
        if (v.direction == "backward")
          refuses = m.backward;
        else if (v.direction == "forward")
          refuses = m.forward;
        else
          refuses = m.backward || m.forward;  // default_changed: every mode but none
        if (!(refuses && checked) && name != v.mode) modes.push_back(name);
      }
    }
  }
  std::string out = "to proceed: ";
  if (!modes.empty()) {
    out += "compatibility ";
    for (size_t i = 0; i < modes.size(); ++i) {
      out += (i == 0 ? "" : i + 1 == modes.size() ? " or " : ", ") + modes[i];
    }
    out += " allows it, or ";
  }
  std::string column = v.column;
  if (column.rfind("check ", 0) == 0) column = column.substr(6);
  return out + "accept it once: sluice schema accept " + source + " --column " + column + " --rule " + v.rule;
}

Result<std::vector<Violation>> CheckAgainstHistory(const std::vector<ContractVersion>& history,
                                                   const Contract& next) {
  ASSIGN_OR_RETURN(CompatibilityMode mode, ParseCompatibilityMode(next.compatibility));
  std::vector<Violation> out;
  if (history.empty()) return out;
  size_t first = mode.transitive ? 0 : history.size() - 1;
  // Newest first, so that a rule broken against several versions is reported once, against the
  // latest of them.
  std::set<std::string> seen;
  for (size_t i = history.size(); i-- > first;) {
    for (auto& v : CheckCompatibility(history[i].contract, next, mode, history[i].version)) {
      std::string key = v.column + "\n" + v.rule;
      if (seen.insert(key).second) out.push_back(std::move(v));
    }
  }
  return out;
}

ColumnUsers FindColumnUsers(const ProjectSpec& spec, const std::string& source) {
  ColumnUsers users;
  std::set<std::string> curated;
  const SourceSpec* src = spec.FindSource(source);
  for (const auto& t : spec.tables) {
    if (t.kind != TableKind::kCurated || t.from != source) continue;
    curated.insert(t.name);
    const std::string who = "curated." + t.name;
    users.holders.push_back({who, t.columns});
    for (const auto& k : t.key) AddUser(&users, k, who + " key");
    if (!t.version.empty()) AddUser(&users, t.version, who + " version");
    if (src != nullptr) {
      if (!src->partition_by.day.empty()) AddUser(&users, src->partition_by.day, who + " partition_by");
      if (!src->partition_by.tenant.empty()) {
        AddUser(&users, src->partition_by.tenant, who + " partition_by");
      }
    }
    for (const auto& test : t.tests) {
      for (const auto& c : test.columns) AddUser(&users, c, who + " test " + test.Describe());
    }
  }
  for (const auto& t : spec.tables) {
    if (t.kind != TableKind::kMart) continue;
    bool reads = false;
    for (const auto& name : t.reads_curated) reads = reads || curated.count(name) > 0;
    if (!reads) continue;
    std::string path = t.sql_path;
    if (!spec.root.empty()) {
      path = std::filesystem::path(t.sql_path).lexically_relative(spec.root).string();
      if (path.empty() || path.rfind("..", 0) == 0) path = t.sql_path;
    }
    for (const auto& w : SqlWords(t.sql)) AddUser(&users, w, "marts." + t.name + " (" + path + ")");
  }
  return users;
}

std::vector<Violation> CheckLineage(const Contract& prev, const Contract& next, const ColumnUsers& users,
                                    int64_t prev_version) {
  std::vector<Violation> out;
  for (const auto& o : prev.columns) {
    auto it = users.by_column.find(o.name);
    std::vector<std::string> who;
    if (it != users.by_column.end()) who = it->second;
    int j = next.Find(o.name);
    const ColumnSpec* n = j < 0 ? nullptr : &next.columns[static_cast<size_t>(j)];
    std::string what;
    if (n == nullptr) {
      what = "removed";
      // A curated table holds every column and publishes it: its consumers use it.
      for (const auto& h : users.holders) {
        if (!h.columns.empty() && !Contains(h.columns, o.name)) continue;
        const std::string held = h.table + " (holds and publishes it)";
        if (!Contains(who, held)) who.push_back(held);
      }
    } else if (!(n->type == o.type) && !IsWidening(o.type, n->type)) {
      what = "narrowed";
    } else {
      continue;
    }
    if (who.empty()) continue;
    Violation v;
    v.column = o.name;
    v.old_def = DescribeColumn(o);
    v.new_def = n ? DescribeColumn(*n) : "";
    v.rule = "used_downstream";
    v.mode = "lineage";
    v.against_version = prev_version;
    v.detail = "column " + o.name + " is " + what + " but used by ";
    for (size_t i = 0; i < who.size(); ++i) v.detail += (i ? ", " : "") + who[i];
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace sluice
