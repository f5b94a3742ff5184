// Change feeds of curated tables (docs/FEEDS.md):
//
//   meta.feed_changes    per change of a curated table that has consumers: its sequence in the
//                        table's feed, insert | update, the row after and the key's previous
//                        version (JSON text), the batch and the table version it committed in
//   meta.feed_heads      per table: the last sequence handed out (sequences never go back, even
//                        when retention deleted every change) and when its feed started
//   meta.feed_positions  per consumer: the last sequence it committed, and when
//
// Storage: one table for every feed, rows as JSON text (DuckDB's to_json of the row). A curated
// table's columns evolve (additive contract changes, docs/CONTRACTS.md): a typed copy would have
// to evolve in step, and a change logged before a column existed would have to be rewritten;
// JSON text keeps every change as it was logged, the API answers JSON anyway, and retention is
// one DELETE over one table.
//
// Every function takes the DuckDB connection to run on and opens no transaction of its own:
// curate calls the writers of changes inside its merge transaction on the catalog's connection
// (the log commits if and only if the merge does: G3/G5 hold by construction); `sluice serve`'s
// feed endpoints call the readers and WriteFeedPosition on a connection of their own, in their
// own transactions (DuckDB MVCC: a reader sees whole curate commits only). The connection must
// have the lake as its default database (`USE lake`). Errors: DuckDB's, with context. Not safe
// for concurrent use of one connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "duck/duck.h"

namespace sluice {

// Creates the feed tables when missing (Catalog::Open, writers only).
Status CreateFeedTables(duck::Connection& conn);

// Forgets what belongs to no consumer of `consumers` (pairs of consumer and table, from
// sluice.yaml): the positions of consumers removed or now following another table, and the
// changes of tables left without consumers. Called when a writer opens the lake, so that a
// consumer removed and added again later starts afresh at the head (as any new consumer does),
// never from a position whose following changes were not logged or were deleted meanwhile.
Status ForgetFeedsWithoutConsumers(duck::Connection& conn,
                                   const std::vector<std::pair<std::string, std::string>>& consumers);

// Gives every consumer of `table` in `consumers` that has no position yet one at the feed's
// head (the last sequence handed out, 0 for a new feed): a consumer added later starts from
// then, never from changes logged before it existed. Creates the table's head when missing.
Status StartFeedConsumers(duck::Connection& conn, const std::string& table,
                          const std::vector<std::string>& consumers, int64_t now_us);

// Appends the rows of `changes` (a relation with columns op, batch_id, tenant, row_json,
// prev_json, batch_seq, source_line) to `table`'s feed as committed in table version `version`,
// numbered after the head in (batch_seq, source_line) order, and advances the head. Returns how
// many were appended.
Result<int64_t> AppendFeedChanges(duck::Connection& conn, const std::string& table,
                                  const std::string& changes, int64_t version, int64_t now_us);

// Deletes at most `max_rows` of `table`'s oldest changes that every consumer in `consumers`
// has committed past (a consumer without a position pins nothing: it starts at the head).
// Returns how many were deleted.
Result<int64_t> PruneFeedChanges(duck::Connection& conn, const std::string& table,
                                 const std::vector<std::string>& consumers, int64_t max_rows);

struct FeedChange {
  int64_t seq = 0;
  std::string op;  // insert | update
  std::string batch_id;
  int64_t version = 0;  // meta.tables version of the curate commit that made the change
  std::optional<std::string> tenant;
  std::string row_json;                  // the row after the change
  std::optional<std::string> prev_json;  // the key's previous row; nullopt for an insert
  int64_t changed_at_us = 0;
};

// Where a consumer stands. `started` is false until curate gave it a position.
struct FeedPosition {
  bool started = false;
  std::string table;
  int64_t position = 0;  // the last sequence committed
  int64_t committed_at_us = 0;
};
Result<FeedPosition> ReadFeedPosition(duck::Connection& conn, const std::string& consumer);

// Up to `limit` changes of `table` after sequence `after`, in sequence order; with `tenants`,
// only changes of rows of those tenants.
Result<std::vector<FeedChange>> ReadFeedChanges(duck::Connection& conn, const std::string& table,
                                                int64_t after,
                                                const std::optional<std::vector<std::string>>& tenants,
                                                int64_t limit);

struct FeedLag {
  int64_t changes = 0;                           // changes after the position (of `tenants`)
  std::optional<int64_t> oldest_uncommitted_us;  // when the oldest of them was logged
  int64_t newest_seq = 0;                        // the newest such change's sequence; 0: none
  int64_t head_seq = 0;                          // the table's head (every tenant)
};
Result<FeedLag> MeasureFeedLag(duck::Connection& conn, const std::string& table, int64_t after,
                               const std::optional<std::vector<std::string>>& tenants);

// Sets a started consumer's position. NotFound when it has none yet.
Status WriteFeedPosition(duck::Connection& conn, const std::string& consumer, int64_t position,
                         int64_t now_us);

}  // namespace sluice
