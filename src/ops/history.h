// A bounded history of a few numbers of `sluice serve`, for the dashboard's charts over the
// last hour (GET /v1/history, docs/DASHBOARD.md).
//
// The server samples its own numbers (rows ingested and dead-lettered per stream source, the
// lag of each stream source, of each feed consumer and of the PostgreSQL warehouse) every
// `interval` of the Env's clock and adds one Sample; the oldest are dropped beyond
// `capacity`, so memory stays bounded however long the server runs. Rates are left to the
// reader (the difference of two samples' counters over their times).
// Thread-safe: Add and Json may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sluice {

class MetricsHistory {
 public:
  struct SourceSample {
    double rows_staged = 0;  // counters since the server started
    double rows_dead = 0;
    double lag_messages = 0;  // gauges at the sample's time
    double lag_seconds = 0;
  };
  struct ConsumerSample {
    double lag_changes = 0;
    double lag_seconds = 0;
  };
  struct Sample {
    int64_t at_us = 0;                                // UTC micros
    std::map<std::string, SourceSample> sources;      // by stream source
    std::map<std::string, ConsumerSample> consumers;  // by feed consumer
    std::optional<double> warehouse_lag_seconds;      // nullopt: no serve.postgres
  };

  // One sample per `interval_us`; an hour's worth by default.
  explicit MetricsHistory(int64_t interval_us = 10'000'000, size_t capacity = 360)
      : interval_us_(interval_us), capacity_(capacity) {}

  // Whether a sample is due at `now_us`: none taken yet, or the last is `interval` old.
  bool Due(int64_t now_us) const;
  void Add(Sample sample);
  size_t size() const;

  // {"interval_seconds": 10, "capacity": 360, "samples": [{"at": "...Z", "at_us",
  // "sources": {"orders": {"rows_staged", "rows_dead", "lag_messages", "lag_seconds"}},
  // "consumers": {"ml_features": {"lag_changes", "lag_seconds"}}, "warehouse": {"lag_seconds"}},
  // ...]} oldest first, with only what `visible` keeps: it is asked "sources.<name>",
  // "consumers.<name>" and "warehouse".
  nlohmann::ordered_json Json(const std::function<bool(const std::string&)>& visible) const;

 private:
  const int64_t interval_us_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Sample> samples_;
};

}  // namespace sluice
