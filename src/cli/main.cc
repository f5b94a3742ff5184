// sluice: the command-line entry point. Parses arguments with CLI11 and dispatches to
// commands.h; never lets an exception reach the user.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/ledger.h"
#include "cli/commands.h"
#include "common/memory_limit.h"
#include "ingest/record_batch.h"

namespace {

// `--memory-limit SIZE` on a command: the memory of the process (sluice.yaml's memory_limit
// otherwise, then the command's default; docs/PROJECT.md).
void AddMemoryLimit(CLI::App* command, std::string* value, const std::string& default_text) {
  command
      ->add_option("--memory-limit", *value,
                   "Memory for this process, e.g. 512MB or 2GB (default: memory_limit in "
                   "sluice.yaml, else " +
                       default_text + ")")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            std::optional<int64_t> bytes = sluice::ParseByteSize(v);
            if (!bytes) return "'" + v + "' is not a size; write e.g. 512MB, 2GB or 1.5GiB";
            if (*bytes < sluice::kMinMemoryLimit) {
              return "'" + v + "' is below the minimum of " + sluice::FormatBytes(sluice::kMinMemoryLimit);
            }
            return "";
          },
          "SIZE"));
}

// A whole number >= 1 (CLI::PositiveNumber accepts any double > 0 and names its range in
// 300 digits).
CLI::Validator WholeNumberAtLeastOne(const std::string& what) {
  return CLI::Validator(
      [what](std::string& v) -> std::string {
        int64_t n = 0;
        const char* end = v.data() + v.size();
        auto [ptr, ec] = std::from_chars(v.data(), end, n);
        if (ec != std::errc() || ptr != end || n < 1) {
          return "'" + v + "' is not a number of " + what + "; give a whole number of 1 or more";
        }
        return "";
      },
      "N>=1");
}

// A whole number in lo..hi, named with its range in the error.
CLI::Validator WholeNumberInRange(const std::string& what, int64_t lo, int64_t hi) {
  return CLI::Validator(
      [what, lo, hi](std::string& v) -> std::string {
        int64_t n = 0;
        const char* end = v.data() + v.size();
        auto [ptr, ec] = std::from_chars(v.data(), end, n);
        if (ec != std::errc() || ptr != end || n < lo || n > hi) {
          return "'" + v + "' is not a number of " + what + "; give a whole number from " +
                 std::to_string(lo) + " to " + std::to_string(hi);
        }
        return "";
      },
      "N");
}

// The allowed values of a filter option, named in the error when another is given.
CLI::Validator OneOf(const std::vector<std::string>& allowed) {
  return CLI::Validator(
      [allowed](std::string& v) -> std::string {
        if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return "";
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        return "unknown value '" + v + "' (one of: " + names + ")";
      },
      "VALUE");
}

// A parse error as the one line every failure prints, naming the command's --help.
int ParseFailure(const CLI::App& app, const CLI::ParseError& e) {
  std::string what = e.what();
  for (char& c : what) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!what.empty() && what.back() == ' ') what.pop_back();
  std::string command = "sluice";
  const CLI::App* a = &app;
  for (;;) {
    auto parsed = a->get_subcommands();
    if (parsed.empty()) break;
    a = parsed.front();
    command += " " + a->get_name();
  }
  // `sluice nosuch`: CLI11 says "A subcommand is required"; name the word it did not know.
  const std::vector<std::string> left = a->remaining();
  if (a->get_require_subcommand_min() > 0 && !left.empty() && !left.front().empty() &&
      left.front()[0] != '-') {
    std::string known;
    for (const CLI::App* s : a->get_subcommands({})) known += (known.empty() ? "" : ", ") + s->get_name();
    what = "unknown command '" + left.front() + "' (commands: " + known + ")";
  }
  std::fprintf(stderr, "error: %s (see `%s --help`)\n", what.c_str(), command.c_str());
  return 2;
}

constexpr const char* kPipelineDefault = "half the RAM, at most 8 GiB";
constexpr const char* kQueryDefault = "a quarter of the RAM, at most 1 GiB";

}  // namespace

// The command line: builds the commands, parses, runs one. Exceptions from the commands become
// "internal error" lines here; main() catches what escapes while the commands are built.
static int RunCommandLine(int argc, char** argv) {
  using namespace sluice::cli;
  CLI::App app{"sluice: files -> staging -> curated -> marts, exactly once"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");

  InitArgs init;
  auto* c_init = app.add_subcommand("init", "Create a runnable example project in DIR");
  c_init->add_option("dir", init.dir, "Project directory to create")->required();
  c_init->add_option("--name", init.name, "Project name (default: DIR's name, made a valid identifier)");

  GenerateArgs gen;
  auto* c_gen = app.add_subcommand("generate", "Write generated order files and expected.json to DIR");
  c_gen->add_option("dir", gen.dir, "Output directory")->required();
  c_gen->add_option("--orders", gen.orders, "Distinct orders")->check(WholeNumberAtLeastOne("orders"));
  c_gen->add_option("--batches", gen.batches, "Files (one batch each)")->check(CLI::Range(1, 100000));
  c_gen->add_option("--tenants", gen.tenants, "Tenants t00.. (t00 skewed, ~30% of orders), 1-100 (default 8)")
      ->check(WholeNumberInRange("tenants", 1, 100));
  c_gen->add_option("--days", gen.days, "Days from 2026-01-01 the orders are spread over, 1-31 (default 7)")
      ->check(WholeNumberInRange("days", 1, 31));
  c_gen->add_option("--seed", gen.seed, "Random seed");
  c_gen->add_option("--format", gen.format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  c_gen->add_flag("--force", gen.force,
                  "Write into a non-empty DIR, first removing an earlier generate's batch-NNNN.* and "
                  "expected.json (other files are kept)");

  RunArgs run;
  auto* c_run = app.add_subcommand("run", "Ingest new files, curate, refresh marts, publish");
  c_run->add_option("--project", run.project, "Project directory (default: .)");
  c_run->add_flag("--json", run.json, "Print the run summary as JSON");
  c_run->add_flag("--full-refresh", run.full_refresh, "Rebuild curated tables and marts whole");
  AddMemoryLimit(c_run, &run.memory_limit, kPipelineDefault);

  IngestArgs ing;
  auto* c_ing = app.add_subcommand("ingest", "Load files as batches of SOURCE");
  c_ing->add_option("source", ing.source, "Source name")->required();
  c_ing->add_option("files", ing.files, "Files, one batch each")->required();
  c_ing->add_option("--batch-id", ing.batch_id, "Batch id (default: the content hash)");
  c_ing->add_option("--project", ing.project, "Project directory (default: .)");
  c_ing->add_flag("--json", ing.json, "Print outcomes as JSON");
  AddMemoryLimit(c_ing, &ing.memory_limit, kPipelineDefault);

  QueryArgs q;
  auto* c_q = app.add_subcommand("query", "Run read-only SQL over the lake");
  c_q->add_option("sql", q.sql, "SQL")->required();
  c_q->add_option("--format", q.format, "table, csv or json")->check(CLI::IsMember({"table", "csv", "json"}));
  c_q->add_option("--project", q.project, "Project directory (default: .)");
  AddMemoryLimit(c_q, &q.memory_limit, kQueryDefault);

  ServeArgs srv;
  auto* c_srv =
      app.add_subcommand("serve", "Serve HTTP push and NATS sources; curate and refresh marts continuously");
  c_srv->add_option("--project", srv.project, "Project directory (default: .)");
  c_srv->add_option("--listen", srv.listen, "HTTP address (default: 127.0.0.1:8080; port 0: any)");
  AddMemoryLimit(c_srv, &srv.memory_limit, kPipelineDefault);
  c_srv
      ->add_option("--max-inflight-mb", srv.max_inflight_mb,
                   "Memory for accepted, not yet committed data, within the memory limit; beyond "
                   "it HTTP answers 429 and consumers pause (default: an eighth of the limit)")
      ->check(CLI::Range(1, 1 << 20));
  c_srv->add_option("--port-file", srv.port_file, "Write the bound HTTP port to this file");

  StatusArgs st;
  auto* c_st = app.add_subcommand("status", "Show batches, rows, freshness and DLQ per source/table");
  c_st->add_option("--project", st.project, "Project directory (default: .)");
  c_st->add_flag("--json", st.json, "Print as JSON");
  AddMemoryLimit(c_st, &st.memory_limit, kQueryDefault);

  SchemaArgs sch;
  auto* c_sch = app.add_subcommand("schema", "Contract versions and compatibility");
  c_sch->require_subcommand(1);
  c_sch->add_option("--project", sch.project, "Project directory (default: .)");
  AddMemoryLimit(c_sch, &sch.memory_limit, kQueryDefault);
  auto* c_sch_check = c_sch->add_subcommand("check", "Exit non-zero if a contract change is incompatible");
  c_sch_check->add_option("source", sch.source, "Only this source (default: all)");
  c_sch_check->add_option("--against", sch.against, "A git revision or contract file to compare with");
  c_sch_check->add_flag("--json", sch.json, "Print as JSON");
  auto* c_sch_hist = c_sch->add_subcommand("history", "Registered versions of a source's contract");
  c_sch_hist->add_option("source", sch.source, "Source")->required();
  c_sch_hist->add_flag("--json", sch.json, "Print as JSON");
  auto* c_sch_diff = c_sch->add_subcommand("diff", "Column changes between two versions");
  c_sch_diff->add_option("source", sch.source, "Source")->required();
  c_sch_diff->add_option("v1", sch.v1, "Older version")->required();
  c_sch_diff->add_option("v2", sch.v2, "Newer version")->required();
  c_sch_diff->add_flag("--json", sch.json, "Print as JSON");
  auto* c_sch_acc = c_sch->add_subcommand(
      "accept", "Accept one refusal of the working-copy contract once (recorded in the registry)");
  c_sch_acc->add_option("source", sch.source, "Source")->required();
  c_sch_acc->add_option("--column", sch.column, "The refused column (or check name)")->required();
  c_sch_acc->add_option("--rule", sch.rule, "The refused rule, e.g. range_widened")->required();
  // `sluice schema check --project DIR`: --project belongs to `schema`.
  for (auto* c : {c_sch_check, c_sch_hist, c_sch_diff, c_sch_acc}) c->fallthrough();

  BatchesArgs bat;
  auto* c_bat = app.add_subcommand("batches", "List, release or drop batches");
  c_bat->require_subcommand(1);
  c_bat->add_option("--project", bat.project, "Project directory (default: .)");
  AddMemoryLimit(c_bat, &bat.memory_limit,
                 "list: " + std::string(kQueryDefault) + "; release, drop: " + kPipelineDefault);
  auto* c_bat_list = c_bat->add_subcommand("list", "Batches in the ledger");
  c_bat_list->add_option("--status", bat.status, "Only this status (e.g. quarantined)")
      ->check(OneOf({sluice::kBatchStatuses.begin(), sluice::kBatchStatuses.end()}));
  c_bat_list->add_flag("--json", bat.json, "Print as JSON");
  auto* c_bat_rel = c_bat->add_subcommand("release", "Promote a quarantined batch");
  c_bat_rel->add_option("id", bat.id, "Batch id")->required();
  auto* c_bat_drop = c_bat->add_subcommand("drop", "Discard a quarantined batch");
  c_bat_drop->add_option("id", bat.id, "Batch id")->required();
  // `sluice batches list --project DIR` as well as `sluice batches --project DIR list`.
  for (auto* c : {c_bat_list, c_bat_rel, c_bat_drop}) c->fallthrough();

  DlqArgs dlq;
  auto* c_dlq = app.add_subcommand("dlq", "Inspect and redrive dead-lettered rows");
  c_dlq->require_subcommand(1);
  c_dlq->add_option("--project", dlq.project, "Project directory (default: .)");
  AddMemoryLimit(c_dlq, &dlq.memory_limit,
                 "list, show: " + std::string(kQueryDefault) + "; redrive: " + kPipelineDefault);
  auto* c_dlq_list = c_dlq->add_subcommand("list", "Dead-lettered rows");
  c_dlq_list->add_option("source", dlq.source, "Only this source");
  const std::vector<std::string> reasons(sluice::reason::kAll.begin(), sluice::reason::kAll.end());
  c_dlq_list->add_option("--reason", dlq.reason, "Only this reason")->check(OneOf(reasons));
  c_dlq_list->add_option("--batch", dlq.batch, "Only this batch");
  c_dlq_list->add_flag("--json", dlq.json, "Print as JSON");
  auto* c_dlq_show = c_dlq->add_subcommand("show", "One dead-lettered row in full");
  c_dlq_show->add_option("id", dlq.id, "DLQ row id")->required();
  c_dlq_show->add_flag("--json", dlq.json, "Print as JSON");
  auto* c_dlq_redrive = c_dlq->add_subcommand("redrive", "Re-validate rows against the current contract");
  c_dlq_redrive->add_option("source", dlq.source, "Source")->required();
  c_dlq_redrive->add_option("--reason", dlq.reason, "Only rows with this reason")->check(OneOf(reasons));
  c_dlq_redrive->add_flag("--json", dlq.json, "Print as JSON");
  // `sluice dlq list --project DIR` as well as `sluice dlq --project DIR list`.
  for (auto* c : {c_dlq_list, c_dlq_show, c_dlq_redrive}) c->fallthrough();

  VacuumArgs vac;
  auto* c_vac = app.add_subcommand("vacuum", "Apply retention: delete expired DLQ rows");
  c_vac->add_option("--project", vac.project, "Project directory (default: .)");
  c_vac->add_flag("--json", vac.json, "Print as JSON");
  AddMemoryLimit(c_vac, &vac.memory_limit, kPipelineDefault);

  StreamsArgs streams;
  auto* c_streams = app.add_subcommand("streams", "Positions of nats sources in their streams");
  c_streams->require_subcommand(1);
  c_streams->add_option("--project", streams.project, "Project directory (default: .)");
  auto* c_streams_reset = c_streams->add_subcommand(
      "reset",
      "Set where SOURCE resumes in its stream after serve refused it (replaced, went backwards); "
      "recorded in the catalog. Opens the lake for writing: stop `sluice serve` first");
  c_streams_reset->add_option("source", streams.source, "A nats source")->required();
  auto* from_start =
      c_streams_reset->add_flag("--from-start", streams.from_start, "Read the stream from its first message");
  auto* from_seq =
      c_streams_reset->add_option("--from-seq", streams.from_seq, "Read the stream from sequence N (N >= 1)");
  from_start->excludes(from_seq);
  c_streams_reset->add_flag("--json", streams.json, "Print as JSON");
  c_streams_reset->fallthrough();

  LineageArgs lin;
  auto* c_lin = app.add_subcommand(
      "lineage",
      "Column lineage from sluice.yaml: what a column feeds, or where it comes from (no lake needed)");
  c_lin->add_option("target", lin.target, "A table (curated.orders, marts.m, ...) or one of its columns")
      ->required();
  auto* up =
      c_lin->add_flag("--upstream", lin.upstream, "Where it comes from (default for marts and copies)");
  auto* down = c_lin->add_flag("--downstream", lin.downstream,
                               "What it feeds (default for sources, staging and curated tables)");
  up->excludes(down);
  c_lin->add_flag("--json", lin.json, "Print as JSON (docs/LINEAGE.md)");
  c_lin->add_option("--project", lin.project, "Project directory (default: .)");

  // `sluice --project DIR <command>`: the global placement of every command's --project.
  std::string global_project;
  CLI::Option* global_project_option =
      app.add_option("--project", global_project, "Project directory, before or after the command");
  const std::vector<std::pair<CLI::App*, std::string*>> project_of = {
      {c_run, &run.project}, {c_ing, &ing.project},         {c_q, &q.project},     {c_srv, &srv.project},
      {c_st, &st.project},   {c_sch, &sch.project},         {c_bat, &bat.project}, {c_dlq, &dlq.project},
      {c_vac, &vac.project}, {c_streams, &streams.project}, {c_lin, &lin.project}};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0: printed as CLI11 does.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return ParseFailure(app, e);
  }

  // A misplaced --project is a usage error: exit status 2.
  if (*global_project_option) {
    bool applies = false;
    for (const auto& [command, project] : project_of) {
      if (!*command) continue;
      applies = true;
      if (*command->get_option("--project") && *project != global_project) {
        Fail("--project given twice (" + global_project + " and " + *project + ")");
        return 2;
      }
      *project = global_project;
    }
    if (!applies) {
      Fail("--project does not apply to `" + app.get_subcommands().front()->get_name() + "`");
      return 2;
    }
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
    if (*c_lin) return Lineage(lin);
    if (*c_st) return ShowStatus(st);
    if (*c_srv) return Serve(srv);
    if (*c_sch) {
      sch.action = *c_sch_check ? "check" : *c_sch_hist ? "history" : *c_sch_acc ? "accept" : "diff";
      return Schema(sch);
    }
    if (*c_bat) {
      bat.action = *c_bat_list ? "list" : *c_bat_rel ? "release" : "drop";
      return Batches(bat);
    }
    if (*c_dlq) {
      dlq.action = *c_dlq_list ? "list" : *c_dlq_show ? "show" : "redrive";
      return Dlq(dlq);
    }
    if (*c_vac) return Vacuum(vac);
    if (*c_streams) return Streams(streams);
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
