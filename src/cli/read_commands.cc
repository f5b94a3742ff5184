// Where the read commands run (read_commands.h): here, or in the `sluice serve` holding the lake.
#include "cli/read_commands.h"

#include <exception>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/command_line.h"
#include "cli/serve_client.h"
#include "cli/stream_status.h"

namespace sluice::cli {

namespace {

// "pid 123, http://127.0.0.1:8080": the server of a serve.json, for messages.
std::string DescribeServe(const nlohmann::json& serve) {
  return "pid " + serve["pid"].dump() + ", " + serve.value("listen", "");
}

// "dlq list" of ["dlq", "list", "--json"]: the command's words, for messages.
std::string CommandWords(const std::vector<std::string>& argv) {
  std::string words;
  for (const auto& a : argv) {
    if (a.empty() || a[0] == '-') break;
    words += (words.empty() ? "" : " ") + a;
    if (a != "dlq" && a != "batches" && a != "schema") break;
  }
  return words;
}

// The server's answer to `argv`, printed as the command prints it, and its exit code.
int AskServer(const ProjectSpec& spec, const nlohmann::json& serve, const std::vector<std::string>& argv,
              const Unanswered& unanswered) {
  Result<nlohmann::json> answer = AskServeCommand(serve, argv);
  if (!answer.ok() && unanswered && answer.status().code() == StatusCode::kUnavailable) {
    return unanswered(spec, serve, answer.status());
  }
  if (!answer.ok()) return Fail(answer.status().message());
  std::cerr << "sluice " << CommandWords(argv) << ": answered by the running sluice serve ("
            << DescribeServe(serve) << ")" << std::endl;
  std::cout << (*answer)["stdout"].get<std::string>() << std::flush;
  std::cerr << (*answer)["stderr"].get<std::string>() << std::flush;
  return (*answer)["exit_code"].get<int>();
}

// The body of the read command `cl` parsed.
int RunParsed(CommandLine& cl, ReadContext& ctx) {
  if (*cl.c_status) return StatusOf(cl.status, ctx);
  if (*cl.c_dlq_list) return DlqList(cl.dlq, ctx);
  if (*cl.c_dlq_show) return DlqShow(cl.dlq, ctx);
  if (*cl.c_batches_list) return BatchesList(cl.batches, ctx);
  if (*cl.c_trace) return TraceOf(cl.trace, ctx);
  return SchemaRead(cl.schema, ctx);
}

}  // namespace

int ReadContext::Fail(const std::string& message) {
  err << "error: " << message << std::endl;
  return 1;
}

int RunRead(const std::string& project, const std::string& memory_limit, const std::vector<std::string>& argv,
            bool needs_lake, const std::function<int(ReadContext&)>& body, const Unanswered& unanswered) {
  auto spec = LoadProject(project);
  if (!spec.ok()) return Fail(spec.status().message());
  if (auto limit = MemoryLimitFlag(memory_limit)) spec->memory_limit_bytes = limit;
  auto open_here = [&]() -> Result<std::unique_ptr<Catalog>> {
    CatalogOptions options;
    options.read_only = true;
    return Catalog::Open(*spec, options);
  };
  std::optional<Result<std::unique_ptr<Catalog>>> opened;
  if (needs_lake) {
    opened = open_here();
    if (!opened->ok() && opened->status().code() == StatusCode::kUnavailable) {
      // DuckDB's lock keeps us out; when its holder is `sluice serve`, it answers instead.
      if (std::optional<nlohmann::json> serve = RunningServe(*spec)) {
        return AskServer(*spec, *serve, argv, unanswered);
      }
    }
  }
  ReadContext ctx{*spec, nullptr, std::cout, std::cerr};
  ctx.open = [&]() -> Result<std::unique_ptr<Catalog>> {
    if (!opened) return open_here();
    Result<std::unique_ptr<Catalog>> out = std::move(*opened);
    opened.reset();
    return out;
  };
  return body(ctx);
}

Result<CommandOutput> RunForServe(const std::vector<std::string>& argv, const std::string& project_dir,
                                  const ReaderOpener& open_reader) {
  CommandLine cl;
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());  // CLI11 takes them last first
  try {
    cl.app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return Status::InvalidArgument("--help and --version are not run by the server");
    }
    return Status::InvalidArgument(ParseFailureMessage(cl.app, e));
  }
  // Exactly one command, and one of the read commands (CLI11 would take a sibling subcommand
  // after the first one's arguments).
  const std::string chosen = cl.Chosen();
  const std::vector<CLI::App*> commands = cl.app.get_subcommands();
  const bool one = commands.size() == 1 && commands.front()->get_subcommands().size() <= 1;
  if (!one || !(chosen == "status" || chosen == "dlq list" || chosen == "dlq show" ||
                chosen == "batches list" || chosen == "schema check" || chosen == "schema history" ||
                chosen == "schema diff" || chosen == "trace")) {
    return Status::InvalidArgument("`sluice " + chosen + "` is not a read command");
  }
  if (cl.ProjectGiven() || cl.MemoryLimitGiven()) {
    return Status::InvalidArgument("--project and --memory-limit are the server's own: leave them out");
  }
  if (*cl.c_schema_check && !cl.schema.against.empty()) {
    return Status::InvalidArgument(
        "schema check --against reads a file or git where the client is: run it there (it does not "
        "open the lake)");
  }
  cl.SetActions();
  std::ostringstream out, err;
  auto spec = LoadProject(project_dir);
  if (!spec.ok()) {
    err << "error: " << spec.status().message() << "\n";
    return CommandOutput{1, out.str(), err.str()};
  }
  ReadContext ctx{*spec, nullptr, out, err};
  ctx.open = [&]() { return open_reader(ctx.spec); };
  int code = 0;
  try {
    code = RunParsed(cl, ctx);
  } catch (const std::exception& e) {
    code = ctx.Fail(std::string("internal error: ") + e.what());
  }
  return CommandOutput{code, out.str(), err.str()};
}

int FailWhileServing(const std::string& project, const Status& status, const std::string& command,
                     const std::string& instead) {
  if (status.code() == StatusCode::kUnavailable) {
    auto spec = LoadProject(project);
    std::optional<nlohmann::json> serve;
    if (spec.ok()) serve = RunningServe(*spec);
    if (serve) {
      return Fail("the lake " + spec->lake + " is held by the running sluice serve (" +
                  DescribeServe(*serve) + "), and `sluice " + command + "` writes to it: " + instead);
    }
  }
  return Fail(status.message());
}

}  // namespace sluice::cli
