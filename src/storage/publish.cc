#include "storage/publish.h"

#include <unistd.h>

#include <filesystem>
#include <set>

#include "catalog/tables.h"
#include "common/failpoint.h"

namespace sluice {

using duck::Ident;
using duck::Literal;
namespace fs = std::filesystem;

namespace {

std::string TableDir(const Catalog& catalog, const PublishTarget& t) {
  return catalog.lake() + "/published/" + t.layer + "/" + t.table;
}

// "day=2026-01-03/tenant_id=t07" for a pending (day, tenant) row, in the target's keys.
std::string PartitionDir(const PublishTarget& t, const std::string& day, const std::string& tenant) {
  std::string out;
  if (!t.day_key.empty()) out = t.day_key + "=" + day;
  if (!t.tenant_key.empty()) out += (out.empty() ? "" : "/") + t.tenant_key + "=" + tenant;
  return out;
}

// Makes the new version directory durable: one syncfs rather than an fsync per file.
Status SyncTree(Env* env, const std::string& dir) { return env->SyncFileSystem(dir); }

}  // namespace

Result<bool> PublishTable(Catalog& catalog, const PublishTarget& target) {
  auto& conn = catalog.conn();
  Env* env = catalog.env();
  ASSIGN_OR_RETURN(std::optional<TableState> row, FindTable(catalog, target.table));
  if (!row) return false;
  int64_t version = row->version, published = row->published_version;
  if (version <= published) return false;

  const std::string dir = TableDir(catalog, target);
  const std::string vname = "v" + std::to_string(version);
  const std::string current = dir + "/current";
  RETURN_IF_ERROR(env->CreateDirs(dir));

  fs::path prev;
  if (env->Exists(current)) {
    ASSIGN_OR_RETURN(std::string link, env->ReadSymlink(current));
    if (env->Exists(dir + "/" + link)) prev = link;  // dangling: publish everything again
  }
  if (prev.filename() == vname) {
    // A crash after the swap: the version is published, only the catalog was not told.
  } else {
    const std::string tmp = dir + "/" + vname + ".tmp";
    RETURN_IF_ERROR(env->RemoveAll(tmp));
    RETURN_IF_ERROR(env->CreateDirs(tmp));
    std::string select = "SELECT *";
    std::string by;
    auto add_part = [&](const std::string& key, const std::string& expr) {
      if (key.empty()) return;
      // A partition key that is already a column of the table stays as it is.
      if (key != expr) select += ", " + expr + " AS " + Ident(key);
      by += (by.empty() ? "" : ", ") + Ident(key);
    };
    add_part(target.day_key, target.day_expr);
    add_part(target.tenant_key, target.tenant_expr);
    select += " FROM " + target.layer + "." + Ident(target.table);

    std::set<std::string> changed;
    std::vector<Partition> pending;
    bool incremental = !prev.empty() && target.partitioned();
    if (incremental) {
      ASSIGN_OR_RETURN(pending, PublishPending(catalog, target.table));
      for (const Partition& p : pending) {
        // A (NULL, NULL) row means "everything changed" (a full rebuild upstream).
        if (p.everything()) incremental = false;
        changed.insert(PartitionDir(target, p.day.value_or(""), p.tenant.value_or("")));
      }
    }
    if (incremental) {
      std::string cond;
      if (!target.day_key.empty()) cond = "p." + Ident(target.day_key) + " = c.day";
      if (!target.tenant_key.empty()) {
        cond += (cond.empty() ? "" : " AND ") + ("p." + Ident(target.tenant_key) + " = c.tenant");
      }
      select =
          "SELECT p.* FROM (" + select + ") p SEMI JOIN " + PartitionsRelation(pending) + " c ON " + cond;
    }
    std::string copy;
    if (!target.partitioned()) {
      copy = "COPY (" + select + ") TO " + Literal(tmp + "/data_0.parquet") + " (FORMAT parquet)";
    } else {
      copy = "COPY (" + select + ") TO " + Literal(tmp) + " (FORMAT parquet, PARTITION_BY (" + by +
             "), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE)";
    }
    RETURN_IF_ERROR(conn.Execute(copy).WithContext("publishing " + target.layer + "." + target.table));
    if (incremental) {
      // Unchanged partitions of the previous version: hard links, no copy.
      fs::path prev_dir = fs::path(dir) / prev;
      ASSIGN_OR_RETURN(auto old_files, env->ListFilesRecursive(prev_dir.string()));
      for (const auto& f : old_files) {
        fs::path rel = fs::path(f).lexically_relative(prev_dir);
        if (changed.count(rel.parent_path().string())) continue;
        fs::path to = fs::path(tmp) / rel;
        RETURN_IF_ERROR(env->CreateDirs(to.parent_path().string()));
        RETURN_IF_ERROR(env->LinkFile(f, to.string()));
      }
    }
    RETURN_IF_ERROR(SyncTree(env, tmp));
    SLUICE_FAILPOINT("publish.after_write");
    RETURN_IF_ERROR(env->RemoveAll(dir + "/" + vname));
    RETURN_IF_ERROR(env->Rename(tmp, dir + "/" + vname));
    std::string link_tmp = current + ".tmp";
    (void)env->RemoveAll(link_tmp);
    RETURN_IF_ERROR(env->Symlink(vname, link_tmp));
    RETURN_IF_ERROR(env->Rename(link_tmp, current));
    RETURN_IF_ERROR(env->SyncDir(dir));
    SLUICE_FAILPOINT("publish.after_swap");
  }

  RETURN_IF_ERROR(catalog.Begin());
  Status st = RecordPublished(catalog, target.table, version);
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());

  // Keep the new version and the one before it; older ones have had a whole publish to drain.
  ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  for (const std::string& name : names) {
    if (name == "current" || name == vname || name == prev.filename().string()) continue;
    if (name.size() > 1 && name[0] == 'v') RETURN_IF_ERROR(env->RemoveAll(dir + "/" + name));
  }
  return true;
}

Status RecoverPublished(Catalog& catalog) {
  Env* env = catalog.env();
  for (const char* layer : {"curated", "marts"}) {
    const std::string root = catalog.lake() + "/published/" + layer;
    ASSIGN_OR_RETURN(auto tables, env->ListDir(root));
    for (const std::string& table : tables) {
      ASSIGN_OR_RETURN(auto names, env->ListDir(root + "/" + table));
      for (const std::string& name : names) {
        if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
          RETURN_IF_ERROR(env->RemoveAll(root + "/" + table + "/" + name));
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace sluice
