#include "serve/served_tables.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace sluice {

std::vector<ServedTable> ServedTables(const ProjectSpec& spec) {
  std::vector<ServedTable> out;
  for (const TableSpec& t : spec.tables) {
    if (t.kind != TableKind::kCurated) continue;
    ServedTable s{"curated", t.name, "", "", {}, t.key, {"staging." + t.from}};
    // As Engine::Publish writes them: `day` and `tenant` columns computed from the source's keys.
    if (const SourceSpec* source = spec.FindSource(t.from)) {
      if (!source->partition_by.day.empty()) s.day_key = "day";
      if (!source->partition_by.tenant.empty()) s.tenant_key = "tenant";
      s.lake_tenant_column = source->partition_by.tenant;
    }
    for (const std::string* k : {&s.day_key, &s.tenant_key}) {
      if (!k->empty()) s.added_columns.push_back(*k);
    }
    out.push_back(std::move(s));
  }
  for (const TableSpec& t : spec.tables) {
    if (t.kind != TableKind::kMart) continue;
    ServedTable s{"marts", t.name, t.partition_by.day, t.partition_by.tenant, {}, {}, {}};
    for (const auto& n : t.reads_curated) s.upstream.push_back("curated." + n);
    for (const auto& n : t.depends_on) s.upstream.push_back("marts." + n);
    for (const auto& n : t.reads_staging) s.upstream.push_back("staging." + n);
    s.lake_tenant_column = t.partition_by.tenant;
    out.push_back(std::move(s));
  }
  for (const SourceSpec& source : spec.sources) {
    out.push_back(ServedTable{"staging", source.name, "", "", {}, {}, {}});
  }
  return out;
}

std::string PublishedTableDir(const std::string& lake, const ServedTable& table) {
  return lake + "/published/" + table.layer + "/" + table.name;
}

Result<int64_t> CurrentPublishedVersion(Env* env, const std::string& lake, const ServedTable& table) {
  const std::string dir = PublishedTableDir(lake, table);
  Result<std::string> link = env->ReadSymlink(dir + "/current");
  if (!link.ok()) {
    if (link.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(table.qualified() + " has no published version yet");
    }
    return link.status();
  }
  char* end = nullptr;
  const long long n = link->size() > 1 && (*link)[0] == 'v' ? std::strtoll(link->c_str() + 1, &end, 10) : 0;
  if (n <= 0 || *end != '\0') return Status::Corruption(dir + "/current points at '" + *link + "'");
  return n;
}

Result<PublishedVersion> ReadPublishedVersion(Env* env, const std::string& lake, const ServedTable& table,
                                              std::optional<int64_t> version) {
  const std::string dir = PublishedTableDir(lake, table);
  PublishedVersion out;
  if (!version) {
    ASSIGN_OR_RETURN(version, CurrentPublishedVersion(env, lake, table));
  }
  out.version = *version;
  out.dir = dir + "/v" + std::to_string(*version);
  if (!env->Exists(out.dir)) {
    return Status::NotFound("version " + std::to_string(*version) + " of " + table.qualified() +
                            " is no longer published");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> files, env->ListFilesRecursive(out.dir));
  const std::string prefix = table.day_key + "=";
  for (const std::string& f : files) {
    const std::filesystem::path rel = std::filesystem::path(f).lexically_relative(out.dir);
    if (rel.extension() != ".parquet") continue;
    std::string day;
    if (!table.day_key.empty()) {
      const std::string parent = rel.parent_path().string();
      if (parent.rfind(prefix, 0) != 0 || parent.find('/') != std::string::npos) continue;
      day = parent.substr(prefix.size());
    } else if (rel.has_parent_path() && !rel.parent_path().empty()) {
      continue;
    }
    out.day_files[day].push_back(f);
  }
  for (auto& [day, list] : out.day_files) std::sort(list.begin(), list.end());
  return out;
}

}  // namespace sluice
