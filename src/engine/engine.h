// The engine: the one layer that knows all others. It opens a project's lake (recovering what a
// crash left behind), ingests batches through the commit protocol, and runs the pipeline
// stages in order: ingest -> curate -> marts -> publish.
//
// One Engine per process holds the lake's write lock; not safe for concurrent use.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/stream_ledger.h"
#include "common/status.h"
#include "engine/schema_evolution.h"
#include "engine/stream_batch.h"
#include "ingest/decoder.h"
#include "spec/spec.h"
#include "transform/quality.h"

namespace sluice {

struct IngestOutcome {
  std::string source;
  std::string file;
  std::string batch_id;
  std::string correlation_id;  // the batch's (meta.batches); "" for a duplicate
  bool duplicate = false;      // G2: the same batch was committed before; nothing was done
  int64_t rows_read = 0;
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;
  std::map<std::string, int64_t> dead_by_reason;
  double seconds = 0;
};

struct StageTiming {
  double seconds = 0;
};

// A batch a quality gate quarantined in this run (see transform/quarantine.h).
struct QuarantineNote {
  std::string table;  // the curated table whose `error` test it failed
  std::string batch_id;
  std::vector<TestOutcome> failures;
};

// A failed test that did not block: severity warn, or an error test a released batch bypassed.
struct TestNote {
  std::string layer;
  std::string table;
  TestOutcome outcome;
};

// A landing file `sluice run` refused (IngestFile's InvalidArgument): nothing of it was
// committed and it is not in the ledger, so the next run tries it again.
struct RefusedFile {
  std::string source;
  std::string file;
  std::string error;  // one line naming the file and why
};

struct RunSummary {
  bool nothing_to_do = true;
  std::vector<IngestOutcome> batches;  // includes duplicates
  // Per stage: wall seconds and the process's CPU seconds (user + system over all its threads,
  // DuckDB's workers included; ProcessCpuMicros deltas around the stage).
  double ingest_seconds = 0;
  double ingest_cpu_seconds = 0;
  std::map<std::string, int64_t> curate_rows_in, curate_rows_merged, curate_partitions;
  double curate_seconds = 0;
  double curate_cpu_seconds = 0;
  std::map<std::string, int64_t> mart_partitions;  // -1: rebuilt whole
  double marts_seconds = 0;
  double marts_cpu_seconds = 0;
  int64_t published = 0;
  double publish_seconds = 0;
  double publish_cpu_seconds = 0;
  // Per stage: bytes the process wrote to storage during it (ProcessWriteBytes deltas).
  int64_t ingest_bytes_written = 0, curate_bytes_written = 0, marts_bytes_written = 0,
          publish_bytes_written = 0;
  std::map<std::string, double> curate_table_seconds;  // per curated table: its merge, seconds
  std::map<std::string, int64_t> mart_rows;            // per mart refreshed: its rows after
  std::map<std::string, int64_t> published_rows;       // per table published ("curated.orders"): rows
  // The stage the run was in when it stopped (ingest | curate | marts | publish); "" when the
  // run went through.
  std::string failed_stage;
  std::vector<QuarantineNote> quarantined;  // non-empty: `sluice run` exits 3
  std::vector<RefusedFile> refused;         // non-empty: `sluice run` exits 4
  std::vector<TestNote> test_warnings;
  std::vector<TestNote> test_bypassed;
  std::vector<SchemaChange> schemas;  // contract versions registered when the engine opened
  // A run that failed: its reason ("" when it went through) and the failed `error` tests that
  // stopped it (a mart's gate); what ran before the failure is in the fields above.
  std::string error;
  std::vector<TestNote> test_failures;
};

// Progress of a long step, for the terminal display: stage, done, total, detail.
using ProgressFn = std::function<void(const std::string&, int64_t, int64_t, const std::string&)>;

struct RunOptions {
  bool full_refresh = false;
  bool publish = true;  // Transform only: false leaves publishing to a later call
  ProgressFn progress;  // may be empty
};

struct EngineOptions {
  // `--memory-limit`: replaces the project's memory_limit (see common/memory_limit.h).
  std::optional<int64_t> memory_limit;
  // DuckDB's share of the limit when the caller keeps more than the fixed overhead for itself
  // (serve's in-flight data); 0: the limit minus the fixed overhead.
  int64_t duckdb_memory = 0;
};

class Engine {
 public:
  // Loads the project, opens its lake for writing and recovers from any interrupted commit.
  // DuckDB gets its share of the memory limit and spills into <lake>/_spill beyond it.
  static Result<std::unique_ptr<Engine>> Open(const std::string& project_dir,
                                              const EngineOptions& options = {});
  // As above, for a project already loaded.
  static Result<std::unique_ptr<Engine>> Open(ProjectSpec spec, const EngineOptions& options = {});

  // Ingests one file as one batch of `source` (G1, G2). `batch_id` empty: the content hash.
  // AlreadyExists when an explicit batch id was used for different content. InvalidArgument,
  // naming the file, when its content is refused and nothing was committed: it does not decode
  // (a corrupt Parquet file), more than the source's max_dead_ratio of its rows would be
  // dead-lettered (e.g. CSV into a JSONL source), or a contract check cannot evaluate on it.
  Result<IngestOutcome> IngestFile(const std::string& source, const std::string& path,
                                   const std::string& batch_id = "");

  // Ingests every file of every source not yet in the ledger, then curates, refreshes marts
  // and publishes. A file IngestFile refuses (InvalidArgument) is listed in summary.refused and
  // the other files go on. A batch failing an `error` test of a curated table is quarantined (listed in
  // the summary) while the others flow; Aborted when a mart's `error` test fails (the marts
  // step is rolled back and nothing is published). When the run fails and `failed` is given,
  // *failed receives its summary so far, with `error` set (`sluice run` prints it).
  Result<RunSummary> Run(const RunOptions& options, RunSummary* failed = nullptr);

  // Stages one micro-batch of a stream source (engine/stream_batch.h) as one committed batch.
  // Parts whose Idempotency-Key was answered before are not staged again (G2). `range`, for a
  // NATS batch, is recorded in the same transaction as the rows; its batch id is derived from
  // it. Staging views are not refreshed (Transform does, before curating).
  Result<MicroBatchResult> IngestMicroBatch(const std::string& source, const std::vector<StreamPart>& parts,
                                            const StreamRange* range = nullptr);

  // Curates, refreshes marts and (if options.publish) publishes what was staged since the last
  // time (the stages of Run after ingest), for `sluice serve`'s scheduler. Recorded in meta.runs
  // unless it found nothing to do. A publish also covers what earlier unpublished calls changed.
  Result<RunSummary> Transform(const RunOptions& options);

  Catalog& catalog() { return *catalog_; }
  const ProjectSpec& spec() const { return catalog_->spec(); }
  // The id (UTC micros) of the last Run or Transform in meta.runs and meta.test_results.
  int64_t run_started_us() const { return run_started_; }

 private:
  Engine(std::unique_ptr<Catalog> catalog, std::vector<SchemaChange> schema_changes)
      : catalog_(std::move(catalog)), schema_changes_(std::move(schema_changes)) {}
  Status RunStages(const RunOptions& options, RunSummary& summary);
  Status Curate(const RunOptions& options, RunSummary& summary);
  Status Publish(RunSummary& summary);

  Result<const ContractValidator*> StreamValidator(const SourceSpec& source);
  Status RecordRun(int64_t started, const Status& st, const RunSummary& summary);

  std::unique_ptr<Catalog> catalog_;
  std::map<std::string, ContractValidator> validators_;  // stream sources' decoders, by source
  std::vector<SchemaChange> schema_changes_;             // reported by the first Run
  int64_t run_started_ = 0;  // the current run's id in meta.runs / meta.test_results
};

}  // namespace sluice
