// The metrics registry behind GET /metrics: the exact text exposition (escaping, number forms,
// ordering, cumulative histogram buckets), exact totals under concurrent updates, misuse, and
// Prometheus's own linter (`promtool check metrics`) accepting what Render() produces.
#include "serve/metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sluice {
namespace {

// A registry with one family of each type, registered out of name order.
void FillSmallRegistry(MetricsRegistry& reg) {
  // Dyadic values keep the sum exact: 0.0625 + 0.125 + 0.25 + 2 = 2.4375.
  Histogram& h =
      reg.GetHistogram("sluice_request_duration_seconds", "Time to answer a request.", {0.125, 0.5, 1});
  for (double v : {0.0625, 0.125, 0.25, 2.0}) h.Observe(v);  // 0.125 is inclusive: le="0.125"

  reg.GetCounter("sluice_http_requests_total", "HTTP requests answered.",
                 {{"route", "/metrics"}, {"code", "200"}})
      .Add(41);
  reg.GetCounter("sluice_http_requests_total", "HTTP requests answered.",
                 {{"route", "C:\\tmp \"q\"\nx"}, {"code", "404"}})
      .Add();
  reg.GetCounter("sluice_http_requests_total", "HTTP requests answered.",
                 {{"route", "/metrics"}, {"code", "200"}})
      .Add();  // the same series again: 42

  Gauge& g = reg.GetGauge("sluice_queue_depth", "Batches waiting.\nPath C:\\lake.");
  g.Set(10);
  g.Add(-2.5);
}

TEST(MetricsRegistryTest, RendersExactTextExposition) {
  MetricsRegistry reg;
  FillSmallRegistry(reg);
  const std::string expected =
      "# HELP sluice_http_requests_total HTTP requests answered.\n"
      "# TYPE sluice_http_requests_total counter\n"
      "sluice_http_requests_total{route=\"/metrics\",code=\"200\"} 42\n"
      "sluice_http_requests_total{route=\"C:\\\\tmp \\\"q\\\"\\nx\",code=\"404\"} 1\n"
      "# HELP sluice_queue_depth Batches waiting.\\nPath C:\\\\lake.\n"
      "# TYPE sluice_queue_depth gauge\n"
      "sluice_queue_depth 7.5\n"
      "# HELP sluice_request_duration_seconds Time to answer a request.\n"
      "# TYPE sluice_request_duration_seconds histogram\n"
      "sluice_request_duration_seconds_bucket{le=\"0.125\"} 2\n"
      "sluice_request_duration_seconds_bucket{le=\"0.5\"} 3\n"
      "sluice_request_duration_seconds_bucket{le=\"1\"} 3\n"
      "sluice_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"
      "sluice_request_duration_seconds_sum 2.4375\n"
      "sluice_request_duration_seconds_count 4\n";
  EXPECT_EQ(reg.Render(), expected);
}

TEST(MetricsRegistryTest, EmptyRegistryRendersNothing) {
  MetricsRegistry reg;
  EXPECT_EQ(reg.Render(), "");
}

TEST(MetricsRegistryTest, RendersNumbersInPrometheusForms) {
  MetricsRegistry reg;
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {-0.0, "0"},
      {42, "42"},
      {-3, "-3"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},  // shortest text that reads back exactly
      {123456.789, "123456.789"},
      {1e-7, "1e-07"},
      {1e20, "1e+20"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  std::string expected = "# HELP sluice_value A value.\n# TYPE sluice_value gauge\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    reg.GetGauge("sluice_value", "A value.", {{"case", std::to_string(i)}}).Set(cases[i].first);
    expected += "sluice_value{case=\"" + std::to_string(i) + "\"} " + cases[i].second + "\n";
  }
  EXPECT_EQ(reg.Render(), expected);
}

TEST(MetricsRegistryTest, InvalidUtf8InLabelValuesIsReplaced) {
  MetricsRegistry reg;
  reg.GetCounter("sluice_rows_total", "Rows.", {{"source", "caf\xc3\xa9\xff"}}).Add(2);
  EXPECT_NE(reg.Render().find("sluice_rows_total{source=\"caf\xc3\xa9\xef\xbf\xbd\"} 2\n"), std::string::npos)
      << reg.Render();
}

TEST(MetricsRegistryTest, GetReturnsTheSameSeriesForTheSameLabels) {
  MetricsRegistry reg;
  Counter& a = reg.GetCounter("sluice_rows_total", "Rows.", {{"source", "orders"}});
  Counter& b = reg.GetCounter("sluice_rows_total", "Rows.", {{"source", "orders"}});
  Counter& c = reg.GetCounter("sluice_rows_total", "Rows.", {{"source", "users"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  Histogram& h1 = reg.GetHistogram("sluice_step_seconds", "Step time.", LatencyBuckets());
  // A trailing +Inf is implied, so giving it names the same layout.
  std::vector<double> with_inf = LatencyBuckets();
  with_inf.push_back(std::numeric_limits<double>::infinity());
  Histogram& h2 = reg.GetHistogram("sluice_step_seconds", "Step time.", with_inf);
  EXPECT_EQ(&h1, &h2);
}

TEST(MetricsRegistryTest, HistogramSnapshotIsCumulative) {
  Histogram h({1, 2});
  for (double v : {0.5, 1.0, 1.5, 3.0, std::numeric_limits<double>::quiet_NaN()}) h.Observe(v);
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 5}));  // NaN counts in +Inf
  EXPECT_EQ(s.count, 5u);
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(MetricsRegistryTest, LatencyBucketsSpanOneMillisecondToOneMinute) {
  std::vector<double> b = LatencyBuckets();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 0.001);
  EXPECT_EQ(b.back(), 60);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAddUpExactly) {
  MetricsRegistry reg;
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  std::atomic<bool> done{false};
  // A scraper renders throughout, as GET /metrics would (before the workers register anything,
  // the text is empty).
  std::thread scraper([&] {
    while (!done.load()) {
      const std::string text = reg.Render();
      EXPECT_TRUE(text.empty() || text.back() == '\n');
    }
  });
  std::vector<std::thread> workers;
  workers.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&reg, t] {
      // Every thread looks its metrics up itself: Get* races with Get* and with updates.
      Counter& c = reg.GetCounter("sluice_events_total", "Events.", {{"kind", "all"}});
      Counter& own = reg.GetCounter("sluice_events_total", "Events.", {{"kind", "t" + std::to_string(t)}});
      Gauge& g = reg.GetGauge("sluice_in_flight", "In flight.");
      Histogram& h = reg.GetHistogram("sluice_wait_seconds", "Wait.", {0.5, 1.5});
      for (int i = 0; i < kIterations; ++i) {
        c.Add();
        own.Add(2);
        g.Add(1);
        h.Observe(i % 3);  // 0, 1, 2: one per bucket
        g.Add(-1);
      }
    });
  }
  for (auto& w : workers) w.join();
  done.store(true);
  scraper.join();

  const uint64_t total = uint64_t{kThreads} * kIterations;
  EXPECT_EQ(reg.GetCounter("sluice_events_total", "Events.", {{"kind", "all"}}).Value(), total);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(reg.GetCounter("sluice_events_total", "Events.", {{"kind", "t" + std::to_string(t)}}).Value(),
              2.0 * kIterations);
  }
  EXPECT_EQ(reg.GetGauge("sluice_in_flight", "In flight.").Value(), 0);
  HistogramSnapshot s = reg.GetHistogram("sluice_wait_seconds", "Wait.", {0.5, 1.5}).Snapshot();
  // kIterations is not a multiple of 3: per thread, i % 3 == 0 once more than the others.
  const uint64_t zeros = uint64_t{kThreads} * ((kIterations + 2) / 3);
  const uint64_t ones = uint64_t{kThreads} * ((kIterations + 1) / 3);
  const uint64_t twos = uint64_t{kThreads} * (kIterations / 3);
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{zeros, zeros + ones, total}));
  EXPECT_EQ(s.count, total);
  EXPECT_EQ(s.sum, static_cast<double>(ones + 2 * twos));
}

// Misuse asserts in debug builds; with NDEBUG (RelWithDebInfo) the call returns a metric that
// is never rendered, so the scrape stays exactly as before.
TEST(MetricsRegistryDeathTest, MisuseAssertsOrIsNotRendered) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricsRegistry reg;
  FillSmallRegistry(reg);
  reg.GetGauge("sluice_queue_sum", "Taken first.");
  const std::string before = reg.Render();
  const std::vector<double> b = {0.125, 0.5, 1};
  EXPECT_DEBUG_DEATH(reg.GetGauge("sluice_http_requests_total", "HTTP requests answered.").Set(1),
                     "registered again");
  EXPECT_DEBUG_DEATH(
      reg.GetCounter("sluice_http_requests_total", "Other help.", {{"route", "/x"}, {"code", "200"}}).Add(),
      "registered again");
  EXPECT_DEBUG_DEATH(
      reg.GetHistogram("sluice_request_duration_seconds", "Time to answer a request.", {0.1, 1}).Observe(1),
      "registered again");
  EXPECT_DEBUG_DEATH(reg.GetCounter("sluice_http_requests_total", "HTTP requests answered.",
                                    {{"code", "200"}, {"route", "/x"}})
                         .Add(),
                     "same label names");
  EXPECT_DEBUG_DEATH(reg.GetCounter("sluice-bad_total", "Bad.").Add(), "invalid metric");
  EXPECT_DEBUG_DEATH(reg.GetCounter("9lives_total", "Bad.").Add(), "invalid metric");
  EXPECT_DEBUG_DEATH(reg.GetCounter("sluice_ok_total", "Bad.", {{"__name", "x"}}).Add(), "invalid metric");
  EXPECT_DEBUG_DEATH(reg.GetCounter("sluice_ok_total", "Bad.", {{"a", "x"}, {"a", "y"}}).Add(),
                     "invalid metric");
  EXPECT_DEBUG_DEATH(reg.GetHistogram("sluice_h_seconds", "Bad.", b, {{"le", "1"}}).Observe(1),
                     "invalid metric");
  EXPECT_DEBUG_DEATH(reg.GetCounter("sluice_rows", "Bad.").Add(), "_total");
  EXPECT_DEBUG_DEATH(reg.GetHistogram("sluice_h_seconds", "Bad.", {1, 0.5}).Observe(1),
                     "strictly increasing");
  EXPECT_DEBUG_DEATH(reg.GetGauge("sluice_request_duration_seconds_count", "Bad.").Set(1),
                     "collides with a histogram");
  EXPECT_DEBUG_DEATH(reg.GetHistogram("sluice_queue", "Bad.", b).Observe(1),
                     "series collide with another name");
  EXPECT_EQ(reg.Render(), before);
}

TEST(MetricsRegistryDeathTest, CountersOnlyGoUp) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricsRegistry reg;
  Counter& c = reg.GetCounter("sluice_rows_total", "Rows.");
  c.Add(2);
  EXPECT_DEBUG_DEATH(c.Add(-1), "only goes up");
  EXPECT_DEBUG_DEATH(c.Add(std::numeric_limits<double>::quiet_NaN()), "only goes up");
  EXPECT_EQ(c.Value(), 2);  // with NDEBUG, the bad increments were dropped
}

// ---- promtool ------------------------------------------------------------------------------

// The absolute path of `program` in $PATH, or "" when it is not there.
std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct LintResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `promtool check metrics` with `exposition` on stdin. Fails the test (and returns an
// exit code of -1) when promtool is missing: the lint is part of the contract, never skipped.
LintResult Promtool(const std::string& exposition) {
  LintResult result;
  const std::string promtool = FindOnPath("promtool");
  if (promtool.empty()) {
    ADD_FAILURE() << "promtool is not on PATH; it comes with the Debian package `prometheus`, "
                     "installed by scripts/setup.sh";
    return result;
  }
  // A file of its own: ctest runs each test of this binary as a separate, possibly parallel,
  // process.
  std::string input = testing::TempDir() + "metrics_test_XXXXXX";
  int in = ::mkostemp(input.data(), O_CLOEXEC);
  if (in < 0) {
    ADD_FAILURE() << input << ": " << std::strerror(errno);
    return result;
  }
  ::unlink(input.c_str());  // the descriptor keeps it alive until promtool has read it
  const auto size = static_cast<ssize_t>(exposition.size());
  if (::write(in, exposition.data(), exposition.size()) != size || ::lseek(in, 0, SEEK_SET) != 0) {
    ADD_FAILURE() << input << ": " << std::strerror(errno);
    ::close(in);
    return result;
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    ::close(in);
    return result;
  }
  const char* argv[] = {promtool.c_str(), "check", "metrics", nullptr};
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    for (int fd : {in, out[0], out[1]}) ::close(fd);
    return result;
  }
  if (pid == 0) {
    ::dup2(in, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(in);
  ::close(out[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) != 0) {
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (errno != EINTR) {
      break;
    }
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// The harness itself: promtool must reject a lint problem, or a pass below would mean nothing.
TEST(MetricsPromtoolTest, PromtoolReportsLintProblems) {
  LintResult r = Promtool("# HELP sluice_rows Rows.\n# TYPE sluice_rows counter\nsluice_rows 1\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("_total"), std::string::npos) << r.output;
}

TEST(MetricsPromtoolTest, RenderPassesPromtoolCheckMetrics) {
  MetricsRegistry reg;
  FillSmallRegistry(reg);
  reg.GetCounter("sluice_rows_ingested_total", "Rows that passed their contract.", {{"source", "orders"}})
      .Add(1e6);
  reg.GetCounter("sluice_rows_ingested_total", "Rows that passed their contract.",
                 {{"source", "caf\xc3\xa9 \"x\"\\\n\xff"}})
      .Add(0.5);
  reg.GetGauge("sluice_last_run_timestamp_seconds", "When the last run ended.").Set(1.7e9);
  reg.GetGauge("sluice_lag_seconds", "Lag.", {{"source", "a"}}).Set(std::numeric_limits<double>::quiet_NaN());
  reg.GetGauge("sluice_lag_seconds", "Lag.", {{"source", "b"}}).Set(-std::numeric_limits<double>::infinity());
  reg.GetGauge("sluice_lag_seconds", "Lag.", {{"source", "c"}}).Set(1e-9);
  Histogram& idle = reg.GetHistogram("sluice_publish_duration_seconds", "Publish time.", LatencyBuckets(),
                                     {{"table", "orders"}});
  (void)idle;  // rendered with all-zero buckets
  Histogram& busy = reg.GetHistogram("sluice_publish_duration_seconds", "Publish time.", LatencyBuckets(),
                                     {{"table", "users"}});
  for (double v : {0.0004, 0.003, 0.2, 7.0, 120.0}) busy.Observe(v);
  reg.GetHistogram("sluice_batch_rows", "Rows per batch.", {}).Observe(3);  // only +Inf

  const std::string text = reg.Render();
  LintResult r = Promtool(text);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- exposition ---\n" << text;
  EXPECT_EQ(r.output, "") << "\n--- exposition ---\n" << text;
}

}  // namespace
}  // namespace sluice
