// `sluice run` and `sluice ingest`: the pipeline, with a progress line on a terminal.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/read_commands.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/summary.h"
#include "ops/alerts.h"
#include "ops/metrics_file.h"
#include "ops/run_lineage.h"
#include "ops/slo_metrics.h"
#include "ops/slo_runner.h"
#include "serve/metrics.h"
#include "warehouse/pg_publisher.h"
#include "warehouse/warehouse_metrics.h"

namespace sluice::cli {

namespace {

std::string Thousands(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return (v < 0 ? "-" : "") + s;
}

std::string Secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// Progress on stderr when it is a terminal: one line, rewritten in place.
ProgressFn TerminalProgress() {
  if (!::isatty(STDERR_FILENO)) return {};
  return [](const std::string& stage, int64_t done, int64_t total, const std::string& detail) {
    std::fprintf(stderr, "\r\033[K%-8s %lld/%lld %s", stage.c_str(), static_cast<long long>(done) + 1,
                 static_cast<long long>(total), detail.c_str());
    std::fflush(stderr);
  };
}

void ClearProgress() {
  if (::isatty(STDERR_FILENO)) std::fprintf(stderr, "\r\033[K");
}

// Quality gates that did not pass: warnings, bypassed failures of released batches, failed
// gates that stopped the run, and quarantined batches (stdout, after the summary).
void PrintGates(const RunSummary& s) {
  auto failure = [](const TestOutcome& o) {
    return o.test + ": " + std::to_string(o.failing_rows) + " failing rows" +
           (o.sample.empty() ? "" : " (e.g. " + o.sample + ")");
  };
  for (const auto& n : s.test_warnings) {
    std::cout << "warn     " << n.layer << "." << n.table << ": " << failure(n.outcome) << "\n";
  }
  for (const auto& n : s.test_bypassed) {
    std::cout << "bypassed " << n.layer << "." << n.table << ": " << failure(n.outcome)
              << " (released batch applied anyway)\n";
  }
  for (const auto& n : s.test_failures) {
    std::cout << "FAILED   " << n.layer << "." << n.table << ": " << failure(n.outcome) << "\n";
  }
  for (const auto& r : s.refused) std::cout << "REFUSED  " << r.error << "\n";
  for (const auto& q : s.quarantined) {
    std::cout << "QUARANTINED batch " << q.batch_id << " (curated." << q.table << "): ";
    for (size_t i = 0; i < q.failures.size(); ++i) std::cout << (i ? "; " : "") << failure(q.failures[i]);
    std::cout << "\n";
  }
  std::cout.flush();
}

void PrintSummary(const RunSummary& s) {
  int64_t batches = 0, dups = 0, read = 0, staged = 0, dead = 0;
  for (const auto& b : s.batches) {
    if (b.duplicate) {
      ++dups;
      continue;
    }
    ++batches;
    read += b.rows_read;
    staged += b.rows_staged;
    dead += b.rows_dead;
  }
  for (const auto& change : s.schemas) {
    std::cout << "schema   " << change.source << ": contract v" << change.version << " registered";
    for (size_t i = 0; i < change.evolved_tables.size(); ++i) {
      std::cout << (i ? ", " : "; evolved ") << "curated." << change.evolved_tables[i];
    }
    std::cout << "\n";
  }
  if (s.nothing_to_do && s.error.empty()) {
    std::cout << "nothing to do: " << s.batches.size() << " landing files are all in the ledger already"
              << std::endl;
    return;
  }
  std::cout << "ingest   " << batches << " batches, " << dups << " duplicates skipped: " << Thousands(read)
            << " rows read = " << Thousands(staged) << " staged + " << Thousands(dead) << " dead-lettered  ["
            << Secs(s.ingest_seconds) << "]\n";
  std::string curate;
  for (const auto& [name, merged] : s.curate_rows_merged) {
    curate += (curate.empty() ? "" : "; ") + name + ": " + Thousands(merged) + " rows merged (" +
              Thousands(s.curate_rows_in.at(name)) + " incoming), " +
              std::to_string(s.curate_partitions.at(name)) + " partitions changed";
  }
  std::cout << "curate   " << (curate.empty() ? "no curated tables" : curate) << "  ["
            << Secs(s.curate_seconds) << "]\n";
  std::string marts;
  for (const auto& [name, parts] : s.mart_partitions) {
    marts += (marts.empty() ? "" : "; ") + name + ": " +
             (parts < 0 ? std::string("rebuilt whole") : std::to_string(parts) + " partitions refreshed");
  }
  std::cout << "marts    " << (marts.empty() ? "nothing to refresh" : marts) << "  [" << Secs(s.marts_seconds)
            << "]\n";
  if (s.error.empty()) {
    std::cout << "publish  " << s.published << " tables  [" << Secs(s.publish_seconds) << "]\n";
  } else {
    std::cout << "publish  nothing: the run failed (the error is on stderr)\n";
  }
  std::cout.flush();
  PrintGates(s);
}

// With serve.postgres: the run's new table versions go to PostgreSQL (warehouse/pg_publisher.h),
// on this thread, once the run has committed; each version's lag and rows are counted in
// `metrics` under the names `sluice serve` uses (docs/METRICS.md).
Status PublishToWarehouse(Engine& engine, MetricsRegistry& metrics) {
  if (!engine.spec().serve.postgres) return Status::OK();
  PgPublisher::Hooks hooks;
  hooks.log = [&engine](const std::string& line) {
    LogLine(engine.catalog().env(), LogLevel::kInfo, "sluice run", line);
  };
  const WarehousePublishMetrics counted = RegisterWarehousePublishMetrics(metrics);
  hooks.published = [counted](double seconds, int64_t n) { counted.Published(seconds, n); };
  ASSIGN_OR_RETURN(auto publisher, PgPublisher::Create(engine.spec(), engine.catalog().conn(),
                                                       engine.catalog().env(), hooks));
  RETURN_IF_ERROR(publisher->PublishAll());
  return publisher->Prune(engine.catalog());
}

// The SLOs at the end of a run (ops/slo_runner.h; samples of earlier runs count too): changes
// of state on stderr, and their alerts sent within a bounded time (never failing the run).
// After a failed run (`summary` null) nothing is printed: its stderr is the one error line.
// The SLO gauges go into `metrics`, for the metrics file (none when the evaluation failed).
constexpr int64_t kAlertBudgetMs = 15000;

void EvaluateSlos(Engine& engine, const RunSummary* summary, MetricsRegistry& metrics) {
  const bool quiet = summary == nullptr;
  SloRunner runner(engine.spec(), engine.catalog());
  if (runner.definitions().empty()) return;
  LiveInputs live;
  if (summary != nullptr && !summary->nothing_to_do) {
    live.transform_seconds.push_back(summary->curate_seconds + summary->marts_seconds +
                                     summary->publish_seconds);
  }
  Result<std::vector<SloTransition>> changes = runner.Evaluate(live);
  if (!changes.ok()) {
    if (!quiet) std::cerr << "warning: SLOs not evaluated: " << changes.status().message() << std::endl;
    return;
  }
  SetSloMetrics(metrics, runner.Statuses());
  for (const SloTransition& t : quiet ? std::vector<SloTransition>() : *changes) {
    std::cerr << "slo: " << t.status.def.name << ": " << SloStateName(t.from) << " -> "
              << SloStateName(t.status.eval.state) << " (docs/RUNBOOKS.md#" << t.status.def.RunbookSlug()
              << ")" << std::endl;
  }
  AlertDispatcher alerts(engine.spec().slo, engine.catalog().env(), [quiet](const std::string& line) {
    if (!quiet) std::cerr << "warning: " << line << std::endl;
  });
  alerts.Enqueue(*changes);
  (void)alerts.Flush(kAlertBudgetMs);
}

// The run of an opened engine: its summary, and the exit code; its SLOs and PostgreSQL publish
// in `metrics`, for the metrics file.
int RunOpened(const RunArgs& args, Engine& engine, MetricsRegistry& metrics) {
  RunOptions options;
  options.full_refresh = args.full_refresh;
  if (!args.json) options.progress = TerminalProgress();
  RunSummary failed;
  // OpenLineage START now, COMPLETE or FAIL once it is done (ops/run_lineage.h).
  Env* env = engine.catalog().env();
  RunLineage lineage(engine.spec(), env, [env](const std::string& line) {
    LogLine(env, LogLevel::kWarning, "sluice run", line);
  });
  const std::string run_id = lineage.RunStarted();
  auto summary = engine.Run(options, &failed);
  lineage.RunFinished(run_id, engine, summary.ok() ? *summary : failed, summary.status());
  // The endpoint gets its chance before the process exits; the jsonl file has every event.
  const ProjectSpec::LineageSpec& ls = engine.spec().lineage;
  lineage.Close(std::min<int64_t>(30000, ls.timeout_ms * (ls.retries + 1) + 6000));
  ClearProgress();
  EvaluateSlos(engine, summary.ok() ? &*summary : nullptr, metrics);
  if (!summary.ok()) {
    // What ran before the failure, with the failure in it; the error line goes to stderr.
    if (failed.error.empty()) failed.error = summary.status().message();
    if (args.json) {
      std::cout << RunSummaryJson(failed).dump() << std::endl;
    } else {
      PrintSummary(failed);
    }
    return Fail(summary.status().message());
  }
  if (args.json) {
    std::cout << RunSummaryJson(*summary).dump() << std::endl;
  } else {
    PrintSummary(*summary);
  }
  if (Status st = PublishToWarehouse(engine, metrics); !st.ok()) {
    std::cerr << "error: the run committed, but publishing to PostgreSQL failed (the next run or "
                 "`sluice serve` catches up): "
              << st.message() << std::endl;
    return 5;
  }
  if (!summary->refused.empty()) {
    // Exit 4: the other files went through and were published, but these wait for a fix.
    std::cerr << "error: " << summary->refused.front().error;
    if (summary->refused.size() > 1) {
      std::cerr << " (and " << summary->refused.size() - 1 << " more refused files: see the summary)";
    }
    std::cerr << std::endl;
    return 4;
  }
  if (!summary->quarantined.empty()) {
    // Exit 3 (not 1): the run itself succeeded and published, but CI should notice.
    std::cerr << "warning: " << summary->quarantined.size()
              << " batch(es) quarantined by quality gates; see `sluice batches list --status "
                 "quarantined`, then `sluice batches release ID` or `drop ID`"
              << std::endl;
    return 3;
  }
  return 0;
}

}  // namespace

int Run(const RunArgs& args) {
  Env* env = Env::Default();
  if (!args.metrics_file.empty()) {
    if (Status st = CheckMetricsFilePath(env, args.metrics_file); !st.ok()) return Fail(st.message());
  }
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  MetricsRegistry warehouse;  // the PostgreSQL publish of this run, for the metrics file
  int rc = engine.ok() ? RunOpened(args, **engine, warehouse)
                       : FailWhileServing(args.project, engine.status(), "run", "stop sluice serve first");
  if (args.metrics_file.empty()) return rc;
  // After every run, a failed one too: the file says how it went (exit 3 and 4 are runs that went
  // through) with what the catalog holds, or only that when the lake did not open.
  Result<std::string> text = BatchRunMetricsText(engine.ok() ? &(*engine)->catalog() : nullptr,
                                                 rc == 0 || rc == 3 || rc == 4, env->NowMicros());
  // The run's gauges end the file (BatchRunMetricsText): the SLOs and the publish come first.
  Status st =
      text.ok() ? WriteMetricsFile(env, args.metrics_file, warehouse.Render() + *text) : text.status();
  if (!st.ok()) {
    std::cerr << "error: " << st.message() << std::endl;
    if (rc == 0) rc = 1;
  }
  return rc;
}

int Ingest(const IngestArgs& args) {
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) {
    std::string instead = "stop sluice serve first";
    auto spec = LoadProject(args.project);
    const SourceSpec* source = spec.ok() ? spec->FindSource(args.source) : nullptr;
    if (source != nullptr && source->type == SourceType::kHttp) {
      instead = "push the rows to POST /v1/sources/" + source->name + "/events instead, or " + instead;
    }
    return FailWhileServing(args.project, engine.status(), "ingest", instead);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& file : args.files) {
    auto outcome = (*engine)->IngestFile(args.source, file, args.batch_id);
    if (!outcome.ok()) return Fail(outcome.status().message());
    const IngestOutcome& o = *outcome;
    if (args.json) {
      out.push_back(IngestOutcomeJson(o));
    } else if (o.duplicate) {
      std::cout << file << ": duplicate of batch " << o.batch_id << ", nothing done" << std::endl;
    } else {
      std::cout << file << ": batch " << o.batch_id << ": " << Thousands(o.rows_read)
                << " rows read = " << Thousands(o.rows_staged) << " staged + " << Thousands(o.rows_dead)
                << " dead-lettered" << std::endl;
    }
  }
  if (args.json) {
    int64_t dups = 0;
    for (const auto& o : out) dups += o["duplicate"].get<bool>() ? 1 : 0;
    std::cout << nlohmann::json{{"status", "ok"}, {"duplicates", dups}, {"batches", out}}.dump() << std::endl;
  }
  return 0;
}

}  // namespace sluice::cli
