// The command line of `sluice`: every command and its arguments, defined once with CLI11. main.cc
// parses the process's arguments with it; `sluice serve` parses the argv of a read command a
// client sends it (cli/read_commands.h) with the same definitions, so both validate alike.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"

namespace sluice::cli {

// The parsed arguments of every command and the CLI11 (sub)commands that fill them. Build one per
// parse: CLI11 keeps what it parsed in the App. Not copyable (CLI11 keeps pointers into it).
struct CommandLine {
  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  CLI::App app{"sluice: files -> staging -> curated -> marts, exactly once"};

  InitArgs init;
  GenerateArgs gen;
  RunArgs run;
  IngestArgs ing;
  QueryArgs query;
  ServeArgs serve;
  StatusArgs status;
  SchemaArgs schema;
  BatchesArgs batches;
  DlqArgs dlq;
  VacuumArgs vacuum;
  RestoreArgs restore;
  StreamsArgs streams;
  LineageArgs lineage;
  TraceArgs trace;
  std::string log_format = "text";  // --log-format text|json (common/log.h)

  CLI::App* c_init = nullptr;
  CLI::App* c_gen = nullptr;
  CLI::App* c_run = nullptr;
  CLI::App* c_ing = nullptr;
  CLI::App* c_query = nullptr;
  CLI::App* c_serve = nullptr;
  CLI::App* c_status = nullptr;
  CLI::App* c_schema = nullptr;
  CLI::App* c_schema_check = nullptr;
  CLI::App* c_schema_history = nullptr;
  CLI::App* c_schema_diff = nullptr;
  CLI::App* c_schema_accept = nullptr;
  CLI::App* c_batches = nullptr;
  CLI::App* c_batches_list = nullptr;
  CLI::App* c_batches_release = nullptr;
  CLI::App* c_batches_drop = nullptr;
  CLI::App* c_dlq = nullptr;
  CLI::App* c_dlq_list = nullptr;
  CLI::App* c_dlq_show = nullptr;
  CLI::App* c_dlq_redrive = nullptr;
  CLI::App* c_vacuum = nullptr;
  CLI::App* c_restore = nullptr;
  CLI::App* c_streams = nullptr;
  CLI::App* c_streams_reset = nullptr;
  CLI::App* c_lineage = nullptr;
  CLI::App* c_trace = nullptr;

  // `sluice --project DIR <command>`: the global placement of every command's --project.
  std::string global_project;
  CLI::Option* global_project_option = nullptr;
  // Each command that takes --project, with where its value goes.
  std::vector<std::pair<CLI::App*, std::string*>> project_of;

  // After a parse: "status", "dlq list", "schema history"... the command given.
  std::string Chosen() const;
  // After a parse: whether --project or --memory-limit was given anywhere on the line.
  bool ProjectGiven() const;
  bool MemoryLimitGiven() const;
  // After a parse: the action field of the group chosen (SchemaArgs::action, ...) set from the
  // subcommand given.
  void SetActions();
};

// A parse error as the one line every failure prints, naming the command's --help:
// "<what> (see `sluice dlq list --help`)" (without "error: ").
std::string ParseFailureMessage(const CLI::App& app, const CLI::ParseError& e);

}  // namespace sluice::cli
