// The change-feed endpoints of `sluice serve` (docs/FEEDS.md), their metrics and retention.
//
//   GET  /v1/feeds/<consumer>?limit=N   the changes after the consumer's committed position
//   POST /v1/feeds/<consumer>/commit    {"position": N}: advances it
//   POST /v1/feeds/<consumer>/reset     {"to": "latest" | N}: moves a (stale) consumer forward, admin
//
// Reads and position commits run on DuckDB connections of the service's own (never the engine
// thread's), each request in one transaction of its own: a read sees whole curate commits only
// (MVCC). The engine thread never writes a started consumer's position (it only inserts the
// first one, in curate's transaction), so a commit does not conflict with it; commits of
// positions are serialized among themselves by a mutex, and a write conflict DuckDB reports
// anyway is answered 503 (retry). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/env.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "spec/spec.h"

namespace sluice {

class FeedService {
 public:
  // `lake_conn` is only connected from (duck::Connection::Connect) and must outlive the
  // service; `spec`, `env` and `metrics` too.
  FeedService(const ProjectSpec& spec, duck::Connection& lake_conn, Env* env, MetricsRegistry& metrics);

  // The three routes above.
  std::vector<http::Route> Routes();
  // Sets every consumer's gauges (position, lag in changes and seconds, stale). Any thread.
  void RefreshGauges();
  // {"<consumer>": {"table", "position", "lag_changes", "lag_seconds", "stale"}}. Any thread.
  nlohmann::json StatusJson();
  // Retention, on the engine thread after a transform: deletes at most `max_rows` changes per
  // table that every consumer of it committed past, in a transaction of the catalog's.
  Status Prune(Catalog& catalog, int64_t max_rows = 100000);

 private:
  struct Lease;  // a pooled connection, returned on destruction
  Result<Lease> Take();
  void Read(const http::Request& req, const http::Principal& who, http::Response& res);
  void Commit(const http::Request& req, const http::Principal& who, http::Response& res);
  void Reset(const http::Request& req, const http::Principal& who, http::Response& res);
  // The consumer a request names, after the scope and tenant checks; null with `res` set.
  const ConsumerSpec* Authorize(const http::Request& req, const http::Principal& who, http::Response& res);

  struct Standing {  // where a consumer stands now
    bool started = false;
    int64_t position = 0;
    int64_t lag_changes = 0;
    double lag_seconds = 0;  // age of the oldest uncommitted change
    int64_t newest_seq = 0;  // the newest change of its feed, 0: none
    int64_t head_seq = 0;
    bool stale = false;
  };
  Result<Standing> Measure(duck::Connection& conn, const ConsumerSpec& consumer);
  std::string StaleMessage(const ConsumerSpec& consumer, const Standing& s) const;

  const ProjectSpec& spec_;
  Env* env_;
  MetricsRegistry& metrics_;
  std::mutex pool_mu_;
  duck::Connection& lake_conn_;                          // guarded by pool_mu_ (Connect only)
  std::vector<std::unique_ptr<duck::Connection>> pool_;  // guarded by pool_mu_
  std::mutex commit_mu_;                                 // one position commit or reset at a time
};

}  // namespace sluice
