// The command line of `sluice` (command_line.h): the definitions main.cc had.
#include "cli/command_line.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>

#include "catalog/ledger.h"
#include "common/memory_limit.h"
#include "ingest/record_batch.h"

namespace sluice::cli {

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

constexpr const char* kPipelineDefault = "half the RAM, at most 8 GiB";
constexpr const char* kQueryDefault = "a quarter of the RAM, at most 1 GiB";

}  // namespace

CommandLine::CommandLine() {
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");

  c_init = app.add_subcommand("init", "Create a runnable example project in DIR");
  c_init->add_option("dir", init.dir, "Project directory to create")->required();
  c_init->add_option("--name", init.name, "Project name (default: DIR's name, made a valid identifier)");

  c_gen = app.add_subcommand("generate", "Write generated order files and expected.json to DIR");
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

  c_run = app.add_subcommand("run", "Ingest new files, curate, refresh marts, publish");
  c_run->add_option("--project", run.project, "Project directory (default: .)");
  c_run->add_flag("--json", run.json, "Print the run summary as JSON");
  c_run->add_flag("--full-refresh", run.full_refresh, "Rebuild curated tables and marts whole");
  c_run->add_option("--metrics-file", run.metrics_file,
                    "Write the pipeline's metrics (Prometheus text, docs/METRICS.md) to this file at the end "
                    "of the run, atomically; name it *.prom for a node_exporter textfile collector");
  AddMemoryLimit(c_run, &run.memory_limit, kPipelineDefault);

  c_ing = app.add_subcommand("ingest", "Load files as batches of SOURCE");
  c_ing->add_option("source", ing.source, "Source name")->required();
  c_ing->add_option("files", ing.files, "Files, one batch each")->required();
  c_ing->add_option("--batch-id", ing.batch_id, "Batch id (default: the content hash)");
  c_ing->add_option("--project", ing.project, "Project directory (default: .)");
  c_ing->add_flag("--json", ing.json, "Print outcomes as JSON");
  AddMemoryLimit(c_ing, &ing.memory_limit, kPipelineDefault);

  c_query = app.add_subcommand("query", "Run read-only SQL over the lake");
  c_query->add_option("sql", query.sql, "SQL")->required();
  c_query->add_option("--format", query.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  c_query->add_option("--project", query.project, "Project directory (default: .)");
  c_query->add_option("--as-of", query.as_of,
                      "Read curated tables and marts as of a snapshot number or a UTC timestamp");
  AddMemoryLimit(c_query, &query.memory_limit, kQueryDefault);

  c_serve =
      app.add_subcommand("serve", "Serve HTTP push and NATS sources; curate and refresh marts continuously");
  c_serve->add_option("--project", serve.project, "Project directory (default: .)");
  c_serve->add_option("--listen", serve.listen, "HTTP address (default: 127.0.0.1:8080; port 0: any)");
  AddMemoryLimit(c_serve, &serve.memory_limit, kPipelineDefault);
  c_serve
      ->add_option("--max-inflight-mb", serve.max_inflight_mb,
                   "Memory for accepted, not yet committed data, within the memory limit; beyond "
                   "it HTTP answers 429 and consumers pause (default: an eighth of the limit)")
      ->check(CLI::Range(1, 1 << 20));
  c_serve->add_option("--port-file", serve.port_file, "Write the bound HTTP port to this file");

  c_status = app.add_subcommand("status", "Show batches, rows, freshness and DLQ per source/table");
  c_status->add_option("--project", status.project, "Project directory (default: .)");
  c_status->add_flag("--json", status.json, "Print as JSON");
  AddMemoryLimit(c_status, &status.memory_limit, kQueryDefault);

  c_schema = app.add_subcommand("schema", "Contract versions and compatibility");
  c_schema->require_subcommand(1);
  c_schema->add_option("--project", schema.project, "Project directory (default: .)");
  AddMemoryLimit(c_schema, &schema.memory_limit, kQueryDefault);
  c_schema_check = c_schema->add_subcommand("check", "Exit non-zero if a contract change is incompatible");
  c_schema_check->add_option("source", schema.source, "Only this source (default: all)");
  c_schema_check->add_option("--against", schema.against, "A git revision or contract file to compare with");
  c_schema_check->add_flag("--json", schema.json, "Print as JSON");
  c_schema_history = c_schema->add_subcommand("history", "Registered versions of a source's contract");
  c_schema_history->add_option("source", schema.source, "Source")->required();
  c_schema_history->add_flag("--json", schema.json, "Print as JSON");
  c_schema_diff = c_schema->add_subcommand("diff", "Column changes between two versions");
  c_schema_diff->add_option("source", schema.source, "Source")->required();
  c_schema_diff->add_option("v1", schema.v1, "Older version")->required();
  c_schema_diff->add_option("v2", schema.v2, "Newer version")->required();
  c_schema_diff->add_flag("--json", schema.json, "Print as JSON");
  c_schema_accept = c_schema->add_subcommand(
      "accept", "Accept one refusal of the working-copy contract once (recorded in the registry)");
  c_schema_accept->add_option("source", schema.source, "Source")->required();
  c_schema_accept->add_option("--column", schema.column, "The refused column (or check name)")->required();
  c_schema_accept->add_option("--rule", schema.rule, "The refused rule, e.g. range_widened")->required();
  // `sluice schema check --project DIR`: --project belongs to `schema`.
  for (auto* c : {c_schema_check, c_schema_history, c_schema_diff, c_schema_accept}) c->fallthrough();

  c_batches = app.add_subcommand("batches", "List, release or drop batches");
  c_batches->require_subcommand(1);
  c_batches->add_option("--project", batches.project, "Project directory (default: .)");
  AddMemoryLimit(c_batches, &batches.memory_limit,
                 "list: " + std::string(kQueryDefault) + "; release, drop: " + kPipelineDefault);
  c_batches_list = c_batches->add_subcommand("list", "Batches in the ledger");
  c_batches_list->add_option("--status", batches.status, "Only this status (e.g. quarantined)")
      ->check(OneOf({sluice::kBatchStatuses.begin(), sluice::kBatchStatuses.end()}));
  c_batches_list->add_flag("--json", batches.json, "Print as JSON");
  c_batches_release = c_batches->add_subcommand("release", "Promote a quarantined batch");
  c_batches_release->add_option("id", batches.id, "Batch id")->required();
  c_batches_drop = c_batches->add_subcommand("drop", "Discard a quarantined batch");
  c_batches_drop->add_option("id", batches.id, "Batch id")->required();
  // `sluice batches list --project DIR` as well as `sluice batches --project DIR list`.
  for (auto* c : {c_batches_list, c_batches_release, c_batches_drop}) c->fallthrough();

  c_dlq = app.add_subcommand("dlq", "Inspect and redrive dead-lettered rows");
  c_dlq->require_subcommand(1);
  c_dlq->add_option("--project", dlq.project, "Project directory (default: .)");
  AddMemoryLimit(c_dlq, &dlq.memory_limit,
                 "list, show: " + std::string(kQueryDefault) + "; redrive: " + kPipelineDefault);
  c_dlq_list = c_dlq->add_subcommand("list", "Dead-lettered rows");
  c_dlq_list->add_option("source", dlq.source, "Only this source");
  const std::vector<std::string> reasons(sluice::reason::kAll.begin(), sluice::reason::kAll.end());
  c_dlq_list->add_option("--reason", dlq.reason, "Only this reason")->check(OneOf(reasons));
  c_dlq_list->add_option("--batch", dlq.batch, "Only this batch");
  c_dlq_list->add_flag("--json", dlq.json, "Print as JSON");
  c_dlq_show = c_dlq->add_subcommand("show", "One dead-lettered row in full");
  c_dlq_show->add_option("id", dlq.id, "DLQ row id")->required();
  c_dlq_show->add_flag("--json", dlq.json, "Print as JSON");
  c_dlq_redrive = c_dlq->add_subcommand("redrive", "Re-validate rows against the current contract");
  c_dlq_redrive->add_option("source", dlq.source, "Source")->required();
  c_dlq_redrive->add_option("--reason", dlq.reason, "Only rows with this reason")->check(OneOf(reasons));
  c_dlq_redrive->add_flag("--json", dlq.json, "Print as JSON");
  // `sluice dlq list --project DIR` as well as `sluice dlq --project DIR list`.
  for (auto* c : {c_dlq_list, c_dlq_show, c_dlq_redrive}) c->fallthrough();

  c_vacuum =
      app.add_subcommand("vacuum", "Apply retention: move old staging to the cold tier, delete what expired");
  c_vacuum->add_option("--project", vacuum.project, "Project directory (default: .)");
  c_vacuum->add_flag("--dry-run", vacuum.dry_run, "Print what would move and be deleted; change nothing");
  c_vacuum->add_flag("--json", vacuum.json, "Print as JSON");
  AddMemoryLimit(c_vacuum, &vacuum.memory_limit, kPipelineDefault);

  c_restore =
      app.add_subcommand("restore", "Make an earlier snapshot of a table current again (a new commit)");
  c_restore->add_option("table", restore.table, "Curated table or mart (orders or curated.orders)")
      ->required();
  c_restore->add_option("--to", restore.to, "Snapshot number (or UTC timestamp) to restore")->required();
  c_restore->add_option("--project", restore.project, "Project directory (default: .)");
  c_restore->add_flag("--json", restore.json, "Print as JSON");
  AddMemoryLimit(c_restore, &restore.memory_limit, kPipelineDefault);

  c_streams = app.add_subcommand("streams", "Positions of nats sources in their streams");
  c_streams->require_subcommand(1);
  c_streams->add_option("--project", streams.project, "Project directory (default: .)");
  c_streams_reset = c_streams->add_subcommand(
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

  c_lineage = app.add_subcommand(
      "lineage",
      "Column lineage from sluice.yaml: what a column feeds, or where it comes from (no lake needed)");
  c_lineage
      ->add_option("target", lineage.target, "A table (curated.orders, marts.m, ...) or one of its columns")
      ->required();
  auto* up = c_lineage->add_flag("--upstream", lineage.upstream,
                                 "Where it comes from (default for marts and copies)");
  auto* down = c_lineage->add_flag("--downstream", lineage.downstream,
                                   "What it feeds (default for sources, staging and curated tables)");
  up->excludes(down);
  c_lineage->add_flag("--json", lineage.json, "Print as JSON (docs/LINEAGE.md)");
  c_lineage->add_option("--project", lineage.project, "Project directory (default: .)");

  c_trace = app.add_subcommand(
      "trace", "Everything about one batch by its correlation id, stage by stage with timings");
  c_trace
      ->add_option("correlation-id", trace.correlation_id, "The id (X-Correlation-ID, sluice batches list)")
      ->required();
  c_trace->add_flag("--json", trace.json, "Print as JSON (docs/OBSERVABILITY.md)");
  c_trace->add_option("--project", trace.project, "Project directory (default: .)");

  // `--log-format json`: log lines of run and serve as JSON objects (common/log.h), before the
  // command or after it.
  app.add_option("--log-format", log_format, "Log lines as text (default) or json, one object per line")
      ->check(CLI::IsMember({"text", "json"}));
  for (auto* c : {c_run, c_serve}) c->fallthrough();

  // `sluice --project DIR <command>`: the global placement of every command's --project.
  global_project_option =
      app.add_option("--project", global_project, "Project directory, before or after the command");
  project_of = {{c_run, &run.project},         {c_ing, &ing.project},         {c_query, &query.project},
                {c_serve, &serve.project},     {c_status, &status.project},   {c_schema, &schema.project},
                {c_batches, &batches.project}, {c_dlq, &dlq.project},         {c_vacuum, &vacuum.project},
                {c_streams, &streams.project}, {c_lineage, &lineage.project}, {c_trace, &trace.project},
                {c_restore, &restore.project}};
}

std::string CommandLine::Chosen() const {
  std::string chosen;
  const CLI::App* a = &app;
  for (;;) {
    auto parsed = a->get_subcommands();
    if (parsed.empty()) break;
    a = parsed.front();
    chosen += (chosen.empty() ? "" : " ") + a->get_name();
  }
  return chosen;
}

bool CommandLine::ProjectGiven() const {
  if (global_project_option->count() > 0) return true;
  for (const auto& [command, project] : project_of) {
    if (command->get_option("--project")->count() > 0) return true;
  }
  return false;
}

bool CommandLine::MemoryLimitGiven() const {
  for (const auto& [command, project] : project_of) {
    const CLI::Option* o = command->get_option_no_throw("--memory-limit");
    if (o != nullptr && o->count() > 0) return true;
  }
  return false;
}

void CommandLine::SetActions() {
  schema.action = *c_schema_check     ? "check"
                  : *c_schema_history ? "history"
                  : *c_schema_accept  ? "accept"
                                      : "diff";
  batches.action = *c_batches_list ? "list" : *c_batches_release ? "release" : "drop";
  dlq.action = *c_dlq_list ? "list" : *c_dlq_show ? "show" : "redrive";
}

std::string ParseFailureMessage(const CLI::App& app, const CLI::ParseError& e) {
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
  return what + " (see `" + command + " --help`)";
}

}  // namespace sluice::cli
