#include "storage/publish.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "catalog/snapshots.h"
#include "catalog/tables.h"
#include "common/failpoint.h"
#include "storage/version_pins.h"

namespace sluice {

using duck::Ident;
using duck::Literal;
namespace fs = std::filesystem;

namespace {

std::string TableDir(const Catalog& catalog, const PublishTarget& t) {
  return catalog.lake() + "/published/" + t.layer + "/" + t.table;
}

// The day of a file of a version directory in this layout ("<day_key>=D/<name>.parquet"), or
// nullopt for any other path (the day=/tenant= directories of earlier releases, stray files).
std::optional<std::string> DayOfFile(const PublishTarget& t, const fs::path& rel) {
  std::vector<std::string> parts;
  for (const auto& part : rel) parts.push_back(part.string());
  const std::string prefix = t.day_key + "=";
  if (parts.size() != 2 || parts[0].rfind(prefix, 0) != 0 || parts[1].size() <= 8 ||
      parts[1].substr(parts[1].size() - 8) != ".parquet") {
    return std::nullopt;
  }
  return parts[0].substr(prefix.size());
}

// Makes the new version directory durable: one syncfs rather than an fsync per file.
Status SyncTree(Env* env, const std::string& dir) { return env->SyncFileSystem(dir); }

}  // namespace

PublishTarget PublishTargetFor(const ProjectSpec& spec, const TableSpec& table) {
  PublishTarget target;
  target.table = table.name;
  if (table.kind == TableKind::kCurated) {
    target.layer = "curated";
    const SourceSpec* source = spec.FindSource(table.from);
    if (!source->partition_by.day.empty()) {
      target.day_key = "day";
      target.day_expr = "CAST(" + duck::Ident(source->partition_by.day) + " AS DATE)";
    }
    if (!source->partition_by.tenant.empty()) {
      target.tenant_key = "tenant";
      target.tenant_expr = duck::Ident(source->partition_by.tenant);
    }
  } else {
    target.layer = "marts";
    target.day_key = target.day_expr = table.partition_by.day;
    target.tenant_key = target.tenant_expr = table.partition_by.tenant;
  }
  target.retention = spec.SnapshotRetentionFor(table);
  return target;
}

Result<bool> PublishTable(Catalog& catalog, const PublishTarget& target, int64_t snapshot,
                          int64_t committed_at_us) {
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
    auto add_part = [&](const std::string& key, const std::string& expr) {
      // A partition key that is already a column of the table stays as it is.
      if (!key.empty() && key != expr) select += ", " + expr + " AS " + Ident(key);
    };
    add_part(target.day_key, target.day_expr);
    add_part(target.tenant_key, target.tenant_expr);
    select += " FROM " + target.layer + "." + Ident(target.table);
    const bool by_day = !target.day_key.empty();

    // Incremental: only days with a pending partition are written; every file of the other days
    // is linked from the previous version, provided that version is in this layout.
    bool incremental = !prev.empty() && by_day;
    std::vector<Partition> pending;
    std::set<std::string> changed_days;
    if (incremental) {
      ASSIGN_OR_RETURN(pending, PublishPending(catalog, target.table));
      for (const Partition& p : pending) {
        // (NULL, NULL) means "everything changed" (a full rebuild upstream); a pending row
        // without a day names no day directory either: write them all.
        if (!p.day) incremental = false;
        if (p.day) changed_days.insert(*p.day);
      }
    }
    std::vector<std::pair<std::string, fs::path>> links;  // previous version's file, relative path
    const fs::path prev_dir = fs::path(dir) / prev;
    if (incremental) {
      ASSIGN_OR_RETURN(auto old_files, env->ListFilesRecursive(prev_dir.string()));
      for (const auto& f : old_files) {
        fs::path rel = fs::path(f).lexically_relative(prev_dir);
        std::optional<std::string> day = DayOfFile(target, rel);
        if (!day) {
          incremental = false;  // another layout: rewrite every day rather than mix layouts
          links.clear();
          break;
        }
        if (!changed_days.count(*day)) links.emplace_back(f, rel);
      }
    }
    if (incremental) {
      select = "SELECT p.* FROM (" + select + ") p SEMI JOIN (SELECT DISTINCT day FROM " +
               PartitionsRelation(pending) + ") c ON p." + Ident(target.day_key) + " = c.day";
    }
    if (!target.tenant_key.empty()) {
      select += " ORDER BY " + (by_day ? Ident(target.day_key) + ", " : "") + Ident(target.tenant_key);
    }
    const std::string options =
        "FORMAT parquet, ROW_GROUP_SIZE " + std::to_string(std::max<int64_t>(target.row_group_rows, 1));
    const std::string what = "publishing " + target.layer + "." + target.table;
    if (!by_day) {
      // One file; a plain COPY keeps the ORDER BY (preserve_insertion_order).
      RETURN_IF_ERROR(
          conn.Execute("COPY (" + select + ") TO " + Literal(tmp + "/data_0.parquet") + " (" + options + ")")
              .WithContext(what));
    } else {
      std::string copy = "COPY (" + select + ") TO " + Literal(tmp) + " (" + options + ", PARTITION_BY (" +
                         Ident(target.day_key) + "), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE)";
      Status st = target.tenant_key.empty() ? conn.Execute(copy) : conn.ExecuteSingleThreaded(copy);
      RETURN_IF_ERROR(st.WithContext(what));
    }
    // Unchanged days of the previous version: hard links, no copy.
    for (const auto& [from, rel] : links) {
      fs::path to = fs::path(tmp) / rel;
      RETURN_IF_ERROR(env->CreateDirs(to.parent_path().string()));
      RETURN_IF_ERROR(env->LinkFile(from, to.string()));
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

  const std::string qualified = target.layer + "." + target.table;
  const int64_t now_us = committed_at_us;
  std::set<int64_t> live;  // versions whose snapshot time travel may still read
  RETURN_IF_ERROR(catalog.Begin());
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(RecordPublished(catalog, target.table, version));
    ASSIGN_OR_RETURN(std::optional<int64_t> restored_from, RestoredFrom(catalog, target.table));
    RETURN_IF_ERROR(RecordSnapshot(catalog, {snapshot, target.table, target.layer, version,
                                             "published/" + target.layer + "/" + target.table + "/" + vname,
                                             row->rows, now_us, restored_from, std::nullopt}));
    if (restored_from) RETURN_IF_ERROR(SetRestoredFrom(catalog, target.table, std::nullopt));
    ASSIGN_OR_RETURN(std::vector<SnapshotRecord> snapshots, TableSnapshots(catalog, target.table));
    std::vector<int64_t> expire = SnapshotsToExpire(snapshots, target.retention, now_us, [&](int64_t v) {
      return PublishedVersionPins().IsPinned(qualified, v);
    });
    RETURN_IF_ERROR(ExpireSnapshots(catalog, target.table, expire, now_us));
    for (const SnapshotRecord& s : snapshots) {
      if (std::find(expire.begin(), expire.end(), s.snapshot) == expire.end() && s.live())
        live.insert(s.version);
    }
    return Status::OK();
  }();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());

  // Keep the new version, the one before it (a whole publish to drain) and every live snapshot's;
  // older ones go unless a reader pinned them (version_pins.h): a later publish removes them once
  // unpinned.
  ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  for (const std::string& name : names) {
    if (name == "current" || name == vname || name == prev.filename().string()) continue;
    if (name.size() < 2 || name[0] != 'v') continue;
    char* end = nullptr;
    const long long n = std::strtoll(name.c_str() + 1, &end, 10);
    if (*end != '\0') {  // e.g. a version moved aside and not removed (a crash meanwhile)
      RETURN_IF_ERROR(env->RemoveAll(dir + "/" + name));
      continue;
    }
    if (live.count(n) > 0) continue;
    // Moved aside while no reader can pin it (version_pins.h), then removed: a reader that pinned
    // a version in place reads all of its files.
    const std::string aside = dir + "/" + name + ".removed";
    ASSIGN_OR_RETURN(bool retired, PublishedVersionPins().RetireUnlessPinned(
                                       qualified, n, [&] { return env->Rename(dir + "/" + name, aside); }));
    if (retired) RETURN_IF_ERROR(env->RemoveAll(aside));
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
        if (name.ends_with(".tmp") || name.ends_with(".removed")) {  // a write or a removal cut short
          RETURN_IF_ERROR(env->RemoveAll(root + "/" + table + "/" + name));
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace sluice
