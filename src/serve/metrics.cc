#include "serve/metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

#include "common/utf8.h"

namespace sluice {

static_assert(std::atomic<double>::is_always_lock_free, "metric updates must not take a lock");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "metric updates must not take a lock");

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool ValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, without the "__" prefix Prometheus reserves for itself.
bool ValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameStart(c) || IsDigit(c); });
}

bool ValidLabels(const MetricLabels& labels, bool histogram) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& n = labels[i].first;
    if (!ValidLabelName(n) || (histogram && n == "le")) return false;
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == n) return false;  // the same label twice in one series
    }
  }
  return true;
}

bool SameLabelNames(const MetricLabels& a, const MetricLabels& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.first == y.first; });
}

// Strips a trailing +Inf (it is always implied); false when the bounds are not strictly
// increasing, contain NaN or -Inf, or +Inf anywhere but last.
bool NormalizeBounds(std::vector<double>& bounds) {
  if (!bounds.empty() && bounds.back() == INFINITY) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) return false;
    if (i > 0 && !(bounds[i - 1] < bounds[i])) return false;
  }
  return true;
}

// Prometheus float syntax: "+Inf", "-Inf", "NaN"; integral values without a decimal point
// ("42"); otherwise the shortest text that reads back as the same double.
void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
  } else if (std::fabs(v) >= 1e-4 && std::fabs(v) < 1e15) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);  // "0.0025"
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);  // "1e-07"
  }
  assert(r.ec == std::errc() && "64 bytes hold any shortest double");
  out.append(buf, r.ptr);
}

void AppendCount(std::string& out, uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

// Escapes `\` and newline (HELP text), plus `"` for label values. The exposition must be UTF-8,
// and label values may come from outside input: invalid bytes become U+FFFD.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      size_t len = Utf8SequenceLength(p + i, text.size() - i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(text.data() + i, len);
        i += len;
      }
      continue;
    }
    ++i;
  }
}

// name{a="x",b="y"} or name{a="x",le="0.5"}; no braces when there are no labels.
void AppendSeriesName(std::string& out, const std::string& name, std::string_view suffix,
                      const MetricLabels& labels, const char* le = nullptr) {
  out += name;
  out += suffix;
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    AppendEscaped(out, v, /*quote=*/true);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

}  // namespace

void Counter::Add(double v) {
  assert(v >= 0 && "a counter only goes up; use a Gauge for values that go down");
  if (!(v >= 0)) return;  // also drops NaN, which would stick forever
  value_.fetch_add(v, std::memory_order_relaxed);
}

void Gauge::Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // The first bucket whose bound is >= v (le means "less or equal"). NaN is not <= any bound;
  // lower_bound alone would put it in the first bucket.
  auto bucket = std::isnan(v) ? bounds_.end() : std::lower_bound(bounds_.begin(), bounds_.end(), v);
  counts_[bucket - bounds_.begin()].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds = bounds_;
  s.cumulative.reserve(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Series* MetricsRegistry::FindOrCreate(Type type, const std::string& name,
                                                       const std::string& help,
                                                       const std::vector<double>& bounds,
                                                       const MetricLabels& labels) {
  const bool histogram = type == Type::kHistogram;
  if (!ValidMetricName(name) || !ValidLabels(labels, histogram)) {
    assert(false && "invalid metric or label name (see metrics.h for the allowed forms)");
    return nullptr;
  }
  if (type == Type::kCounter && !name.ends_with("_total")) {
    assert(false && "counter names end in _total (Prometheus naming, checked by promtool)");
    return nullptr;
  }

  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    // A histogram `h` also writes h_bucket, h_sum and h_count: no other name may be one of them.
    auto collides = [&](const std::string& other) {
      auto f = families_.find(other);
      return f != families_.end() && f->second.type == Type::kHistogram;
    };
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && collides(name.substr(0, name.size() - strlen(suffix)))) {
        assert(false && "name collides with a histogram's _bucket/_sum/_count series");
        return nullptr;
      }
      if (histogram && families_.count(name + suffix) != 0) {
        assert(false && "a histogram's _bucket/_sum/_count series collide with another name");
        return nullptr;
      }
    }
    it = families_.emplace(name, Family{type, help, bounds, {}, {}}).first;
  }
  Family& family = it->second;
  if (family.type != type || family.help != help || family.bounds != bounds) {
    assert(false && "a metric name was registered again with another type, help or buckets");
    return nullptr;
  }
  if (auto s = family.by_labels.find(labels); s != family.by_labels.end()) return s->second;
  if (!family.series.empty() && !SameLabelNames(family.series.front()->labels, labels)) {
    assert(false && "all series of a metric name use the same label names, in the same order");
    return nullptr;
  }

  auto series = std::make_unique<Series>();
  series->labels = labels;
  switch (type) {
    case Type::kCounter:
      series->counter = std::make_unique<Counter>();
      break;
    case Type::kGauge:
      series->gauge = std::make_unique<Gauge>();
      break;
    case Type::kHistogram:
      series->histogram = std::make_unique<Histogram>(bounds);
      break;
  }
  Series* raw = series.get();
  family.series.push_back(std::move(series));
  family.by_labels.emplace(labels, raw);
  return raw;
}

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  if (Series* s = FindOrCreate(Type::kCounter, name, help, {}, labels)) return *s->counter;
  std::lock_guard<std::mutex> lock(mu_);
  orphans_.push_back(std::make_unique<Series>());
  orphans_.back()->counter = std::make_unique<Counter>();
  return *orphans_.back()->counter;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const MetricLabels& labels) {
  if (Series* s = FindOrCreate(Type::kGauge, name, help, {}, labels)) return *s->gauge;
  std::lock_guard<std::mutex> lock(mu_);
  orphans_.push_back(std::make_unique<Series>());
  orphans_.back()->gauge = std::make_unique<Gauge>();
  return *orphans_.back()->gauge;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& buckets, const MetricLabels& labels) {
  std::vector<double> bounds = buckets;
  const bool valid_bounds = NormalizeBounds(bounds);
  assert(valid_bounds && "histogram buckets must be strictly increasing and not NaN");
  if (valid_bounds) {
    if (Series* s = FindOrCreate(Type::kHistogram, name, help, bounds, labels)) {
      return *s->histogram;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  orphans_.push_back(std::make_unique<Series>());
  orphans_.back()->histogram = std::make_unique<Histogram>(std::vector<double>{});
  return *orphans_.back()->histogram;
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendEscaped(out, family.help, /*quote=*/false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += family.type == Type::kCounter ? "counter" : family.type == Type::kGauge ? "gauge" : "histogram";
    out += '\n';
    for (const auto& series : family.series) {
      if (family.type != Type::kHistogram) {
        AppendSeriesName(out, name, "", series->labels);
        out += ' ';
        AppendValue(out, series->counter ? series->counter->Value() : series->gauge->Value());
        out += '\n';
        continue;
      }
      const HistogramSnapshot h = series->histogram->Snapshot();
      std::string le;
      for (size_t i = 0; i < h.cumulative.size(); ++i) {
        le.clear();
        AppendValue(le, i < h.bounds.size() ? h.bounds[i] : INFINITY);
        AppendSeriesName(out, name, "_bucket", series->labels, le.c_str());
        out += ' ';
        AppendCount(out, h.cumulative[i]);
        out += '\n';
      }
      AppendSeriesName(out, name, "_sum", series->labels);
      out += ' ';
      AppendValue(out, h.sum);
      out += '\n';
      AppendSeriesName(out, name, "_count", series->labels);
      out += ' ';
      AppendCount(out, h.count);
      out += '\n';
    }
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace sluice
