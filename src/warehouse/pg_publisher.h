// PgPublisher: copies the tables of `serve.postgres.publish` into a PostgreSQL warehouse
// (docs/WAREHOUSE.md), so that BI tools read them there.
//
// One PostgreSQL transaction per table version: it deletes the (day, tenant) partitions the
// versions since the last publish changed (catalog/warehouse_changes.h; every row for a full
// rebuild), COPYs their rows from one read snapshot of the lake, adds new columns, and records
// the version in <schema>._sluice_publish and the batches it brought (with their correlation
// ids) in <schema>._sluice_publish_batches. A BI reader sees a table at one sluice version or
// the next, never between. The recorded version makes catch-up idempotent: after a crash of
// either side, the next pass compares versions and sends what is missing, once.
//
// Reads the lake through its own DuckDB connection (a read transaction: whole commits only),
// so it never holds up the engine thread; pruning the changes it has published is left to
// the thread that owns the catalog (Prune). PostgreSQL being down or slow only delays it:
// Start() runs passes on a thread of its own, retrying failures with capped, jittered
// exponential backoff. The DSN comes from the environment variable `dsn_env` names and never
// appears in a message. Thread-safe: Notify, stats and Prune from any thread (Prune on the
// catalog's own thread); PublishAll only while the thread is not started.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "duck/duck.h"
#include "spec/spec.h"
#include "storage/publish.h"

namespace sluice {

class PgConnection;

struct WarehouseTableStats {
  std::string name;               // "curated.orders"
  int64_t lake_version = 0;       // the version in the lake when last looked at
  int64_t published_version = 0;  // the version PostgreSQL holds
  int64_t rows_published = 0;     // rows copied since start
};

struct WarehouseStats {
  std::vector<WarehouseTableStats> tables;
  int64_t versions_behind = 0;  // sum over tables of lake - published
  double seconds_behind = 0;    // since the oldest commit not yet in PostgreSQL; 0 when caught up
  int64_t failures = 0;         // failed passes since start
  int64_t consecutive_failures = 0;
  std::string last_error;  // "" while passes succeed (redacted)
};

class PgPublisher {
 public:
  struct Hooks {
    std::function<void(const std::string&)> log;  // one line, no DSN
    // After each table version committed in PostgreSQL: commit-to-visible seconds, rows sent.
    std::function<void(double seconds, int64_t rows)> published;
  };

  // `lake` is the catalog's connection (a connection of the publisher's own is made from it);
  // `spec` and `lake` must outlive the publisher. InvalidArgument when serve.postgres is not
  // set or its dsn_env variable is unset or empty.
  static Result<std::unique_ptr<PgPublisher>> Create(const ProjectSpec& spec, duck::Connection& lake,
                                                     Env* env, Hooks hooks);
  ~PgPublisher();  // Stop()

  // One pass on the caller's thread: each table up to the lake's current version. The first
  // error ends the pass (what was committed stays committed).
  Status PublishAll();

  // Starts the background thread; it runs a pass at start, after each Notify and, after a
  // failure, once its backoff expires.
  void Start();
  // A new commit of the lake may hold changes to publish. Cheap; from any thread.
  void Notify();
  // Stops the thread after its current pass; with `final_pass`, one more pass first when the
  // last one succeeded (so that a clean stop leaves PostgreSQL caught up).
  void Stop(bool final_pass = false);

  // Forgets the changes of versions PostgreSQL holds (catalog/warehouse_changes.h). On the
  // catalog's thread, outside its transactions.
  Status Prune(Catalog& catalog);

  WarehouseStats stats();

 private:
  PgPublisher(const ProjectSpec& spec, std::unique_ptr<duck::Connection> conn, Env* env, Hooks hooks,
              std::string dsn);
  struct Table {
    std::string qualified;  // curated.orders
    PublishTarget target;
    std::vector<std::string> upstream;  // the curated tables whose merges bring its rows
    int64_t lake_version = 0, published = 0, pruned = 0, rows = 0;
  };
  Status PublishOne(Table& t);
  Status EnsureConnected();
  void Loop();
  void Log(const std::string& line) const;

  const ProjectSpec& spec_;
  const PostgresServeSpec& pg_;
  std::unique_ptr<duck::Connection> conn_;  // the publisher's own, on the lake's database
  Env* env_;
  Hooks hooks_;
  std::string dsn_;
  std::string scratch_dir_;  // CSV files DuckDB writes for COPY
  std::unique_ptr<PgConnection> pg_conn_;
  bool schema_ready_ = false;  // on the current connection

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::vector<Table> tables_;
  bool notified_ = false;
  int64_t notify_gen_ = 0;  // Notify() calls so far
  bool stop_ = false;
  bool final_pass_ = false;
  int64_t behind_since_us_ = 0;  // 0: caught up
  int64_t failures_ = 0, consecutive_failures_ = 0;
  std::string last_error_;
  std::thread thread_;
};

// The PostgreSQL type a DuckDB column type is published as (docs/WAREHOUSE.md): VARCHAR text,
// BIGINT bigint, DECIMAL(p,s) numeric(p,s), TIMESTAMP WITH TIME ZONE timestamptz, lists,
// structs and maps jsonb...; text for anything else.
std::string PgTypeFor(const std::string& duckdb_type);

}  // namespace sluice
