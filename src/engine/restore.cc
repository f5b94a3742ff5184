#include "engine/restore.h"

#include <algorithm>
#include <set>

#include "catalog/lifecycle_log.h"
#include "catalog/snapshots.h"
#include "catalog/tables.h"
#include "common/failpoint.h"
#include "storage/publish.h"
#include "storage/time_travel.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

// Marts that read `table` (a curated table or mart), directly or through other marts.
std::vector<std::string> Downstream(const ProjectSpec& spec, const TableSpec& table) {
  std::set<std::string> curated, marts;
  (table.kind == TableKind::kCurated ? curated : marts).insert(table.name);
  std::vector<std::string> out;
  for (bool grew = true; grew;) {
    grew = false;
    for (const TableSpec& t : spec.tables) {
      if (t.kind != TableKind::kMart || marts.count(t.name) > 0) continue;
      const bool reads =
          std::any_of(t.reads_curated.begin(), t.reads_curated.end(),
                      [&](auto& n) { return curated.count(n); }) ||
          std::any_of(t.depends_on.begin(), t.depends_on.end(), [&](auto& n) { return marts.count(n); });
      if (!reads) continue;
      marts.insert(t.name);
      out.push_back(t.name);
      grew = true;
    }
  }
  return out;
}

}  // namespace

Result<RestoreOutcome> Restore(Engine& engine, const std::string& name, const std::string& to) {
  Catalog& catalog = engine.catalog();
  const ProjectSpec& spec = engine.spec();
  Env* env = catalog.env();
  std::string bare = name, layer_given;
  if (size_t dot = name.find('.'); dot != std::string::npos) {
    layer_given = name.substr(0, dot);
    bare = name.substr(dot + 1);
  }
  const TableSpec* table = spec.FindTable(bare);
  const std::string layer = table == nullptr ? "" : table->kind == TableKind::kCurated ? "curated" : "marts";
  if (table == nullptr || (!layer_given.empty() && layer_given != layer)) {
    return Status::InvalidArgument("no curated table or mart '" + name + "' in sluice.yaml");
  }
  RestoreOutcome out;
  out.table = layer + "." + bare;

  ASSIGN_OR_RETURN(TimeTravel travel, ResolveTimeTravel(catalog.conn(), to));
  RETURN_IF_ERROR(CheckTimeTravelReads(travel, {out.table}));
  const SnapshotRecord* from = nullptr;
  for (const SnapshotRecord& r : travel.tables) {
    if (r.table == bare) from = &r;
  }
  if (from == nullptr) return Status::NotFound(out.table + " has no snapshot as of '" + to + "'");
  const std::string dir = spec.lake + "/" + from->path;
  if (!env->Exists(dir)) {
    return Status::NotFound("snapshot " + std::to_string(from->snapshot) + " of " + out.table +
                            " has expired");
  }
  out.restored_snapshot = from->snapshot;
  out.restored_version = from->version;
  out.rows = from->rows;
  ASSIGN_OR_RETURN(std::vector<SnapshotRecord> history, TableSnapshots(catalog, bare));
  out.previous_snapshot = history.empty() ? 0 : history.back().snapshot;
  out.marts_to_refresh = Downstream(spec, *table);
  if (spec.serve.postgres) {
    std::set<std::string> changed = {out.table};
    for (const auto& m : out.marts_to_refresh) changed.insert("marts." + m);
    for (const std::string& t : spec.serve.postgres->publish) {
      if (changed.count(t) > 0) out.warehouse_tables.push_back(t);
    }
  }

  PublishTarget target = PublishTargetFor(spec, *table);
  std::string exclude;  // columns publishing added (a curated table's day and tenant)
  for (const auto& [key, expr] :
       {std::pair{target.day_key, target.day_expr}, {target.tenant_key, target.tenant_expr}}) {
    if (!key.empty() && key != expr) exclude += (exclude.empty() ? "" : ", ") + Ident(key);
  }
  const std::string qualified = layer + "." + Ident(bare);
  auto& conn = catalog.conn();
  RETURN_IF_ERROR(catalog.Begin());
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(conn.Execute("DELETE FROM " + qualified));
    if (from->rows > 0) {
      RETURN_IF_ERROR(conn.Execute("INSERT INTO " + qualified + " BY NAME SELECT " +
                                   (exclude.empty() ? "*" : "* EXCLUDE (" + exclude + ")") +
                                   " FROM read_parquet(" + Literal(dir + "/**/*.parquet") +
                                   ", hive_partitioning = false, union_by_name = true)"));
    }
    ASSIGN_OR_RETURN(duck::Rows n, conn.Query("SELECT count(*) FROM " + qualified));
    if (n.IntAt(0, 0) != from->rows) {
      return Status::Corruption(dir + " holds " + std::to_string(n.IntAt(0, 0)) +
                                " rows, its snapshot says " + std::to_string(from->rows));
    }
    RETURN_IF_ERROR(RecordNewVersion(catalog, bare, from->rows));
    RETURN_IF_ERROR(ReplacePublishPendingWithAll(catalog, bare));
    RETURN_IF_ERROR(SetRestoredFrom(catalog, bare, from->snapshot));
    for (const std::string& mart : out.marts_to_refresh) RETURN_IF_ERROR(ForgetModelHash(catalog, mart));
    LifecycleEntry entry;
    entry.action = LifecycleAction::kRestored;
    entry.target = out.table;
    entry.rows = from->rows;
    entry.detail = "to snapshot " + std::to_string(from->snapshot) + " (version " +
                   std::to_string(from->version) + "), undo: --to " + std::to_string(out.previous_snapshot);
    RETURN_IF_ERROR(RecordLifecycle(catalog, entry));
    SLUICE_FAILPOINT("restore.before_commit");
    return Status::OK();
  }();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st.WithContext("restoring " + out.table + " to snapshot " + std::to_string(from->snapshot));
  }
  RETURN_IF_ERROR(catalog.Commit());
  SLUICE_FAILPOINT("restore.after_commit");

  ASSIGN_OR_RETURN(int64_t snapshot, NextSnapshot(catalog));
  ASSIGN_OR_RETURN(bool published, PublishTable(catalog, target, snapshot, env->NowMicros()));
  if (published) out.snapshot = snapshot;
  return out;
}

}  // namespace sluice
