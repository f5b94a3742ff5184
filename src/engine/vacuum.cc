#include "engine/vacuum.h"

#include <filesystem>
#include <set>

#include "catalog/cold_files.h"
#include "catalog/dlq.h"
#include "catalog/lifecycle_log.h"
#include "catalog/stream_ledger.h"
#include "common/failpoint.h"
#include "storage/cold_tier.h"

namespace sluice {

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

// "2026-01-03": the UTC day of a timestamp in micros.
std::string UtcDay(int64_t us) { return FormatTimestampMicros(us).substr(0, 10); }

std::vector<std::string> CuratedTablesOf(const ProjectSpec& spec, const std::string& source) {
  std::vector<std::string> out;
  for (const auto& t : spec.tables) {
    if (t.kind == TableKind::kCurated && t.from == source) out.push_back(t.name);
  }
  return out;
}

int64_t BytesOf(Env* env, const std::vector<std::string>& paths) {
  int64_t total = 0;
  for (const auto& p : paths) {
    auto size = env->FileSize(p);
    if (size.ok()) total += static_cast<int64_t>(*size);
  }
  return total;
}

std::string Joined(const std::vector<std::string>& items, size_t max) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max) out += ", ... (" + std::to_string(items.size()) + ")";
  return out;
}

// What one source's staging retention decided, before anything is done.
struct StagingPlan {
  std::vector<StagingMove> moves;
  std::vector<std::vector<std::string>> move_hot;  // per move: the hot files, as in meta.files
  std::vector<StagingDelete> deletes;
  std::vector<std::string> delete_paths;  // as in meta.files
  std::vector<HeldBatch> held;
};

Result<StagingPlan> PlanStaging(Catalog& catalog, const SourceSpec& source, int64_t now) {
  const ProjectSpec& spec = catalog.spec();
  Env* env = catalog.env();
  const StagingRetention r = spec.StagingRetentionFor(source);
  const int64_t replay_start = now - source.replay_window_seconds * kMicrosPerSecond;
  const std::vector<std::string> tables = CuratedTablesOf(spec, source.name);
  StagingPlan plan;
  std::set<std::pair<std::string, std::string>> held_seen;  // (batch, action)
  auto hold = [&](const RetentionFile& f, const std::string& action) {
    if (held_seen.insert({f.batch_id, action}).second) {
      plan.held.push_back({source.name, f.batch_id, action, f.held});
    }
  };
  std::set<std::string> deleted_batches;
  if (r.cold_seconds) {
    ASSIGN_OR_RETURN(std::vector<RetentionFile> files,
                     FilesCommittedBefore(catalog, source, tables, now - *r.cold_seconds * kMicrosPerSecond,
                                          replay_start, /*check_feeds=*/true));
    // A cold file goes when every batch in it is due and free; a batch's hot files go together.
    // Both in commit order: files come in (batch_seq, path) order, a cold file under its first.
    std::map<std::pair<int64_t, std::string>, std::vector<const RetentionFile*>> by_cold_path, by_hot_batch;
    std::map<std::string, int64_t> cold_first_seq;
    for (const auto& f : files) {
      if (f.cold) {
        const int64_t first = cold_first_seq.emplace(f.path, f.batch_seq).first->second;
        by_cold_path[{first, f.path}].push_back(&f);
      } else {
        by_hot_batch[{f.batch_seq, f.batch_id}].push_back(&f);
      }
    }
    for (const auto* groups : {&by_cold_path, &by_hot_batch}) {
      for (const auto& [key, group] : *groups) {
        bool free =
            group.front()->cold ? static_cast<int64_t>(group.size()) == group.front()->path_batches : true;
        for (const auto* f : group) {
          if (!f->held.empty()) {
            free = false;
            hold(*f, "delete");
          }
        }
        if (!free) continue;
        StagingDelete d;
        d.source = source.name;
        d.tier = group.front()->cold ? "cold" : "hot";
        std::set<std::string> paths, batches;
        for (const auto* f : group) {
          paths.insert(f->path);
          if (batches.insert(f->batch_id).second) d.batches.push_back(f->batch_id);
          d.rows += f->rows;
          deleted_batches.insert(f->batch_id);
        }
        for (const auto& p : paths) {
          d.files.push_back(LakePath(spec.lake, p));
          plan.delete_paths.push_back(p);
        }
        d.bytes = BytesOf(env, d.files);
        plan.deletes.push_back(std::move(d));
      }
    }
  }
  if (r.hot_seconds) {
    ASSIGN_OR_RETURN(std::vector<RetentionFile> files,
                     FilesCommittedBefore(catalog, source, tables, now - *r.hot_seconds * kMicrosPerSecond,
                                          replay_start, /*check_feeds=*/false));
    // One cold file per (contract version, ingestion day): whole batches of one day each.
    std::map<std::pair<int64_t, std::string>, std::vector<const RetentionFile*>> groups;
    for (const auto& f : files) {
      if (f.cold || deleted_batches.count(f.batch_id)) continue;
      if (!f.held.empty()) {
        hold(f, "move");
        continue;
      }
      groups[{f.schema_version, UtcDay(f.committed_us)}].push_back(&f);
    }
    for (const auto& [key, group] : groups) {
      StagingMove m;
      m.source = source.name;
      std::vector<std::string> hot, abs;
      for (const auto* f : group) {
        if (m.batches.empty() || m.batches.back() != f->batch_id) m.batches.push_back(f->batch_id);
        hot.push_back(f->path);
        abs.push_back(LakePath(spec.lake, f->path));
        m.rows += f->rows;
      }
      m.hot_files = static_cast<int64_t>(hot.size());
      m.hot_bytes = BytesOf(env, abs);
      m.cold_file = ColdFilePath(spec, source.name, key.first, key.second, group.front()->batch_seq,
                                 group.back()->batch_seq);
      plan.moves.push_back(std::move(m));
      plan.move_hot.push_back(std::move(hot));
    }
  }
  return plan;
}

// Steps 3-4 of a move or a delete (vacuum.h): the view without the retired files, their bytes
// removed, then the catalog forgets them and the view its filter.
Status RemoveRetired(Catalog& catalog, const SourceSpec& source, const std::vector<std::string>& paths,
                     const char* failpoint) {
  namespace fs = std::filesystem;
  RETURN_IF_ERROR(catalog.RefreshStagingView(source));
  Env* env = catalog.env();
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string abs = LakePath(catalog.lake(), paths[i]);
    RETURN_IF_ERROR(env->RemoveAll(abs));
    (void)env->RemoveDir(fs::path(abs).parent_path().string());  // a day's directory, when empty
    if (i == 0) SLUICE_FAILPOINT(failpoint);
  }
  RETURN_IF_ERROR(ClearRetired(catalog, paths));
  return catalog.RefreshStagingView(source);
}

// Runs `body` in one catalog transaction: committed when it succeeds, rolled back otherwise.
Status InTransaction(Catalog& catalog, const std::function<Status()>& body) {
  RETURN_IF_ERROR(catalog.Begin());
  Status st = body();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  return catalog.Commit();
}

// VacuumOptions::defer_removal: the files earlier vacuums retired, removed and forgotten.
Status RemoveEarlierRetired(Catalog& catalog) {
  ASSIGN_OR_RETURN(std::vector<std::string> retired, RetiredFiles(catalog));
  if (retired.empty()) return Status::OK();
  for (const auto& p : retired) RETURN_IF_ERROR(catalog.env()->RemoveAll(LakePath(catalog.lake(), p)));
  RETURN_IF_ERROR(ClearRetired(catalog, retired));
  for (const auto& source : catalog.spec().sources) RETURN_IF_ERROR(catalog.RefreshStagingView(source));
  return Status::OK();
}

Status ApplyStaging(Catalog& catalog, const SourceSpec& source, const StagingPlan& plan, bool defer_removal,
                    std::vector<StagingMove>& moved, std::vector<StagingDelete>& deleted) {
  auto remove = [&](const std::vector<std::string>& paths, const char* failpoint) {
    return defer_removal ? catalog.RefreshStagingView(source)
                         : RemoveRetired(catalog, source, paths, failpoint);
  };
  const std::string target = "staging." + source.name;
  if (!plan.deletes.empty()) {
    int64_t bytes = 0, rows = 0, files = 0;
    std::vector<std::string> batches;
    for (const auto& d : plan.deletes) {
      bytes += d.bytes;
      rows += d.rows;
      files += static_cast<int64_t>(d.files.size());
      batches.insert(batches.end(), d.batches.begin(), d.batches.end());
    }
    RETURN_IF_ERROR(InTransaction(catalog, [&]() -> Status {
      RETURN_IF_ERROR(ForgetFiles(catalog, source.name, plan.delete_paths));
      return RecordLifecycle(
          catalog, {LifecycleAction::kDeleted, target, files, bytes, rows, "batches " + Joined(batches, 20)});
    }));
    SLUICE_FAILPOINT("vacuum.after_delete_commit");
    RETURN_IF_ERROR(remove(plan.delete_paths, "vacuum.after_file_remove"));
    deleted.insert(deleted.end(), plan.deletes.begin(), plan.deletes.end());
  }
  for (size_t i = 0; i < plan.moves.size(); ++i) {
    StagingMove m = plan.moves[i];
    const std::vector<std::string>& hot = plan.move_hot[i];
    std::vector<std::string> abs;
    abs.reserve(hot.size());
    for (const auto& p : hot) abs.push_back(LakePath(catalog.lake(), p));
    ASSIGN_OR_RETURN(m.cold_bytes, WriteColdFile(catalog, source, abs, m.cold_file));
    SLUICE_FAILPOINT("vacuum.after_cold_write");
    const std::string cold = CatalogPathOf(catalog.spec(), m.cold_file);
    RETURN_IF_ERROR(InTransaction(catalog, [&]() -> Status {
      RETURN_IF_ERROR(SwapToCold(catalog, source.name, hot, cold));
      return RecordLifecycle(catalog,
                             {LifecycleAction::kMoved, target, 1, m.cold_bytes, m.rows,
                              std::to_string(m.hot_files) + " hot files (" + std::to_string(m.hot_bytes) +
                                  " bytes) of batches " + Joined(m.batches, 20) + " -> " + cold});
    }));
    SLUICE_FAILPOINT("vacuum.after_move_commit");
    RETURN_IF_ERROR(remove(hot, "vacuum.after_hot_remove"));
    moved.push_back(std::move(m));
  }
  return Status::OK();
}

// DLQ rows and idempotency keys past their retention, in one transaction (rolled back in a dry
// run, which reports the counts all the same).
Status ExpireRows(Engine& engine, int64_t now, bool dry_run, VacuumOutcome& out) {
  Catalog& catalog = engine.catalog();
  const ProjectSpec& spec = engine.spec();
  if (!out.dlq_retention_seconds && !out.idempotency_retention_seconds) return Status::OK();
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    if (out.dlq_retention_seconds) {
      const int64_t cutoff = now - *out.dlq_retention_seconds * kMicrosPerSecond;
      for (const auto& s : spec.sources) {
        ASSIGN_OR_RETURN(out.dlq_rows_deleted[s.name], DeleteDeadLettersBefore(catalog, s.name, cutoff));
        if (out.dlq_rows_deleted[s.name] > 0) {
          RETURN_IF_ERROR(RecordLifecycle(
              catalog, {LifecycleAction::kExpired, DlqName(s.name), 0, 0, out.dlq_rows_deleted[s.name], ""}));
        }
      }
    }
    if (out.idempotency_retention_seconds) {
      ASSIGN_OR_RETURN(
          out.idempotency_keys_expired,
          ExpireIdempotentAnswers(catalog, now - *out.idempotency_retention_seconds * kMicrosPerSecond));
      if (out.idempotency_keys_expired > 0) {
        RETURN_IF_ERROR(RecordLifecycle(catalog, {LifecycleAction::kExpired, kIdempotencyKeysName, 0, 0,
                                                  out.idempotency_keys_expired, ""}));
      }
    }
    return Status::OK();
  };
  Status st = body();
  if (!st.ok() || dry_run) {
    (void)catalog.Rollback();
    return st;
  }
  return catalog.Commit();
}

}  // namespace

Result<VacuumOutcome> Vacuum(Engine& engine, const VacuumOptions& options) {
  Catalog& catalog = engine.catalog();
  const ProjectSpec& spec = engine.spec();
  VacuumOutcome out;
  out.dry_run = options.dry_run;
  out.dlq_retention_seconds = spec.retention.dlq_seconds;
  out.idempotency_retention_seconds = spec.retention.idempotency_keys_seconds;
  for (const auto& s : spec.sources) out.dlq_rows_deleted[s.name] = 0;
  const int64_t now = catalog.env()->NowMicros();
  if (options.defer_removal && !options.dry_run) RETURN_IF_ERROR(RemoveEarlierRetired(catalog));
  RETURN_IF_ERROR(ExpireRows(engine, now, options.dry_run, out).WithContext("vacuum"));
  for (const auto& source : spec.sources) {
    ASSIGN_OR_RETURN(StagingPlan plan, PlanStaging(catalog, source, now));
    out.held.insert(out.held.end(), plan.held.begin(), plan.held.end());
    if (options.dry_run) {
      out.moved.insert(out.moved.end(), plan.moves.begin(), plan.moves.end());
      out.deleted.insert(out.deleted.end(), plan.deletes.begin(), plan.deletes.end());
      continue;
    }
    RETURN_IF_ERROR(ApplyStaging(catalog, source, plan, options.defer_removal, out.moved, out.deleted)
                        .WithContext("vacuum of staging." + source.name));
  }
  if (!options.dry_run) RETURN_IF_ERROR(catalog.Checkpoint());
  return out;
}

}  // namespace sluice
