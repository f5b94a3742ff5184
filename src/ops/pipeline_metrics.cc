#include "ops/pipeline_metrics.h"

#include <algorithm>

#include "catalog/dlq.h"
#include "catalog/quarantine_log.h"

namespace sluice {

namespace {

double Number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

// Brings `counter` up to `total` (a counter never goes down; a lower total is ignored).
void AddUpTo(Counter& counter, double total) {
  if (total > counter.Value()) counter.Add(total - counter.Value());
}

const char* kRowsHelp =
    "Rows out of each pipeline stage by outcome (ingest: staging.<source>; curate, marts, publish: the "
    "table).";

}  // namespace

const std::vector<std::string>& MetricStages() {
  static const std::vector<std::string> stages = {"ingest", "curate", "marts", "publish"};
  return stages;
}

std::optional<double> SkewRatio(const std::vector<PartitionRows>& partitions) {
  if (partitions.empty()) return std::nullopt;
  std::vector<int64_t> rows;
  rows.reserve(partitions.size());
  for (const auto& p : partitions) rows.push_back(p.rows);
  std::sort(rows.begin(), rows.end());
  const size_t n = rows.size();
  const double median = n % 2 == 1
                            ? static_cast<double>(rows[n / 2])
                            : (static_cast<double>(rows[n / 2 - 1]) + static_cast<double>(rows[n / 2])) / 2;
  if (median <= 0) return std::nullopt;
  return static_cast<double>(rows.back()) / median;
}

std::vector<PartitionRows> TopPartitions(std::vector<PartitionRows> partitions, size_t n) {
  std::sort(partitions.begin(), partitions.end(), [](const PartitionRows& a, const PartitionRows& b) {
    return a.rows != b.rows ? a.rows > b.rows : a.partition < b.partition;
  });
  if (partitions.size() > n) partitions.resize(n);
  return partitions;
}

double PerMillionRows(double amount, double rows) { return rows > 0 ? amount / rows * 1e6 : 0.0; }

std::vector<std::pair<std::string, double>> AddRun(const RunRecord& run, PipelineFigures* figures) {
  std::vector<std::pair<std::string, double>> merges;
  nlohmann::json s = nlohmann::json::parse(run.summary, nullptr, /*allow_exceptions=*/false);
  if (!s.is_object()) return merges;
  for (const std::string& stage : MetricStages()) {
    StageFigures& f = figures->stages[stage];
    auto it = s.find(stage);
    if (it == s.end() || !it->is_object()) continue;
    f.cpu_seconds += Number(*it, "cpu_seconds");
    f.bytes_written += Number(*it, "bytes_written");
  }
  if (auto failed = s.find("failed_stage"); failed != s.end() && failed->is_string()) {
    figures->stages[failed->get<std::string>()].errors += 1;
  }
  if (auto refused = s.find("refused"); refused != s.end() && refused->is_array()) {
    figures->stages["ingest"].errors += static_cast<double>(refused->size());
  }
  if (auto ingest = s.find("ingest"); ingest != s.end() && ingest->is_object()) {
    figures->stages["ingest"].rows += Number(*ingest, "rows_read");
  }
  auto tables = [&](const char* stage) -> const nlohmann::json* {
    auto it = s.find(stage);
    if (it == s.end() || !it->is_object()) return nullptr;
    auto t = it->find("tables");
    return t != it->end() && t->is_object() ? &*t : nullptr;
  };
  if (const nlohmann::json* t = tables("curate")) {
    for (const auto& [name, j] : t->items()) {
      if (!j.is_object()) continue;
      figures->rows[{"curate", "curated." + name, "ok"}] += Number(j, "rows_merged");
      figures->stages["curate"].rows += Number(j, "rows_in");
      if (auto sec = j.find("seconds"); sec != j.end() && sec->is_number()) {
        merges.emplace_back("curated." + name, sec->get<double>());
      }
    }
  }
  if (const nlohmann::json* t = tables("marts")) {
    for (const auto& [name, j] : t->items()) {
      if (!j.is_object()) continue;
      if (auto rows = j.find("rows"); rows != j.end() && rows->is_number()) {
        figures->rows[{"marts", "marts." + name, "ok"}] += rows->get<double>();
        figures->stages["marts"].rows += rows->get<double>();
      }
    }
  }
  if (auto publish = s.find("publish"); publish != s.end() && publish->is_object()) {
    if (auto t = publish->find("table_rows"); t != publish->end() && t->is_object()) {
      for (const auto& [table, rows] : t->items()) {
        if (!rows.is_number()) continue;
        figures->rows[{"publish", table, "ok"}] += rows.get<double>();
        figures->stages["publish"].rows += rows.get<double>();
      }
    }
  }
  return merges;
}

PipelineMetrics::PipelineMetrics() : PipelineMetrics(Options{}) {}

PipelineMetrics::PipelineMetrics(Options options) : options_(options) {
  for (const std::string& stage : MetricStages()) from_runs_.stages[stage];
}

Status PipelineMetrics::Collect(Catalog& catalog, int64_t now_us) {
  const ProjectSpec& spec = catalog.spec();
  ASSIGN_OR_RETURN(std::vector<RunRecord> runs, RunsAfter(catalog, last_run_us_));
  for (const RunRecord& run : runs) {
    for (auto& [table, seconds] : AddRun(run, &from_runs_)) {
      pending_merges_[table].push_back(seconds);
      auto& [count, sum] = merge_totals_[table];
      count += 1;
      sum += seconds;
    }
    last_run_us_ = std::max(last_run_us_, run.started_us);
  }
  PipelineFigures next;
  next.rows = from_runs_.rows;
  next.stages = from_runs_.stages;
  // The micro-batches `sluice serve` committed: their cost is in the ledger, not in a run.
  ASSIGN_OR_RETURN(StreamIngestCost stream, StreamIngestCostOf(catalog));
  StageFigures& ingest = next.stages["ingest"];
  ingest.cpu_seconds += stream.cpu_seconds;
  ingest.bytes_written += stream.bytes_written;
  ingest.rows += stream.rows;
  for (const auto& [stage, errors] : live_errors_) next.stages[stage].errors += errors;

  ASSIGN_OR_RETURN(std::vector<SourceLedgerStats> ledger, LedgerStatsBySource(catalog));
  for (const auto& source : spec.sources) next.quarantined_batches[source.name] = 0;
  for (const SourceLedgerStats& l : ledger) {
    const std::string table = "staging." + l.source;
    next.rows[{"ingest", table, "ok"}] = static_cast<double>(l.rows_staged);
    next.rows[{"ingest", table, "dead_lettered"}] = static_cast<double>(l.rows_dead);
    next.rows[{"ingest", table, "late"}] = static_cast<double>(l.rows_late);
    next.quarantined_batches[l.source] = l.quarantined_batches;
  }
  // A lake written before quality gates, opened read-only, has no meta.quarantine.
  ASSIGN_OR_RETURN(bool gates, GateTablesExist(catalog));
  std::vector<QuarantinedRows> quarantined;
  if (gates) {
    ASSIGN_OR_RETURN(quarantined, QuarantinedRowsByTable(catalog));
  }
  for (const QuarantinedRows& q : quarantined) {
    next.rows[{"curate", "curated." + q.table, "quarantined"}] = static_cast<double>(q.quarantined);
    next.rows[{"curate", "curated." + q.table, "failed"}] = static_cast<double>(q.dropped);
  }
  for (const auto& source : spec.sources) {
    ASSIGN_OR_RETURN(std::vector<DeadLetterReasonCount> reasons,
                     CountDeadLettersByReason(catalog, source.name));
    for (const DeadLetterReasonCount& r : reasons) {
      if (r.open > 0) next.dlq_open[{source.name, r.reason}] = r.open;
    }
    if (options_.batch_commit_histogram) {
      int64_t& after = last_commit_us_[source.name];
      ASSIGN_OR_RETURN(CommitDurations d, BatchCommitDurations(catalog, source.name, after));
      after = d.last_committed_us;
      auto& pending = pending_commits_[source.name];
      pending.insert(pending.end(), d.seconds.begin(), d.seconds.end());
    }
  }

  ASSIGN_OR_RETURN(std::vector<TableCommit> commits, ListTableCommits(catalog));
  for (const TableCommit& c : commits) {
    TableFigures t;
    t.version = c.version;
    t.last_commit_us = c.committed_us;
    auto old = figures_.tables.find(c.table);
    const bool changed = old == figures_.tables.end() || old->second.version != c.version;
    if (old != figures_.tables.end()) {
      t.max_event_us = old->second.max_event_us;
      t.partitions = old->second.partitions;
    }
    const size_t dot = c.table.find('.');
    const TableSpec* table = spec.FindTable(c.table.substr(dot + 1));
    if (table == nullptr || !c.committed_us) {
      next.tables[c.table] = std::move(t);
      continue;
    }
    const SourceSpec* source = table->kind == TableKind::kCurated ? spec.FindSource(table->from) : nullptr;
    if (changed && source != nullptr && !source->event_time.empty()) {
      ASSIGN_OR_RETURN(t.max_event_us, MaxEventMicros(catalog, c.table, source->event_time));
    }
    // Counted again once the table has a new version, at most every partition_scan_interval_us.
    auto scan = partitions_scanned_.find(c.table);
    const bool rescan = scan == partitions_scanned_.end() ||
                        (scan->second.version != c.version &&
                         now_us - scan->second.at_us >= options_.partition_scan_interval_us);
    if (rescan && !table->partition_by.empty()) {
      ASSIGN_OR_RETURN(t.partitions, CountPartitionRows(catalog, c.table, table->partition_by.day,
                                                        table->partition_by.tenant));
      partitions_scanned_[c.table] = {now_us, c.version};
    }
    next.tables[c.table] = std::move(t);
  }
  figures_ = std::move(next);
  return Status::OK();
}

void PipelineMetrics::SetLiveStageErrors(const std::string& stage, double errors) {
  figures_.stages[stage].errors += errors - live_errors_[stage];
  live_errors_[stage] = errors;
}

std::string PipelineMetrics::Render(int64_t now_us) {
  // Counters and histograms: kept, brought up to the figures.
  for (const auto& [key, rows] : figures_.rows) {
    const auto& [stage, table, outcome] = key;
    AddUpTo(cumulative_.GetCounter("sluice_rows_total", kRowsHelp,
                                   {{"stage", stage}, {"table", table}, {"outcome", outcome}}),
            rows);
  }
  for (const auto& [stage, f] : figures_.stages) {
    const MetricLabels labels = {{"stage", stage}};
    AddUpTo(cumulative_.GetCounter(
                "sluice_stage_errors_total",
                "Runs that failed in the stage (ingest: also landing files refused whole and failed "
                "micro-batch commits of `sluice serve`).",
                labels),
            f.errors);
    AddUpTo(cumulative_.GetCounter(
                "sluice_stage_cpu_seconds_total",
                "CPU seconds of the stage (runs: the process's, all threads; serve's micro-batches: "
                "the engine thread's).",
                labels),
            f.cpu_seconds);
    AddUpTo(
        cumulative_.GetCounter("sluice_stage_bytes_written_total",
                               "Bytes written by the stage (runs: the process's writes to storage; serve's "
                               "micro-batches: their staged files).",
                               labels),
        f.bytes_written);
  }
  for (auto& [table, seconds] : pending_merges_) {
    Histogram& h =
        cumulative_.GetHistogram("sluice_merge_seconds", "Duration of one curate merge of a table.",
                                 LatencyBuckets(), {{"table", table}});
    for (double s : seconds) h.Observe(s);
  }
  pending_merges_.clear();
  for (auto& [source, seconds] : pending_commits_) {
    Histogram& h = cumulative_.GetHistogram("sluice_batch_commit_seconds",
                                            "Duration of one batch commit (decode, stage, ledger).",
                                            LatencyBuckets(), {{"source", source}});
    for (double s : seconds) h.Observe(s);
  }
  pending_commits_.clear();

  // Gauges: a fresh registry, so series that vanished from the figures vanish.
  MetricsRegistry gauges;
  for (const auto& [stage, f] : figures_.stages) {
    const MetricLabels labels = {{"stage", stage}};
    gauges
        .GetGauge("sluice_cost_cpu_seconds_per_million_rows",
                  "CPU seconds per million rows of the stage, over the recorded runs.", labels)
        .Set(PerMillionRows(f.cpu_seconds, f.rows));
    gauges
        .GetGauge("sluice_cost_bytes_written_per_million_rows",
                  "Bytes written per million rows of the stage, over the recorded runs.", labels)
        .Set(PerMillionRows(f.bytes_written, f.rows));
  }
  for (const auto& [table, t] : figures_.tables) {
    const MetricLabels labels = {{"table", table}};
    if (t.last_commit_us) {
      gauges
          .GetGauge("sluice_table_last_commit_timestamp_seconds",
                    "Unix time of the table's last new version.", labels)
          .Set(Seconds(*t.last_commit_us));
      gauges
          .GetGauge("sluice_table_freshness_seconds", "Now minus the table's last commit or max event time.",
                    {{"table", table}, {"basis", "commit"}})
          .Set(Seconds(now_us - *t.last_commit_us));
    }
    if (t.max_event_us) {
      gauges
          .GetGauge("sluice_table_max_event_timestamp_seconds",
                    "Unix time of the largest event time in the table.", labels)
          .Set(Seconds(*t.max_event_us));
      gauges
          .GetGauge("sluice_table_freshness_seconds", "Now minus the table's last commit or max event time.",
                    {{"table", table}, {"basis", "event_time"}})
          .Set(Seconds(now_us - *t.max_event_us));
    }
    if (std::optional<double> skew = SkewRatio(t.partitions)) {
      gauges
          .GetGauge("sluice_partition_skew_ratio",
                    "Rows of the largest partition / median rows per partition.", labels)
          .Set(*skew);
    }
    for (const PartitionRows& p : TopPartitions(t.partitions, kTopPartitions)) {
      gauges
          .GetGauge("sluice_partition_rows", "Rows of the table's largest partitions.",
                    {{"table", table}, {"partition", p.partition}})
          .Set(static_cast<double>(p.rows));
    }
  }
  for (const auto& [key, rows] : figures_.dlq_open) {
    gauges
        .GetGauge("sluice_dlq_rows", "Open dead-lettered rows, by reason.",
                  {{"source", key.first}, {"reason", key.second}})
        .Set(static_cast<double>(rows));
  }
  for (const auto& [source, n] : figures_.quarantined_batches) {
    gauges.GetGauge("sluice_quarantined_batches", "Batches quarantined now.", {{"source", source}})
        .Set(static_cast<double>(n));
  }
  return cumulative_.Render() + gauges.Render();
}

nlohmann::json PipelineMetrics::Json(int64_t now_us) const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [key, n] : figures_.rows) {
    const auto& [stage, table, outcome] = key;
    rows.push_back({{"stage", stage}, {"table", table}, {"outcome", outcome}, {"rows", n}});
  }
  nlohmann::json stages = nlohmann::json::object();
  for (const auto& [stage, f] : figures_.stages) {
    stages[stage] = {{"errors", f.errors},
                     {"cpu_seconds", f.cpu_seconds},
                     {"bytes_written", f.bytes_written},
                     {"rows", f.rows},
                     {"cost_cpu_seconds_per_million_rows", PerMillionRows(f.cpu_seconds, f.rows)},
                     {"cost_bytes_written_per_million_rows", PerMillionRows(f.bytes_written, f.rows)}};
  }
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& [name, t] : figures_.tables) {
    std::optional<double> commit, event;
    if (t.last_commit_us) commit = Seconds(*t.last_commit_us);
    if (t.max_event_us) event = Seconds(*t.max_event_us);
    nlohmann::json top = nlohmann::json::array();
    for (const PartitionRows& p : TopPartitions(t.partitions, kTopPartitions)) {
      top.push_back({{"partition", p.partition}, {"rows", p.rows}});
    }
    tables[name] = {{"version", t.version},
                    {"last_commit_timestamp_seconds", opt(commit)},
                    {"max_event_timestamp_seconds", opt(event)},
                    {"freshness_seconds",
                     {{"commit", commit ? nlohmann::json(Seconds(now_us) - *commit) : nlohmann::json()},
                      {"event_time", event ? nlohmann::json(Seconds(now_us) - *event) : nlohmann::json()}}},
                    {"partitions", t.partitions.size()},
                    {"partition_skew_ratio", opt(SkewRatio(t.partitions))},
                    {"top_partitions", top}};
  }
  nlohmann::json dlq = nlohmann::json::object();
  for (const auto& [key, n] : figures_.dlq_open) dlq[key.first][key.second] = n;
  nlohmann::json merges = nlohmann::json::object();
  for (const auto& [table, cs] : merge_totals_) merges[table] = {{"count", cs.first}, {"sum", cs.second}};
  return {{"rows", rows},
          {"stages", stages},
          {"tables", tables},
          {"dlq_rows", dlq},
          {"quarantined_batches", figures_.quarantined_batches},
          {"merge_seconds", merges}};
}

}  // namespace sluice
