// The catalog: the lake's DuckDB database and the tables sluice keeps about its own state.
//
//   meta.batches       the batch ledger: one row per committed batch (G1 counts, G2 identity)
//   meta.files         staging files of each batch: path, day (files of one day), rows
//   meta.file_partitions  per staging file: the (day, tenant) partitions it holds, with rows
//   meta.applied       which batches each curated table has merged (G3 idempotency)
//   meta.pending_partitions  (day, tenant) partitions changed in curated, not yet in marts
//   meta.tables        per curated table / mart: version, published version, changed partitions
//   meta.counters      the last dlq_id handed out (ids are unique across the lake, never reused)
//   meta.schemas       every registered version of each source's contract (schema_registry.h)
//   meta.schema_acceptances  refusals accepted once with `sluice schema accept` (schema_registry.h)
//   meta.stream_offsets  per committed stream batch: the JetStream sequence range it holds
//   meta.stream_positions  per (nats source, stream): last committed sequence, stream identity
//   meta.stream_resets   per `sluice streams reset`: who, when, from which position to which
//   meta.idempotency   per HTTP request with an Idempotency-Key: the answer it was given
//   meta.watermarks    per (stream source, tenant partition): max event time, watermark, late rows
//   meta.feed_changes, meta.feed_heads, meta.feed_positions  change feeds of curated tables (feeds.h)
//   meta.slo_samples, meta.slo_states  SLI samples and the state of each SLO (slo_history.h)
//   meta.lifecycle     lifecycle actions: moved, deleted, compacted, expired, restored (lifecycle_log.h)
//   meta.snapshots     every published version of a table, numbered by publish round (snapshots.h)
//   dlq.<source>       dead-lettered rows: dlq_id, status ('open' | 'redriven'), redriven_batch
//   curated.<table>, marts.<table>
//   staging.<source>   a view over the committed staging Parquet files (in-memory catalog)
//
// Catalog owns the one DuckDB connection of a process. The lake file is ATTACHed as `lake` and
// made the default database, so user SQL and models name tables `curated.orders` etc. Only one
// process may open a lake for writing (DuckDB's file lock); Open reports Unavailable otherwise.
// Not safe for concurrent use.
//
// Every read and write of meta.* and dlq.* lives in catalog/, by concern: ledger.h and
// ledger_reads.h (batches, files, counters), applied.h, tables.h (tables, pending_partitions,
// publish_pending), test_results.h, quarantine_log.h, dlq.h, runs.h, stream_ledger.h,
// schema_registry.h, feeds.h, slo_history.h, lifecycle_log.h, snapshots.h. Those functions take this class
// and values; none opens a transaction, so callers keep catalog rows in the same transaction as the data
// they describe. This is a concrete class: a second implementation (PostgreSQL, for scale-out) implements
// the same functions, and the abstract interface is extracted then.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "duck/duck.h"
#include "spec/spec.h"

namespace sluice {

class Catalog;

struct CatalogOptions {
  bool read_only = false;
  // DuckDB's memory_limit in bytes (common/memory_limit.h shares a process's limit out); 0: the
  // share of the project's memory_limit (or of the default for a query or a pipeline command,
  // as read_only says). Writers spill beyond it into <lake>/_spill (emptied when the lake is
  // opened); read-only opens do not spill (a query over the limit fails with out of memory).
  int64_t memory_limit_bytes = 0;
  duck::OpenOptions duck;
  // Read-only opens: runs once the lake and staging are attached, before the sandbox is locked
  // (settings and attachments are refused after), e.g. to attach a snapshot for time travel.
  std::function<Status(Catalog&)> before_sandbox;
};

// The directory under the lake where DuckDB spills, relative to the lake.
inline constexpr const char* kSpillDir = "_spill";
// The lake's database, <lake>/sluice.duckdb: a lake exists when this file does.
inline constexpr const char* kLakeDatabaseFile = "sluice.duckdb";

class Catalog {
 public:
  // Opens (creating the lake directory and database if needed), empties the spill directory a
  // previous process left, and creates missing schemas and
  // meta tables, dlq tables for each source, recovers staging (RecoverStaging) and creates the
  // staging views. Read-only opens never create or recover anything and restrict file access
  // to the lake directory.
  static Result<std::unique_ptr<Catalog>> Open(const ProjectSpec& spec, const CatalogOptions& options,
                                               Env* env = Env::Default());
  // A read-only view of a lake another Catalog of this process has open: `conn` is another
  // connection to that catalog's database (duck::Connection::Connect, made on any thread),
  // whose staging views it shares. Everything read through it runs in one transaction, begun
  // here and rolled back when the reader is destroyed: it sees one snapshot of whole commits,
  // and nothing done through it is kept. Destroy it before the catalog it reads. Creates,
  // recovers and refreshes nothing (spec only names the sources; it may be a newer load of the
  // project than the open catalog's).
  static Result<std::unique_ptr<Catalog>> OpenReader(const ProjectSpec& spec,
                                                     std::unique_ptr<duck::Connection> conn,
                                                     Env* env = Env::Default());
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  duck::Connection& conn() { return *conn_; }
  const ProjectSpec& spec() const { return spec_; }
  Env* env() { return env_; }
  const std::string& lake() const { return spec_.lake; }

  // BEGIN / COMMIT / ROLLBACK on the lake connection.
  Status Begin();
  Status Commit();
  Status Rollback();

  // (Re)defines staging.<source> over its committed staging files: one glob per contract
  // version's directory (storage/staging.h), so the definition does not grow with the number of
  // files and is replaced only when a version, a dropped batch or a file of the older
  // one-file-per-partition layout appears; such older files are listed one by one.
  Status RefreshStagingView(const SourceSpec& source);
  // After a batch staged `paths` (lake-relative): RefreshStagingView when one of them lies in a
  // directory the view does not read yet (the source's first batch, a new contract version, a
  // file of the older layout); otherwise its files already show through the view's globs and
  // nothing is done. For micro-batches of streams, committed many times a second.
  Status RefreshStagingViewFor(const SourceSpec& source, const std::vector<std::string>& paths);
  // Writes DuckDB's WAL into the database file (keeps restarts fast).
  Status Checkpoint();

  // Where a committed batch's emptied temp directory goes (CommitBatch's last step). Unset, it
  // is removed at once; `sluice serve` hands it to a background thread instead, since removing
  // directories costs milliseconds on some file systems. A directory left behind by a crash is
  // removed by RecoverStaging on the next open.
  using TmpDirRemover = std::function<void(const std::string& abs_path)>;
  void set_tmp_dir_remover(TmpDirRemover remover) { tmp_dir_remover_ = std::move(remover); }
  const TmpDirRemover& tmp_dir_remover() const { return tmp_dir_remover_; }

 private:
  Catalog(ProjectSpec spec, Env* env) : spec_(std::move(spec)), env_(env) {}
  Status CreateSchema();
  Status CreateDlqIdentity();

  ProjectSpec spec_;
  Env* env_;
  bool read_only_ = false;
  bool reader_ = false;  // OpenReader: a transaction to roll back on destruction
  std::unique_ptr<duck::Connection> conn_;
  TmpDirRemover tmp_dir_remover_;
  std::map<std::string, std::string> staging_views_;  // source -> the staging view's SELECT
  // source -> the directories the staging view reads through globs ("staging/<source>/v<N>/"
  // or ".../v<N>/day="), as of its last RefreshStagingView.
  std::map<std::string, std::set<std::string>> staging_view_dirs_;
};

// Columns every staged row carries besides its contract columns, and their DuckDB types.
struct MetaColumn {
  const char* name;
  const char* type;
};
const std::vector<MetaColumn>& StagingMetaColumns();

// "CREATE TABLE ... (contract columns, extra...)"-style column list: "order_id VARCHAR, ...".
std::string ColumnDefinitions(const Contract& contract);

// A parenthesized SELECT over `scan` (a read_parquet(..., union_by_name = true) call over
// staging files) that yields every column of `contract` with its contract type, whatever
// contract version each file was written under: columns a file lacks read the column's declared
// default, or NULL; other columns (meta, hive partitions, removed ones) pass through.
std::string StagingRows(const Contract& contract, const std::string& scan);

// The staging view's partition columns computed from the rows, for files that hold rows of many
// partitions (a stream micro-batch's): ", CAST(<day column> AS DATE) AS day, CAST(<tenant
// column> AS VARCHAR) AS tenant", each only when `source` partitions by it; "" when it does not.
std::string StagingPartitionColumns(const SourceSpec& source);

}  // namespace sluice
