// `sluice batches list|release ID|drop ID`: the ledger's batches and what quality gates did to
// them. list reads the lake read-only; release and drop take the write lock (like `run`).
#include <iostream>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "transform/quarantine.h"

namespace sluice::cli {

namespace {

int List(const BatchesArgs& args) {
  auto spec = LoadProject(args.project);
  if (!spec.ok()) return Fail(spec.status().message());
  if (auto limit = MemoryLimitFlag(args.memory_limit)) spec->memory_limit_bytes = limit;
  CatalogOptions options;
  options.read_only = true;
  auto catalog = Catalog::Open(*spec, options);
  if (!catalog.ok()) return Fail(catalog.status().message());
  const std::string filter =
      args.status.empty() ? "" : " WHERE b.status = " + duck::Literal(args.status);
  // The latest quarantine record of each batch, if any.
  auto rows = (*catalog)->conn().Query(
      "SELECT b.source, b.batch_id, b.batch_seq, b.status, b.rows_read, b.rows_staged, b.rows_dead, "
      "CAST(b.committed_at AS VARCHAR), q.table_name, q.tests, q.sample, "
      "CAST(q.quarantined_at AS VARCHAR), CAST(q.released_at AS VARCHAR), "
      "CAST(q.dropped_at AS VARCHAR), b.file FROM meta.batches b LEFT JOIN (SELECT * FROM "
      "meta.quarantine QUALIFY row_number() OVER (PARTITION BY source, batch_id ORDER BY "
      "quarantined_at DESC) = 1) q ON q.source = b.source AND q.batch_id = b.batch_id" +
      filter + " ORDER BY b.batch_seq");
  if (!rows.ok()) return Fail(rows.status().message());
  const duck::Rows& r = *rows;
  auto opt = [&](size_t row, size_t col) -> nlohmann::ordered_json {
    return r.rows[row][col] ? nlohmann::ordered_json(*r.rows[row][col]) : nlohmann::ordered_json(nullptr);
  };
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (size_t i = 0; i < r.rows.size(); ++i) {
      out.push_back({{"source", r.At(i, 0)},          {"batch_id", r.At(i, 1)},
                     {"batch_seq", r.IntAt(i, 2)},     {"status", r.At(i, 3)},
                     {"rows_read", r.IntAt(i, 4)},     {"rows_staged", r.IntAt(i, 5)},
                     {"rows_dead", r.IntAt(i, 6)},     {"committed_at", r.At(i, 7)},
                     {"file", opt(i, 14)},             {"quarantined_by", opt(i, 8)},
                     {"failed_tests", opt(i, 9)},      {"sample", opt(i, 10)},
                     {"quarantined_at", opt(i, 11)},   {"released_at", opt(i, 12)},
                     {"dropped_at", opt(i, 13)}});
    }
    std::cout << out.dump() << std::endl;
    return 0;
  }
  for (size_t i = 0; i < r.rows.size(); ++i) {
    std::cout << r.At(i, 0) << "/" << r.At(i, 1) << "  #" << r.At(i, 2) << "  " << r.At(i, 3) << "  "
              << r.At(i, 5) << " rows staged, " << r.At(i, 6) << " dead-lettered, committed "
              << r.At(i, 7) << "\n";
    if (r.rows[i][8]) {
      std::cout << "    quarantined " << r.At(i, 11) << " by curated." << r.At(i, 8) << ": "
                << r.At(i, 9) << "\n";
      if (r.rows[i][10]) std::cout << "    failing: " << r.At(i, 10) << "\n";
      if (r.rows[i][12]) std::cout << "    released " << r.At(i, 12) << "\n";
      if (r.rows[i][13]) std::cout << "    dropped " << r.At(i, 13) << "\n";
    }
  }
  std::cout << "(" << r.rows.size() << (r.rows.size() == 1 ? " batch" : " batches")
            << (args.status.empty() ? "" : " " + args.status) << ")" << std::endl;
  return 0;
}

}  // namespace

int Batches(const BatchesArgs& args) {
  if (args.action == "list") return List(args);
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) return Fail(engine.status().message());
  Catalog& catalog = (*engine)->catalog();
  auto action = args.action == "release" ? ReleaseBatch(catalog, args.id) : DropBatch(catalog, args.id);
  if (!action.ok()) return Fail(action.status().message());
  std::cout << action->message << std::endl;
  return 0;
}

}  // namespace sluice::cli
