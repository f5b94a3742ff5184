// `sluice dlq list|show|redrive` and `sluice vacuum`: the dead-letter queue's tooling.
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "engine/redrive.h"
#include "engine/vacuum.h"

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

void PrintTable(const std::vector<std::string>& names,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(names.size());
  for (size_t c = 0; c < w.size(); ++c) w[c] = Width(names[c]);
  for (const auto& r : rows) {
    for (size_t c = 0; c < w.size(); ++c) w[c] = std::max(w[c], Width(r[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < w.size(); ++c) {
      std::cout << (c ? " | " : "") << cells[c]
                << std::string(c + 1 < w.size() ? w[c] - Width(cells[c]) : 0, ' ');
    }
    std::cout << "\n";
  };
  line(names);
  for (size_t c = 0; c < w.size(); ++c) std::cout << (c ? "-+-" : "") << std::string(w[c], '-');
  std::cout << "\n";
  for (const auto& r : rows) line(r);
  std::cout << "(" << rows.size() << (rows.size() == 1 ? " row)" : " rows)") << std::endl;
}

Result<std::unique_ptr<Catalog>> OpenReadOnly(const std::string& project, const std::string& memory_limit) {
  ASSIGN_OR_RETURN(ProjectSpec spec, LoadProject(project));
  if (auto limit = MemoryLimitFlag(memory_limit)) spec.memory_limit_bytes = limit;
  CatalogOptions options;
  options.read_only = true;
  return Catalog::Open(spec, options);
}

const char* kDlqColumns[] = {"dlq_id", "source", "batch_id", "line", "reason", "column_name",
                             "message", "raw", "status", "redriven_batch", "correlation_id",
                             "ingested_at"};

// DLQ rows of the given sources matching `where` (SQL over dlq.<source>), by dlq_id.
Result<duck::Rows> QueryDlq(Catalog& catalog, const std::vector<const SourceSpec*>& sources,
                            const std::string& where) {
  std::string sql;
  for (const SourceSpec* s : sources) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT dlq_id, " + duck::Literal(s->name) +
           " AS source, batch_id, line, reason, column_name, message, raw, status, redriven_batch,"
           " correlation_id, CAST(ingested_at AS VARCHAR) FROM dlq." + duck::Ident(s->name) +
           " WHERE " + where;
  }
  return catalog.conn().Query("SELECT * FROM (" + sql + ") ORDER BY dlq_id");
}

json RowJson(const duck::Rows& rows, size_t r) {
  json o = json::object();
  for (size_t c = 0; c < std::size(kDlqColumns); ++c) {
    const auto& v = rows.rows[r][c];
    if (!v) {
      o[kDlqColumns[c]] = nullptr;
    } else if (c == 0 || c == 3) {
      o[kDlqColumns[c]] = rows.IntAt(r, c);
    } else {
      o[kDlqColumns[c]] = *v;
    }
  }
  return o;
}

int List(const DlqArgs& args) {
  auto catalog = OpenReadOnly(args.project, args.memory_limit);
  if (!catalog.ok()) return Fail(catalog.status().message());
  std::vector<const SourceSpec*> sources;
  for (const auto& s : (*catalog)->spec().sources) {
    if (args.source.empty() || s.name == args.source) sources.push_back(&s);
  }
  if (sources.empty()) return Fail("unknown source '" + args.source + "'");
  std::string where = "true";
  if (!args.reason.empty()) where += " AND reason = " + duck::Literal(args.reason);
  if (!args.batch.empty()) where += " AND batch_id = " + duck::Literal(args.batch);
  auto rows = QueryDlq(**catalog, sources, where);
  if (!rows.ok()) return Fail(rows.status().message());
  if (args.json) {
    json out = json::array();
    for (size_t r = 0; r < rows->rows.size(); ++r) out.push_back(RowJson(*rows, r));
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  for (size_t r = 0; r < rows->rows.size(); ++r) {
    const auto& x = *rows;
    table.push_back({x.At(r, 0), x.At(r, 1), Cell(x.At(r, 2), 24), x.At(r, 3), x.At(r, 4),
                     x.At(r, 5), Cell(x.At(r, 6), 48), Cell(x.At(r, 7), 60), x.At(r, 8)});
  }
  PrintTable({"id", "source", "batch", "line", "reason", "column", "message", "raw", "status"},
             table);
  return 0;
}

int Show(const DlqArgs& args) {
  auto catalog = OpenReadOnly(args.project, args.memory_limit);
  if (!catalog.ok()) return Fail(catalog.status().message());
  std::vector<const SourceSpec*> sources;
  for (const auto& s : (*catalog)->spec().sources) sources.push_back(&s);
  auto rows = QueryDlq(**catalog, sources, "dlq_id = " + std::to_string(args.id));
  if (!rows.ok()) return Fail(rows.status().message());
  if (rows->rows.empty()) return Fail("no DLQ row with id " + std::to_string(args.id));
  if (args.json) {
    std::cout << RowJson(*rows, 0).dump(2) << std::endl;
    return 0;
  }
  for (size_t c = 0; c < std::size(kDlqColumns); ++c) {
    std::string name = kDlqColumns[c];
    std::cout << name << ":" << std::string(16 - name.size(), ' ') << rows->At(0, c, "NULL")
              << "\n";
  }
  std::cout << std::flush;
  return 0;
}

int RedriveCommand(const DlqArgs& args) {
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) return Fail(engine.status().message());
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
    std::cout << "redrive " << r->source << ": batch " << r->batch_id
              << " was already loaded; nothing to do" << std::endl;
    return 0;
  }
  if (r->rows_read == 0) {
    std::cout << "redrive " << r->source << ": no open DLQ rows to re-validate";
    if (r->rows_skipped) std::cout << " (" << r->rows_skipped << " skipped)";
    std::cout << std::endl;
    return 0;
  }
  std::cout << "redrive " << r->source << ": " << r->rows_read << " rows re-validated = "
            << r->rows_staged << " loaded + " << r->rows_dead << " still failing";
  if (r->rows_skipped) std::cout << "; " << r->rows_skipped << " skipped (not re-parsable)";
  std::cout << "\n";
  if (!r->batch_id.empty()) {
    std::string parents;
    for (const auto& p : r->parent_batches) parents += (parents.empty() ? "" : ", ") + p;
    std::cout << "batch    " << r->batch_id << " (from " << parents
              << "); `sluice run` curates it\n";
  }
  for (const auto& [reason, n] : r->dead_by_reason) {
    std::cout << "failing  " << reason << ": " << n << "\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace

int Dlq(const DlqArgs& args) {
  if (args.action == "list") return List(args);
  if (args.action == "show") return Show(args);
  return RedriveCommand(args);
}

int Vacuum(const VacuumArgs& args) {
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) return Fail(engine.status().message());
  auto r = sluice::Vacuum(**engine);
  if (!r.ok()) return Fail(r.status().message());
  if (args.json) {
    json out = {{"dlq_retention_seconds",
                 r->dlq_retention_seconds ? json(*r->dlq_retention_seconds) : json(nullptr)},
                {"dlq_rows_deleted", r->dlq_rows_deleted}};
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (!r->dlq_retention_seconds) {
    std::cout << "vacuum: no dlq.retention in sluice.yaml; DLQ rows are kept" << std::endl;
    return 0;
  }
  for (const auto& [source, n] : r->dlq_rows_deleted) {
    std::cout << "vacuum   dlq." << source << ": " << n << " rows older than "
              << *r->dlq_retention_seconds << " s deleted\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace sluice::cli
