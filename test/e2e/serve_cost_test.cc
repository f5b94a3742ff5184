// The cost of `sluice serve`'s stream ingest (docs/METRICS.md, "Pipeline metrics"): the HTTP
// micro-batches a real serve commits add their rows, the engine thread's CPU and their staged
// files' bytes to the ingest stage's families, checked by promtool and parsed by the Prometheus
// Python client's parser, the bytes against the staged Parquet files on disk; and every failed
// micro-batch commit counts once in sluice_stage_errors_total{stage="ingest"}.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "prometheus_text.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kContract =
    "name: events\ncolumns:\n  id: {type: string, required: true}\n"
    "  n: {type: int64, required: true}\n";

// `count` valid event lines from id `first`.
std::string Events(int first, int count) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    out += "{\"id\":\"e" + std::to_string(i) + "\",\"n\":" + std::to_string(i) + "}\n";
  }
  return out;
}

// The bytes of the Parquet files under `dir`, as stat gives them.
double ParquetBytes(const std::string& dir) {
  double total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".parquet")
      total += static_cast<double>(e.file_size());
  }
  return total;
}

// /metrics scraped until the pipeline figures (read from the catalog at most every 5 s) show
// `rows` staged rows and `errors` ingest errors, written to `file` and parsed.
Json ScrapeUntil(HttpClient& client, const std::string& file, double rows, double errors) {
  Json parsed;
  for (const auto end = Clock::now() + seconds(30); Clock::now() < end;
       std::this_thread::sleep_for(milliseconds(100))) {
    WriteFileOrDie(file, client.Get("/metrics").body);
    parsed = ParseExposition(file);
    if (Sample(parsed, "sluice_rows_total",
               {{"stage", "ingest"}, {"table", "staging.events"}, {"outcome", "ok"}}) == rows &&
        Sample(parsed, "sluice_stage_errors_total", {{"stage", "ingest"}}) == errors) {
      break;
    }
  }
  ExpectPromtoolAccepts(file);
  return parsed;
}

TEST(ServeCost, IngestCpuBytesAndFailedCommitsOfHttpMicroBatches) {
  TempDir tmp("sluice-e2e-serve-cost");
  Project p(tmp.path());
  WriteFileOrDie(p.Path("contracts/events.yaml"), kContract);
  WriteFileOrDie(p.Path("sluice.yaml"),
                 "name: cost\ntransform: {interval: 500ms}\nsources:\n  events:\n    type: http\n"
                 "    contract: contracts/events.yaml\ntables:\n  events:\n    from: events\n"
                 "    key: [id]\n    version: n\n");
  auto serve = ServeProcess::Start(p);
  ASSERT_NE(serve, nullptr);
  HttpClient http(serve->port());

  // N events in 8 requests, one after the other: each its own micro-batch.
  constexpr int kRequests = 8, kPerRequest = 500, kN = kRequests * kPerRequest;
  for (int r = 0; r < kRequests; ++r) {
    HttpResponse a = http.Post("/v1/sources/events/events", Events(r * kPerRequest, kPerRequest));
    ASSERT_EQ(a.status, 200) << Describe(a);
  }
  const std::string file = tmp.path() + "/metrics.txt";
  Json m = ScrapeUntil(http, file, kN, 0);
  ASSERT_FALSE(m.is_null());
  const std::map<std::string, std::string> ingest = {{"stage", "ingest"}};
  EXPECT_EQ(
      Sample(m, "sluice_rows_total", {{"stage", "ingest"}, {"table", "staging.events"}, {"outcome", "ok"}}),
      kN);
  const double cpu = Sample(m, "sluice_stage_cpu_seconds_total", ingest);
  const double bytes = Sample(m, "sluice_stage_bytes_written_total", ingest);
  EXPECT_GT(cpu, 0) << ReadFileOrDie(file);
  // Ground truth: the staged Parquet files on disk (a batch of serve is never rewritten).
  const double staged_bytes = ParquetBytes(p.Lake() + "/staging/events");
  EXPECT_GT(staged_bytes, 0);
  EXPECT_GE(bytes, staged_bytes) << ReadFileOrDie(file);
  // Per million rows: over the N rows the micro-batches read.
  EXPECT_NEAR(Sample(m, "sluice_cost_cpu_seconds_per_million_rows", ingest), cpu / kN * 1e6, 1e-6);
  EXPECT_NEAR(Sample(m, "sluice_cost_bytes_written_per_million_rows", ingest), bytes / kN * 1e6, 1e-3);
  EXPECT_EQ(Sample(m, "sluice_stage_errors_total", ingest), 0);

  // Commits made to fail: a file where the staging temp directories go (emptied by the janitor
  // first, polled). Each request is one micro-batch that fails, answered with an error.
  const std::string obstacle = p.Lake() + "/staging/events/_tmp";
  std::error_code ec;
  for (const auto end = Clock::now() + seconds(60);
       Clock::now() < end && fs::exists(obstacle, ec) && !fs::is_empty(obstacle, ec);) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  fs::remove_all(obstacle, ec);
  WriteFileOrDie(obstacle, "not a directory\n");
  constexpr int kFailures = 3;
  for (int r = 0; r < kFailures; ++r) {
    HttpResponse a = http.Post("/v1/sources/events/events", Events(kN + r * 10, 10));
    EXPECT_GE(a.status, 500) << Describe(a);
  }
  fs::remove(obstacle, ec);
  HttpResponse ok = http.Post("/v1/sources/events/events", Events(kN + 100, 10));
  ASSERT_EQ(ok.status, 200) << Describe(ok) << serve->Stderr();
  m = ScrapeUntil(http, file, kN + 10, kFailures);
  EXPECT_EQ(Sample(m, "sluice_stage_errors_total", ingest), kFailures) << ReadFileOrDie(file);
  EXPECT_EQ(
      Sample(m, "sluice_rows_total", {{"stage", "ingest"}, {"table", "staging.events"}, {"outcome", "ok"}}),
      kN + 10);
  const double cpu2 = Sample(m, "sluice_stage_cpu_seconds_total", ingest);
  const double bytes2 = Sample(m, "sluice_stage_bytes_written_total", ingest);
  EXPECT_GT(cpu2, cpu);
  EXPECT_GE(bytes2, ParquetBytes(p.Lake() + "/staging/events"));

  // `sluice status --json` reads the same cost from the ledger (the failed commits are serve's
  // own count: not in the catalog).
  ProcessResult stop = serve->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  ProcessResult status = p.Sluice("status", {"--json"});
  ASSERT_TRUE(status.ok()) << status.Describe();
  const Json s = Json::parse(status.out)["metrics"]["stages"]["ingest"];
  EXPECT_EQ(s["rows"].get<double>(), kN + 10) << status.out;
  EXPECT_NEAR(s["cpu_seconds"].get<double>(), cpu2, 1e-6) << status.out;
  EXPECT_EQ(s["bytes_written"].get<double>(), bytes2) << status.out;
  EXPECT_EQ(s["errors"].get<double>(), 0) << status.out;
}

}  // namespace
}  // namespace sluice::e2e
