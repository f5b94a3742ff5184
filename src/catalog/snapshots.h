// Snapshots: every published version of a curated table or mart, numbered, for time travel
// (`sluice query --as-of`, `as_of` of the query API) and restore (docs/LIFECYCLE.md).
//
//   meta.snapshots  (snapshot, table_name): layer, version, path (lake-relative version
//                   directory), rows, committed_at, restored_from, expired_at
//
// A snapshot number names one publish round of the lake: every table published in the same
// round (Engine::Publish: one per `sluice run`, one per transform.publish_interval under
// `sluice serve`) shares it, so "the lake as of snapshot N" is each table at its newest snapshot
// <= N, a consistent cut. Numbers grow by one per round that published something.
// A snapshot expires (expired_at set) by retention.snapshots; its row stays as history, its
// files are removed by publishing (storage/publish.h).
//
// Like tables.h: no function opens a transaction; Catalog's threading rules apply. Errors:
// DuckDB's, with context; parse errors of user input are InvalidArgument.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

struct SnapshotRecord {
  int64_t snapshot = 0;
  std::string table;
  std::string layer;  // curated | marts
  int64_t version = 0;
  std::string path;  // "published/curated/orders/v7", relative to the lake
  int64_t rows = 0;
  int64_t committed_at_us = 0;  // UTC microseconds
  std::optional<int64_t> restored_from;
  std::optional<int64_t> expired_at_us;
  bool live() const { return !expired_at_us; }
};

// Creates meta.snapshots unless it exists (lakes of earlier releases get it on their next open).
Status CreateSnapshotTable(duck::Connection& conn);

// The number the next publish round gets: the greatest recorded + 1 (1 for a new lake).
Result<int64_t> NextSnapshot(Catalog& catalog);
// Records one table's snapshot (in the publish's own transaction).
Status RecordSnapshot(Catalog& catalog, const SnapshotRecord& record);
// `table`'s snapshots, oldest first, expired ones included.
Result<std::vector<SnapshotRecord>> TableSnapshots(Catalog& catalog, const std::string& table);
// Every table's snapshots, by table then snapshot; through another connection too (serve).
Result<std::vector<SnapshotRecord>> AllSnapshots(Catalog& catalog);
Result<std::vector<SnapshotRecord>> AllSnapshots(duck::Connection& conn);
// Marks `snapshots` of `table` expired at `now_us`.
Status ExpireSnapshots(Catalog& catalog, const std::string& table, const std::vector<int64_t>& snapshots,
                       int64_t now_us);

// Of `snapshots` (one table's, any order): the live ones retention.snapshots lets go at `now_us`.
// Kept: the newest `keep_last` live ones, every one committed within `keep_within_seconds`,
// and always the newest. `pinned(version)` true keeps it too (an open cursor, a feed position).
std::vector<int64_t> SnapshotsToExpire(const std::vector<SnapshotRecord>& snapshots,
                                       const SnapshotRetention& keep, int64_t now_us,
                                       const std::function<bool(int64_t version)>& pinned);

// A restore (engine/restore.h) records on meta.tables which snapshot the table's next version
// comes from; the publish of that version records it as the snapshot's restored_from and
// clears it. nullopt: the next version is an ordinary commit.
Status SetRestoredFrom(Catalog& catalog, const std::string& table, std::optional<int64_t> snapshot);
Result<std::optional<int64_t>> RestoredFrom(Catalog& catalog, const std::string& table);

// A point of time travel: a snapshot number, or a UTC time.
struct AsOf {
  std::optional<int64_t> snapshot;
  std::optional<int64_t> at_us;
  std::string text;  // as the user wrote it, for messages
};
// Reads `text`: digits are a snapshot number (>= 1); anything DuckDB reads as a TIMESTAMP
// ("2026-01-03 10:15:00", "2026-01-03T10:15:00Z") is a UTC time. InvalidArgument otherwise
// (the text is only ever passed to DuckDB as a quoted literal).
Result<AsOf> ParseAsOf(duck::Connection& conn, const std::string& text);

// Each table's snapshot at `as_of`: the newest with number <= as_of.snapshot (or committed at or
// before as_of.at_us), expired or not: callers say "expired" for those. A table with none then
// is absent. NotFound when `as_of.snapshot` is greater than every recorded snapshot.
Result<std::vector<SnapshotRecord>> SnapshotsAsOf(duck::Connection& conn, const AsOf& as_of);

}  // namespace sluice
