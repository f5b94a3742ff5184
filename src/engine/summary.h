// Run summaries as JSON: what `sluice run --json` prints and what meta.runs keeps.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"

namespace sluice {

// {"status":"ok","nothing_to_do":false,"ingest":{...},"curate":{...},"marts":{...},"publish":{...}};
// each of the four stages carries "seconds" (wall) and "cpu_seconds" (the process's user + system
// CPU over all threads during the stage; RunSummary).
// a failed run (RunSummary::error set) has "status":"failed", "error" and "test_failures".
nlohmann::json RunSummaryJson(const RunSummary& summary);
nlohmann::json IngestOutcomeJson(const IngestOutcome& outcome);

}  // namespace sluice
