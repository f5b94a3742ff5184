// `consumers:` and `feeds:` of sluice.yaml: the named readers of change feeds (docs/FEEDS.md).
#include <string>
#include <vector>

#include "spec/project_loader.h"

namespace sluice {

namespace {

std::string CuratedTables(const ProjectSpec& spec) {
  std::string out;
  for (const auto& t : spec.tables) {
    if (t.kind == TableKind::kCurated) out += (out.empty() ? "curated." : ", curated.") + t.name;
  }
  return out.empty() ? "none" : out;
}

// `table: curated.<name>`: only curated tables have a change log, written by curate in the
// transaction of its merge; a mart is recomputed by partition, so its "changes" would be
// deletes and re-inserts of whole partitions, not per-key changes: refused.
Status ParseConsumerTable(const YamlFile& file, const YAML::Node& at, const std::string& field,
                          const ProjectSpec& spec, ConsumerSpec& consumer) {
  ASSIGN_OR_RETURN(std::string text, file.String(at, field));
  const size_t dot = text.find('.');
  const std::string layer = dot == std::string::npos ? "" : text.substr(0, dot);
  const std::string name = dot == std::string::npos ? text : text.substr(dot + 1);
  const TableSpec* table = spec.FindTable(name);
  if (layer == "marts" && table != nullptr && table->kind == TableKind::kMart) {
    return file.Error(
        at, field,
        "'" + text + "' is a mart; change feeds are of curated tables only (" + CuratedTables(spec) + ")");
  }
  if (layer != "curated" || table == nullptr || table->kind != TableKind::kCurated) {
    return file.Error(at, field,
                      "unknown curated table '" + text + "' (curated tables: " + CuratedTables(spec) + ")");
  }
  consumer.table = name;
  return Status::OK();
}

Status ParseConsumer(const YamlFile& file, const YamlEntry& entry, ProjectSpec& spec) {
  const std::string field = "consumers." + entry.key;
  if (!IsValidIdentifier(entry.key)) {
    return file.Error(entry.key_node, field,
                      "'" + entry.key + "' is not a valid consumer name (" + IdentifierRule() + ")");
  }
  ConsumerSpec consumer;
  consumer.name = entry.key;
  consumer.line = entry.key_node.Mark().line + 1;
  ASSIGN_OR_RETURN(auto keys, file.Entries(entry.value, field));
  RETURN_IF_ERROR(file.CheckKeys(keys, field, {"table", "tenants"}));
  const YamlEntry* table = FindEntry(keys, "table");
  if (table == nullptr) {
    return file.Error(
        entry.value, field + ".table",
        "missing; name the curated table to follow (curated tables: " + CuratedTables(spec) + ")");
  }
  RETURN_IF_ERROR(ParseConsumerTable(file, table->value, field + ".table", spec, consumer));
  if (const YamlEntry* tenants = FindEntry(keys, "tenants")) {
    ASSIGN_OR_RETURN(std::vector<std::string> list,
                     file.StringList(tenants->value, field + ".tenants", false));
    if (list.empty()) {
      return file.Error(tenants->value, field + ".tenants", "is empty; list tenants or leave it out");
    }
    for (const auto& t : list) {
      if (t.empty()) return file.Error(tenants->value, field + ".tenants", "holds an empty tenant");
    }
    const TableSpec* t = spec.FindTable(consumer.table);
    if (t != nullptr && t->partition_by.tenant.empty()) {
      return file.Error(tenants->value, field + ".tenants",
                        "curated." + consumer.table + " has no tenant column (partition_by.tenant)");
    }
    consumer.tenants = std::move(list);
  }
  spec.consumers.push_back(std::move(consumer));
  return Status::OK();
}

}  // namespace

Status ParseConsumers(const YamlFile& file, const std::vector<YamlEntry>& top, ProjectSpec& spec) {
  if (const YamlEntry* consumers = FindEntry(top, "consumers"); consumers && !consumers->value.IsNull()) {
    ASSIGN_OR_RETURN(auto entries, file.Entries(consumers->value, "consumers"));
    for (const auto& e : entries) RETURN_IF_ERROR(ParseConsumer(file, e, spec));
  }
  if (const YamlEntry* feeds = FindEntry(top, "feeds"); feeds && !feeds->value.IsNull()) {
    ASSIGN_OR_RETURN(auto keys, file.Entries(feeds->value, "feeds"));
    RETURN_IF_ERROR(file.CheckKeys(keys, "feeds", {"max_lag"}));
    if (const YamlEntry* lag = FindEntry(keys, "max_lag")) {
      ASSIGN_OR_RETURN(std::string text, file.String(lag->value, "feeds.max_lag"));
      std::optional<int64_t> seconds = ParseDuration(text);
      if (!seconds || *seconds <= 0) {
        return file.Error(lag->value, "feeds.max_lag",
                          "'" + text + "' is not a duration (a number and s, m, h or d: 7d)");
      }
      spec.feeds_max_lag_seconds = *seconds;
    }
  }
  return Status::OK();
}

}  // namespace sluice
