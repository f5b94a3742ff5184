// The pipeline metrics of batch runs (docs/METRICS.md): `sluice run --metrics-file` checked by
// promtool and parsed by the Prometheus Python client's parser, its values against the
// generator's expected.json, an independent DuckDB over the published Parquet files and
// `sluice dlq list`; freshness with the clock of the real process moved by faketime; the file
// replaced atomically; a failed run's file; `sluice status --json`'s "metrics".
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"
#include "prometheus_text.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

// `sluice run` through faketime, its clock starting at `at` ("2026-12-01 08:00:00", UTC).
ProcessResult RunAt(const Project& p, const std::string& at, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-f", "@" + at, SluiceBinary(), "run", "--project", p.dir()};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessOptions o;
  o.cwd = p.dir();
  // libfaketime is preloaded ahead of the sanitizers' runtime: ASan must not insist on coming first.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "";
  o.env = {{"TZ", "UTC"}, {"ASAN_OPTIONS", asan_options + "verify_asan_link_order=0"}};
  return RunProcess("/usr/bin/faketime", args, o);
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.is_symlink()) total += static_cast<int64_t>(e.file_size());
  }
  return total;
}

// The example project with `event_time: created_at` on its source.
Project MakeProject(const std::string& dir, const OrderGeneratorOptions& o) {
  Project p = MakeExampleProject(dir, o);
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string part = "    partition_by: {day: created_at, tenant: tenant_id}\n";
  yaml.replace(yaml.find(part), part.size(), part + "    event_time: created_at\n");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
  return p;
}

constexpr double kUnix20261201 = 1796083200;  // 2026-12-01 00:00:00 UTC

TEST(MetricsFile, BatchRunMetricsMatchGroundTruth) {
  TempDir tmp("sluice-e2e-metrics");
  OrderGeneratorOptions o;
  o.orders = 3000;
  o.batches = 2;
  o.seed = 1313;
  o.tenants = 5;
  o.days = 4;
  Project p = MakeProject(tmp.path() + "/shop", o);
  const Json ex = Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"));
  fs::create_directories(tmp.path() + "/textfile");
  const std::string file = tmp.path() + "/textfile/sluice.prom";

  // The first run at 08:00, a second one with nothing to do at 10:00 (clocks of the process).
  ProcessResult first = RunAt(p, "2026-12-01 08:00:00", {"--json", "--metrics-file", file});
  ASSERT_TRUE(first.ok()) << first.Describe();
  const Json run1 = Json::parse(first.out);
  ProcessResult second = RunAt(p, "2026-12-01 10:00:00", {"--json", "--metrics-file", file});
  ASSERT_TRUE(second.ok()) << second.Describe();
  const Json run2 = Json::parse(second.out);
  EXPECT_TRUE(run2["nothing_to_do"].get<bool>()) << second.out;

  ExpectPromtoolAccepts(file);
  const Json m = ParseExposition(file);
  ASSERT_FALSE(m.is_null());
  for (const char* family :
       {"sluice_rows", "sluice_stage_errors", "sluice_stage_cpu_seconds", "sluice_stage_bytes_written",
        "sluice_cost_cpu_seconds_per_million_rows", "sluice_cost_bytes_written_per_million_rows",
        "sluice_merge_seconds", "sluice_batch_commit_seconds", "sluice_table_last_commit_timestamp_seconds",
        "sluice_table_max_event_timestamp_seconds", "sluice_table_freshness_seconds",
        "sluice_partition_skew_ratio", "sluice_partition_rows", "sluice_dlq_rows",
        "sluice_quarantined_batches", "sluice_last_run_success", "sluice_last_run_timestamp_seconds"}) {
    EXPECT_TRUE(m["families"].contains(family)) << family << " missing:\n" << ReadFileOrDie(file);
  }

  // Rows: the generator's counts, and the published files read by another DuckDB.
  const double valid = ex["events_valid"].get<double>();
  const double dead = ex["lines_total"].get<double>() - valid;
  auto rows = [&](const std::string& stage, const std::string& table, const std::string& outcome) {
    return Sample(m, "sluice_rows_total", {{"stage", stage}, {"table", table}, {"outcome", outcome}});
  };
  EXPECT_EQ(rows("ingest", "staging.orders", "ok"), valid);
  EXPECT_EQ(rows("ingest", "staging.orders", "dead_lettered"), dead);
  EXPECT_EQ(rows("ingest", "staging.orders", "late"), 0);
  DuckReader duck;
  const std::string curated = Quote(p.Lake() + "/published/curated/orders/current/**/*.parquet");
  const std::string mart = Quote(p.Lake() + "/published/marts/daily_revenue/current/**/*.parquet");
  const double curated_rows =
      std::stod(duck.Rows("SELECT count(*) FROM read_parquet(" + curated + ")")[0][0]);
  const double mart_rows = std::stod(duck.Rows("SELECT count(*) FROM read_parquet(" + mart + ")")[0][0]);
  EXPECT_EQ(curated_rows, ex["final_state"].size());
  EXPECT_EQ(rows("curate", "curated.orders", "ok"), curated_rows);  // one run: every key merged once
  EXPECT_EQ(rows("publish", "curated.orders", "ok"), curated_rows);
  EXPECT_EQ(rows("marts", "marts.daily_revenue", "ok"), mart_rows);
  EXPECT_EQ(rows("publish", "marts.daily_revenue", "ok"), mart_rows);
  EXPECT_EQ(mart_rows, ex["mart_daily_revenue"].size());

  // Open dead letters by reason: what `sluice dlq list` lists.
  ProcessResult dlq = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(dlq.ok()) << dlq.Describe();
  std::map<std::string, double> by_reason;
  for (const Json& row : Json::parse(dlq.out)) by_reason[row["reason"].get<std::string>()] += 1;
  ASSERT_FALSE(by_reason.empty());
  std::map<std::string, double> exposed;
  for (const auto& [labels, v] : Samples(m, "sluice_dlq_rows")) {
    EXPECT_EQ(labels.at("source"), "orders");
    exposed[labels.at("reason")] = v;
  }
  EXPECT_EQ(exposed, by_reason);
  EXPECT_EQ(Sample(m, "sluice_quarantined_batches", {{"source", "orders"}}), 0);

  // Stages: the runs' own summaries (both runs are recorded), errors none.
  for (const char* stage : {"ingest", "curate", "marts", "publish"}) {
    const double cpu = run1[stage]["cpu_seconds"].get<double>() + run2[stage]["cpu_seconds"].get<double>();
    EXPECT_NEAR(Sample(m, "sluice_stage_cpu_seconds_total", {{"stage", stage}}), cpu, 1e-6) << stage;
    const double bytes =
        run1[stage]["bytes_written"].get<double>() + run2[stage]["bytes_written"].get<double>();
    EXPECT_EQ(Sample(m, "sluice_stage_bytes_written_total", {{"stage", stage}}), bytes) << stage;
    EXPECT_EQ(Sample(m, "sluice_stage_errors_total", {{"stage", stage}}), 0) << stage;
  }
  // Bytes written: at least the files each stage left (Parquet of staging and of the published
  // versions; the first versions share nothing with earlier ones).
  EXPECT_GE(Sample(m, "sluice_stage_bytes_written_total", {{"stage", "ingest"}}),
            static_cast<double>(DirBytes(p.Lake() + "/staging")));
  EXPECT_GE(Sample(m, "sluice_stage_bytes_written_total", {{"stage", "publish"}}),
            static_cast<double>(DirBytes(p.Lake() + "/published")));
  EXPECT_GT(Sample(m, "sluice_stage_bytes_written_total", {{"stage", "curate"}}), 0);
  // Costs per million rows: CPU and bytes over the stage's rows of the runs.
  const double read = ex["lines_total"].get<double>();
  EXPECT_NEAR(Sample(m, "sluice_cost_cpu_seconds_per_million_rows", {{"stage", "ingest"}}),
              Sample(m, "sluice_stage_cpu_seconds_total", {{"stage", "ingest"}}) / read * 1e6, 1e-6);
  EXPECT_NEAR(Sample(m, "sluice_cost_bytes_written_per_million_rows", {{"stage", "publish"}}),
              Sample(m, "sluice_stage_bytes_written_total", {{"stage", "publish"}}) /
                  (curated_rows + mart_rows) * 1e6,
              1e-3);
  EXPECT_EQ(Sample(m, "sluice_merge_seconds_count", {{"table", "curated.orders"}}), 1);
  EXPECT_NEAR(Sample(m, "sluice_merge_seconds_sum", {{"table", "curated.orders"}}),
              run1["curate"]["tables"]["orders"]["seconds"].get<double>(), 1e-6);
  EXPECT_EQ(Sample(m, "sluice_batch_commit_seconds_count", {{"source", "orders"}}), 2);

  // Freshness: committed at 08:00 (+ the first run's seconds), rendered at 10:00 (+ the second's).
  const double commit =
      Sample(m, "sluice_table_last_commit_timestamp_seconds", {{"table", "curated.orders"}});
  EXPECT_GE(commit, kUnix20261201 + 8 * 3600);
  EXPECT_LE(commit, kUnix20261201 + 8 * 3600 + first.seconds + 1);
  const double fresh =
      Sample(m, "sluice_table_freshness_seconds", {{"table", "curated.orders"}, {"basis", "commit"}});
  EXPECT_GE(fresh, 7200 - first.seconds - 1);
  EXPECT_LE(fresh, 7200 + second.seconds + 1);
  const double rendered = Sample(m, "sluice_last_run_timestamp_seconds", {});
  EXPECT_NEAR(rendered - commit, fresh, 1.0);
  const double max_event =
      std::stod(duck.Rows("SELECT epoch(max(created_at)) FROM read_parquet(" + curated + ")")[0][0]);
  EXPECT_EQ(Sample(m, "sluice_table_max_event_timestamp_seconds", {{"table", "curated.orders"}}), max_event);
  EXPECT_NEAR(
      Sample(m, "sluice_table_freshness_seconds", {{"table", "curated.orders"}, {"basis", "event_time"}}),
      rendered - max_event, 1.0);
  EXPECT_EQ(Sample(m, "sluice_last_run_success", {}), 1);

  // Partitions: (day, tenant) counted by another DuckDB over the published files.
  std::vector<std::vector<std::string>> parts = duck.Rows(
      "SELECT 'day=' || CAST(CAST(created_at AS DATE) AS VARCHAR) || '/tenant=' || tenant_id AS p, count(*) "
      "AS n "
      "FROM read_parquet(" +
      curated + ") GROUP BY p ORDER BY n DESC, p");
  ASSERT_EQ(parts.size(), static_cast<size_t>(o.days * o.tenants));
  std::map<std::map<std::string, std::string>, double> top;
  for (size_t i = 0; i < 5; ++i)
    top[{{"table", "curated.orders"}, {"partition", parts[i][0]}}] = std::stod(parts[i][1]);
  auto exposed_parts = Samples(m, "sluice_partition_rows");
  std::erase_if(exposed_parts, [](const auto& kv) { return kv.first.at("table") != "curated.orders"; });
  EXPECT_EQ(exposed_parts, top);
  std::vector<double> sizes;
  for (const auto& row : parts) sizes.push_back(std::stod(row[1]));
  std::sort(sizes.begin(), sizes.end());
  const double median = sizes.size() % 2 ? sizes[sizes.size() / 2]
                                         : (sizes[sizes.size() / 2 - 1] + sizes[sizes.size() / 2]) / 2;
  EXPECT_NEAR(Sample(m, "sluice_partition_skew_ratio", {{"table", "curated.orders"}}), sizes.back() / median,
              1e-9);
  EXPECT_GT(sizes.back() / median, 1.5) << "tenant t00 holds ~30% of the orders: the table is skewed";

  // `sluice status --json` carries the same figures.
  ProcessResult status = p.Sluice("status", {"--json"});
  ASSERT_TRUE(status.ok()) << status.Describe();
  const Json s = Json::parse(status.out)["metrics"];
  ASSERT_TRUE(s.is_object()) << status.out;
  std::map<std::string, double> status_rows;
  for (const Json& r : s["rows"]) {
    status_rows[r["stage"].get<std::string>() + "|" + r["table"].get<std::string>() + "|" +
                r["outcome"].get<std::string>()] = r["rows"].get<double>();
  }
  EXPECT_EQ(status_rows["ingest|staging.orders|ok"], valid);
  EXPECT_EQ(status_rows["curate|curated.orders|ok"], curated_rows);
  EXPECT_EQ(s["tables"]["curated.orders"]["last_commit_timestamp_seconds"].get<double>(), commit);
  EXPECT_EQ(s["tables"]["curated.orders"]["max_event_timestamp_seconds"].get<double>(), max_event);
  EXPECT_NEAR(s["tables"]["curated.orders"]["partition_skew_ratio"].get<double>(), sizes.back() / median,
              1e-9);
  double status_dlq = 0;
  for (const auto& [reason, n] : s["dlq_rows"]["orders"].items()) status_dlq += n.get<double>();
  EXPECT_EQ(status_dlq, dead);
  EXPECT_NEAR(s["stages"]["ingest"]["cpu_seconds"].get<double>(),
              Sample(m, "sluice_stage_cpu_seconds_total", {{"stage", "ingest"}}), 1e-6);
}

// A run that fails still writes its file: the failed stage counted, success 0; and a run whose
// lake cannot be opened writes the run's gauges alone.
TEST(MetricsFile, FailedRunsWriteTheFileToo) {
  TempDir tmp("sluice-e2e-metrics-failed");
  OrderGeneratorOptions o;
  o.orders = 300;
  o.batches = 1;
  Project p = MakeProject(tmp.path() + "/shop", o);
  const std::string file = tmp.path() + "/sluice.prom";
  ProcessResult failed =
      p.Sluice("run", {"--metrics-file", file}, {{"SLUICE_FAILPOINTS", "publish.after_write=error"}});
  EXPECT_EQ(failed.exit_code, 1) << failed.Describe();
  ExpectPromtoolAccepts(file);
  Json m = ParseExposition(file);
  EXPECT_EQ(Sample(m, "sluice_last_run_success", {}), 0);
  EXPECT_EQ(Sample(m, "sluice_stage_errors_total", {{"stage", "publish"}}), 1) << ReadFileOrDie(file);
  EXPECT_EQ(Sample(m, "sluice_stage_errors_total", {{"stage", "curate"}}), 0);
  EXPECT_EQ(
      Sample(m, "sluice_rows_total", {{"stage", "ingest"}, {"table", "staging.orders"}, {"outcome", "ok"}}),
      Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"))["events_valid"].get<double>());

  // The next run goes through: success 1, the error still counted.
  ProcessResult ok = p.Sluice("run", {"--metrics-file", file});
  ASSERT_TRUE(ok.ok()) << ok.Describe();
  m = ParseExposition(file);
  EXPECT_EQ(Sample(m, "sluice_last_run_success", {}), 1);
  EXPECT_EQ(Sample(m, "sluice_stage_errors_total", {{"stage", "publish"}}), 1);

  // The lake held by another process: nothing runs, the file says so.
  {
    HeldLock lock(p.Lake() + "/sluice.duckdb");
    ASSERT_TRUE(lock.ok());
    ProcessResult locked = p.Sluice("run", {"--metrics-file", file});
    EXPECT_NE(locked.exit_code, 0) << locked.Describe();
  }
  ExpectPromtoolAccepts(file);
  m = ParseExposition(file);
  EXPECT_EQ(Sample(m, "sluice_last_run_success", {}), 0);
  EXPECT_TRUE(std::isnan(Sample(m, "sluice_stage_errors_total", {{"stage", "publish"}})))
      << "no catalog, no pipeline metrics:\n"
      << ReadFileOrDie(file);

  // A directory that does not exist: refused before anything runs.
  ProcessResult bad = p.Sluice("run", {"--metrics-file", tmp.path() + "/nowhere/sluice.prom"});
  ExpectCleanFailure(bad, "--metrics-file in a missing directory");
  EXPECT_NE(bad.err.find("--metrics-file"), std::string::npos) << bad.err;
}

// Quality gates: a quarantined batch shows as a quarantined batch and rows, its drop as rows
// failed at curate; `sluice batches list` is the ground truth.
TEST(MetricsFile, QuarantinedAndDroppedBatches) {
  TempDir tmp;
  Project p(tmp.path() + "/crm");
  fs::create_directories(p.Path("landing/customers"));
  fs::create_directories(p.Path("contracts"));
  WriteFileOrDie(p.Path("sluice.yaml"), R"(name: crm
lake: lake
sources:
  customers:
    type: files
    path: landing/customers/*.jsonl
    format: jsonl
    contract: contracts/customers.yaml
tables:
  customers:
    from: customers
    key: [id]
    version: seq
    tests: [{unique: email}]
)");
  WriteFileOrDie(p.Path("contracts/customers.yaml"), R"(name: customers
columns:
  id:    {type: string, required: true}
  email: {type: string}
  seq:   {type: int64, required: true}
)");
  auto customer = [](const std::string& id, const std::string& email) {
    return "{\"id\":\"" + id + "\",\"email\":\"" + email + "\",\"seq\":1}\n";
  };
  WriteFileOrDie(p.Path("landing/customers/c1.jsonl"), customer("id1", "a@x") + customer("id2", "b@x"));
  // id3 and id4 reuse taken emails: the batch is quarantined whole.
  WriteFileOrDie(p.Path("landing/customers/c2.jsonl"), customer("id3", "a@x") + customer("id4", "b@x"));
  const std::string file = tmp.path() + "/sluice.prom";
  ProcessResult r = p.Sluice("run", {"--metrics-file", file});
  ASSERT_EQ(r.exit_code, 3) << r.Describe();
  ExpectPromtoolAccepts(file);
  Json m = ParseExposition(file);
  Json quarantined = Json::parse(p.Sluice("batches", {"list", "--status", "quarantined", "--json"}).out);
  ASSERT_EQ(quarantined.size(), 1u);
  EXPECT_EQ(Sample(m, "sluice_quarantined_batches", {{"source", "customers"}}), 1);
  const std::map<std::string, std::string> held = {
      {"stage", "curate"}, {"table", "curated.customers"}, {"outcome", "quarantined"}};
  const std::map<std::string, std::string> failed = {
      {"stage", "curate"}, {"table", "curated.customers"}, {"outcome", "failed"}};
  EXPECT_EQ(Sample(m, "sluice_rows_total", held), 2);
  EXPECT_EQ(Sample(m, "sluice_rows_total", failed), 0);
  EXPECT_EQ(Sample(m, "sluice_last_run_success", {}), 1) << "exit 3: the run went through";
  // No partitioned table, no skew.
  EXPECT_TRUE(Samples(m, "sluice_partition_skew_ratio").empty());

  ASSERT_TRUE(p.Sluice("batches", {"drop", quarantined[0]["batch_id"].get<std::string>()}).ok());
  ASSERT_TRUE(p.Sluice("run", {"--metrics-file", file}).ok());
  m = ParseExposition(file);
  EXPECT_EQ(Sample(m, "sluice_quarantined_batches", {{"source", "customers"}}), 0);
  EXPECT_EQ(Sample(m, "sluice_rows_total", held), 2);
  EXPECT_EQ(Sample(m, "sluice_rows_total", failed), 2);
  EXPECT_EQ(Sample(m, "sluice_rows_total",
                   {{"stage", "curate"}, {"table", "curated.customers"}, {"outcome", "ok"}}),
            std::stod(p.Scalar("SELECT count(*) FROM curated.customers")));
}

// A reader polling the file while runs replace it only ever sees whole files, no other *.prom
// file appears in the directory (the collector's glob), and each run's file is a new one
// renamed over the last (a hard link to the last keeps its content).
TEST(MetricsFile, ReplacedAtomically) {
  TempDir tmp("sluice-e2e-metrics-atomic");
  OrderGeneratorOptions o;
  o.orders = 400;
  o.batches = 4;
  Project p = MakeProject(tmp.path() + "/shop", o);
  const std::string dir = tmp.path() + "/textfile";
  fs::create_directories(dir);
  const std::string file = dir + "/sluice.prom";
  // Landing files arrive one per run, so every run writes different figures.
  const std::string held = tmp.path() + "/held";
  fs::create_directories(held);
  for (int i = 2; i <= 4; ++i) {
    const std::string name = "batch-000" + std::to_string(i) + ".jsonl";
    fs::rename(p.Landing() + "/" + name, held + "/" + name);
  }

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::set<std::string> seen;
  std::vector<std::string> bad, strays;
  std::thread reader([&] {
    while (!stop.load()) {
      std::ifstream in(file);
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        // A whole file ends with its last series, sluice_last_run_timestamp_seconds.
        const size_t last = text.rfind("\nsluice_last_run_timestamp_seconds ");
        if (last == std::string::npos || text.back() != '\n' ||
            text.find('\n', last + 1) != text.size() - 1) {
          bad.push_back(text);
        } else {
          seen.insert(text);
        }
        ++reads;
      }
      for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name != "sluice.prom" && name.size() >= 5 && name.substr(name.size() - 5) == ".prom")
          strays.push_back(name);
      }
    }
  });
  std::set<std::string> written;
  std::vector<std::string> contents;
  const std::string links = tmp.path() + "/links";
  fs::create_directories(links);
  for (int i = 1; i <= 4; ++i) {
    if (i > 1) {
      const std::string name = "batch-000" + std::to_string(i) + ".jsonl";
      fs::rename(held + "/" + name, p.Landing() + "/" + name);
    }
    ProcessResult r = p.Sluice("run", {"--metrics-file", file});
    ASSERT_TRUE(r.ok()) << r.Describe();
    written.insert(ReadFileOrDie(file));
    contents.push_back(ReadFileOrDie(file));
    // A second name for this file: a writer that rewrote it in place would change it too.
    fs::create_hard_link(file, links + "/run" + std::to_string(i));
  }
  stop = true;
  reader.join();
  EXPECT_TRUE(bad.empty()) << bad.size() << " partial reads, e.g. one of "
                           << (bad.empty() ? 0 : bad[0].size()) << " bytes";
  EXPECT_TRUE(strays.empty()) << strays[0];
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(written.size(), 4u) << "every run writes different figures";
  for (const std::string& text : seen)
    EXPECT_TRUE(written.count(text)) << "read a file no run wrote:\n" << text;
  EXPECT_GE(seen.size(), 2u) << "the reader saw the file replaced";
  // Each run wrote a new file and renamed it over the old one, which kept its content.
  for (int i = 1; i <= 4; ++i) {
    EXPECT_TRUE(ReadFileOrDie(links + "/run" + std::to_string(i)) == contents[static_cast<size_t>(i - 1)])
        << "run " << i << "'s file was rewritten in place";
  }
  // Nothing left behind but the file.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"sluice.prom"});
}

// The SLOs evaluated at the end of a run are in the file, as /metrics of `sluice serve` has them
// (docs/SLO.md): a source with 20% of its rows dead-lettered breaches its error rate (objective
// 1%, over min_events); the values are the hand-computed ratio and what `sluice status --json`
// shows.
TEST(MetricsFile, SloFamiliesOfTheRun) {
  TempDir tmp("sluice-e2e-metrics-slo");
  Project p(tmp.path());
  WriteFileOrDie(p.Path("contracts/events.yaml"),
                 "name: events\ncolumns:\n  id: {type: string, required: true}\n"
                 "  n: {type: int64, required: true}\n");
  WriteFileOrDie(p.Path("sluice.yaml"),
                 "name: slo\nsources:\n  events:\n    type: files\n    path: landing/*.jsonl\n"
                 "    max_dead_ratio: 1\n    contract: contracts/events.yaml\ntables:\n  events:\n"
                 "    from: events\n    key: [id]\n    version: n\nslo:\n  consumer_lag: off\n");
  // 200 events; every fifth lacks its required n: 40 dead-lettered.
  std::string lines;
  int bad = 0;
  for (int i = 0; i < 200; ++i) {
    const bool dead = i % 5 == 0;
    bad += dead ? 1 : 0;
    lines += dead ? "{\"id\":\"e" + std::to_string(i) + "\"}\n"
                  : "{\"id\":\"e" + std::to_string(i) + "\",\"n\":" + std::to_string(i) + "}\n";
  }
  WriteFileOrDie(p.Path("landing/a.jsonl"), lines);
  const std::string file = tmp.path() + "/sluice.prom";
  ProcessResult run = p.Sluice("run", {"--metrics-file", file});
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_NE(run.err.find("slo: error_rate:events: ok -> breach"), std::string::npos) << run.err;

  ExpectPromtoolAccepts(file);
  const Json m = ParseExposition(file);
  ASSERT_FALSE(m.is_null());
  for (const char* family : {"sluice_slo_state", "sluice_slo_value", "sluice_slo_objective",
                             "sluice_slo_budget_remaining_ratio", "sluice_slo_burn_rate"}) {
    EXPECT_EQ(m["families"].value(family, ""), "gauge") << family << ":\n" << ReadFileOrDie(file);
  }
  const std::map<std::string, std::string> slo = {{"slo", "error_rate:events"}};
  const double ratio = bad / 200.0;
  EXPECT_EQ(Sample(m, "sluice_slo_state", slo), 2) << ReadFileOrDie(file);
  EXPECT_NEAR(Sample(m, "sluice_slo_value", slo), ratio, 1e-12);
  EXPECT_EQ(Sample(m, "sluice_slo_objective", slo), 0.01);
  for (const char* window : {"5m", "30m", "1h", "6h", "3d"}) {
    EXPECT_NEAR(Sample(m, "sluice_slo_burn_rate", {{"slo", "error_rate:events"}, {"window", window}}),
                ratio / 0.01, 1e-9)
        << window;
  }

  // `sluice status --json`: the same evaluation.
  ProcessResult status = p.Sluice("status", {"--json"});
  ASSERT_TRUE(status.ok()) << status.Describe();
  const Json slos = Json::parse(status.out)["slo"];
  ASSERT_EQ(slos.size(), 1u) << status.out;
  const Json& s = slos[0];
  EXPECT_EQ(s["name"], "error_rate:events");
  EXPECT_EQ(s["state"], "breach");
  EXPECT_EQ(s["events"], 200);
  EXPECT_EQ(Sample(m, "sluice_slo_value", slo), s["value"].get<double>());
  EXPECT_EQ(Sample(m, "sluice_slo_objective", slo), s["objective"].get<double>());
  EXPECT_EQ(Sample(m, "sluice_slo_budget_remaining_ratio", slo), s["budget_remaining"].get<double>());
  EXPECT_LT(s["budget_remaining"].get<double>(), 1);
  for (const auto& [window, burn] : s["burn_rates"].items()) {
    EXPECT_EQ(Sample(m, "sluice_slo_burn_rate", {{"slo", "error_rate:events"}, {"window", window}}),
              burn.get<double>())
        << window;
  }
}

}  // namespace
}  // namespace sluice::e2e
