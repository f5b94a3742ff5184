// One function per `sluice` command; main.cc wires them to CLI11. Each returns the process exit
// code and prints its own output; errors go to stderr as one line "error: ...".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cli {

struct InitArgs {
  std::string dir;
  std::string name;  // --name; empty: derived from dir (ProjectNameFor)
};
struct GenerateArgs {
  std::string dir;
  int64_t orders = 1000;
  int batches = 5;
  int tenants = 8;  // --tenants: t00..; validated 1..100 by main.cc
  int days = 7;     // --days: from 2026-01-01; validated 1..31 by main.cc
  uint64_t seed = 42;
  std::string format = "jsonl";
  bool force = false;  // --force: replace an earlier generate's files in a non-empty dir
};
struct RunArgs {
  std::string project = ".";
  bool json = false;
  bool full_refresh = false;
  std::string metrics_file;  // --metrics-file: Prometheus text written at the end; "" none
  std::string memory_limit;  // --memory-limit, as written (validated by main.cc); "" unset
};
struct IngestArgs {
  std::string project = ".";
  std::string source;
  std::vector<std::string> files;
  std::string batch_id;
  bool json = false;
  std::string memory_limit;
};
struct QueryArgs {
  std::string project = ".";
  std::string sql;
  std::string format = "table";
  std::string memory_limit;
  std::string as_of;  // "": now; a snapshot number or a timestamp (docs/LIFECYCLE.md)
};
struct StatusArgs {
  std::string project = ".";
  bool json = false;
  std::string memory_limit;
};

// `sluice schema check [SOURCE] [--against REV_OR_FILE]`, `schema history SOURCE`,
// `schema diff SOURCE V1 V2`, `schema accept SOURCE --column C --rule R` (cmd_schema.cc).
struct SchemaArgs {
  std::string project = ".";
  std::string action;   // check | history | diff | accept
  std::string source;   // empty for check: every source
  std::string against;  // check: a git revision or a contract file to compare with
  int64_t v1 = 0, v2 = 0;
  std::string column, rule;  // accept: the refusal accepted once
  bool json = false;
  std::string memory_limit;
};
// `sluice batches list|release ID|drop ID` (cmd_batches.cc).
struct BatchesArgs {
  std::string project = ".";
  std::string action;  // list | release | drop
  std::string id;
  std::string status;  // list: only batches with this status
  bool json = false;
  std::string memory_limit;
};
// `sluice dlq list [SOURCE] [--reason R] [--batch B]`, `dlq show ID`,
// `dlq redrive SOURCE [--reason R]` (cmd_dlq.cc).
struct DlqArgs {
  std::string project = ".";
  std::string action;  // list | show | redrive
  std::string source;
  std::string reason;
  std::string batch;
  int64_t id = 0;
  bool json = false;
  std::string memory_limit;
};
// `sluice serve [--listen HOST:PORT] [--memory-limit SIZE] [--max-inflight-mb N]` (cmd_serve.cc).
struct ServeArgs {
  std::string project = ".";
  std::string listen = "127.0.0.1:8080";
  std::string memory_limit;
  int64_t max_inflight_mb = 0;  // 0: an eighth of the memory limit
  std::string port_file;        // written with the bound port once listening (for --listen host:0)
};
// `sluice streams reset SOURCE --from-start | --from-seq N` (cmd_streams.cc): where a nats source
// resumes in its stream; opens the lake for writing (serve must be stopped).
struct StreamsArgs {
  std::string project = ".";
  std::string source;
  bool from_start = false;
  std::optional<int64_t> from_seq;
  bool json = false;
};
// `sluice restore TABLE --to SNAPSHOT` (cmd_restore.cc): an earlier snapshot current again.
struct RestoreArgs {
  std::string project = ".";
  std::string table;
  std::string to;
  bool json = false;
  std::string memory_limit;
};
// `sluice vacuum [--dry-run]` (cmd_dlq.cc): applies retention (docs/LIFECYCLE.md).
struct VacuumArgs {
  std::string project = ".";
  bool json = false;
  bool dry_run = false;
  std::string memory_limit;
};
// `sluice lineage TARGET [--upstream|--downstream] [--json]` (cmd_lineage.cc): column lineage
// from sluice.yaml alone (docs/LINEAGE.md).
struct LineageArgs {
  std::string project = ".";
  std::string target;  // "curated.orders" or "curated.orders.amount"
  bool upstream = false, downstream = false;
  bool json = false;
};

// `sluice trace <correlation-id> [--json]` (cmd_trace.cc): everything about one batch.
struct TraceArgs {
  std::string project = ".";
  std::string correlation_id;
  bool json = false;
};

int Init(const InitArgs& args);
int Lineage(const LineageArgs& args);
int Trace(const TraceArgs& args);
int Schema(const SchemaArgs& args);
int Batches(const BatchesArgs& args);
int Dlq(const DlqArgs& args);
int Vacuum(const VacuumArgs& args);
int Restore(const RestoreArgs& args);
int Streams(const StreamsArgs& args);
int Serve(const ServeArgs& args);
int Generate(const GenerateArgs& args);
int Run(const RunArgs& args);
int Ingest(const IngestArgs& args);
int Query(const QueryArgs& args);
int ShowStatus(const StatusArgs& args);

// Prints "error: <message>" to stderr (with --log-format json, a JSON log line of level
// error) and returns 1.
int Fail(const std::string& message);

// `--memory-limit` in bytes; nullopt when it was not given. main.cc has validated it.
std::optional<int64_t> MemoryLimitFlag(const std::string& flag);

}  // namespace sluice::cli
