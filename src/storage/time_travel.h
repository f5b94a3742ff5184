// Time travel: curated tables and marts read as of an earlier snapshot (catalog/snapshots.h),
// from that snapshot's published version (publish.h), for `sluice query --as-of` and `as_of`
// of the query API (docs/LIFECYCLE.md, "Snapshots and time travel").
//
// A connection is switched to a snapshot by attaching an in-memory database `name` holding a
// view per table over its version's Parquet files, and putting its `curated` and `marts` schemas
// first on the connection's search path: `curated.orders` and `marts.x` then name the
// snapshot's tables; `staging.*`, `meta.*` and `dlq.*` still read the lake as it is now (they
// are not versioned), and so does a name qualified with the catalog (`lake.curated.orders`).
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/snapshots.h"
#include "common/status.h"

namespace sluice {

struct TimeTravel {
  AsOf as_of;
  // The snapshot of each curated table and mart that existed then (live ones only).
  std::vector<SnapshotRecord> tables;
  // "curated.orders" -> why it cannot be read as of then (its snapshot expired).
  std::vector<std::pair<std::string, std::string>> unavailable;
};

// Resolves `as_of` over the snapshots recorded through `conn`: InvalidArgument for text that is
// neither a snapshot number nor a time, NotFound for a snapshot number beyond the newest or a
// time before any snapshot.
Result<TimeTravel> ResolveTimeTravel(duck::Connection& conn, const std::string& as_of);

// Attaches the views of `travel` on `conn` as database `name` (an identifier; the caller makes
// it unique when several connections share a database), and with `search_path` puts its schemas
// first on the search path (without it, only `name.curated.<t>` reads them: serve's tenant views
// read them so). DetachTimeTravel undoes it (`USE lake`, detach). Not safe for concurrent use of `conn`.
Status AttachTimeTravel(duck::Connection& conn, const ProjectSpec& spec, const TimeTravel& travel,
                        const std::string& name, bool search_path = true);
Status DetachTimeTravel(duck::Connection& conn, const std::string& name);

// NotFound naming the first of `tables` ("curated.orders", as the query wrote them after
// resolving) that `travel` cannot answer: expired, or not built yet then.
Status CheckTimeTravelReads(const TimeTravel& travel, const std::vector<std::string>& tables);

}  // namespace sluice
