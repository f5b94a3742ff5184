#include "ops/history.h"

#include "common/env.h"

namespace sluice {

bool MetricsHistory::Due(int64_t now_us) const {
  std::lock_guard<std::mutex> lock(mu_);
  // A clock set back is a fresh start rather than an hour without samples.
  return samples_.empty() || now_us - samples_.back().at_us >= interval_us_ || now_us < samples_.back().at_us;
}

void MetricsHistory::Add(Sample sample) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back(std::move(sample));
  while (samples_.size() > capacity_) samples_.pop_front();
}

size_t MetricsHistory::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_.size();
}

nlohmann::ordered_json MetricsHistory::Json(const std::function<bool(const std::string&)>& visible) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const Sample& s : samples_) {
    nlohmann::ordered_json sources = nlohmann::ordered_json::object();
    for (const auto& [name, v] : s.sources) {
      if (!visible("sources." + name)) continue;
      sources[name] = {{"rows_staged", v.rows_staged},
                       {"rows_dead", v.rows_dead},
                       {"lag_messages", v.lag_messages},
                       {"lag_seconds", v.lag_seconds}};
    }
    nlohmann::ordered_json consumers = nlohmann::ordered_json::object();
    for (const auto& [name, v] : s.consumers) {
      if (!visible("consumers." + name)) continue;
      consumers[name] = {{"lag_changes", v.lag_changes}, {"lag_seconds", v.lag_seconds}};
    }
    nlohmann::ordered_json j = {{"at", FormatTimestampMicros(s.at_us)},
                                {"at_us", s.at_us},
                                {"sources", sources},
                                {"consumers", consumers}};
    if (s.warehouse_lag_seconds && visible("warehouse"))
      j["warehouse"] = {{"lag_seconds", *s.warehouse_lag_seconds}};
    list.push_back(std::move(j));
  }
  return {{"interval_seconds", static_cast<double>(interval_us_) / 1e6},
          {"capacity", capacity_},
          {"samples", list}};
}

}  // namespace sluice
