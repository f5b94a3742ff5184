// The read-only commands -- `sluice status`, `dlq list|show`, `batches list`, `schema
// check|history|diff`, `trace` -- and where they run. Each command's body writes to the streams of a
// ReadContext and reaches the lake through its `open`, so the same body runs in this process on
// the lake opened read-only, or inside the `sluice serve` that holds the lake (DuckDB's file lock
// keeps other processes out), on a reader of the server's own database, for a client on the same
// machine (POST /v1/admin/command, serve/command_api.h). Either way it prints the same.
//
// The commands that write (run, ingest, batches release|drop, dlq redrive, vacuum, schema
// accept, streams reset) refuse while serve holds the lake, saying so (FailWhileServing).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "common/status.h"
#include "serve/server.h"
#include "spec/spec.h"

namespace sluice::cli {

// What a read command's body is given.
struct ReadContext {
  ProjectSpec spec;  // the project as loaded from its directory for this command
  // The lake, read-only (a lake that does not exist: NotFound). Called at most once.
  std::function<Result<std::unique_ptr<Catalog>>()> open;
  std::ostream& out;
  std::ostream& err;

  // Writes "error: <message>" to err and returns 1, as cli::Fail does.
  int Fail(const std::string& message);
};

// The bodies (cmd_query.cc, cmd_dlq.cc, cmd_batches.cc, cmd_schema.cc); each returns the exit code.
int StatusOf(const StatusArgs& args, ReadContext& ctx);
int DlqList(const DlqArgs& args, ReadContext& ctx);
int DlqShow(const DlqArgs& args, ReadContext& ctx);
int BatchesList(const BatchesArgs& args, ReadContext& ctx);
int SchemaRead(const SchemaArgs& args, ReadContext& ctx);  // check, history or diff
int TraceOf(const TraceArgs& args, ReadContext& ctx);      // cmd_trace.cc

// Runs a read command of this process's command line: loads the project in `project` and opens
// its lake read-only (with `memory_limit`, --memory-limit as given) when `needs_lake`; when a
// running `sluice serve` holds the lake, sends `argv` (the command as the server parses it,
// without --project and --memory-limit) to it instead, prints its answer and one line on stderr
// saying who answered, and returns its exit code. `body` prints to std::cout and std::cerr.
// When that server cannot be asked (Unavailable: it does not answer), `unanswered`
// (if set) is called with the project, the server's serve.json and why; otherwise that is the
// error.
using Unanswered =
    std::function<int(const ProjectSpec& spec, const nlohmann::json& serve, const Status& why)>;
int RunRead(const std::string& project, const std::string& memory_limit, const std::vector<std::string>& argv,
            bool needs_lake, const std::function<int(ReadContext&)>& body,
            const Unanswered& unanswered = nullptr);

// The CommandRunner of `sluice serve` (serve/server.h): parses `argv` with the CLI's definitions
// (cli/command_line.h), refuses what is not a read command, --project, --memory-limit and
// `schema check --against` (it reads files and git where the client is), and runs the command's
// body on a reader of the server's lake, capturing what it prints.
Result<CommandOutput> RunForServe(const std::vector<std::string>& argv, const std::string& project_dir,
                                  const ReaderOpener& open_reader);

// A command that writes could not open the lake: when the reason is a running `sluice serve`
// holding it, an error naming the server and saying `instead` (what to do: "stop sluice serve
// first", an HTTP endpoint...); otherwise `status` as it is. Prints it and returns 1.
int FailWhileServing(const std::string& project, const Status& status, const std::string& command,
                     const std::string& instead);

}  // namespace sluice::cli
