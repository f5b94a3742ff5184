// Table versions and the partitions waiting for marts and for publishing:
//
//   meta.tables               per curated table / mart: version, published version, model hash
//   meta.pending_partitions   (day, tenant) partitions curate changed that marts have not seen
//   meta.publish_pending      per table: (day, tenant) partitions changed since its last publish
//
// A partition is a (day, tenant) pair, either part NULL when the table is not partitioned that
// way; a (NULL, NULL) row in meta.publish_pending means "every partition changed".
//
// Every function runs on the catalog's connection and opens no transaction of its own: callers
// record these rows in the same transaction as the data change they describe (curate's merge,
// a mart's refresh, a publish's bookkeeping, a schema change). Errors: DuckDB's, with context.
// Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

struct Partition {
  std::optional<std::string> day;     // "2026-01-03"; nullopt: not partitioned by day
  std::optional<std::string> tenant;  // nullopt: not partitioned by tenant
  bool everything() const { return !day && !tenant; }
  bool operator==(const Partition&) const = default;
};

// A relation (day DATE, tenant VARCHAR) holding `partitions`, for data SQL that joins on them
// ("... USING " + PartitionsRelation(p) + " p WHERE ..."). Empty list: an empty relation.
std::string PartitionsRelation(const std::vector<Partition>& partitions);

struct TableState {
  std::string name;
  std::string layer;  // curated | marts
  int64_t version = 0;
  int64_t published_version = 0;
  std::optional<std::string> model_hash;  // marts: the hash of the SQL last built; else nullopt
  int64_t rows = 0;
  std::optional<std::string> updated_at;  // "2026-01-03 10:15:00.123456" (UTC), nullopt: never
  int64_t freshness_seconds = 0;          // now - updated_at (0 when never updated)
};

// The row of `table`, or nullopt when it has none yet.
Result<std::optional<TableState>> FindTable(Catalog& catalog, const std::string& table);
// Every table's row, ordered by layer, then name.
Result<std::vector<TableState>> ListTables(Catalog& catalog);
// The same through another connection to the lake's database (Connection::Connect, USE lake),
// e.g. a reader thread of `sluice serve`: it sees the last committed rows.
Result<std::vector<TableState>> ListTables(duck::Connection& conn);

// Creates the row of `table` (version 0, published 0) unless it exists.
Status EnsureTableRow(Catalog& catalog, const std::string& table, const std::string& layer);
// A new version of `table` holding `rows` rows: version + 1, updated_at = now, and for a mart
// the hash of the model it was built from (`model_hash`; nullopt leaves the stored one).
Status RecordNewVersion(Catalog& catalog, const std::string& table, int64_t rows,
                        const std::optional<std::string>& model_hash = std::nullopt);
// A new version of `table` whose every partition changed (its columns did): version + 1,
// updated_at = now, and a (NULL, NULL) row in its publish_pending.
Status RecordRewritten(Catalog& catalog, const std::string& table);
// Forgets the model hash of mart `table`, so the next refresh rebuilds it in full.
Status ForgetModelHash(Catalog& catalog, const std::string& table);
// `table`'s version `version` is published: clears its publish_pending, sets published_version
// and published_at.
Status RecordPublished(Catalog& catalog, const std::string& table, int64_t version);

// The distinct partitions changed since `table` was last published (day as "2026-01-03").
Result<std::vector<Partition>> PublishPending(Catalog& catalog, const std::string& table);
// Adds `partitions` to `table`'s publish_pending.
Status AddPublishPending(Catalog& catalog, const std::string& table,
                         const std::vector<Partition>& partitions);
// Replaces `table`'s publish_pending with "everything changed" (one (NULL, NULL) row).
Status ReplacePublishPendingWithAll(Catalog& catalog, const std::string& table);

// The distinct partitions curate changed that the marts step has not refreshed yet.
Result<std::vector<Partition>> PendingPartitions(Catalog& catalog);
Status AddPendingPartitions(Catalog& catalog, const std::vector<Partition>& partitions);
Status ClearPendingPartitions(Catalog& catalog);

}  // namespace sluice
