// `sluice serve`: HTTP push, NATS consumers and the continuous transform (serve/server.h).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/read_commands.h"
#include "common/env.h"
#include "common/log.h"
#include "serve/server.h"

namespace sluice::cli {

namespace {

// "127.0.0.1:8080" -> host, port. False when it is not host:port.
bool ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  *port = std::stoi(p);
  if (*port > 65535) return false;
  *host = listen.substr(0, colon);
  return true;
}

}  // namespace

int Serve(const ServeArgs& args) {
  ServeOptions options;
  if (!ParseListen(args.listen, &options.host, &options.port)) {
    return Fail("--listen '" + args.listen + "' is not host:port (e.g. 127.0.0.1:8080)");
  }
  options.memory_limit = MemoryLimitFlag(args.memory_limit);
  options.max_inflight_bytes = args.max_inflight_mb << 20;  // 0: derived from the memory limit
  // `sluice status`, `dlq list`... of this machine, run for them while we hold the lake.
  options.commands = RunForServe;

  // SIGINT/SIGTERM are taken by one thread with sigwait: every other thread has them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto server = Server::Open(args.project, options);
  if (!server.ok()) return Fail(server.status().message());
  Server* s = server->get();
  std::thread signals([s, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig == 0) return;
    s->RequestStop();
    sigwait(&stop_signals, &sig);  // a second one: stop now; the next start recovers (G5)
    LogLine(Env::Default(), LogLevel::kWarning, "sluice serve", "second signal, exiting without draining");
    std::_Exit(130);
  });
  signals.detach();
  if (args.port_file.size()) {
    // For scripts and tests that ask for port 0: the bound port, written once listening.
    Env* env = Env::Default();
    std::string tmp = args.port_file + ".tmp";
    if (env->WriteFile(tmp, std::to_string(s->port()) + "\n").ok()) {
      (void)env->Rename(tmp, args.port_file);
    }
  }
  Status st = s->Run();
  if (!st.ok()) return Fail(st.message());
  return 0;
}

}  // namespace sluice::cli
