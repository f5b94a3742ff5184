#include "ops/run_lineage.h"

#include <set>

#include "catalog/ledger.h"
#include "catalog/trace_reads.h"

namespace sluice {

using Json = nlohmann::json;

namespace {

// "curated.orders" / "marts.m" of a table spec.
std::string LayerName(const TableSpec& t) {
  return (t.kind == TableKind::kCurated ? "curated." : "marts.") + t.name;
}

void AddUnique(std::vector<std::string>& list, const std::string& name) {
  for (const auto& n : list) {
    if (n == name) return;
  }
  list.push_back(name);
}

}  // namespace

RunLineage::RunLineage(const ProjectSpec& spec, Env* env, LogFn log)
    : spec_(spec), env_(env), log_(std::move(log)), builder_(spec), file_(env, spec.lake + "/lineage") {
  if (!builder_.lineage_error().empty() && log_) {
    log_("lineage: run events carry no columnLineage facet: " + builder_.lineage_error());
  }
  if (!spec.lineage.endpoint.empty()) {
    LineageSenderOptions options;
    options.endpoint = spec.lineage.endpoint;
    options.timeout_ms = spec.lineage.timeout_ms;
    options.retries = spec.lineage.retries;
    options.log = log_;
    Result<std::unique_ptr<LineageSender>> sender = LineageSender::Start(std::move(options));
    if (sender.ok()) {
      sender_ = std::move(sender).value();
    } else if (log_) {
      log_("lineage: events are not POSTed: " + sender.status().message());
    }
  }
}

RunLineage::~RunLineage() { Close(0); }

void RunLineage::Close(int64_t wait_ms) {
  if (sender_) sender_->Close(wait_ms);
}

LineageSender::Counts RunLineage::sent() { return sender_ ? sender_->counts() : LineageSender::Counts{}; }

void RunLineage::Emit(const std::vector<Json>& events) {
  std::vector<std::string> lines;
  lines.reserve(events.size());
  for (const auto& e : events) lines.push_back(e.dump());
  if (Status st = file_.Append(env_->NowMicros(), lines); !st.ok()) {
    ++write_failures_;
    if (log_) log_("lineage: " + std::to_string(lines.size()) + " event(s) not written: " + st.ToString());
  }
  if (sender_) {
    for (auto& line : lines) sender_->Send(std::move(line));
  }
}

std::string RunLineage::RunStarted() {
  const int64_t now = env_->NowMicros();
  std::string run_id = NewRunId(now);
  RunEventContent content;
  for (const auto& s : spec_.sources) {
    if (!s.streaming()) content.inputs.push_back("sources." + s.name);
  }
  Emit({builder_.Event(RunEventType::kStart, "run", run_id, now, content)});
  return run_id;
}

// The outputs of the stages after ingest: merged curated tables, refreshed marts, published
// copies; with the run's test results and the lake's column types.
RunEventContent RunLineage::Outputs(Engine& engine, const RunSummary& summary, int64_t run_started_us) {
  RunEventContent content;
  std::vector<std::string> written;
  for (const auto& t : spec_.tables) {
    if (t.kind == TableKind::kCurated) {
      auto in = summary.curate_rows_in.find(t.name);
      if (in == summary.curate_rows_in.end() || in->second == 0) continue;
      written.push_back(LayerName(t));
      content.rows_written[LayerName(t)] =
          summary.curate_rows_merged.count(t.name) ? summary.curate_rows_merged.at(t.name) : 0;
    } else if (summary.mart_partitions.count(t.name)) {
      written.push_back(LayerName(t));
    }
  }
  for (const auto& name : written) content.outputs.push_back(name);
  if (summary.published > 0) {
    for (const auto& name : written) content.outputs.push_back("published." + name);
  }
  Catalog& catalog = engine.catalog();
  if (Result<std::vector<RunTestResult>> tests = TestResultsOfRun(catalog, run_started_us); tests.ok()) {
    content.tests = std::move(tests).value();
  }
  // A tested table is named in the event even when this run did not change it.
  for (const auto& t : content.tests) AddUnique(content.outputs, t.layer + "." + t.table);
  for (const auto& name : content.outputs) {
    if (name.rfind("published.", 0) == 0) continue;
    const size_t dot = name.find('.');
    auto types = LakeColumnTypes(catalog, name.substr(0, dot), name.substr(dot + 1));
    if (types.ok() && !types->empty()) content.lake_types[name] = std::move(types).value();
  }
  return content;
}

void RunLineage::RunFinished(const std::string& run_id, Engine& engine, const RunSummary& summary,
                             const Status& st) {
  RunEventContent content = Outputs(engine, summary, engine.run_started_us());
  std::map<std::string, int64_t> read, staged;
  for (const auto& b : summary.batches) {
    if (b.duplicate) continue;
    read["sources." + b.source] += b.rows_read;
    staged["staging." + b.source] += b.rows_staged;
    content.batches.push_back(
        {b.source, b.batch_id, b.correlation_id, {}, b.rows_read, b.rows_staged, b.rows_dead});
  }
  std::vector<std::string> outputs;
  for (const auto& s : spec_.sources) {
    if (s.streaming()) continue;
    content.inputs.push_back("sources." + s.name);
    if (read.count("sources." + s.name)) {
      content.rows_read["sources." + s.name] = read["sources." + s.name];
      outputs.push_back("staging." + s.name);
      content.rows_written["staging." + s.name] = staged["staging." + s.name];
    }
  }
  outputs.insert(outputs.end(), content.outputs.begin(), content.outputs.end());
  content.outputs = std::move(outputs);
  content.error = st.ok() ? "" : st.message();
  Emit({builder_.Event(st.ok() ? RunEventType::kComplete : RunEventType::kFail, "run", run_id,
                       env_->NowMicros(), content)});
}

void RunLineage::MicroBatch(const std::string& source, int64_t started_us,
                            const std::vector<StreamPart>& parts, const Result<MicroBatchResult>& r) {
  if (r.ok() && r->batch_id.empty()) return;  // replays only: nothing ran
  const std::string run_id = NewRunId(started_us);
  const std::string job = "ingest." + source;
  RunEventContent content;
  content.inputs.push_back("sources." + source);
  content.outputs.push_back("staging." + source);
  LineageBatch batch;
  batch.source = source;
  std::set<std::string> requests;
  if (r.ok()) {
    batch.batch_id = r->batch_id;
    batch.correlation_id = r->correlation_id;
    batch.rows_read = r->rows_read;
    batch.rows_staged = r->rows_staged;
    batch.rows_dead = r->rows_dead;
    for (const auto& p : r->parts) {
      if (p.kind == PartResult::Kind::kStaged && p.batch_id == r->batch_id) requests.insert(p.correlation_id);
    }
    content.rows_read["sources." + source] = r->rows_read;
    content.rows_written["staging." + source] = r->rows_staged;
  } else {
    for (const auto& p : parts) requests.insert(p.correlation_id);
    content.error = r.status().message();
  }
  requests.erase("");
  requests.erase(batch.correlation_id);
  batch.request_ids.assign(requests.begin(), requests.end());
  if (!batch.batch_id.empty() || !batch.request_ids.empty()) content.batches.push_back(batch);
  Emit({builder_.Event(RunEventType::kStart, job, run_id, started_us, content),
        builder_.Event(r.ok() ? RunEventType::kComplete : RunEventType::kFail, job, run_id, env_->NowMicros(),
                       content)});
}

void RunLineage::Vacuumed(int64_t started_us, const VacuumOutcome& outcome) {
  if (outcome.dry_run || (outcome.moved.empty() && outcome.deleted.empty())) return;
  RunEventContent content;
  for (const StagingDelete& d : outcome.deleted) {
    AddUnique(content.inputs, "staging." + d.source);
    content.rows_read["staging." + d.source] += d.rows;
  }
  for (const StagingMove& m : outcome.moved) {
    AddUnique(content.inputs, "staging." + m.source);
    AddUnique(content.outputs, "cold." + m.source);
    content.rows_read["staging." + m.source] += m.rows;
    content.rows_written["cold." + m.source] += m.rows;
  }
  const std::string run_id = NewRunId(started_us);
  Emit({builder_.Event(RunEventType::kStart, "vacuum", run_id, started_us, content),
        builder_.Event(RunEventType::kComplete, "vacuum", run_id, env_->NowMicros(), content)});
}

void RunLineage::Transform(Engine& engine, const Result<RunSummary>& r) {
  const int64_t started = engine.run_started_us();
  if (!r.ok()) {
    if (r.status().message() == last_transform_error_) return;
    last_transform_error_ = r.status().message();
  } else {
    last_transform_error_.clear();
    if (r->nothing_to_do) return;
  }
  RunEventContent content;
  if (r.ok()) content = Outputs(engine, *r, started);
  if (auto merges = MergesSince(engine.catalog(), started); merges.ok()) {
    std::set<std::pair<std::string, std::string>> seen;
    for (const AppliedMerge& m : *merges) {
      AddUnique(content.inputs, "staging." + m.source);
      if (!seen.insert({m.source, m.batch_id}).second) continue;
      LineageBatch b{m.source, m.batch_id, m.correlation_id, {}, 0, 0, 0};
      if (auto rec = FindBatch(engine.catalog(), m.source, m.batch_id); rec.ok() && *rec) {
        b.rows_read = (*rec)->rows_read;
        b.rows_staged = (*rec)->rows_staged;
        b.rows_dead = (*rec)->rows_dead;
      }
      content.batches.push_back(std::move(b));
    }
  }
  if (!r.ok()) content.error = r.status().message();
  const std::string run_id = NewRunId(started);
  Emit({builder_.Event(RunEventType::kStart, "transform", run_id, started, content),
        builder_.Event(r.ok() ? RunEventType::kComplete : RunEventType::kFail, "transform", run_id,
                       env_->NowMicros(), content)});
}

}  // namespace sluice
