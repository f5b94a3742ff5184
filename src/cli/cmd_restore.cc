// `sluice restore TABLE --to SNAPSHOT`: an earlier snapshot of a table current again as a new
// commit (engine/restore.h), and what that changes downstream.
#include <iostream>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/read_commands.h"
#include "common/env.h"
#include "engine/engine.h"
#include "engine/restore.h"

namespace sluice::cli {

int Restore(const RestoreArgs& args) {
  auto spec = LoadProject(args.project);
  if (!spec.ok()) return Fail(spec.status().message());
  if (!Env::Default()->Exists(spec->lake + "/" + kLakeDatabaseFile)) {
    return Fail("no lake at " + spec->lake + "; nothing to restore");
  }
  auto engine = Engine::Open(args.project, {MemoryLimitFlag(args.memory_limit)});
  if (!engine.ok()) {
    return FailWhileServing(args.project, engine.status(), "restore", "stop sluice serve first");
  }
  auto r = sluice::Restore(**engine, args.table, args.to);
  if (!r.ok()) return Fail(r.status().message());
  if (args.json) {
    nlohmann::ordered_json out = {{"table", r->table},
                                  {"restored_snapshot", r->restored_snapshot},
                                  {"restored_version", r->restored_version},
                                  {"rows", r->rows},
                                  {"previous_snapshot", r->previous_snapshot},
                                  {"snapshot", r->snapshot},
                                  {"marts_to_refresh", r->marts_to_refresh},
                                  {"warehouse_tables", r->warehouse_tables}};
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::cout << "restore  " << r->table << ": " << r->rows << " rows of snapshot " << r->restored_snapshot
            << " are current again";
  if (r->snapshot > 0) std::cout << " as snapshot " << r->snapshot;
  std::cout << " (undo: sluice restore " << r->table << " --to " << r->previous_snapshot << ")\n";
  for (const std::string& m : r->marts_to_refresh) {
    std::cout << "  marts." << m
              << ": refreshed in full by the next `sluice run` (or serve's next transform)\n";
  }
  for (const std::string& t : r->warehouse_tables) {
    std::cout << "  PostgreSQL " << t << ": republished in full by sluice serve\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace sluice::cli
