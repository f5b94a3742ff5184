// The OpenLineage run events of sluice's runs (ops/lineage_events.h), written to
// lake/lineage/<date>.jsonl (ops/lineage_log.h) and, with `lineage: {endpoint: ...}`, POSTed
// there too (ops/lineage_sender.h). One run per:
//   `sluice run`               job "run":             START when it starts, COMPLETE or FAIL
//   a micro-batch of serve     job "ingest.<source>": START and COMPLETE (or FAIL) once done
//   `sluice vacuum` (or serve's) job "vacuum":         START and COMPLETE once it moved or deleted
//   a transform cycle of serve job "transform":       START and COMPLETE (or FAIL) once done;
//                              a cycle with nothing to do emits nothing, and a failing cycle
//                              emits FAIL when its error differs from the previous cycle's
// Lineage never fails a run: an event that cannot be written is logged (one line) and counted.
//
// Not safe for concurrent use (the engine thread calls it); the sender is its own thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "engine/stream_batch.h"
#include "engine/vacuum.h"
#include "ops/lineage_events.h"
#include "ops/lineage_log.h"
#include "ops/lineage_sender.h"

namespace sluice {

class RunLineage {
 public:
  using LogFn = std::function<void(const std::string&)>;

  // For `spec`'s lake, stamping events with `env`'s clock. `log` gets the warnings. `spec` must
  // outlive this object.
  RunLineage(const ProjectSpec& spec, Env* env, LogFn log);
  ~RunLineage();

  // `sluice run`: writes START now; returns the run's id.
  std::string RunStarted();
  // COMPLETE (st ok) or FAIL of the run RunStarted began. `summary` is what ran (the failed
  // summary when st failed); the engine's run_started_us() finds its test results.
  void RunFinished(const std::string& run_id, Engine& engine, const RunSummary& summary, const Status& st);

  // serve: one micro-batch of `source` begun at `started_us` with `parts`, and what came of it.
  void MicroBatch(const std::string& source, int64_t started_us, const std::vector<StreamPart>& parts,
                  const Result<MicroBatchResult>& r);
  // serve: a transform cycle (engine.Transform) and what came of it.
  void Transform(Engine& engine, const Result<RunSummary>& r);

  // `sluice vacuum` or serve's: START (at `started_us`) and COMPLETE of a run of job "vacuum"
  // that moved or deleted staging (nothing for a dry run or a vacuum that did neither): inputs
  // staging.<source> with the rows moved or deleted, outputs cold.<source> with the rows moved.
  void Vacuumed(int64_t started_us, const VacuumOutcome& outcome);

  // Waits at most `wait_ms` for queued POSTs, then stops the sender (no-op without one).
  void Close(int64_t wait_ms);
  // What the sender did (zeros without an endpoint), and the events that could not be written.
  LineageSender::Counts sent();
  int64_t write_failures() const { return write_failures_; }

 private:
  // Writes `events` (one fsync) and queues them for the endpoint.
  void Emit(const std::vector<nlohmann::json>& events);
  RunEventContent Outputs(Engine& engine, const RunSummary& summary, int64_t run_started_us);

  const ProjectSpec& spec_;
  Env* env_;
  LogFn log_;
  RunEventBuilder builder_;
  LineageLog file_;
  std::unique_ptr<LineageSender> sender_;
  std::string last_transform_error_;
  int64_t write_failures_ = 0;
};

}  // namespace sluice
