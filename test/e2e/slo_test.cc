// SLOs end to end (docs/SLO.md): a real `sluice serve` whose error_rate SLO is driven to breach
// by dead-lettered rows and back by good ones, seen at GET /v1/slo and /metrics, alerted to a
// webhook receiver on 127.0.0.1 (that fails its first attempts) in Alertmanager's format and to
// a command; and batch runs whose samples add up across processes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "serve_harness.h"

namespace sluice::e2e {
namespace {

constexpr const char* kContract =
    "name: events\ncolumns:\n  id: {type: string, required: true}\n"
    "  n: {type: int64, required: true}\n";

// `count` event lines from id `first`; every line for which `bad(i)` holds lacks the required n.
std::string Events(int first, int count, bool (*bad)(int)) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    out += bad(i) ? "{\"id\":\"e" + std::to_string(i) + "\"}\n"
                  : "{\"id\":\"e" + std::to_string(i) + "\",\"n\":" + std::to_string(i) + "}\n";
  }
  return out;
}
bool Even(int i) { return i % 2 == 0; }
bool Never(int) { return false; }

// The JSON bodies a receiver answered 200.
std::vector<Json> Accepted(PostReceiver& receiver) {
  std::vector<Json> out;
  for (const std::string& body : receiver.accepted()) out.push_back(Json::parse(body, nullptr, false));
  return out;
}

// The SLO `name` of a GET /v1/slo answer; null when absent.
Json FindSlo(const Json& report, const std::string& name) {
  for (const auto& s : report["slos"]) {
    if (s["name"] == name) return s;
  }
  return nullptr;
}

// Polls GET /v1/slo until SLO `name` is in `state`; the last answer's SLO.
Json WaitForState(HttpClient& http, const std::string& name, const std::string& state, int seconds = 60) {
  Json slo;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    slo = FindSlo(http.Get("/v1/slo").json(), name);
    if (!slo.is_null() && slo["state"] == state) return slo;
  }
  ADD_FAILURE() << name << " never reached " << state << "; last: " << slo.dump();
  return slo;
}

// The JSON documents of the command sink's file (one per line).
std::vector<Json> CommandAlerts(const std::string& path) {
  std::vector<Json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

void ExpectAlert(const Json& body, const std::string& status, const std::string& alertname,
                 const std::string& slo, const std::string& severity) {
  EXPECT_EQ(body["version"], "4") << body.dump();
  EXPECT_EQ(body["status"], status) << body.dump();
  ASSERT_EQ(body["alerts"].size(), 1u) << body.dump();
  const Json& a = body["alerts"][0];
  EXPECT_EQ(a["status"], status);
  EXPECT_EQ(a["labels"], (Json{{"alertname", alertname}, {"slo", slo}, {"severity", severity}}));
  EXPECT_EQ(a["annotations"]["runbook_url"], "https://runbooks.example/docs/RUNBOOKS.md#error-rate");
  EXPECT_EQ(a["fingerprint"].get<std::string>().size(), 16u);
  if (status == "firing") {
    EXPECT_EQ(a["endsAt"], "0001-01-01T00:00:00Z");
  } else {
    EXPECT_NE(a["endsAt"], "0001-01-01T00:00:00Z");
  }
}

TEST(Slo, ServeBreachesAlertsOnceAndResolves) {
  TempDir tmp("sluice-e2e-slo");
  Project p(tmp.path());
  PostReceiver receiver("/hook", /*fail_first=*/2);
  const std::string command_file = p.Path("command-alerts.jsonl");
  WriteFileOrDie(p.Path("contracts/events.yaml"), kContract);
  WriteFileOrDie(p.Path("sluice.yaml"),
                 "name: slo\ntransform: {interval: 500ms}\nsources:\n  events:\n    type: http\n"
                 "    contract: contracts/events.yaml\ntables:\n  events:\n    from: events\n    key: [id]\n"
                 "    version: n\nslo:\n  interval: 200ms\n  consumer_lag: off\n  freshness: {tables: "
                 "{curated.events: 1h}}\n"
                 "  runbook_base: https://runbooks.example/\n  alerts:\n    webhook: http://127.0.0.1:" +
                     std::to_string(receiver.port()) + "/hook\n    command: \"cat >> " + command_file +
                     " && echo >> " + command_file + "\"\n");
  auto serve = ServeProcess::Start(p);
  ASSERT_NE(serve, nullptr);
  HttpClient http(serve->port());
  Json ok = WaitForState(http, "error_rate:events", "ok");
  EXPECT_EQ(ok["kind"], "error_rate");
  EXPECT_EQ(ok["source"], "events");
  EXPECT_TRUE(ok["table"].is_null());
  EXPECT_EQ(ok["objective"], 0.01);
  EXPECT_EQ(ok["unit"], "ratio");
  EXPECT_EQ(ok["runbook"], "docs/RUNBOOKS.md#error-rate");

  // 100 rows, 50 without n: dead-lettered. Every window: 50 of 100 bad, burn (0.5) / 0.01 = 50.
  HttpResponse r = http.Post("/v1/sources/events/events", Events(0, 100, Even));
  ASSERT_EQ(r.status, 200) << Describe(r);
  Json breach = WaitForState(http, "error_rate:events", "breach");
  EXPECT_DOUBLE_EQ(breach["value"].get<double>(), 0.5);
  EXPECT_EQ(breach["events"], 100);
  for (const char* w : {"5m", "1h", "6h", "3d"})
    EXPECT_NEAR(breach["burn_rates"][w].get<double>(), 50, 1e-9) << w;
  EXPECT_NEAR(breach["budget_remaining"].get<double>(), 1 - 50, 1e-9);  // 1 - 0.99 != 0.01 in binary
  // Freshness: once curated.events was committed, each evaluation measures its age (seconds).
  Json fresh;
  for (int i = 0; i < 600 && (fresh.is_null() || fresh["events"] == 0); ++i) {
    fresh = FindSlo(http.Get("/v1/slo").json(), "freshness:curated.events");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(fresh["kind"], "freshness") << fresh.dump();
  EXPECT_EQ(fresh["table"], "curated.events");
  EXPECT_EQ(fresh["objective"], 3600);
  EXPECT_EQ(fresh["unit"], "seconds");
  EXPECT_EQ(fresh["state"], "ok");
  EXPECT_GE(fresh["value"].get<double>(), 0);
  EXPECT_LT(fresh["value"].get<double>(), 600);  // committed by this test, minutes at most ago
  EXPECT_EQ(fresh["runbook"], "docs/RUNBOOKS.md#freshness");
  const std::string metrics = http.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "sluice_slo_state{slo=\"error_rate:events\"}"), 2);
  EXPECT_NEAR(MetricValue(metrics, "sluice_slo_burn_rate{slo=\"error_rate:events\",window=\"1h\"}"), 50,
              1e-9);
  EXPECT_EQ(MetricValue(metrics, "sluice_slo_objective{slo=\"error_rate:events\"}"), 0.01);

  // The receiver refused twice; the third attempt (after backoff) was taken.
  ASSERT_TRUE(receiver.WaitForAccepted(1, 30)) << serve->Stderr();
  EXPECT_EQ(receiver.bodies().size(), 3u);
  ExpectAlert(Accepted(receiver)[0], "firing", "SluiceSLOBreach", "error_rate:events", "page");

  // 5000 good rows: 50 of 5100 bad, burn 0.98 < 1 in every window: ok, the page resolved.
  r = http.Post("/v1/sources/events/events", Events(100, 5000, Never));
  ASSERT_EQ(r.status, 200) << Describe(r);
  Json recovered = WaitForState(http, "error_rate:events", "ok");
  EXPECT_NEAR(recovered["burn_rates"]["1h"].get<double>(), 50.0 / 5100 / 0.01, 1e-9);
  ASSERT_TRUE(receiver.WaitForAccepted(2, 30)) << serve->Stderr();
  ExpectAlert(Accepted(receiver)[1], "resolved", "SluiceSLOBreach", "error_rate:events", "page");
  EXPECT_EQ(Accepted(receiver)[0]["alerts"][0]["fingerprint"],
            Accepted(receiver)[1]["alerts"][0]["fingerprint"]);
  EXPECT_EQ(Accepted(receiver)[0]["alerts"][0]["startsAt"], Accepted(receiver)[1]["alerts"][0]["startsAt"]);

  // Many more evaluations in the same state send nothing more.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ProcessResult stopped = serve->Terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.Describe();
  EXPECT_EQ(Accepted(receiver).size(), 2u);
  EXPECT_EQ(receiver.bodies().size(), 4u);
  std::vector<Json> commanded = CommandAlerts(command_file);
  ASSERT_EQ(commanded.size(), 2u);
  ExpectAlert(commanded[0], "firing", "SluiceSLOBreach", "error_rate:events", "page");
  ExpectAlert(commanded[1], "resolved", "SluiceSLOBreach", "error_rate:events", "page");
}

TEST(Slo, BatchRunsAddUpAcrossProcesses) {
  TempDir tmp("sluice-e2e-slo-batch");
  Project p(tmp.path());
  const std::string command_file = p.Path("command-alerts.jsonl");
  WriteFileOrDie(p.Path("contracts/events.yaml"), kContract);
  WriteFileOrDie(p.Path("sluice.yaml"),
                 "name: slo\nsources:\n  events:\n    type: files\n    path: landing/*.jsonl\n"
                 "    max_dead_ratio: 1\n    contract: contracts/events.yaml\ntables:\n  events:\n"
                 "    from: events\n    key: [id]\n    version: n\nslo:\n"
                 "  runbook_base: https://runbooks.example/\n  alerts:\n    command: \"cat >> " +
                     command_file + " && echo >> " + command_file + "\"\n");
  // Run 1: 60 rows, 30 dead-lettered: burn 50, but 60 events < min_events (100): ok.
  WriteFileOrDie(p.Path("landing/a.jsonl"), Events(0, 60, Even));
  ProcessResult run = p.Sluice("run");
  ASSERT_TRUE(run.ok()) << run.Describe();
  ProcessResult status = p.Sluice("status", {"--json"});
  ASSERT_TRUE(status.ok()) << status.Describe();
  Json slos = Json::parse(status.out)["slo"];
  ASSERT_EQ(slos.size(), 1u) << status.out;
  EXPECT_EQ(slos[0]["name"], "error_rate:events");
  EXPECT_EQ(slos[0]["state"], "ok");
  EXPECT_EQ(slos[0]["events"], 60);
  EXPECT_NEAR(slos[0]["burn_rates"]["1h"].get<double>(), 50, 1e-9);
  EXPECT_FALSE(std::ifstream(command_file).good());  // nothing alerted

  // Run 2, another process: 60 more rows, 30 bad. With run 1's samples: 60 of 120, a breach.
  WriteFileOrDie(p.Path("landing/b.jsonl"), Events(60, 60, Even));
  run = p.Sluice("run");
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_NE(run.err.find("slo: error_rate:events: ok -> breach (docs/RUNBOOKS.md#error-rate)"),
            std::string::npos)
      << run.err;
  status = p.Sluice("status", {"--json"});
  slos = Json::parse(status.out)["slo"];
  EXPECT_EQ(slos[0]["state"], "breach");
  EXPECT_EQ(slos[0]["events"], 120);
  std::vector<Json> commanded = CommandAlerts(command_file);
  ASSERT_EQ(commanded.size(), 1u);
  ExpectAlert(commanded[0], "firing", "SluiceSLOBreach", "error_rate:events", "page");
  // The text status has one line per SLO.
  status = p.Sluice("status");
  EXPECT_NE(status.out.find("\nslo\n  breach   error_rate:events: 0.5 ratio (objective 0.01)"),
            std::string::npos)
      << status.out;

  // Run 3 with nothing new: still a breach, not alerted again.
  run = p.Sluice("run");
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_EQ(run.err.find("slo:"), std::string::npos) << run.err;
  EXPECT_EQ(CommandAlerts(command_file).size(), 1u);
}

// A free TCP port on 127.0.0.1 (bound and released: another process may take it meanwhile,
// which makes the test fail, not pass).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::set<std::string> Keys(const Json& object) {
  std::set<std::string> keys;
  for (auto& [k, v] : object.items()) keys.insert(k);
  return keys;
}

// sluice's notifications against a real Alertmanager's (Debian's prometheus-alertmanager): the
// alerts sluice sent are posted to Alertmanager, whose webhook receiver gets them back in its
// own format; every field but externalURL must be what sluice sent, the fingerprint included.
TEST(Slo, WebhookIsWhatARealAlertmanagerSends) {
  const std::string binary = "/usr/bin/prometheus-alertmanager";
  ASSERT_TRUE(std::ifstream(binary).good()) << binary << " is missing: run scripts/setup.sh";
  TempDir tmp("sluice-e2e-slo-am");
  Project p(tmp.path());
  PostReceiver receiver("/hook", /*fail_first=*/0);
  WriteFileOrDie(p.Path("contracts/events.yaml"), kContract);
  WriteFileOrDie(p.Path("sluice.yaml"),
                 "name: slo\nsources:\n  events:\n    type: files\n    path: landing/*.jsonl\n"
                 "    max_dead_ratio: 1\n    contract: contracts/events.yaml\ntables:\n  events:\n"
                 "    from: events\n    key: [id]\n    version: n\nslo:\n"
                 "  runbook_base: https://runbooks.example/\n  alerts:\n    webhook: http://127.0.0.1:" +
                     std::to_string(receiver.port()) + "/hook\n");
  // sluice: 120 rows, 60 bad (breach, firing); then 10000 good (ok, resolved).
  WriteFileOrDie(p.Path("landing/a.jsonl"), Events(0, 120, Even));
  ProcessResult run = p.Sluice("run");
  ASSERT_TRUE(run.ok()) << run.Describe();
  WriteFileOrDie(p.Path("landing/b.jsonl"), Events(120, 10000, Never));
  run = p.Sluice("run");
  ASSERT_TRUE(run.ok()) << run.Describe();
  ASSERT_EQ(Accepted(receiver).size(), 2u) << run.err;
  const std::vector<Json> ours = Accepted(receiver);
  ASSERT_EQ(ours[0]["status"], "firing");
  ASSERT_EQ(ours[1]["status"], "resolved");

  const int port = FreePort();
  WriteFileOrDie(p.Path("am.yml"),
                 "route:\n  receiver: sluice\n  group_by: [alertname, slo]\n  group_wait: 0s\n"
                 "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: sluice\n"
                 "    webhook_configs:\n      - url: http://127.0.0.1:" +
                     std::to_string(receiver.port()) + "/hook\n        send_resolved: true\n");
  pid_t am = ::fork();
  if (am == 0) {
    const std::string config = "--config.file=" + p.Path("am.yml");
    const std::string storage = "--storage.path=" + p.Path("am-data");
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    ::execl(binary.c_str(), binary.c_str(), config.c_str(), storage.c_str(), listen.c_str(),
            "--cluster.listen-address=", "--log.level=warn", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(am, 0);
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reap{am};
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    auto r = client.Get("/-/ready");
    ready = r && r->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << "alertmanager did not come up on port " << port;

  // Each of sluice's alerts, posted as Alertmanager's API takes alerts; what its webhook sends.
  for (size_t i = 0; i < ours.size(); ++i) {
    const Json& alert = ours[i]["alerts"][0];
    Json post = {{"labels", alert["labels"]},
                 {"annotations", alert["annotations"]},
                 {"startsAt", alert["startsAt"]},
                 {"generatorURL", "http://sluice.example/"}};
    if (alert["status"] == "resolved") post["endsAt"] = alert["endsAt"];
    auto r = client.Post("/api/v2/alerts", Json::array({post}).dump(), "application/json");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : httplib::to_string(r.error()));
    ASSERT_TRUE(receiver.WaitForAccepted(3 + i, 30)) << "alertmanager sent nothing";
    const Json theirs = Accepted(receiver)[2 + i];
    const Json& mine = ours[i];
    EXPECT_EQ(Keys(theirs), Keys(mine)) << theirs.dump();
    for (const char* key : {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                            "commonLabels", "commonAnnotations"}) {
      EXPECT_EQ(theirs[key], mine[key])
          << key << "\nalertmanager: " << theirs.dump() << "\nsluice: " << mine.dump();
    }
    ASSERT_EQ(theirs["alerts"].size(), 1u);
    const Json& a = theirs["alerts"][0];
    EXPECT_EQ(Keys(a), Keys(alert)) << a.dump();
    for (const char* key : {"status", "labels", "annotations", "startsAt", "endsAt", "fingerprint"}) {
      EXPECT_EQ(a[key], alert[key]) << key << "\nalertmanager: " << a.dump() << "\nsluice: " << alert.dump();
    }
  }
}

}  // namespace
}  // namespace sluice::e2e
