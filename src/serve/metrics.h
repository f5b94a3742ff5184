// MetricsRegistry: the counters, gauges and histograms that `sluice serve` exposes at
// GET /metrics, rendered in the Prometheus text exposition format 0.0.4.
//
// Metrics are created once through the registry (under its mutex) and then updated through the
// returned references from any thread without locks: Counter, Gauge and Histogram updates are
// single atomic operations (a histogram observation is two). Render() may run concurrently with
// updates; it reads each value once, so a scrape is not a snapshot across series, but within a
// histogram the buckets are cumulative and _count equals the +Inf bucket.
//
// Misuse (an invalid name, a name reused with another type, help or bucket layout, a counter
// name without _total) is a programming error: it asserts. Built with NDEBUG, the call instead
// returns a metric that can be updated but is never rendered, so one bad call site cannot make
// the whole scrape unparseable.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sluice {

// Label name -> value, in the order they are rendered. A family's series must all use the same
// label names in the same order; values are any text (invalid UTF-8 is rendered as U+FFFD).
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing value (events, bytes, rows). Thread-safe and lock-free.
class Counter {
 public:
  // `v` must be >= 0: a counter never goes down (asserts; with NDEBUG, negative and NaN
  // increments are ignored).
  void Add(double v = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, last run's duration). Thread-safe and lock-free.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// What a histogram has observed, as rendered: `cumulative[i]` counts observations <= bounds[i];
// the last entry of `cumulative` is le="+Inf" and equals `count`.
struct HistogramSnapshot {
  std::vector<double> bounds;        // finite upper bounds, strictly increasing
  std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries
  double sum = 0;
  uint64_t count = 0;
};

// Counts observations into fixed buckets. Thread-safe and lock-free: one atomic increment of the
// observation's bucket plus one atomic add to the sum.
class Histogram {
 public:
  // `bounds` as accepted by MetricsRegistry::GetHistogram (normalized: no trailing +Inf).
  explicit Histogram(std::vector<double> bounds);

  // NaN lands in the +Inf bucket (and makes the sum NaN), as in the Prometheus Go client.
  void Observe(double v);
  // `count` is derived from the bucket counts, so it always equals the +Inf bucket; `sum` is read
  // separately and may lag by observations that are in flight.
  HistogramSnapshot Snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

// Owns every metric of one process. All methods are safe for concurrent use.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the series (name, labels), creating it on the first call; the reference stays valid
  // for the registry's lifetime, so call sites look it up once and keep it. `name` must match
  // [a-zA-Z_:][a-zA-Z0-9_:]*; label names [a-zA-Z_][a-zA-Z0-9_]* and not start with "__".
  // All series of a name share one type and help text (see the file comment for misuse).
  // Counter names must end in _total (the name is rendered as given).
  Counter& GetCounter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  // `buckets`: upper bounds, strictly increasing, no NaN; a trailing +Inf is implied (and may be
  // given). Every series of a histogram name must use the same buckets. "le" is not a valid
  // label name here; nor may the name's _bucket/_sum/_count series collide with another name.
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& buckets, const MetricLabels& labels = {});

  // Prometheus text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4): one
  // # HELP and # TYPE per name, names sorted, series in creation order, histograms as cumulative
  // _bucket{le=".."} series (le="+Inf" last), _sum and _count. Empty when nothing is registered.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;  // exactly one of the three, per the family's type
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> bounds;                   // kHistogram only
    std::vector<std::unique_ptr<Series>> series;  // in creation order
    std::map<MetricLabels, Series*> by_labels;
  };

  // The series for (name, labels), created if new; nullptr when the call is misuse (after the
  // assert), in which case the caller hands out an orphan metric instead.
  Series* FindOrCreate(Type type, const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const MetricLabels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;        // sorted by name, as rendered
  std::vector<std::unique_ptr<Series>> orphans_;  // misuse under NDEBUG: updated, not rendered
};

// Bucket upper bounds for latencies in seconds, 1 ms to 60 s in 1-2.5-5 steps (15 buckets).
std::vector<double> LatencyBuckets();

}  // namespace sluice
