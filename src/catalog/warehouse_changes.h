// The partitions of each table version, kept for the PostgreSQL warehouse (warehouse/):
//
//   meta.warehouse_changes   (table_name, version, day, tenant): the (day, tenant) partitions
//                            version `version` of a table changed; (NULL, NULL) = all of them
//   meta.warehouse_tables    (table_name, complete_from): every version after `complete_from`
//                            has its rows in warehouse_changes (older ones were pruned, or the
//                            table was not published to PostgreSQL then)
//   meta.warehouse_batches   (table_name, version, source, batch_id, committed_at): the batches
//                            whose rows version `version` brought (a curated table: the batches
//                            its merge applied; a mart: those merged into the curated tables it
//                            reads since its previous version), committed in the lake at
//                            `committed_at`; the publisher records them in PostgreSQL with the
//                            version (docs/WAREHOUSE.md)
//
// Parquet publishing keeps its own set (meta.publish_pending, tables.h): the two are cleared
// at different times. Only the tables of `serve.postgres.publish` are tracked. Changes are
// written with version NULL by AddPublishPending and friends (tables.h) and stamped with the
// table's new version by RecordNewVersion / RecordRewritten in the same transaction, so the
// version a change belongs to never depends on the order of those calls.
//
// Every function runs on the connection it is given and opens no transaction of its own: the
// recording functions on the catalog's connection inside the data change's transaction, the
// reading ones on a reader's connection inside its read transaction. Not safe for concurrent
// use of one connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/tables.h"
#include "common/status.h"

namespace sluice {

inline constexpr const char* kWarehouseSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta.warehouse_changes (
  table_name VARCHAR NOT NULL, version BIGINT, day DATE, tenant VARCHAR);
CREATE TABLE IF NOT EXISTS meta.warehouse_tables (
  table_name VARCHAR PRIMARY KEY, complete_from BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS meta.warehouse_batches (
  table_name VARCHAR NOT NULL, version BIGINT, source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
  committed_at TIMESTAMP);
)sql";

// True when `table` (unqualified, as in meta.tables) is published to PostgreSQL by the spec.
bool WarehouseTracked(const ProjectSpec& spec, const std::string& table);

// Starts tracking the spec's published tables (complete_from = their current version, for a
// table not tracked yet) and forgets the tables no longer published. At catalog open.
Status SyncWarehouseTracking(Catalog& catalog);

// Adds `partitions` (or, with `all`, one (NULL, NULL) row) as changes of `table`'s next version.
// A no-op for a table that is not tracked.
Status AddWarehouseChanges(Catalog& catalog, const std::string& table,
                           const std::vector<Partition>& partitions, bool all = false);
// Adds `batch_ids` of `source`, merged into curated `table`, as batches of its next version.
// A no-op for a table that is not tracked.
Status AddWarehouseBatches(Catalog& catalog, const std::string& table, const std::string& source,
                           const std::vector<std::string>& batch_ids);
// Adds, as batches of mart `mart`'s next version, the batches merged into the curated tables it
// reads (WarehouseUpstream) since its current version was built (all of them before its first).
// Call before its version bump. A no-op for a mart that is not tracked.
Status AddMartWarehouseBatches(Catalog& catalog, const std::string& mart);
// Stamps `table`'s unstamped changes and batches with its current version (call after the
// version bump), the batches with the time of the transaction.
Status StampWarehouseChanges(Catalog& catalog, const std::string& table);

// The curated tables whose merges bring rows to `table`: itself for a curated table, those a
// mart reads (through the marts it reads too) for a mart.
std::vector<std::string> WarehouseUpstream(const ProjectSpec& spec, const std::string& table);

// A batch whose rows a table version brought.
struct WarehouseBatch {
  std::string source;
  std::string batch_id;
  std::string correlation_id;  // the batch's (meta.batches); "" when unknown
  std::string committed_at;    // when the version that brought it committed in the lake, UTC
                               // "2026-01-03 10:15:00.123456"; "" when unknown
};

// What the warehouse needs to bring `table` from version `from` up to date, read in one
// snapshot of the lake (the caller's read transaction on `conn`).
struct WarehouseDelta {
  int64_t version = 0;                // the table's current version (0: never built)
  bool full = false;                  // every partition: rebuild the table
  std::vector<Partition> partitions;  // otherwise the changed ones (distinct)
  // The batches the versions after `from` brought, each once. When those versions are not all
  // recorded (see `full`), every batch merged into `upstream`.
  std::vector<WarehouseBatch> batches;
};
Result<WarehouseDelta> ReadWarehouseDelta(duck::Connection& conn, const std::string& table, int64_t from,
                                          const std::vector<std::string>& upstream);

// Forgets `table`'s changes and batches up to `version` (published), advancing complete_from.
Status PruneWarehouseChanges(Catalog& catalog, const std::string& table, int64_t version);

}  // namespace sluice
