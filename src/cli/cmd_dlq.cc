// `sluice dlq list|show|redrive` and `sluice vacuum`: the dead-letter queue's tooling.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/dlq.h"
#include "catalog/stream_ledger.h"
#include "cli/commands.h"
#include "cli/read_commands.h"
#include "common/env.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/redrive.h"
#include "engine/vacuum.h"
#include "ops/run_lineage.h"

namespace sluice::cli {

namespace {

using nlohmann::json;

// Display width of a UTF-8 string, in code points.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// At most `max` code points, control characters shown as spaces, "..." when cut.
std::string Cell(const std::string& s, size_t max) {
  std::string out;
  size_t points = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (points == max) return out + "...";
      ++points;
    }
    out += c < 0x20 ? ' ' : static_cast<char>(c);
  }
  return out;
}

void PrintTable(std::ostream& out, const std::vector<std::string>& names,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(names.size());
  for (size_t c = 0; c < w.size(); ++c) w[c] = Width(names[c]);
  for (const auto& r : rows) {
    for (size_t c = 0; c < w.size(); ++c) w[c] = std::max(w[c], Width(r[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < w.size(); ++c) {
      out << (c ? " | " : "") << cells[c] << std::string(c + 1 < w.size() ? w[c] - Width(cells[c]) : 0, ' ');
    }
    out << "\n";
  };
  line(names);
  for (size_t c = 0; c < w.size(); ++c) out << (c ? "-+-" : "") << std::string(w[c], '-');
  out << "\n";
  for (const auto& r : rows) line(r);
  out << "(" << rows.size() << (rows.size() == 1 ? " row)" : " rows)") << std::endl;
}

const char* kDlqColumns[] = {"dlq_id", "source",         "batch_id",       "line",
                             "reason", "column_name",    "message",        "raw",
                             "status", "redriven_batch", "correlation_id", "ingested_at"};

// A DLQ row's cells in kDlqColumns order (NULL: nullopt).
std::vector<std::optional<std::string>> Cells(const DeadLetterRow& d) {
  auto num = [](const std::optional<int64_t>& v) {
    return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
  };
  return {num(d.dlq_id), d.source, d.batch_id, num(d.line),      d.reason,         d.column_name,
          d.message,     d.raw,    d.status,   d.redriven_batch, d.correlation_id, d.ingested_at};
}

json RowJson(const DeadLetterRow& d) {
  const auto cells = Cells(d);
  json o = json::object();
  for (size_t c = 0; c < std::size(kDlqColumns); ++c) {
    const auto& v = cells[c];
    if (!v) {
      o[kDlqColumns[c]] = nullptr;
    } else if (c == 0) {
      o[kDlqColumns[c]] = *d.dlq_id;
    } else if (c == 3) {
      o[kDlqColumns[c]] = *d.line;
    } else {
      o[kDlqColumns[c]] = *v;
    }
  }
  return o;
}

// `dlq list` or `dlq show` as the server parses it (cli/read_commands.h).
std::vector<std::string> ReadArgv(const DlqArgs& args) {
  std::vector<std::string> argv = {"dlq", args.action};
  if (args.json) argv.push_back("--json");
  if (args.action == "show") {
    argv.insert(argv.end(), {"--", std::to_string(args.id)});
    return argv;
  }
  if (!args.reason.empty()) argv.insert(argv.end(), {"--reason", args.reason});
  if (!args.batch.empty()) argv.insert(argv.end(), {"--batch", args.batch});
  // After `--`: a source is never read as an option, whatever its name.
  if (!args.source.empty()) argv.insert(argv.end(), {"--", args.source});
  return argv;
}

}  // namespace

int DlqList(const DlqArgs& args, ReadContext& ctx) {
  std::vector<const SourceSpec*> sources;
  for (const auto& s : ctx.spec.sources) {
    if (args.source.empty() || s.name == args.source) sources.push_back(&s);
  }
  auto catalog = ctx.open();
  if (!catalog.ok()) return ctx.Fail(catalog.status().message());
  if (sources.empty()) return ctx.Fail("unknown source '" + args.source + "'");
  std::vector<std::string> names;
  names.reserve(sources.size());
  for (const SourceSpec* s : sources) names.push_back(s->name);
  DeadLetterFilter filter;
  if (!args.reason.empty()) filter.reason = args.reason;
  if (!args.batch.empty()) filter.batch_id = args.batch;
  auto rows = ListDeadLetters(**catalog, names, filter);
  if (!rows.ok()) return ctx.Fail(rows.status().message());
  if (args.json) {
    json out = json::array();
    for (const auto& d : *rows) out.push_back(RowJson(d));
    ctx.out << out.dump(2) << std::endl;
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& d : *rows) {
    const auto x = Cells(d);
    auto at = [&](size_t c) { return x[c].value_or(""); };
    table.push_back(
        // The batch id whole: it is what `--batch` and `sluice batches` take.
        {at(0), at(1), at(2), at(3), at(4), at(5), Cell(at(6), 48), Cell(at(7), 60), at(8)});
  }
  PrintTable(ctx.out, {"id", "source", "batch", "line", "reason", "column", "message", "raw", "status"},
             table);
  return 0;
}

int DlqShow(const DlqArgs& args, ReadContext& ctx) {
  auto catalog = ctx.open();
  if (!catalog.ok()) return ctx.Fail(catalog.status().message());
  std::vector<std::string> sources;
  for (const auto& s : ctx.spec.sources) sources.push_back(s.name);
  DeadLetterFilter filter;
  filter.dlq_id = args.id;
  auto rows = ListDeadLetters(**catalog, sources, filter);
  if (!rows.ok()) return ctx.Fail(rows.status().message());
  if (rows->empty()) return ctx.Fail("no DLQ row with id " + std::to_string(args.id));
  if (args.json) {
    ctx.out << RowJson(rows->front()).dump(2) << std::endl;
    return 0;
  }
  const auto cells = Cells(rows->front());
  for (size_t c = 0; c < std::size(kDlqColumns); ++c) {
    std::string name = kDlqColumns[c];
    ctx.out << name << ":" << std::string(16 - name.size(), ' ') << cells[c].value_or("NULL") << "\n";
  }
  ctx.out << std::flush;
  return 0;
}

namespace {

int RedriveCommand(const DlqArgs& args) {
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) {
    return FailWhileServing(args.project, engine.status(), "dlq redrive", "stop sluice serve first");
  }
  auto r = Redrive(**engine, args.source, args.reason);
  if (!r.ok()) return Fail(r.status().message());
  if (args.json) {
    json out = {{"source", r->source},
                {"batch_id", r->batch_id.empty() ? json(nullptr) : json(r->batch_id)},
                {"duplicate", r->duplicate},
                {"rows_read", r->rows_read},
                {"rows_staged", r->rows_staged},
                {"rows_dead", r->rows_dead},
                {"rows_skipped", r->rows_skipped},
                {"parent_batches", r->parent_batches},
                {"dead_by_reason", r->dead_by_reason},
                {"redriven_ids", r->redriven_ids}};
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (r->duplicate) {
    std::cout << "redrive " << r->source << ": batch " << r->batch_id << " was already loaded; nothing to do"
              << std::endl;
    return 0;
  }
  if (r->rows_read == 0) {
    std::cout << "redrive " << r->source << ": no open DLQ rows to re-validate";
    if (r->rows_skipped) std::cout << " (" << r->rows_skipped << " skipped)";
    std::cout << std::endl;
    return 0;
  }
  std::cout << "redrive " << r->source << ": " << r->rows_read << " rows re-validated = " << r->rows_staged
            << " loaded + " << r->rows_dead << " still failing";
  if (r->rows_skipped) std::cout << "; " << r->rows_skipped << " skipped (not re-parsable)";
  std::cout << "\n";
  if (!r->batch_id.empty()) {
    std::string parents;
    for (const auto& p : r->parent_batches) parents += (parents.empty() ? "" : ", ") + p;
    std::cout << "batch    " << r->batch_id << " (from " << parents << "); `sluice run` curates it\n";
  }
  for (const auto& [reason, n] : r->dead_by_reason) {
    std::cout << "failing  " << reason << ": " << n << "\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace

int Dlq(const DlqArgs& args) {
  if (args.action == "list" || args.action == "show") {
    return RunRead(
        args.project, args.memory_limit, ReadArgv(args), /*needs_lake=*/true,
        [&](ReadContext& ctx) { return args.action == "list" ? DlqList(args, ctx) : DlqShow(args, ctx); });
  }
  return RedriveCommand(args);
}

int Vacuum(const VacuumArgs& args) {
  // Opening the engine creates a lake; vacuuming one that does not exist is a mistake (a wrong
  // --project or lake path), not a request for a new lake.
  auto spec = LoadProject(args.project);
  if (!spec.ok()) return Fail(spec.status().message());
  if (!Env::Default()->Exists(spec->lake + "/" + kLakeDatabaseFile)) {
    return Fail("no lake at " + spec->lake + "; nothing to vacuum");
  }
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok())
    return FailWhileServing(args.project, engine.status(), "vacuum", "stop sluice serve first");
  Env* env = (*engine)->catalog().env();
  const int64_t started_us = env->NowMicros();
  auto r = sluice::Vacuum(**engine, {.dry_run = args.dry_run});
  if (!r.ok()) return Fail(r.status().message());
  {
    // OpenLineage events of what moved or was deleted (ops/run_lineage.h).
    RunLineage lineage((*engine)->spec(), env, [env](const std::string& line) {
      LogLine(env, LogLevel::kWarning, "sluice vacuum", line);
    });
    lineage.Vacuumed(started_us, *r);
    const ProjectSpec::LineageSpec& ls = (*engine)->spec().lineage;
    lineage.Close(std::min<int64_t>(30000, ls.timeout_ms * (ls.retries + 1) + 6000));
  }
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  if (args.json) {
    json moved = json::array(), deleted = json::array(), held = json::array();
    for (const auto& m : r->moved) {
      moved.push_back({{"source", m.source},
                       {"cold_file", m.cold_file},
                       {"batches", m.batches},
                       {"hot_files", m.hot_files},
                       {"hot_bytes", m.hot_bytes},
                       {"cold_bytes", m.cold_bytes},
                       {"rows", m.rows}});
    }
    for (const auto& d : r->deleted) {
      deleted.push_back({{"source", d.source},
                         {"tier", d.tier},
                         {"files", d.files},
                         {"batches", d.batches},
                         {"bytes", d.bytes},
                         {"rows", d.rows}});
    }
    for (const auto& h : r->held) {
      held.push_back(
          {{"source", h.source}, {"batch_id", h.batch_id}, {"action", h.action}, {"reason", h.reason}});
    }
    json out = {{"dry_run", r->dry_run},
                {"dlq_retention_seconds", opt(r->dlq_retention_seconds)},
                {"dlq_rows_deleted", r->dlq_rows_deleted},
                {"idempotency_retention_seconds", opt(r->idempotency_retention_seconds)},
                {"idempotency_keys_expired", r->idempotency_keys_expired},
                {"staging_moved", moved},
                {"staging_deleted", deleted},
                {"held", held}};
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  const std::string would = r->dry_run ? " (dry run: nothing changed)" : "";
  const char* deleted_word = r->dry_run ? "would be deleted" : "deleted";
  if (!r->dlq_retention_seconds) {
    std::cout << "vacuum: no dlq.retention in sluice.yaml; DLQ rows are kept\n";
  } else {
    for (const auto& [source, n] : r->dlq_rows_deleted) {
      std::cout << "vacuum   " << DlqName(source) << ": " << n << " rows older than "
                << *r->dlq_retention_seconds << " s " << deleted_word << "\n";
    }
  }
  if (r->idempotency_retention_seconds) {
    std::cout << "vacuum   " << kIdempotencyKeysName << ": " << r->idempotency_keys_expired
              << " keys older than " << *r->idempotency_retention_seconds << " s "
              << (r->dry_run ? "would expire" : "expired") << "\n";
  }
  for (const auto& m : r->moved) {
    std::cout << "vacuum   staging." << m.source << ": " << m.batches.size() << " batches, " << m.hot_files
              << " hot files, " << m.hot_bytes << " bytes, " << m.rows << " rows "
              << (r->dry_run ? "would move" : "moved") << " to " << m.cold_file;
    if (!r->dry_run) std::cout << " (" << m.cold_bytes << " bytes)";
    std::cout << "\n";
  }
  for (const auto& d : r->deleted) {
    std::cout << "vacuum   staging." << d.source << ": " << d.batches.size() << " batches, " << d.files.size()
              << " " << d.tier << " files, " << d.bytes << " bytes, " << d.rows << " rows " << deleted_word
              << "\n";
  }
  for (const auto& h : r->held) {
    std::cout << "vacuum   staging." << h.source << ": batch " << h.batch_id << " kept from " << h.action
              << " (" << h.reason << ")\n";
  }
  if (r->moved.empty() && r->deleted.empty()) std::cout << "vacuum   staging: nothing to move or delete\n";
  if (!would.empty()) std::cout << "vacuum" << would << "\n";
  std::cout << std::flush;
  return 0;
}

}  // namespace sluice::cli
