#include "ops/alerts.h"

#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>

namespace sluice {

namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";  // Alertmanager's endsAt while firing

const char* AlertName(SloState state) {
  return state == SloState::kBreach ? "SluiceSLOBreach" : "SluiceSLOWarning";
}
const char* SeverityLabel(SloState state) { return state == SloState::kBreach ? "page" : "ticket"; }

std::string Describe(const SloStatus& s) {
  char value[64];
  std::snprintf(value, sizeof value, "%.4g", s.value);
  char objective[64];
  std::snprintf(objective, sizeof objective, "%.4g", s.def.objective);
  std::string what = s.def.name + ": " + s.def.KindName() + " is " + value + " " + s.def.Unit() +
                     " (objective " + objective + ")";
  char burn[128];
  std::snprintf(burn, sizeof burn, "; burn rate 5m %.3g, 1h %.3g, 6h %.3g, 3d %.3g; budget remaining %.1f%%",
                s.eval.burn_rates[0], s.eval.burn_rates[2], s.eval.burn_rates[3], s.eval.burn_rates[4],
                s.eval.budget_remaining * 100);
  return what + burn;
}

}  // namespace

std::string LabelsFingerprint(const std::map<std::string, std::string>& labels) {
  uint64_t h = 14695981039346656037ULL;
  auto add = [&](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& [name, value] : labels) {  // std::map: sorted by name
    add(name);
    add(value);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json SloAlert(const SloStatus& slo, SloState state, const std::string& status, int64_t starts_us,
                        int64_t ends_us, const std::string& runbook_base) {
  const std::map<std::string, std::string> labels = {
      {"alertname", AlertName(state)}, {"slo", slo.def.name}, {"severity", SeverityLabel(state)}};
  const std::string summary = std::string("SLO ") + slo.def.name + " is " +
                              (status == "resolved" ? std::string("no longer ") + SloStateName(state)
                                                    : std::string("in ") + SloStateName(state));
  return {{"status", status},
          {"labels", labels},
          {"annotations",
           {{"summary", summary},
            {"description", Describe(slo)},
            {"runbook_url", runbook_base + "docs/RUNBOOKS.md#" + slo.def.RunbookSlug()}}},
          {"startsAt", IsoSeconds(starts_us)},
          {"endsAt", ends_us > 0 ? IsoSeconds(ends_us) : std::string(kZeroTime)},
          {"generatorURL", ""},
          {"fingerprint", LabelsFingerprint(labels)}};
}

nlohmann::json AlertmanagerPayload(const nlohmann::json& alert) {
  const nlohmann::json& labels = alert["labels"];
  std::string group_key = "{}:{alertname=\"" + labels["alertname"].get<std::string>() + "\", slo=\"" +
                          labels["slo"].get<std::string>() + "\"}";
  return {
      {"version", "4"},         {"groupKey", group_key},
      {"truncatedAlerts", 0},   {"status", alert["status"]},
      {"receiver", "sluice"},   {"groupLabels", {{"alertname", labels["alertname"]}, {"slo", labels["slo"]}}},
      {"commonLabels", labels}, {"commonAnnotations", alert["annotations"]},
      {"externalURL", ""},      {"alerts", nlohmann::json::array({alert})}};
}

std::vector<nlohmann::json> TransitionAlerts(const SloTransition& t, int64_t now_us,
                                             const std::string& runbook_base) {
  std::vector<nlohmann::json> out;
  if (t.from != SloState::kOk)
    out.push_back(SloAlert(t.status, t.from, "resolved", t.from_since_us, now_us, runbook_base));
  if (t.status.eval.state != SloState::kOk) {
    out.push_back(SloAlert(t.status, t.status.eval.state, "firing", t.status.since_us, 0, runbook_base));
  }
  return out;
}

Status PostWebhook(const std::string& url, const std::string& body, int timeout_ms) {
  const size_t scheme = url.find("://");
  const size_t slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  const std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  httplib::Client client(base);
  if (!client.is_valid()) return Status::InvalidArgument("webhook " + url + ": not a valid URL");
  client.set_connection_timeout(std::chrono::milliseconds(timeout_ms));
  client.set_read_timeout(std::chrono::milliseconds(timeout_ms));
  client.set_write_timeout(std::chrono::milliseconds(timeout_ms));
  httplib::Result r = client.Post(path, body, "application/json");
  if (!r) return Status::Unavailable("webhook " + url + ": " + httplib::to_string(r.error()));
  if (r->status < 200 || r->status > 299) {
    return Status::Unavailable("webhook " + url + " answered " + std::to_string(r->status));
  }
  return Status::OK();
}

Status RunAlertCommand(const std::string& command, const std::string& body) {
  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr) return Status::Aborted("alert command '" + command + "' could not start");
  const size_t written = std::fwrite(body.data(), 1, body.size(), pipe);
  const int rc = ::pclose(pipe);
  if (written != body.size() || rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    return Status::Aborted("alert command '" + command + "' failed (exit status " +
                           std::to_string(rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1) + ")");
  }
  return Status::OK();
}

AlertDispatcher::AlertDispatcher(const SloSpec& settings, Env* env,
                                 std::function<void(const std::string&)> log)
    : sinks_(settings.webhooks),
      command_(settings.command),
      runbook_base_(settings.runbook_base),
      env_(env),
      log_(std::move(log)) {
  if (!command_.empty()) sinks_.push_back("command");
}

AlertDispatcher::~AlertDispatcher() { Stop(); }

void AlertDispatcher::Enqueue(const std::vector<SloTransition>& changes) {
  if (sinks_.empty() || changes.empty()) return;
  const int64_t now = env_->NowMicros();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& t : changes) {
      for (const nlohmann::json& alert : TransitionAlerts(t, now, runbook_base_)) {
        const std::string body = AlertmanagerPayload(alert).dump();
        for (const auto& sink : sinks_) {
          queue_.push_back({sink, alert["fingerprint"], alert["status"], body, 0, 0});
        }
      }
    }
  }
  cv_.notify_all();
}

bool AlertDispatcher::Attempt(Delivery& d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = delivered_.find({d.sink, d.fingerprint});
    if (it != delivered_.end() && it->second == d.status) return true;  // sent already
  }
  ++d.attempts;
  Status st = d.sink == "command" ? RunAlertCommand(command_, d.body) : PostWebhook(d.sink, d.body, 5000);
  if (st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    delivered_[{d.sink, d.fingerprint}] = d.status;
    return true;
  }
  int64_t backoff = kFirstBackoffMs;
  for (int i = 1; i < d.attempts && backoff < kMaxBackoffMs; ++i) backoff *= 2;
  backoff = std::min(backoff, kMaxBackoffMs);
  d.next_us = env_->MonotonicMicros() + backoff * 1000;
  if (d.attempts >= kMaxAttempts) {
    log_("alert " + d.fingerprint + " (" + d.status + ") not delivered after " + std::to_string(d.attempts) +
         " attempts, given up: " + st.ToString());
  } else {
    log_("alert " + d.fingerprint + " (" + d.status + ") not delivered (attempt " +
         std::to_string(d.attempts) + ", retrying in " + std::to_string(backoff) + " ms): " + st.ToString());
  }
  return false;
}

void AlertDispatcher::Start() {
  if (sinks_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void AlertDispatcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      continue;
    }
    // The delivery due first; deliveries to one sink keep their order (a resolved never overtakes
    // its firing): the first queued of each sink is the only one tried.
    const int64_t now = env_->MonotonicMicros();
    std::map<std::string, size_t> head;  // sink -> index of its first queued delivery
    for (size_t i = 0; i < queue_.size(); ++i) head.emplace(queue_[i].sink, i);
    size_t due = queue_.size();
    int64_t next = INT64_MAX;
    for (const auto& [sink, i] : head) {
      if (queue_[i].next_us <= now) {
        due = i;
        break;
      }
      next = std::min(next, queue_[i].next_us);
    }
    if (due == queue_.size()) {
      cv_.wait_for(lock, std::chrono::microseconds(next - now));
      continue;
    }
    Delivery d = queue_[due];
    lock.unlock();
    const bool done = Attempt(d);
    lock.lock();
    // The queue may have grown meanwhile, never shrunk (only this thread removes).
    if (done || d.attempts >= kMaxAttempts) {
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(due));
    } else {
      queue_[due] = d;
    }
  }
}

int AlertDispatcher::Flush(int64_t budget_ms) {
  const int64_t deadline = env_->MonotonicMicros() + budget_ms * 1000;
  int given_up = 0;
  while (true) {
    Delivery d;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return given_up;
      d = queue_.front();
      queue_.pop_front();
    }
    if (env_->MonotonicMicros() >= deadline) {  // out of time: what is left is given up
      ++given_up;
      log_("alert " + d.fingerprint + " (" + d.status + ") to " + d.sink + " not delivered in time");
      continue;
    }
    bool done = false;
    while (!(done = Attempt(d)) && d.attempts < kMaxAttempts) {
      const int64_t wait = d.next_us - env_->MonotonicMicros();
      if (d.next_us >= deadline) break;
      if (wait > 0) std::this_thread::sleep_for(std::chrono::microseconds(wait));
    }
    if (!done) {
      ++given_up;
      log_("alert " + d.fingerprint + " (" + d.status + ") to " + d.sink +
           " not delivered before the run ended");
    }
  }
}

void AlertDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  (void)Flush(5000);
}

}  // namespace sluice
