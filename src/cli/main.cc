// sluice: the command-line entry point. Parses arguments with CLI11 and dispatches to
// commands.h; never lets an exception reach the user.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace sluice::cli;
  CLI::App app{"sluice: files -> staging -> curated -> marts, exactly once"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");

  InitArgs init;
  auto* c_init = app.add_subcommand("init", "Create a runnable example project in DIR");
  c_init->add_option("dir", init.dir, "Project directory to create")->required();

  GenerateArgs gen;
  auto* c_gen = app.add_subcommand("generate", "Write generated order files and expected.json to DIR");
  c_gen->add_option("dir", gen.dir, "Output directory")->required();
  c_gen->add_option("--orders", gen.orders, "Distinct orders")->check(CLI::PositiveNumber);
  c_gen->add_option("--batches", gen.batches, "Files (one batch each)")->check(CLI::Range(1, 100000));
  c_gen->add_option("--seed", gen.seed, "Random seed");
  c_gen->add_option("--format", gen.format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));

  RunArgs run;
  auto* c_run = app.add_subcommand("run", "Ingest new files, curate, refresh marts, publish");
  c_run->add_option("--project", run.project, "Project directory (default: .)");
  c_run->add_flag("--json", run.json, "Print the run summary as JSON");
  c_run->add_flag("--full-refresh", run.full_refresh, "Rebuild curated tables and marts whole");

  IngestArgs ing;
  auto* c_ing = app.add_subcommand("ingest", "Load files as batches of SOURCE");
  c_ing->add_option("source", ing.source, "Source name")->required();
  c_ing->add_option("files", ing.files, "Files, one batch each")->required();
  c_ing->add_option("--batch-id", ing.batch_id, "Batch id (default: the content hash)");
  c_ing->add_option("--project", ing.project, "Project directory (default: .)");
  c_ing->add_flag("--json", ing.json, "Print outcomes as JSON");

  QueryArgs q;
  auto* c_q = app.add_subcommand("query", "Run read-only SQL over the lake");
  c_q->add_option("sql", q.sql, "SQL")->required();
  c_q->add_option("--format", q.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  c_q->add_option("--project", q.project, "Project directory (default: .)");

  StatusArgs st;
  auto* c_st = app.add_subcommand("status", "Show batches, rows, freshness and DLQ per source/table");
  c_st->add_option("--project", st.project, "Project directory (default: .)");
  c_st->add_flag("--json", st.json, "Print as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*c_init) return Init(init);
    if (*c_gen) return Generate(gen);
    if (*c_run) return Run(run);
    if (*c_ing) {
      if (!ing.batch_id.empty() && ing.files.size() > 1) {
        return Fail("--batch-id names one batch: give exactly one file");
      }
      return Ingest(ing);
    }
    if (*c_q) return Query(q);
    if (*c_st) return ShowStatus(st);
  } catch (const std::exception& e) {
    return Fail(std::string("internal error: ") + e.what());
  }
  return 2;
}
