// The stream part of `sluice status`: what the catalog knows of stream sources (committed
// JetStream sequence, watermarks, late rows), and what a running `sluice serve` reports in
// <lake>/serve.json (lag, queue depth, backpressure), which `sluice status` adds when the server
// runs it (cli/read_commands.h).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "catalog/catalog.h"
#include "common/status.h"
#include "spec/spec.h"

namespace sluice::cli {

// Per stream source: {type, committed_seq (nats), late_rows, watermarks: [{partition, ...}]}.
Result<nlohmann::ordered_json> StreamStatus(Catalog& catalog);

// The status file of a `sluice serve` that is running on this lake, if one is.
std::optional<nlohmann::json> RunningServe(const ProjectSpec& spec);

void PrintStreamStatus(std::ostream& out, const nlohmann::ordered_json& streams);
void PrintServeStatus(std::ostream& out, const nlohmann::json& serve);

}  // namespace sluice::cli
