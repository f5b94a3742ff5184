// sluice: the command-line entry point. Parses arguments with CLI11 (cli/command_line.h) and
// dispatches to commands.h; never lets an exception reach the user.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/log.h"

// The command line: builds the commands, parses, runs one. Exceptions from the commands become
// "internal error" lines here; main() catches what escapes while the commands are built.
static int RunCommandLine(int argc, char** argv) {
  using namespace sluice::cli;
  using sluice::LogFormat;
  using sluice::ParseLogFormat;
  using sluice::SetLogFormat;
  CommandLine cl;
  CLI::App& app = cl.app;

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0: printed as CLI11 does.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "error: %s\n", ParseFailureMessage(app, e).c_str());
    return 2;
  }

  // A misplaced --project is a usage error: exit status 2.
  if (*cl.global_project_option) {
    bool applies = false;
    for (const auto& [command, project] : cl.project_of) {
      if (!*command) continue;
      applies = true;
      if (*command->get_option("--project") && *project != cl.global_project) {
        Fail("--project given twice (" + cl.global_project + " and " + *project + ")");
        return 2;
      }
      *project = cl.global_project;
    }
    if (!applies) {
      Fail("--project does not apply to `" + app.get_subcommands().front()->get_name() + "`");
      return 2;
    }
  }

  cl.SetActions();
  LogFormat format = LogFormat::kText;
  if (ParseLogFormat(cl.log_format, &format)) SetLogFormat(format);
  try {
    if (*cl.c_init) return Init(cl.init);
    if (*cl.c_gen) return Generate(cl.gen);
    if (*cl.c_run) return Run(cl.run);
    if (*cl.c_ing) {
      if (!cl.ing.batch_id.empty() && cl.ing.files.size() > 1) {
        return Fail("--batch-id names one batch: give exactly one file");
      }
      return Ingest(cl.ing);
    }
    if (*cl.c_query) return Query(cl.query);
    if (*cl.c_lineage) return Lineage(cl.lineage);
    if (*cl.c_trace) return Trace(cl.trace);
    if (*cl.c_status) return ShowStatus(cl.status);
    if (*cl.c_serve) return Serve(cl.serve);
    if (*cl.c_schema) return Schema(cl.schema);
    if (*cl.c_batches) return Batches(cl.batches);
    if (*cl.c_dlq) return Dlq(cl.dlq);
    if (*cl.c_vacuum) return Vacuum(cl.vacuum);
    if (*cl.c_restore) return Restore(cl.restore);
    if (*cl.c_streams) return Streams(cl.streams);
  } catch (const std::exception& e) {
    return Fail(std::string("internal error: ") + e.what());
  }
  return 2;
}

int main(int argc, char** argv) {
  try {
    return RunCommandLine(argc, argv);
  } catch (...) {
    std::fputs("error: internal error while reading the command line\n", stderr);
    return 2;
  }
}
