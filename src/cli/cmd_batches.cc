// `sluice batches list|release ID|drop ID`: the ledger's batches and what quality gates did to
// them. list reads the lake read-only; release and drop take the write lock (like `run`).
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/quarantine_log.h"
#include "catalog/stream_ledger.h"
#include "cli/commands.h"
#include "cli/read_commands.h"
#include "engine/engine.h"
#include "transform/quarantine.h"

namespace sluice::cli {

namespace {

// A nats batch's messages and the operator reset it was read after; null for other batches.
nlohmann::ordered_json StreamJson(const StreamBatchOrigin* o) {
  if (o == nullptr) return nullptr;
  nlohmann::ordered_json reset = nullptr;
  if (const auto& r = o->after_reset) {
    reset = {{"number", o->range.resets},
             {"mode", r->mode},
             {"to_seq", r->to_seq},
             {"reset_by", r->reset_by},
             {"reset_at", r->reset_at}};
  }
  return {{"name", o->range.stream},
          {"first_seq", o->range.first_seq},
          {"last_seq", o->range.last_seq},
          {"messages", o->range.messages},
          {"after_reset", reset}};
}

// `batches list` as the server parses it (cli/read_commands.h).
std::vector<std::string> ReadArgv(const BatchesArgs& args) {
  std::vector<std::string> argv = {"batches", "list"};
  if (!args.status.empty()) argv.insert(argv.end(), {"--status", args.status});
  if (args.json) argv.push_back("--json");
  return argv;
}

}  // namespace

int BatchesList(const BatchesArgs& args, ReadContext& ctx) {
  auto catalog = ctx.open();
  if (!catalog.ok()) return ctx.Fail(catalog.status().message());
  std::optional<std::string> status;
  if (!args.status.empty()) status = args.status;
  auto rows = ListBatchesWithQuarantine(**catalog, status);
  if (!rows.ok()) return ctx.Fail(rows.status().message());
  auto opt = [](const std::optional<std::string>& v) -> nlohmann::ordered_json {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
  };
  // Stream lineage of nats batches, by source then batch id.
  std::map<std::string, std::map<std::string, StreamBatchOrigin>> origins;
  for (const BatchListing& b : *rows) {
    if (origins.count(b.source) != 0) continue;
    auto o = StreamBatchOrigins(**catalog, b.source);
    if (!o.ok()) return ctx.Fail(o.status().message());
    origins[b.source] = std::move(*o);
  }
  auto origin_of = [&](const BatchListing& b) -> const StreamBatchOrigin* {
    const auto& of_source = origins[b.source];
    auto it = of_source.find(b.batch_id);
    return it == of_source.end() ? nullptr : &it->second;
  };
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const BatchListing& b : *rows) {
      const auto& q = b.quarantine;
      out.push_back({{"source", b.source},
                     {"batch_id", b.batch_id},
                     {"batch_seq", b.batch_seq},
                     {"correlation_id", b.correlation_id},
                     {"status", b.status},
                     {"rows_read", b.rows_read},
                     {"rows_staged", b.rows_staged},
                     {"rows_dead", b.rows_dead},
                     {"committed_at", b.committed_at},
                     {"file", opt(b.file)},
                     {"quarantined_by", q ? nlohmann::ordered_json(q->table) : nullptr},
                     {"failed_tests", q ? nlohmann::ordered_json(q->tests) : nullptr},
                     {"sample", q ? opt(q->sample) : nullptr},
                     {"quarantined_at", q ? nlohmann::ordered_json(q->quarantined_at) : nullptr},
                     {"released_at", q ? opt(q->released_at) : nullptr},
                     {"dropped_at", q ? opt(q->dropped_at) : nullptr},
                     {"stream", StreamJson(origin_of(b))}});
    }
    ctx.out << out.dump() << std::endl;
    return 0;
  }
  for (const BatchListing& b : *rows) {
    ctx.out << b.source << "/" << b.batch_id << "  #" << b.batch_seq << "  " << b.status << "  "
            << b.rows_staged << " rows staged, " << b.rows_dead << " dead-lettered, committed "
            << b.committed_at << "\n";
    if (const auto& q = b.quarantine) {
      ctx.out << "    quarantined " << q->quarantined_at << " by curated." << q->table << ": " << q->tests
              << "\n";
      if (q->sample) ctx.out << "    failing: " << *q->sample << "\n";
      if (q->released_at) ctx.out << "    released " << *q->released_at << "\n";
      if (q->dropped_at) ctx.out << "    dropped " << *q->dropped_at << "\n";
    }
    if (const StreamBatchOrigin* o = origin_of(b)) {
      ctx.out << "    stream " << o->range.stream << " sequences " << o->range.first_seq << "-"
              << o->range.last_seq;
      if (const auto& r = o->after_reset) {
        ctx.out << ", read after reset " << o->range.resets << " (" << r->mode << " by " << r->reset_by
                << " at " << r->reset_at << ")";
      }
      ctx.out << "\n";
    }
  }
  ctx.out << "(" << rows->size() << (rows->size() == 1 ? " batch" : " batches")
          << (args.status.empty() ? "" : " " + args.status) << ")" << std::endl;
  return 0;
}

int Batches(const BatchesArgs& args) {
  if (args.action == "list") {
    return RunRead(args.project, args.memory_limit, ReadArgv(args), /*needs_lake=*/true,
                   [&](ReadContext& ctx) { return BatchesList(args, ctx); });
  }
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) {
    return FailWhileServing(args.project, engine.status(), "batches " + args.action,
                            "stop sluice serve first");
  }
  Catalog& catalog = (*engine)->catalog();
  auto action = args.action == "release" ? ReleaseBatch(catalog, args.id) : DropBatch(catalog, args.id);
  if (!action.ok()) return Fail(action.status().message());
  std::cout << action->message << std::endl;
  return 0;
}

}  // namespace sluice::cli
