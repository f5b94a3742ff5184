// The change-feed part of `sluice status`: per consumer its position and lag, read from the
// catalog (meta.feed_positions, meta.feed_changes) or from a running serve's status file.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "catalog/catalog.h"

namespace sluice::cli {

// Per consumer of the project: {table, started, position, lag_changes, lag_seconds, stale}
// ({table, error} when its feed cannot be read). Empty without consumers.
nlohmann::json FeedStatus(Catalog& catalog);

// Prints `feeds` (FeedStatus's, or the "feeds" of serve's status file); nothing when empty.
void PrintFeedStatus(std::ostream& out, const nlohmann::json& feeds);

}  // namespace sluice::cli
