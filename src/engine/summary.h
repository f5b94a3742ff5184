// Run summaries as JSON: what `sluice run --json` prints and what meta.runs keeps.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"

namespace sluice {

// {"status":"ok","nothing_to_do":false,"ingest":{...},"curate":{...},"marts":{...},"publish":{...}};
// each of the four stages carries "seconds" (wall), "cpu_seconds" (the process's user + system
// CPU over all threads during the stage) and "bytes_written" (what the process wrote to storage
// during it; RunSummary); curate's tables their merge's "seconds", marts' tables their "rows",
// publish "table_rows" per table published.
// a failed run (RunSummary::error set) has "status":"failed", "error", "failed_stage" and
// "test_failures".
nlohmann::json RunSummaryJson(const RunSummary& summary);
nlohmann::json IngestOutcomeJson(const IngestOutcome& outcome);

}  // namespace sluice
