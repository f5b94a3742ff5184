#include "ops/slo_runner.h"

#include <algorithm>

#include "catalog/slo_history.h"
#include "common/env.h"

namespace sluice {

namespace {

// Samples are pruned at most this often (each evaluation deletes nothing new most of the time).
constexpr int64_t kPruneEveryUs = int64_t{60} * 1000000;

// Observations at or below `threshold` among `cumulative` (conservative: the largest bound not
// above the threshold).
uint64_t AtOrBelow(const LiveInputs::Histogram& h, double threshold) {
  uint64_t good = 0;
  for (size_t i = 0; i < h.bounds.size() && i < h.cumulative.size(); ++i) {
    if (h.bounds[i] <= threshold) good = h.cumulative[i];
  }
  return good;
}

uint64_t Count(const LiveInputs::Histogram& h) { return h.cumulative.empty() ? 0 : h.cumulative.back(); }

// The upper bound of the bucket holding the q-quantile of the observations between `before`
// and `after` (+Inf: the largest finite bound).
double Quantile(const LiveInputs::Histogram& before, const LiveInputs::Histogram& after, double q) {
  const uint64_t total = Count(after) - Count(before);
  if (total == 0 || after.bounds.empty()) return 0;
  for (size_t i = 0; i < after.bounds.size(); ++i) {
    const uint64_t below = after.cumulative[i] - (i < before.cumulative.size() ? before.cumulative[i] : 0);
    if (static_cast<double>(below) >= q * static_cast<double>(total)) return after.bounds[i];
  }
  return after.bounds.back();
}

}  // namespace

std::string IsoSeconds(int64_t micros) {
  const std::string t = FormatTimestampMicros(micros);  // "2026-01-03T10:15:00.123456Z"
  return t.substr(0, 19) + "Z";
}

SloRunner::SloRunner(const ProjectSpec& spec, Catalog& catalog)
    : spec_(spec), catalog_(catalog), defs_(SloDefinitions(spec)) {}

Status SloRunner::LoadState() {
  ASSIGN_OR_RETURN(last_sample_us_, LastSloSampleTimes(catalog_));
  ASSIGN_OR_RETURN(std::vector<SloStateRow> rows, LoadSloStates(catalog_));
  for (const auto& r : rows) states_[r.slo] = {SloStateFromName(r.state), r.since_us};
  loaded_ = true;
  return Status::OK();
}

Result<std::vector<SloTransition>> SloRunner::Evaluate(const LiveInputs& live) {
  const int64_t now = catalog_.env()->NowMicros();
  if (!loaded_) RETURN_IF_ERROR(LoadState());
  const SloSpec& settings = spec_.slo;
  const int64_t window_us = settings.window_seconds * 1000000;
  std::map<std::string, int64_t> commits;
  if (std::any_of(defs_.begin(), defs_.end(),
                  [](const SloDefinition& d) { return d.kind == SloKind::kFreshness; })) {
    ASSIGN_OR_RETURN(commits, TableCommitTimes(catalog_));
  }

  // Measure each SLI since the previous evaluation.
  std::vector<SloSampleRow> samples;
  std::map<std::string, double> latest;  // the value measured now, per SLO that has one
  for (const SloDefinition& d : defs_) {
    SloSampleRow s{d.name, now, 0, 0, 0};
    switch (d.kind) {
      case SloKind::kErrorRate: {
        auto last = last_sample_us_.find(d.name);
        const int64_t from = last == last_sample_us_.end() ? now - window_us : last->second;
        ASSIGN_OR_RETURN(BatchRows rows, BatchRowsBetween(catalog_, d.source, from, now));
        s.total = static_cast<double>(rows.read);
        s.good = static_cast<double>(rows.read - rows.dead);
        s.value = rows.read > 0 ? static_cast<double>(rows.dead) / static_cast<double>(rows.read) : 0;
        break;
      }
      case SloKind::kIngestLatency: {
        auto it = live.ingest_latency.find(d.source);
        if (it == live.ingest_latency.end()) continue;
        const LiveInputs::Histogram& now_h = it->second;
        const LiveInputs::Histogram before = last_latency_[d.source];
        s.total = static_cast<double>(Count(now_h) - Count(before));
        s.good = static_cast<double>(AtOrBelow(now_h, d.objective) - AtOrBelow(before, d.objective));
        s.value = Quantile(before, now_h, 0.99);
        last_latency_[d.source] = now_h;
        if (s.total > 0) latest[d.name] = s.value;
        break;
      }
      case SloKind::kConsumerLag: {
        auto it = live.lag_seconds.find(d.source);
        if (it == live.lag_seconds.end()) continue;
        s.value = it->second;
        s.total = 1;
        s.good = s.value <= d.objective ? 1 : 0;
        latest[d.name] = s.value;
        break;
      }
      case SloKind::kTransformDuration: {
        for (double seconds : live.transform_seconds) {
          s.total += 1;
          s.good += seconds <= d.objective ? 1 : 0;
          s.value = std::max(s.value, seconds);
        }
        if (s.total > 0) latest[d.name] = s.value;
        break;
      }
      case SloKind::kFreshness: {
        auto it = commits.find(d.table);
        if (it == commits.end()) continue;  // never committed: nothing is stale yet
        s.value = std::max<double>(0, static_cast<double>(now - it->second) / 1e6);
        s.total = 1;
        s.good = s.value <= d.objective ? 1 : 0;
        latest[d.name] = s.value;
        break;
      }
    }
    last_sample_us_[d.name] = now;
    if (s.total > 0) samples.push_back(std::move(s));
  }

  RETURN_IF_ERROR(catalog_.conn().Execute("BEGIN TRANSACTION"));
  auto evaluate = [&]() -> Result<std::vector<SloTransition>> {
    RETURN_IF_ERROR(AppendSloSamples(catalog_, samples));
    if (now - last_prune_us_ >= kPruneEveryUs) {
      RETURN_IF_ERROR(PruneSloSamples(catalog_, now - window_us));
      last_prune_us_ = now;
    }
    const std::array<int64_t, 6> spans_array = SloSpans(settings.window_seconds);
    const std::vector<int64_t> spans(spans_array.begin(), spans_array.end());
    std::vector<SloStatus> statuses;
    std::vector<SloTransition> changes;
    ASSIGN_OR_RETURN(auto all_sums, AllSloWindowSums(catalog_, now, spans));
    for (const SloDefinition& d : defs_) {
      auto found = all_sums.find(d.name);
      const std::vector<SloSums> sums =
          found == all_sums.end() ? std::vector<SloSums>(spans.size()) : found->second;
      SloCounts counts;
      for (size_t i = 0; i < counts.size(); ++i) counts[i] = {sums[i].good, sums[i].total};
      SloStatus st;
      st.def = d;
      st.eval = EvaluateSlo(d, counts, settings.window_seconds,
                            d.ratio ? settings.min_events : settings.min_intervals);
      if (d.kind == SloKind::kErrorRate) {
        st.value = counts[2].total > 0 ? counts[2].bad() / counts[2].total : 0;  // over the last hour
      } else if (auto it = latest.find(d.name); it != latest.end()) {
        st.value = last_value_[d.name] = it->second;
      } else {
        st.value = last_value_[d.name];
      }
      auto prev = states_.find(d.name);
      const SloState from = prev == states_.end() ? SloState::kOk : prev->second.first;
      st.since_us = prev == states_.end() ? now : prev->second.second;
      if (st.eval.state != from || prev == states_.end()) {
        if (st.eval.state != from) {
          changes.push_back({st, from, prev == states_.end() ? now : prev->second.second});
          changes.back().status.since_us = st.since_us = now;
        }
        states_[d.name] = {st.eval.state, st.since_us};
      }
      SloStateRow row{d.name, SloStateName(st.eval.state), st.since_us, now, SloStatusJson(st).dump()};
      RETURN_IF_ERROR(SaveSloState(catalog_, row));
      statuses.push_back(std::move(st));
    }
    std::lock_guard<std::mutex> lock(mu_);
    statuses_ = std::move(statuses);
    evaluated_at_us_ = now;
    return changes;
  };
  Result<std::vector<SloTransition>> out = evaluate();
  if (!out.ok()) {
    (void)catalog_.conn().Execute("ROLLBACK");
    loaded_ = false;  // the in-memory state may be ahead of the catalog's: read it again
    states_.clear();
    return out.status();
  }
  RETURN_IF_ERROR(catalog_.conn().Execute("COMMIT"));
  return out;
}

std::vector<SloStatus> SloRunner::Statuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return statuses_;
}

int64_t SloRunner::evaluated_at_us() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evaluated_at_us_;
}

nlohmann::json SloStatusJson(const SloStatus& s) {
  nlohmann::json burn = nlohmann::json::object();
  for (size_t i = 0; i < kBurnWindowNames.size(); ++i) burn[kBurnWindowNames[i]] = s.eval.burn_rates[i];
  return {{"name", s.def.name},
          {"kind", s.def.KindName()},
          {"table", s.def.table.empty() ? nlohmann::json() : nlohmann::json(s.def.table)},
          {"source", s.def.source.empty() ? nlohmann::json() : nlohmann::json(s.def.source)},
          {"objective", s.def.objective},
          {"target", s.def.target},
          {"unit", s.def.Unit()},
          {"value", s.value},
          {"state", SloStateName(s.eval.state)},
          {"budget_remaining", s.eval.budget_remaining},
          {"burn_rates", burn},
          {"events", static_cast<int64_t>(s.eval.events)},
          {"since", IsoSeconds(s.since_us)},
          {"runbook", std::string("docs/RUNBOOKS.md#") + s.def.RunbookSlug()}};
}

nlohmann::json SloReportJson(const std::vector<SloStatus>& statuses, int64_t evaluated_at_us) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : statuses) list.push_back(SloStatusJson(s));
  return {
      {"evaluated_at", evaluated_at_us > 0 ? nlohmann::json(IsoSeconds(evaluated_at_us)) : nlohmann::json()},
      {"slos", list}};
}

}  // namespace sluice
