// Server: `sluice serve`, the long-running process of a project with stream sources.
//
//   HTTP   POST /v1/sources/<source>/events   NDJSON or a JSON array of events (type: http)
//          GET  /v1/health                    200 while serving, 503 when a source is failing
//          GET  /v1/stats                     per source: accepted, lag, accept-to-queryable
//          GET  /metrics                      Prometheus text format
//          POST /v1/admin/command             a read-only CLI command run for a client (admin)
//   NATS   one JetStream pull consumer per `type: nats` source (serve/nats_consumer.h)
//   loop   the engine thread: commits micro-batches as they come, and curates, refreshes marts
//          and publishes every `transform.interval` or after `transform.max_rows` staged rows
//
// Every write to the lake happens on the engine thread (the Engine is single-threaded); HTTP
// handlers and consumers hand it data through bounded queues and wait for the commit. A request
// is answered 200 only once its rows are committed to staging (durable, G5); its
// Idempotency-Key is committed with them (G2). The in-flight budget bounds the data held in
// memory: beyond it HTTP answers 429 with Retry-After and the consumers stop pulling.
//
// RequestStop() (SIGINT / SIGTERM) drains: new requests get 503, the consumers hand over what
// they fetched, everything accepted is committed and transformed, then Run() returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

class Catalog;
struct ProjectSpec;

// What a read command run by the server for a client printed, and its exit code.
struct CommandOutput {
  int exit_code = 0;
  std::string out;
  std::string err;
};
// Opens a read-only catalog on the server's own database for one command (Catalog::OpenReader),
// with `spec` naming the sources. Thread-safe.
using ReaderOpener = std::function<Result<std::unique_ptr<Catalog>>(const ProjectSpec& spec)>;
// Runs the `sluice` command `argv` (without the program's name) of the project in `project_dir`
// on a reader from `open_reader`, as POST /v1/admin/command asks (serve/command_api.h).
// InvalidArgument (answered 400) when `argv` is not a read-only command or its arguments are
// wrong. The CLI provides it (cli/read_commands.h): serve does not depend on the CLI.
using CommandRunner = std::function<Result<CommandOutput>(
    const std::vector<std::string>& argv, const std::string& project_dir, const ReaderOpener& open_reader)>;

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port)
  // --memory-limit: replaces the project's memory_limit. The limit is shared out between
  // DuckDB, the in-flight budget and a fixed overhead (common/memory_limit.h).
  std::optional<int64_t> memory_limit;
  int64_t max_inflight_bytes = 0;  // --max-inflight-mb; 0: an eighth of the limit
  // HTTP handlers running at once (the worker pool); connections are not bounded by it (a slow
  // client holds no thread) but by `serve.limits` (serve/http_server.h).
  int http_threads = 64;
  // Runs the read commands of POST /v1/admin/command; unset: the endpoint answers 501.
  CommandRunner commands;
};

class Server {
 public:
  // Opens the project's lake (recovering it) and binds the HTTP port. InvalidArgument when the
  // in-flight budget does not fit the memory limit (see PlanMemory) or a `serve.tls` file cannot
  // be read; Unavailable when the port cannot be bound.
  static Result<std::unique_ptr<Server>> Open(const std::string& project_dir, const ServeOptions& options);
  ~Server();

  // Serves until RequestStop(), then drains (see above). Errors only when it cannot serve at all.
  Status Run();
  // Thread-safe; returns at once.
  void RequestStop();
  int port() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
