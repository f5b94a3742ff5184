#include "common/failpoint.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "common/fault_env.h"

namespace sluice {

const std::vector<std::string>& AllFailpoints() {
  static const std::vector<std::string> kFailpoints = {
      "schema.before_commit",         // contract version registered and tables evolved, uncommitted
      "ingest.after_stage_write",     // staging Parquet written under temp names, not fsynced
      "ingest.after_fsync",           // temp files durable, catalog not yet updated
      "ingest.after_catalog_commit",  // ledger entry committed, files still under temp names
      "ingest.after_rename",          // files at final names
      "curate.before_commit",         // merge done inside the open transaction
      "curate.after_commit",          // curated committed, marts not yet refreshed
      "marts.before_commit",
      "marts.after_commit",   // marts committed, nothing published yet
      "publish.after_write",  // new snapshot directory written, not yet current
      "publish.after_swap",   // `current` switched, catalog not yet told
      // sluice serve only (not on the path of `sluice run`):
      "serve.before_answer",  // HTTP micro-batch committed, its requests not yet answered
      "serve.before_ack",     // NATS micro-batch committed, its messages not yet acknowledged
      // with serve.postgres only (warehouse/pg_publisher.cc):
      "warehouse.during_copy",    // a COPY FROM STDIN in flight: rows sent, not ended
      "warehouse.before_commit",  // partitions deleted and COPYed in PostgreSQL, not committed
      "warehouse.after_commit",   // PostgreSQL committed, the publisher not yet told
      // every OpenLineage event written to lake/lineage (ops/lineage_log.cc):
      "lineage.after_append",  // lines appended to the day's file, not yet fsynced
      // `sluice streams reset` only:
      "streams.before_reset_commit",  // position moved and the reset recorded, uncommitted
      "streams.after_reset_commit",   // reset committed, not yet reported to the operator
      // `sluice vacuum` only (engine/vacuum.h): a move to the cold tier, then a delete:
      "vacuum.after_delete_commit",  // files forgotten and retired in the catalog, still on disk
      "vacuum.after_file_remove",    // the first retired file removed, the others not yet
      "vacuum.after_cold_write",     // cold file written and fsynced, not listed by the catalog
      "vacuum.after_move_commit",    // cold file listed, hot files retired, still on disk
      "vacuum.after_hot_remove",     // the first retired hot file removed, the others not yet
      // `sluice restore` only (engine/restore.h):
      "restore.before_commit",  // the table's rows replaced and the version recorded, uncommitted
      "restore.after_commit",   // restore committed, its snapshot not yet published
  };
  return kFailpoints;
}

namespace {

std::map<std::string, std::string, std::less<>> ParseArmed() {
  std::map<std::string, std::string, std::less<>> armed;
  const char* env = std::getenv("SLUICE_FAILPOINTS");
  if (env == nullptr) return armed;
  std::string spec(env);
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    std::string item = spec.substr(pos, comma - pos);
    size_t eq = item.find('=');
    if (!item.empty()) {
      armed[item.substr(0, eq)] = eq == std::string::npos ? "crash" : item.substr(eq + 1);
    }
    pos = comma + 1;
  }
  return armed;
}

const std::map<std::string, std::string, std::less<>>& Armed() {
  static const auto armed = ParseArmed();
  return armed;
}

// Drops what no sync made durable, leaves the marker, dies like the power went off.
[[noreturn]] void PowerCutAndDie(std::string_view name) {
  auto* env = dynamic_cast<FaultInjectionEnv*>(Env::Default());
  Status st = Status::Aborted("no fault-injecting Env");
  if (env != nullptr) {
    st = env->PowerCut();
    // Written past the model (the base class's WriteFile): the cut has already happened.
    if (st.ok()) st = env->Env::WriteFile(env->root() + "/" + kPowerCutMarker, std::string(name) + "\n");
  }
  if (st.ok()) {
    std::fprintf(stderr, "sluice: power cut at %.*s\n", static_cast<int>(name.size()), name.data());
  } else {
    std::fprintf(stderr, "sluice: power cut at %.*s failed: %s\n", static_cast<int>(name.size()), name.data(),
                 st.ToString().c_str());
  }
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);
}

}  // namespace

int64_t InjectedMutationFailure() {
  static const int64_t n = [] {
    const char* env = std::getenv("SLUICE_FAIL_MUTATION");
    return env == nullptr ? int64_t{0} : std::max<int64_t>(0, std::atoll(env));
  }();
  return n;
}

bool PowerCutArmed() {
  for (const auto& [name, action] : Armed()) {
    if (action == "powercut") return true;
  }
  return false;
}

Status Failpoint(std::string_view name) {
  const auto& armed = Armed();
  if (armed.empty()) return Status::OK();
  auto it = armed.find(name);
  if (it == armed.end()) return Status::OK();
  if (it->second == "error") {
    return Status::IOError(std::string(name), "injected error (SLUICE_FAILPOINTS)");
  }
  if (it->second == "powercut") PowerCutAndDie(name);
  if (it->second == "stop") {
    // The first time any failpoint armed with `stop` is reached: the whole process stops
    // (SIGSTOP) until a SIGCONT, and goes on as if nothing happened. Later hits pass.
    static std::atomic<bool> stopped{false};
    if (!stopped.exchange(true)) ::raise(SIGSTOP);
    return Status::OK();
  }
  // "crash": die the way kill -9 does, without flushing or running destructors.
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);
}

}  // namespace sluice
