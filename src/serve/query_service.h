// Internal to serve/: the state the read endpoints share (query_api.cc, sql_endpoint.cc):
// the tables served, a pool of DuckDB connections of their own on the engine's database, the
// concurrency limit, the cursors and the metrics. Never the engine thread's connection: each
// read runs on a connection from the pool, in its own transaction, so it sees whole commits.
//
// Thread-safe: every member is used from HTTP threads concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "duck/duck.h"
#include "serve/cursors.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/rows_cache.h"
#include "serve/served_tables.h"
#include "serve/server_impl.h"

namespace sluice {

class QueryService {
 public:
  explicit QueryService(Server::Impl& impl);

  Server::Impl& impl() { return impl_; }
  const ServeQuerySpec& limits() const { return limits_; }
  const std::vector<ServedTable>& tables() const { return tables_; }
  CursorRegistry& cursors() { return cursors_; }
  Env* env() { return impl_.env(); }
  const std::string& lake() { return impl_.engine->spec().lake; }
  const ProjectSpec& spec() { return impl_.engine->spec(); }

  // A connection of the pool (`USE lake` done), returned to it when the handle is destroyed.
  class Lease {
   public:
    Lease(QueryService* owner, std::unique_ptr<duck::Connection> conn)
        : owner_(owner), conn_(std::move(conn)) {}
    ~Lease();
    Lease(Lease&&) = default;
    duck::Connection& conn() { return *conn_; }
    // Closes the connection instead of returning it to the pool: its state is not known.
    void Discard() { conn_.reset(); }

   private:
    QueryService* owner_;
    std::unique_ptr<duck::Connection> conn_;
  };
  Result<Lease> Connect();

  // One of `limits().max_concurrent` slots for a read, or nullopt (the caller answers 429).
  class Slot {
   public:
    explicit Slot(std::atomic<int64_t>* n) : n_(n) {}
    ~Slot() {
      if (n_) n_->fetch_sub(1);
    }
    Slot(Slot&& o) noexcept : n_(o.n_) { o.n_ = nullptr; }
    Slot(const Slot&) = delete;

   private:
    std::atomic<int64_t>* n_;
  };
  std::optional<Slot> TryAcquire();
  // Answers 429 with Retry-After for a request that found no slot.
  void Busy(http::Response& res);

  // The served table named "<layer>.<name>" or nullptr.
  const ServedTable* Find(const std::string& qualified) const;
  // The tables `who` may read, as "a, b, c", for messages.
  std::string Readable(const http::Principal& who) const;

  // Metrics: per rows request, the partitions (day files) read and those of the version.
  void CountPartitions(const ServedTable& table, int64_t read, int64_t total);
  Histogram* rows_seconds = nullptr;
  Histogram* sql_seconds = nullptr;
  Counter* refused_busy = nullptr;
  Counter* sql_timeouts = nullptr;
  Counter* rows_answered_from_cache = nullptr;

  // What the rows endpoint keeps between requests (rows_cache.h): published versions' files
  // and columns, and one-page answers (at most 32 MiB, 1 MiB each).
  VersionFactsCache version_facts;
  AnswerCache answers{32 << 20, 1 << 20};

 private:
  Server::Impl& impl_;
  ServeQuerySpec limits_;
  std::vector<ServedTable> tables_;
  CursorRegistry cursors_;
  std::atomic<int64_t> running_{0};
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<duck::Connection>> pool_;
  struct TableMetrics {
    Counter* read = nullptr;
    Counter* total = nullptr;
    Histogram* per_request = nullptr;
  };
  std::vector<TableMetrics> table_metrics_;  // parallel to tables_
};

// Rows as CSV (RFC 4180): a header line, then each row; NULL is an empty field and an empty
// string is "" (quoted), so that the two stay apart.
std::string CsvText(const duck::Rows& rows);

}  // namespace sluice
