// Vacuum: applies the project's retention settings. Today that is the DLQ's
// (`dlq: {retention: 30d}` in sluice.yaml): rows ingested longer ago than the retention are
// deleted from dlq.<source>, whatever their status. Without a retention nothing is deleted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "engine/engine.h"

namespace sluice {

struct VacuumOutcome {
  std::optional<int64_t> dlq_retention_seconds;     // nullopt: keep forever
  std::map<std::string, int64_t> dlq_rows_deleted;  // per source (every source listed)
};

// Deletes expired DLQ rows of every source in one transaction (the clock is the Env's).
Result<VacuumOutcome> Vacuum(Engine& engine);

}  // namespace sluice
