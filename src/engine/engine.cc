#include "engine/engine.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "catalog/ledger.h"
#include "catalog/runs.h"
#include "catalog/snapshots.h"
#include "catalog/tables.h"
#include "common/cpu_time.h"
#include "common/hash.h"
#include "common/memory_limit.h"
#include "duck/errors.h"
#include "engine/parquet_load.h"
#include "engine/row_checks.h"
#include "engine/schema_evolution.h"
#include "engine/summary.h"
#include "ingest/decoder.h"
#include "spec/project_loader.h"
#include "storage/publish.h"
#include "storage/staging.h"
#include "transform/curate.h"
#include "transform/marts.h"
#include "transform/model_check.h"

namespace sluice {

namespace {

double Seconds(Env* env, int64_t start_us) {
  return static_cast<double>(env->MonotonicMicros() - start_us) / 1e6;
}

// Process CPU seconds (all threads) since `start_us`, a reading of ProcessCpuMicros.
double CpuSeconds(int64_t start_us) { return static_cast<double>(ProcessCpuMicros() - start_us) / 1e6; }
// Bytes written since `start`, a reading of ProcessWriteBytes.
int64_t BytesWritten(int64_t start) { return std::max<int64_t>(0, ProcessWriteBytes() - start); }

Result<ContractValidator> NewValidator(const SourceSpec& source) {
  DecodeOptions options;
  options.csv_delimiter = source.csv_delimiter;
  if (!source.partition_by.tenant.empty()) options.path_columns.push_back(source.partition_by.tenant);
  return ContractValidator::Create(source.contract, options);
}

// JSONL and CSV files are decoded whole from `data`; Parquet files are loaded in chunks
// (LoadParquetBatch), not here.
Result<RecordBatch> Decode(const SourceSpec& source, const std::string& data) {
  ASSIGN_OR_RETURN(ContractValidator validator, NewValidator(source));
  switch (source.format) {
    case SourceFormat::kJsonl:
      return validator.DecodeJsonl(data);
    case SourceFormat::kCsv:
      return validator.DecodeCsv(data);
    case SourceFormat::kParquet:
      break;
  }
  return Status::InvalidArgument("unknown format");
}

// Loads a Parquet file into the batch tables chunk by chunk and sets record's counts. Returns
// the batch's dead letters (a RecordBatch without rows).
Result<RecordBatch> LoadParquet(Catalog& catalog, const SourceSpec& source, const std::string& path,
                                const BatchStamp& stamp, BatchRecord& record) {
  ASSIGN_OR_RETURN(ContractValidator validator, NewValidator(source));
  ASSIGN_OR_RETURN(ParquetLoad loaded, LoadParquetBatch(catalog, source, validator, path, stamp));
  record.rows_read = loaded.rows_read;
  record.rows_staged = loaded.rows_staged;
  record.rows_dead = static_cast<int64_t>(loaded.dead.size());
  RETURN_IF_ERROR(CheckReconciles(record));
  RecordBatch batch;
  batch.rows_read = loaded.rows_read;
  batch.dead = std::move(loaded.dead);
  return batch;
}

// InvalidArgument when more than the source's max_dead_ratio of a file's rows were
// dead-lettered: a file of the wrong format or shape, which is refused whole rather than
// committed as a batch of dead letters. The message names the file, the ratio and the commonest
// reason with an example.
Status CheckDeadRatio(const SourceSpec& source, const std::string& path, const RecordBatch& batch,
                      const BatchRecord& record) {
  if (record.rows_read == 0 || batch.dead.empty()) return Status::OK();
  const double ratio = static_cast<double>(record.rows_dead) / static_cast<double>(record.rows_read);
  if (ratio <= source.max_dead_ratio) return Status::OK();
  std::map<std::string, int64_t> by_reason;
  for (const auto& d : batch.dead) by_reason[d.reason]++;
  auto commonest = std::max_element(by_reason.begin(), by_reason.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
  const DeadLetter* example = nullptr;
  for (const auto& d : batch.dead) {
    if (d.reason == commonest->first) {
      example = &d;
      break;
    }
  }
  char share[32];
  std::snprintf(share, sizeof(share), "%.0f%%", ratio * 100);
  char limit[32];
  std::snprintf(limit, sizeof(limit), "%g", source.max_dead_ratio);
  std::string why =
      path + ": refused: " + std::to_string(record.rows_dead) + " of " + std::to_string(record.rows_read) +
      " rows (" + share + ") would be dead-lettered, above " + "max_dead_ratio " + limit + " of source " +
      source.name + " (" + FormatName(source.format) + "); mostly " + commonest->first + ", e.g. line " +
      std::to_string(example->line) + (example->column.empty() ? "" : " column " + example->column) + ": " +
      example->message + "; nothing was committed: fix the file (or raise max_dead_ratio) " +
      "and ingest it again";
  return Status::InvalidArgument(why);
}

// `path` as the user knows it: relative to the project when it lies inside it.
std::string ShownPath(const ProjectSpec& spec, const std::string& path) {
  const std::filesystem::path p(path);
  if (!p.is_absolute()) return path;
  std::string rel = p.lexically_relative(spec.root).string();
  return rel.empty() || rel.rfind("..", 0) == 0 ? path : rel;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& project_dir, const EngineOptions& options) {
  ASSIGN_OR_RETURN(ProjectSpec spec, LoadProject(project_dir));
  return Open(std::move(spec), options);
}

Result<std::unique_ptr<Engine>> Engine::Open(ProjectSpec spec, const EngineOptions& options) {
  if (options.memory_limit) spec.memory_limit_bytes = options.memory_limit;
  CatalogOptions catalog_options;
  if (options.duckdb_memory > 0) {
    catalog_options.memory_limit_bytes = options.duckdb_memory;
  } else {
    ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(spec.MemoryLimit(MemoryUse::kPipeline), 0));
    catalog_options.memory_limit_bytes = plan.duckdb;
  }
  // Contract checks must bind before any data is touched (opening the lake recovers staging).
  for (const auto& source : spec.sources) RETURN_IF_ERROR(ValidateContractChecks(source.contract));
  ASSIGN_OR_RETURN(auto catalog, Catalog::Open(spec, catalog_options));
  RETURN_IF_ERROR(RecoverPublished(*catalog).WithContext("recovering published tables"));
  // G7: register the working contracts; refuse an incompatible change before any data moves.
  ASSIGN_OR_RETURN(auto schema_changes, EvolveSchemas(*catalog));
  // Every column sluice.yaml names for a mart is in its model's output, before any data moves.
  RETURN_IF_ERROR(CheckMartModels(*catalog));
  return std::unique_ptr<Engine>(new Engine(std::move(catalog), std::move(schema_changes)));
}

Result<IngestOutcome> Engine::IngestFile(const std::string& source_name, const std::string& path,
                                         const std::string& batch_id) {
  Catalog& catalog = *catalog_;
  Env* env = catalog.env();
  const SourceSpec* source = spec().FindSource(source_name);
  if (source == nullptr) {
    std::string known;
    for (const auto& s : spec().sources) known += (known.empty() ? "" : ", ") + s.name;
    return Status::NotFound("unknown source '" + source_name + "' (sources: " + known + ")");
  }
  if (!batch_id.empty() && !IsValidBatchId(batch_id)) {
    return Status::InvalidArgument("invalid batch id '" + batch_id +
                                   "': use letters, digits, '_', '.', ':' or '-' (at most 128)");
  }
  const int64_t start = env->MonotonicMicros();
  IngestOutcome out;
  out.source = source_name;
  out.file = path;
  ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  const std::string hash = ContentHash(data);
  out.batch_id = batch_id.empty() ? hash : batch_id;

  // G2: the same batch again is a no-op; a used id with other content is refused.
  ASSIGN_OR_RETURN(auto existing, FindBatch(catalog, source_name, out.batch_id));
  if (existing) {
    if (existing->content_hash != hash) {
      return Status::AlreadyExists("batch id '" + out.batch_id + "' of source '" + source_name +
                                   "' was already used for different content (file " + existing->file +
                                   "); choose a new batch id");
    }
    out.duplicate = true;
  } else if (batch_id.empty()) {
    ASSIGN_OR_RETURN(auto same, FindBatchByHash(catalog, source_name, hash));
    if (same) {
      out.duplicate = true;
      out.batch_id = same->batch_id;
    }
  }
  if (out.duplicate) {
    out.seconds = Seconds(env, start);
    return out;
  }

  BatchRecord record;
  record.source = source_name;
  record.batch_id = out.batch_id;
  record.content_hash = hash;
  record.file = path;
  record.correlation_id = NewCorrelationId(env->NowMicros());
  record.started_at = env->NowMicros();
  const std::string shown = ShownPath(spec(), path);
  BatchStamp stamp{out.batch_id, record.correlation_id, record.started_at};
  RecordBatch batch;
  int64_t stage_start = 0;
  if (source->format == SourceFormat::kParquet) {
    // Hashed: DuckDB reads the rows from the file, in chunks (decode_ms covers decoding,
    // loading and checking them; stage_ms the staging files).
    std::string().swap(data);
    Result<RecordBatch> loaded = LoadParquet(catalog, *source, path, stamp, record);
    if (!loaded.ok()) return loaded.status().WithContext(shown);
    batch = std::move(loaded).value();
    record.decode_ms = (env->MonotonicMicros() - start) / 1000;
    stage_start = env->MonotonicMicros();
  } else {
    Result<RecordBatch> decoded = Decode(*source, data);
    if (!decoded.ok()) return decoded.status().WithContext(shown);
    batch = std::move(decoded).value();
    record.decode_ms = (env->MonotonicMicros() - start) / 1000;
    record.csv_header = batch.csv_header;
    stage_start = env->MonotonicMicros();
    auto raw_text = [&](size_t row) -> std::string {
      const RawSpan& span = batch.raw_spans[row];
      return data.substr(span.offset, span.length);
    };
    RETURN_IF_ERROR(LoadAndCheckBatch(catalog, *source, batch, raw_text, stamp, record).WithContext(shown));
  }
  // Refused before anything is written: not committed, not in the ledger, so the fixed file
  // (or the same file under a raised max_dead_ratio) can be ingested again.
  RETURN_IF_ERROR(CheckDeadRatio(*source, shown, batch, record));
  ASSIGN_OR_RETURN(StagedBatch staged, WriteStagingFiles(catalog, *source, stamp));
  record.stage_ms = (env->MonotonicMicros() - stage_start) / 1000;
  RETURN_IF_ERROR(CommitBatch(catalog, record, staged, batch.dead.empty() ? "" : "batch_dlq"));
  RETURN_IF_ERROR(catalog.RefreshStagingView(*source));

  out.correlation_id = record.correlation_id;
  out.rows_read = record.rows_read;
  out.rows_staged = record.rows_staged;
  out.rows_dead = record.rows_dead;
  for (const auto& d : batch.dead) out.dead_by_reason[d.reason]++;
  out.seconds = Seconds(env, start);
  return out;
}

Result<RunSummary> Engine::Run(const RunOptions& options, RunSummary* failed) {
  RunSummary summary;
  summary.schemas = std::move(schema_changes_);
  schema_changes_.clear();
  for (const auto& change : summary.schemas) {
    if (!change.first) summary.nothing_to_do = false;  // tables evolved: republished below
  }
  Env* env = catalog_->env();
  const int64_t run_started = env->NowMicros();
  run_started_ = run_started;
  Status st = RunStages(options, summary);
  if (st.ok()) summary.failed_stage.clear();
  RETURN_IF_ERROR(RecordRun(run_started, st, summary));
  if (!st.ok()) {
    if (failed != nullptr) {
      summary.error = st.message();
      *failed = std::move(summary);
    }
    return st;
  }
  RETURN_IF_ERROR(catalog_->Checkpoint());
  return summary;
}

Result<RunSummary> Engine::Transform(const RunOptions& options) {
  RunSummary summary;
  summary.schemas = std::move(schema_changes_);
  schema_changes_.clear();
  for (const auto& change : summary.schemas) {
    if (!change.first) summary.nothing_to_do = false;  // tables evolved: republished below
  }
  // Curate reads the new batches' files itself; the staging views (over every file ever
  // staged) are rebuilt only for the marts and SQL tests that read them.
  std::set<std::string> read;
  for (const auto& t : spec().tables) {
    read.insert(t.reads_staging.begin(), t.reads_staging.end());
    for (const auto& test : t.tests) read.insert(test.reads_staging.begin(), test.reads_staging.end());
  }
  for (const auto& source : spec().sources) {
    if (source.streaming() && read.count(source.name)) {
      RETURN_IF_ERROR(catalog_->RefreshStagingView(source));
    }
  }
  const int64_t started = catalog_->env()->NowMicros();
  run_started_ = started;
  Status st = Curate(options, summary);
  if (st.ok() && options.publish) st = Publish(summary);
  if (st.ok()) summary.failed_stage.clear();
  if (!st.ok() || !summary.nothing_to_do) RETURN_IF_ERROR(RecordRun(started, st, summary));
  if (!st.ok()) return st;
  return summary;
}

// Every run is recorded, failed ones with their reason, for `sluice status`.
Status Engine::RecordRun(int64_t started, const Status& st, const RunSummary& summary) {
  // A failed run keeps what it did before failing, the error and the stage it failed in.
  RunSummary recorded = summary;
  if (!st.ok()) recorded.error = st.message();
  std::string record = RunSummaryJson(recorded).dump();
  const char* status = !st.ok()                      ? "failed"
                       : !summary.refused.empty()    ? "refused"
                       : summary.quarantined.empty() ? "ok"
                                                     : "quarantined";
  return sluice::RecordRun(*catalog_, {.started_us = started, .status = status, .summary = record});
}

Status Engine::RunStages(const RunOptions& options, RunSummary& summary) {
  Env* env = catalog_->env();
  int64_t t0 = env->MonotonicMicros();
  int64_t cpu0 = ProcessCpuMicros();
  int64_t bytes0 = ProcessWriteBytes();
  summary.failed_stage = "ingest";
  std::vector<std::pair<const SourceSpec*, std::string>> work;
  for (const auto& source : spec().sources) {
    if (source.streaming()) continue;  // events arrive through `sluice serve`
    ASSIGN_OR_RETURN(auto files, env->Glob(source.path));
    for (auto& f : files) work.emplace_back(&source, std::move(f));
  }
  for (size_t i = 0; i < work.size(); ++i) {
    if (options.progress) {
      options.progress("ingest", static_cast<int64_t>(i), static_cast<int64_t>(work.size()), work[i].second);
    }
    Result<IngestOutcome> o = IngestFile(work[i].first->name, work[i].second);
    if (!o.ok() && o.status().code() == StatusCode::kInvalidArgument) {
      // The file's content is refused (format, dead-letter ratio, a check that cannot evaluate
      // on it): nothing of it was committed; the other files go on and the run reports it.
      summary.refused.push_back({work[i].first->name, work[i].second, o.status().message()});
      summary.nothing_to_do = false;
      continue;
    }
    if (!o.ok()) return o.status();
    if (!o->duplicate) summary.nothing_to_do = false;
    summary.batches.push_back(std::move(o).value());
  }
  summary.ingest_seconds = Seconds(env, t0);
  summary.ingest_cpu_seconds = CpuSeconds(cpu0);
  summary.ingest_bytes_written = BytesWritten(bytes0);
  RETURN_IF_ERROR(Curate(options, summary));
  return Publish(summary);
}

Status Engine::Curate(const RunOptions& options, RunSummary& summary) {
  Env* env = catalog_->env();
  int64_t t0 = env->MonotonicMicros();
  int64_t cpu0 = ProcessCpuMicros();
  int64_t bytes0 = ProcessWriteBytes();
  summary.failed_stage = "curate";
  for (const auto& table : spec().tables) {
    if (table.kind != TableKind::kCurated) continue;
    if (options.progress) options.progress("curate", 0, 1, table.name);
    const int64_t merge0 = env->MonotonicMicros();
    ASSIGN_OR_RETURN(CurateResult r, CurateTable(*catalog_, table, options.full_refresh, run_started_));
    if (r.batches > 0) summary.curate_table_seconds[table.name] = Seconds(env, merge0);
    for (const auto& q : r.quarantined) summary.quarantined.push_back({table.name, q.batch_id, q.failures});
    for (const auto& w : r.warnings) summary.test_warnings.push_back({"curated", table.name, w});
    for (const auto& b : r.bypassed) summary.test_bypassed.push_back({"curated", table.name, b});
    if (!r.quarantined.empty()) summary.nothing_to_do = false;
    summary.curate_rows_in[table.name] = r.rows_in;
    summary.curate_rows_merged[table.name] = r.rows_merged;
    summary.curate_partitions[table.name] = r.partitions;
    if (r.batches > 0) summary.nothing_to_do = false;
  }
  summary.curate_seconds = Seconds(env, t0);
  summary.curate_cpu_seconds = CpuSeconds(cpu0);
  summary.curate_bytes_written = BytesWritten(bytes0);
  t0 = env->MonotonicMicros();
  cpu0 = ProcessCpuMicros();
  bytes0 = ProcessWriteBytes();
  summary.failed_stage = "marts";
  if (options.progress) options.progress("marts", 0, 1, "");
  MartsResult failed;
  Result<MartsResult> refreshed = RefreshMarts(*catalog_, options.full_refresh, run_started_, &failed);
  const MartsResult& m = refreshed.ok() ? *refreshed : failed;
  for (const auto& [mart, outcomes] : m.tests) {
    for (const auto& o : outcomes) {
      if (!o.failed()) continue;
      (!refreshed.ok() && o.blocking() ? summary.test_failures : summary.test_warnings)
          .push_back({"marts", mart, o});
    }
  }
  summary.marts_seconds = Seconds(env, t0);
  summary.marts_cpu_seconds = CpuSeconds(cpu0);
  summary.marts_bytes_written = BytesWritten(bytes0);
  if (!refreshed.ok()) return refreshed.status();
  summary.mart_partitions = m.partitions;
  for (const auto& [mart, parts] : m.partitions) {
    if (auto rows = m.rows.find(mart); rows != m.rows.end()) summary.mart_rows[mart] = rows->second;
  }
  if (!m.partitions.empty()) summary.nothing_to_do = false;
  return Status::OK();
}

Status Engine::Publish(RunSummary& summary) {
  Env* env = catalog_->env();
  int64_t t0 = env->MonotonicMicros();
  int64_t cpu0 = ProcessCpuMicros();
  int64_t bytes0 = ProcessWriteBytes();
  summary.failed_stage = "publish";
  // One snapshot number for every table this round publishes (catalog/snapshots.h).
  ASSIGN_OR_RETURN(int64_t snapshot, NextSnapshot(*catalog_));
  const int64_t committed_at_us = env->NowMicros();
  for (const auto& table : spec().tables) {
    PublishTarget target = PublishTargetFor(spec(), table);
    ASSIGN_OR_RETURN(bool published, PublishTable(*catalog_, target, snapshot, committed_at_us));
    if (!published) continue;
    ++summary.published;
    ASSIGN_OR_RETURN(std::optional<TableState> state, FindTable(*catalog_, table.name));
    summary.published_rows[target.layer + "." + table.name] = state ? state->rows : 0;
  }
  summary.publish_seconds = Seconds(env, t0);
  summary.publish_cpu_seconds = CpuSeconds(cpu0);
  summary.publish_bytes_written = BytesWritten(bytes0);
  return Status::OK();
}

}  // namespace sluice
