// The pipeline's metrics (docs/METRICS.md, "Pipeline metrics"): rows per stage and outcome,
// stage errors, CPU and bytes written per stage and their cost per million rows, merge and
// batch commit durations, freshness per table (last commit, max event time), partition skew,
// open dead letters and quarantined batches -- all computed from the lake's catalog
// (catalog/table_stats.h), so a batch run and `sluice serve` expose the same figures.
//
// PipelineMetrics reads the catalog incrementally: runs and batches recorded since its last
// Collect, and the table scans (max event time, rows per partition) only for tables with a new
// version. Render() puts the figures into serve/metrics.h's MetricsRegistry (counters and
// histograms in one kept for the object's lifetime, so they never go down; gauges in a fresh
// one per render, so series that vanished -- a partition no longer in the top 5, a reason with
// no open rows -- vanish) and returns the Prometheus text; Json() is the same for
// `sluice status --json`. Not safe for concurrent use: callers serialize Collect and Render.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/runs.h"
#include "catalog/table_stats.h"
#include "common/status.h"
#include "serve/metrics.h"

namespace sluice {

// The stages of the `stage` label, in pipeline order.
const std::vector<std::string>& MetricStages();

// How many partitions sluice_partition_rows lists per table.
inline constexpr size_t kTopPartitions = 5;

// Per stage, over the recorded runs; ingest also over the stream micro-batches in the ledger
// (`sluice serve`, catalog/table_stats.h StreamIngestCostOf).
struct StageFigures {
  double errors = 0;  // failed runs that stopped in the stage (+ refused files: ingest)
  double cpu_seconds = 0;
  double bytes_written = 0;
  double rows = 0;  // the stage's rows (ingest: rows read): the costs' denominator
};

struct TableFigures {
  int64_t version = 0;
  std::optional<int64_t> last_commit_us;  // UTC micros; nullopt: never built
  std::optional<int64_t> max_event_us;    // nullopt: no event time column, or no rows
  std::vector<PartitionRows> partitions;  // empty: not partitioned, or not counted yet
};

struct PipelineFigures {
  // (stage, table, outcome) -> rows; table qualified ("staging.orders", "curated.orders").
  std::map<std::tuple<std::string, std::string, std::string>, double> rows;
  std::map<std::string, StageFigures> stages;                       // every stage of MetricStages()
  std::map<std::string, TableFigures> tables;                       // "curated.orders", "marts.daily"
  std::map<std::pair<std::string, std::string>, int64_t> dlq_open;  // (source, reason) -> rows
  std::map<std::string, int64_t> quarantined_batches;               // every source of the spec
};

// Largest partition's rows / the median partition's (the mean of the two middle ones for an
// even count); nullopt without partitions or when the median is 0.
std::optional<double> SkewRatio(const std::vector<PartitionRows>& partitions);
// The `n` largest partitions, by rows descending, then name.
std::vector<PartitionRows> TopPartitions(std::vector<PartitionRows> partitions, size_t n);
// amount / rows * 1e6; 0 when rows is 0.
double PerMillionRows(double amount, double rows);
// Adds one recorded run (its summary JSON, engine/summary.h) to `figures`: rows out of curate,
// marts and publish, errors, CPU, bytes written and cost rows per stage. Returns the merge
// durations it holds, per curated table ("curated.orders"). A summary that is not JSON adds
// nothing.
std::vector<std::pair<std::string, double>> AddRun(const RunRecord& run, PipelineFigures* figures);

class PipelineMetrics {
 public:
  struct Options {
    // sluice_batch_commit_seconds from the ledger; off in `sluice serve`, whose own histogram
    // of the micro-batches it commits has that name.
    bool batch_commit_histogram = true;
    // A table's partitions are counted again, once it has a new version, at most this often.
    int64_t partition_scan_interval_us = 60 * 1000000LL;
  };
  PipelineMetrics();
  explicit PipelineMetrics(Options options);

  // Reads the catalog (see the file comment); `now_us` times the partition scans.
  Status Collect(Catalog& catalog, int64_t now_us);
  const PipelineFigures& figures() const { return figures_; }

  // Prometheus text 0.0.4 of the figures, freshness as of `now_us`. Its names are disjoint from
  // serve's own (serve_metrics.cc), so a scrape may append it to serve's registry's text.
  std::string Render(int64_t now_us);
  nlohmann::json Json(int64_t now_us) const;

  // Errors of `stage` this process counted itself and the catalog does not record (`sluice
  // serve`: its failed micro-batch commits), `errors` in all so far; added to the catalog's from
  // now on (Render, Json, and every Collect after).
  void SetLiveStageErrors(const std::string& stage, double errors);

 private:
  Options options_;
  PipelineFigures figures_;
  PipelineFigures from_runs_;   // what AddRun added up, over every run read so far
  MetricsRegistry cumulative_;  // counters and histograms, brought up to the figures on Render
  std::map<std::string, std::vector<double>> pending_merges_;      // observed on the next Render
  std::map<std::string, std::vector<double>> pending_commits_;     // per source
  std::map<std::string, std::pair<double, double>> merge_totals_;  // table -> (count, sum)
  int64_t last_run_us_ = 0;
  std::map<std::string, double> live_errors_;      // SetLiveStageErrors, per stage
  std::map<std::string, int64_t> last_commit_us_;  // per source: batches read up to here
  struct Scan {
    int64_t at_us = 0;    // now_us of the Collect that counted the partitions
    int64_t version = 0;  // the table's version then
  };
  std::map<std::string, Scan> partitions_scanned_;
};

}  // namespace sluice
