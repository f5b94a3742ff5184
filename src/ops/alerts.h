// Alerts on changes of SLO state (ops/slo_runner.h), sent to the sinks of `slo.alerts`:
//  - webhook: a JSON POST in Alertmanager's webhook format (version "4": status firing|resolved,
//    alerts[] with labels {alertname, slo, severity}, annotations {summary, description,
//    runbook_url}, startsAt/endsAt, fingerprint), so anything that takes Alertmanager's
//    notifications takes sluice's; retried with exponential backoff;
//  - command: run with `/bin/sh -c`, the same JSON on its stdin (exit status 0: delivered).
// A change from state A to state B resolves A's alert (unless A is ok) and fires B's (unless B is
// ok). An alert is sent to a sink once per status: a firing alert already delivered as firing
// is not sent again (deduplicated by fingerprint).
//
// AlertDispatcher never blocks its caller: Enqueue only queues. In `sluice serve` a thread
// delivers (Start); a batch run calls Flush at its end, which tries within a time budget.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "ops/slo_runner.h"
#include "spec/spec.h"

namespace sluice {

// The alert of `slo` in `state` (not ok) as Alertmanager's webhook carries it; `status` is
// "firing" or "resolved", `ends_us` the time it resolved (0 while firing).
nlohmann::json SloAlert(const SloStatus& slo, SloState state, const std::string& status, int64_t starts_us,
                        int64_t ends_us, const std::string& runbook_base);
// The webhook body holding `alert` (one alert per notification).
nlohmann::json AlertmanagerPayload(const nlohmann::json& alert);
// The alerts a change of state raises: the old state's resolved, the new state's firing.
std::vector<nlohmann::json> TransitionAlerts(const SloTransition& t, int64_t now_us,
                                             const std::string& runbook_base);
// Alertmanager's fingerprint of a label set: FNV-1a 64 over the sorted names and values, each
// followed by 0xff, as 16 hex digits.
std::string LabelsFingerprint(const std::map<std::string, std::string>& labels);

// POSTs `body` to `url` (http:// or https://). OK on a 2xx answer; Unavailable otherwise.
Status PostWebhook(const std::string& url, const std::string& body, int timeout_ms);
// Runs `command` with `body` on its stdin. OK when it exits 0; Aborted otherwise.
Status RunAlertCommand(const std::string& command, const std::string& body);

class AlertDispatcher {
 public:
  // `log` receives one line per delivery that failed for good (and per retry). The clock for
  // backoff is `env`'s MonotonicMicros.
  AlertDispatcher(const SloSpec& settings, Env* env, std::function<void(const std::string&)> log);
  ~AlertDispatcher();

  bool has_sinks() const { return !sinks_.empty(); }
  // Queues the alerts of `changes` for every sink.
  void Enqueue(const std::vector<SloTransition>& changes);
  // Delivers on a thread of its own until Stop.
  void Start();
  // Delivers what is queued on the caller's thread, retrying until `budget_ms` has passed;
  // returns how many deliveries were given up.
  int Flush(int64_t budget_ms);
  // Stops the thread (what is still queued is tried once more, within a few seconds).
  void Stop();

  // Attempts before a delivery is given up, and the first retry's delay (doubled each time,
  // at most kMaxBackoffMs).
  static constexpr int kMaxAttempts = 8;
  static constexpr int64_t kFirstBackoffMs = 500;
  static constexpr int64_t kMaxBackoffMs = 30000;

 private:
  struct Delivery {
    std::string sink;  // a webhook URL, or "command"
    std::string fingerprint;
    std::string status;  // firing | resolved
    std::string body;
    int attempts = 0;
    int64_t next_us = 0;  // monotonic
  };
  // Tries `d` once; true when delivered (or a duplicate of what was delivered).
  bool Attempt(Delivery& d);
  void Loop();

  std::vector<std::string> sinks_;
  std::string command_;
  std::string runbook_base_;
  Env* env_;
  std::function<void(const std::string&)> log_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delivery> queue_;
  std::map<std::pair<std::string, std::string>, std::string> delivered_;  // (sink, fingerprint) -> status
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice
