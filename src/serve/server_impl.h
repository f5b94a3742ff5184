// Internal to serve/: the state shared by the engine loop (server.cc), the HTTP handlers
// (http_api.cc) and the metrics (serve_metrics.cc). Not a public interface.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/env.h"
#include "common/log.h"
#include "common/memory_limit.h"
#include "engine/engine.h"
#include "ops/alerts.h"
#include "ops/history.h"
#include "ops/pipeline_metrics.h"
#include "ops/run_lineage.h"
#include "ops/slo_runner.h"
#include "serve/budget.h"
#include "serve/feeds_api.h"
#include "serve/http.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/nats_consumer.h"
#include "serve/server.h"
#include "warehouse/pg_publisher.h"

namespace sluice {

// One HTTP request waiting for the engine thread.
struct HttpItem {
  StreamPart part;
  int64_t bytes = 0;  // reserved in the budget
  int64_t lines = 0;
  int64_t received_us = 0;  // UTC micros
  std::promise<Result<PartResult>> done;
};

// Row-weighted samples of accept-to-queryable latency, the last `kCapacity` batches.
class LatencySamples {
 public:
  void Add(double seconds, int64_t rows);
  // The q-quantile (0..1) by rows; 0 when empty.
  double Quantile(double q) const;
  int64_t batches() const;

 private:
  static constexpr size_t kCapacity = 4096;
  mutable std::mutex mu_;
  std::deque<std::pair<double, int64_t>> samples_;
  int64_t total_ = 0;
};

struct SourceState {
  const SourceSpec* spec = nullptr;
  std::deque<std::shared_ptr<HttpItem>> http;   // guarded by Impl::mu
  std::deque<std::unique_ptr<NatsBatch>> nats;  // guarded by Impl::mu
  std::unique_ptr<NatsConsumer> consumer;       // type nats
  LatencySamples queryable;                     // accept -> queryable in curated

  // Metrics, looked up once.
  Counter* rows_staged = nullptr;
  Counter* rows_dead = nullptr;
  Counter* rows_late = nullptr;
  Counter* rows_replayed = nullptr;
  Counter* rejected = nullptr;  // 429s
  Counter* batches = nullptr;
  Histogram* ingest_latency = nullptr;  // request received -> answered (HTTP); fetch -> commit (NATS)
  Histogram* commit_seconds = nullptr;
  Histogram* accept_to_queryable = nullptr;
  Gauge* queue_depth = nullptr;
  Gauge* lag_messages = nullptr;
  Gauge* lag_seconds = nullptr;
  Gauge* paused = nullptr;
  Counter* pauses = nullptr;
  Gauge* refused = nullptr;         // 1 while the stream is refused (replaced, went backwards)
  Gauge* consumer_error = nullptr;  // 1 while the consumer is not consuming (error, refused)
  double pauses_seen = 0;
};

// Removes the emptied temp directories of committed batches off the engine thread (see
// Catalog::set_tmp_dir_remover). Stop() removes what is queued, then joins.
class DirJanitor {
 public:
  DirJanitor();
  ~DirJanitor() { Stop(); }
  // Removes `path` through `env` (which must outlive the janitor's Stop()).
  void Add(Env* env, const std::string& path);
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Env*, std::string>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

// A committed batch waiting for the transform that makes it queryable in curated.
struct AwaitingTransform {
  SourceState* source;
  int64_t accepted_us;  // the oldest part's arrival (HTTP) or publish time (NATS)
  int64_t rows;
};

struct EventsAdmission;  // http_api.cc

struct Server::Impl {
  ServeOptions options;
  MemoryPlan memory;  // how the memory limit is shared out
  std::unique_ptr<Engine> engine;
  InflightBudget budget;
  MetricsRegistry metrics;
  std::map<std::string, std::unique_ptr<SourceState>> sources;

  std::mutex mu;  // guards the queues of every source
  std::condition_variable cv;
  std::atomic<bool> stop{false};
  std::atomic<bool> draining{false};    // new requests get 503
  std::atomic<int> active_handlers{0};  // HTTP handlers between the draining check and enqueue
  std::mutex transform_mu;              // guards last_transform_error
  std::string last_transform_error;     // "" while transforms succeed

  std::shared_ptr<FeedService> feeds;  // set by FeedRoutes (feeds_api.cc); thread-safe

  // The pipeline metrics read from the catalog (ops/pipeline_metrics.h), appended to /metrics;
  // read again at most every kPipelineMetricsRefreshUs (serve_metrics.cc).
  std::mutex pipeline_metrics_mu;  // guards the two below
  PipelineMetrics pipeline_metrics{PipelineMetrics::Options{.batch_commit_histogram = false}};
  int64_t pipeline_metrics_read_us = -1;  // MonotonicMicros of the last read; -1: never
  // Micro-batch commits (HTTP and NATS) that failed: sluice_stage_errors_total{stage="ingest"}.
  std::atomic<int64_t> ingest_commit_failures{0};
  std::string PipelineMetricsText();

  DirJanitor janitor;
  std::unique_ptr<http::HttpServer> http;  // bound in Open, serving from Run
  int port = 0;

  std::vector<AwaitingTransform> awaiting;  // engine thread
  int64_t staged_since_transform = 0;       // engine thread

  // Metrics of the process as a whole.
  Gauge* inflight_bytes = nullptr;
  Gauge* inflight_limit = nullptr;
  Histogram* transform_seconds = nullptr;
  Counter* transforms_ok = nullptr;
  Counter* transforms_failed = nullptr;

  // The PostgreSQL warehouse (serve_warehouse.cc); null without serve.postgres.
  std::unique_ptr<PgPublisher> warehouse;
  Gauge* warehouse_lag_versions = nullptr;
  Gauge* warehouse_lag_seconds = nullptr;
  Gauge* warehouse_failing = nullptr;
  LatencySamples warehouse_lag_samples;  // commit -> visible in PostgreSQL, per table version
  Status OpenWarehouse();
  void RefreshWarehouseGauges();
  nlohmann::json WarehouseJson();  // null without a warehouse

  // SLOs (serve_slo.cc): evaluated on the engine thread every slo.interval; alerts are sent by
  // the dispatcher's own thread. `slo` is set in Open; its Statuses() are read by HTTP threads.
  std::unique_ptr<SloRunner> slo;
  std::unique_ptr<AlertDispatcher> alerts;
  std::vector<double> transforms_since_slo;  // engine thread: durations not yet evaluated
  void InitSlo();
  void EvaluateSlos();
  nlohmann::json SloJson();  // GET /v1/slo

  explicit Impl(const ServeOptions& o) : options(o), budget(o.max_inflight_bytes) {}

  // The lake's Env (files and the wall clock); safe from any thread once the engine is open.
  Env* env() { return engine->catalog().env(); }
  // One log line (common/log.h), with what it is about where known.
  void Log(const std::string& line, const LogFields& fields = {});

  // OpenLineage events of micro-batches and transform cycles (ops/run_lineage.h); engine thread.
  std::unique_ptr<RunLineage> lineage;
  void InitMetrics();
  // With `ask_broker` (a scrape of /metrics): the consumers' lag asked of the broker now.
  void RefreshGauges(bool ask_broker = false);
  void InstallRoutes();  // http_api.cc: the built-in endpoints, then every ApiRoutes()
  // POST /v1/sources/<source>/events (http_api.cc): refusals from the headers (on an I/O
  // thread, before the body is read), then the commit of the events (on a worker).
  http::Admission AdmitEvents(const http::Request& req, const http::Principal& who);
  void ServeEvents(const http::Request& req, const http::Principal& who, http::Response& res);
  void AnswerEvents(const http::Request& req, EventsAdmission& admission, http::Response& res,
                    std::string* correlation);
  // Serves `route` (http.h) from now on; before the server starts serving (Run).
  void AddRoute(http::Route route);
  // The path patterns served and their methods (405's Allow header).
  std::vector<std::pair<std::string, std::string>> endpoints;
  // Who a request comes from (serve/auth.h); unset: everyone is http::Principal::Anonymous().
  // A failure is answered 401 with its message. Called on an HTTP I/O thread with the request
  // without its body (before the body is read): it must not block.
  std::function<Result<http::Principal>(const http::Request&)> authenticate;
  // A random secret of this process, written to <lake>/serve.json (mode 0600) for the CLI on
  // this machine (`sluice query` asks the running server): whoever can read the lake's files
  // may read its tables anyway. The authenticate hook accepts `Authorization: Bearer
  // <local_secret>` as an admin token.
  std::string local_secret;

  // Engine thread (server.cc).
  bool AnyQueued();
  void IngestHttp(SourceState& s);
  void IngestNats(SourceState& s);
  // One line per committed micro-batch, with its correlation id (--log-format json).
  void LogCommitted(const SourceState& s, const MicroBatchResult& r);
  // Curate and marts; publishing too when `publish` (else a later call publishes).
  void RunTransform(bool publish);
  void WriteStatusFile();  // <lake>/serve.json, for `sluice status` while the lake is locked
  // The dashboard's charts (dashboard_api.cc): a sample of the sources' rows and lag into
  // `history` when one is due (every 10 s of the Env's clock); called every second.
  void SampleHistory();
  MetricsHistory history;
  // With `ask_broker` (/v1/stats, /v1/health): the lag is current, as for /metrics.
  nlohmann::json StatusJson(bool ask_broker = false);
};

// Creates `m.feeds` and returns its routes (feeds_api.cc), once the engine is open.
std::vector<http::Route> FeedRoutes(Server::Impl& m);

}  // namespace sluice
