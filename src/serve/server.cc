#include "serve/server.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "catalog/ledger.h"
#include "common/failpoint.h"
#include "serve/auth.h"
#include "serve/cursors.h"
#include "serve/server_impl.h"

namespace sluice {

namespace {

using Clock = std::chrono::steady_clock;

// The PEM file a `serve.tls` key names, read whole.
Result<std::string> ReadTlsFile(Env* env, const ProjectSpec& spec, const std::string& key,
                                const std::string& path) {
  Result<std::string> read = env->ReadFile(path);
  if (!read.ok()) {
    return Status::InvalidArgument(spec.spec_path + ": serve.tls." + key + ": cannot read " + path + " (" +
                                   read.status().message() + ")");
  }
  std::string text = std::move(*read);
  if (text.empty()) {
    return Status::InvalidArgument(spec.spec_path + ": serve.tls." + key + ": " + path + " is empty");
  }
  return text;
}

// The HTTP server's options: the command line's, the project's `serve:` settings.
Result<http::ServerOptions> HttpOptions(const ServeOptions& options, const ProjectSpec& spec,
                                        std::function<void(const std::string&)> log) {
  http::ServerOptions o;
  o.host = options.host;
  o.port = options.port;
  o.workers = options.http_threads;
  const ServeLimitsSpec& l = spec.serve.limits;
  o.limits.max_connections = l.max_connections;
  o.limits.max_connections_per_client = l.max_connections_per_client;
  o.limits.idle_timeout_seconds = std::max<int64_t>(1, l.idle_timeout_ms / 1000);
  o.limits.request_timeout_ms = l.request_timeout_ms;
  o.limits.max_header_bytes = l.max_header_bytes;
  o.limits.max_body_bytes = l.max_body_bytes;
  if (spec.serve.tls) {
    ASSIGN_OR_RETURN(o.tls_cert_pem, ReadTlsFile(Env::Default(), spec, "cert", spec.serve.tls->cert));
    ASSIGN_OR_RETURN(o.tls_key_pem, ReadTlsFile(Env::Default(), spec, "key", spec.serve.tls->key));
  }
  o.log = std::move(log);
  return o;
}

}  // namespace

// ---- LatencySamples -----------------------------------------------------------------------

void LatencySamples::Add(double seconds, int64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.emplace_back(seconds, rows);
  ++total_;
  if (samples_.size() > kCapacity) samples_.pop_front();
}

double LatencySamples::Quantile(double q) const {
  std::vector<std::pair<double, int64_t>> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.assign(samples_.begin(), samples_.end());
  }
  if (s.empty()) return 0;
  std::sort(s.begin(), s.end());
  int64_t rows = 0;
  for (const auto& x : s) rows += x.second;
  const double target = q * static_cast<double>(rows);
  int64_t seen = 0;
  for (const auto& x : s) {
    seen += x.second;
    if (static_cast<double>(seen) >= target) return x.first;
  }
  return s.back().first;
}

int64_t LatencySamples::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

// ---- DirJanitor ---------------------------------------------------------------------------

DirJanitor::DirJanitor() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopped and drained
      auto [env, path] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      (void)env->RemoveAll(path);  // best effort: recovery removes what is left
      lock.lock();
    }
  });
}

void DirJanitor::Add(Env* env, const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace_back(env, path);
  }
  cv_.notify_one();
}

void DirJanitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// ---- Server -------------------------------------------------------------------------------

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_->http) impl_->http->Stop();
}

int Server::port() const { return impl_->port; }

void Server::RequestStop() {
  impl_->stop = true;
  impl_->cv.notify_all();
}

Result<std::unique_ptr<Server>> Server::Open(const std::string& project_dir, const ServeOptions& options) {
  ASSIGN_OR_RETURN(ProjectSpec spec, LoadProject(project_dir));
  if (options.memory_limit) spec.memory_limit_bytes = options.memory_limit;
  // Before the lake is opened: a server that would refuse to start locks nothing.
  ASSIGN_OR_RETURN(Authenticator authenticator, Authenticator::Create(spec.serve.auth));
  if (!authenticator.required() && !IsLoopbackHost(options.host)) {
    return Status::InvalidArgument(
        "serve.auth is none, which is allowed on a loopback address only, not on " + options.host +
        ": declare serve.auth.tokens in sluice.yaml (docs/SECURITY.md) or listen on "
        "127.0.0.1");
  }
  const int64_t limit = spec.MemoryLimit(MemoryUse::kPipeline);
  Result<MemoryPlan> plan = PlanMemory(
      limit, options.max_inflight_bytes > 0 ? options.max_inflight_bytes : DefaultInflightBudget(limit));
  if (!plan.ok()) return plan.status();
  ServeOptions resolved = options;
  resolved.max_inflight_bytes = plan->inflight;
  auto impl = std::make_unique<Impl>(resolved);
  impl->memory = *plan;
  impl->local_secret = NewCursorToken() + NewCursorToken();
  authenticator.AddLocalAdmin("local", impl->local_secret);
  impl->authenticate = [a = std::make_shared<const Authenticator>(std::move(authenticator))](
                           const http::Request& request) { return a->Authenticate(request); };
  EngineOptions engine_options;
  engine_options.duckdb_memory = plan->duckdb;
  ASSIGN_OR_RETURN(impl->engine, Engine::Open(std::move(spec), engine_options));
  Impl* self = impl.get();
  // DuckDB's external file cache would keep every Parquet file curate ever read: memory that
  // grows with the data ingested, whatever the in-flight budget.
  RETURN_IF_ERROR(impl->engine->catalog().conn().Execute("SET enable_external_file_cache = false"));
  impl->engine->catalog().set_tmp_dir_remover(
      [self](const std::string& path) { self->janitor.Add(self->env(), path); });
  for (const auto& source : impl->engine->spec().sources) {
    if (!source.streaming()) continue;
    auto state = std::make_unique<SourceState>();
    state->spec = &source;
    if (source.type == SourceType::kNats) {
      ASSIGN_OR_RETURN(std::optional<StreamPosition> position,
                       CommittedPosition(impl->engine->catalog(), source.name, source.nats.stream));
      if (!position) {
        // A stream the lake never read: from its first message, whatever other streams hold.
        ASSIGN_OR_RETURN(std::vector<StreamPosition> others,
                         CommittedPositions(impl->engine->catalog(), source.name));
        std::string note;
        for (const auto& o : others) {
          note += (note.empty() ? "; positions kept for other streams: " : ", ") + o.stream +
                  " at sequence " + std::to_string(o.last_seq);
        }
        impl->Log("source " + source.name + ": nothing committed from stream " + source.nats.stream +
                  " yet: reading it from its first message" + note);
      }
      SourceState* raw = state.get();
      state->consumer = std::make_unique<NatsConsumer>(
          source, impl->budget, position,
          [self, raw](std::unique_ptr<NatsBatch> batch) {
            {
              std::lock_guard<std::mutex> lock(self->mu);
              raw->nats.push_back(std::move(batch));
            }
            self->cv.notify_all();
          },
          [self](const std::string& line) { self->Log(line); });
    }
    impl->sources[source.name] = std::move(state);
  }
  impl->InitMetrics();
  impl->InitSlo();
  impl->lineage = std::make_unique<RunLineage>(impl->engine->spec(), impl->env(),
                                               [self](const std::string& line) { self->Log(line); });
  RETURN_IF_ERROR(impl->OpenWarehouse());
  ASSIGN_OR_RETURN(
      http::ServerOptions http_options,
      HttpOptions(options, impl->engine->spec(), [self](const std::string& line) { self->Log(line); }));
  http_options.connection_refused =
      [refused = &impl->metrics.GetCounter(
           "sluice_http_connections_refused_total",
           "Connections closed at once, unanswered: a connection limit (serve.limits) was reached.")] {
        refused->Add();
      };
  ASSIGN_OR_RETURN(impl->http, http::HttpServer::Bind(http_options));
  impl->port = impl->http->port();
  impl->InstallRoutes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::Run() {
  Impl& m = *impl_;
  // Before the first request can be answered: a client that sees the server up finds its
  // address and local secret in serve.json (`sluice query` beside a running serve).
  m.WriteStatusFile();
  RETURN_IF_ERROR(m.http->Start());
  for (auto& [name, s] : m.sources) {
    if (s->consumer) s->consumer->Start();
  }
  if (m.warehouse) m.warehouse->Start();
  const ProjectSpec& spec = m.engine->spec();
  std::string names;
  for (const auto& [name, s] : m.sources) {
    names += (names.empty() ? "" : ", ") + name + " (" + SourceTypeName(s->spec->type) + ")";
  }
  m.Log("serving " + spec.name + " on " + (spec.serve.tls ? "https://" : "http://") + m.options.host + ":" +
        std::to_string(m.port) + "; sources: " + (names.empty() ? "none" : names));
  m.Log("memory limit " + FormatBytes(m.memory.limit) + ": DuckDB " + FormatBytes(m.memory.duckdb) +
        " (spilling to " + spec.lake + "/" + kSpillDir + "), in-flight budget " +
        FormatBytes(m.memory.inflight) + " (x" + std::to_string(kInflightCopies) + "), fixed " +
        FormatBytes(m.memory.overhead));
  const auto interval = std::chrono::milliseconds(spec.transform_interval_ms);
  const auto publish_interval = std::chrono::milliseconds(spec.publish_interval_ms);
  auto next_transform = Clock::now() + interval;
  auto next_publish = Clock::now() + publish_interval;
  auto next_status = Clock::now();
  const auto slo_interval = std::chrono::milliseconds(spec.slo.interval_ms);
  auto next_slo = Clock::now();
  if (m.alerts) m.alerts->Start();
  bool drain_started = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(m.mu);
      m.cv.wait_until(lock, std::min({next_transform, next_status + std::chrono::seconds(1), next_slo}),
                      [&] { return m.stop.load() || m.AnyQueued(); });
    }
    if (m.stop && !drain_started) {
      m.Log("stopping: committing what was accepted");
      m.draining = true;
      for (auto& [name, s] : m.sources) {
        if (s->consumer) s->consumer->Stop();  // hands over the batch being cut
      }
      drain_started = true;
    }
    for (auto& [name, s] : m.sources) {
      m.IngestHttp(*s);
      m.IngestNats(*s);
    }
    if (m.staged_since_transform >= spec.transform_max_rows || Clock::now() >= next_transform) {
      // Every `interval` from the start of the last cycle, so that a row waits at most about one
      // interval plus one cycle; but at least half an interval of commits after a long cycle.
      const auto started = Clock::now();
      const bool publish = started >= next_publish;
      m.RunTransform(publish);
      next_transform = std::max(started + interval, Clock::now() + interval / 2);
      if (publish) next_publish = started + publish_interval;
    }
    if (Clock::now() >= next_status) {
      m.RefreshGauges();
      m.WriteStatusFile();
      m.SampleHistory();
      next_status = Clock::now() + std::chrono::seconds(1);
    }
    if (Clock::now() >= next_slo) {
      m.EvaluateSlos();
      next_slo = Clock::now() + slo_interval;
    }
    if (drain_started) {
      bool idle;
      {
        std::lock_guard<std::mutex> lock(m.mu);
        idle = !m.AnyQueued() && m.active_handlers.load() == 0;
      }
      if (idle) break;
    }
  }
  m.RunTransform(/*publish=*/true);
  if (m.warehouse) {
    m.warehouse->Stop(/*final_pass=*/true);  // PostgreSQL caught up, unless it is failing
    (void)m.warehouse->Prune(m.engine->catalog());
  }
  m.EvaluateSlos();  // the last transform counts; alerts are tried once more by Stop
  if (m.alerts) m.alerts->Stop();
  m.http->Stop();
  m.janitor.Stop();
  for (const auto& [name, s] : m.sources) {  // the temp root, when the janitor emptied it
    (void)m.env()->RemoveDir(m.engine->spec().lake + "/" + StagingTmpDir(name, ""));
  }
  // The lineage endpoint gets a few seconds for what is queued; lake/lineage has every event.
  m.lineage->Close(std::min<int64_t>(10000, spec.lineage.timeout_ms * 2));
  RETURN_IF_ERROR(m.engine->catalog().Checkpoint());
  (void)m.env()->RemoveAll(m.engine->spec().lake + "/serve.json");  // only while serving
  m.Log("stopped");
  return Status::OK();
}

// ---- Engine thread --------------------------------------------------------------------------

void Server::Impl::Log(const std::string& line, const LogFields& fields) {
  // Before the engine is open there is no lake Env yet: the process's.
  Env* clock = engine ? env() : Env::Default();
  LogLine(clock, LogLevel::kInfo, "sluice serve", line, fields);
}

void Server::Impl::LogCommitted(const SourceState& s, const MicroBatchResult& r) {
  Log("source " + s.spec->name + ": batch " + r.batch_id + " committed: " + std::to_string(r.rows_staged) +
          " rows staged, " + std::to_string(r.rows_dead) + " dead-lettered",
      {r.correlation_id, r.batch_id, s.spec->name, ""});
}

bool Server::Impl::AnyQueued() {
  for (const auto& [name, s] : sources) {
    if (!s->http.empty() || !s->nats.empty()) return true;
  }
  return false;
}

// One micro-batch per call, so that a steady flow of requests never starves the transform.
void Server::Impl::IngestHttp(SourceState& s) {
  {
    // One micro-batch: what is queued, up to batch.max_rows lines (at least one request).
    std::vector<std::shared_ptr<HttpItem>> items;
    {
      std::lock_guard<std::mutex> lock(mu);
      int64_t lines = 0;
      while (!s.http.empty() && (items.empty() || lines + s.http.front()->lines <= s.spec->batch.max_rows)) {
        lines += s.http.front()->lines;
        items.push_back(std::move(s.http.front()));
        s.http.pop_front();
      }
    }
    if (items.empty()) return;
    std::vector<StreamPart> parts;
    parts.reserve(items.size());
    int64_t bytes = 0;
    int64_t oldest = items.front()->received_us;
    for (auto& it : items) {
      parts.push_back(std::move(it->part));
      bytes += it->bytes;
      oldest = std::min(oldest, it->received_us);
    }
    const auto t0 = Clock::now();
    const int64_t started_us = env()->NowMicros();
    Result<MicroBatchResult> r = engine->IngestMicroBatch(s.spec->name, parts);
    s.commit_seconds->Observe(std::chrono::duration<double>(Clock::now() - t0).count());
    budget.Release(bytes);
    lineage->MicroBatch(s.spec->name, started_us, parts, r);
    if (!r.ok()) {
      ++ingest_commit_failures;
      Log("source " + s.spec->name + ": a batch of " + std::to_string(items.size()) +
              " requests failed, nothing of it committed: " + r.status().ToString(),
          {parts.size() == 1 ? parts[0].correlation_id : "", "", s.spec->name, ""});
      for (auto& it : items) it->done.set_value(r.status());
      return;
    }
    s.rows_staged->Add(static_cast<double>(r->rows_staged));
    s.rows_dead->Add(static_cast<double>(r->rows_dead));
    s.rows_late->Add(static_cast<double>(r->rows_late));
    if (!r->batch_id.empty()) {
      LogCommitted(s, *r);
      s.batches->Add();
      awaiting.push_back({&s, oldest, r->rows_staged});
      staged_since_transform += r->rows_staged;
    }
    if (Status fp = Failpoint("serve.before_answer"); !fp.ok()) {
      for (auto& it : items) it->done.set_value(fp);
      return;
    }
    const int64_t now = env()->NowMicros();
    for (size_t i = 0; i < items.size(); ++i) {
      const PartResult& p = r->parts[i];
      if (p.kind == PartResult::Kind::kReplay) s.rows_replayed->Add(static_cast<double>(p.accepted));
      s.ingest_latency->Observe(static_cast<double>(now - items[i]->received_us) / 1e6);
      items[i]->done.set_value(p);
    }
  }
}

void Server::Impl::IngestNats(SourceState& s) {
  if (!s.consumer) return;
  for (bool committed = false; !committed;) {
    std::unique_ptr<NatsBatch> batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (s.nats.empty()) return;
      batch = std::move(s.nats.front());
      s.nats.pop_front();
    }
    if (s.consumer->Stale(*batch)) {
      budget.Release(batch->bytes);  // fetched before a failed batch: it will be fetched again
      continue;
    }
    const auto t0 = Clock::now();
    const int64_t started_us = env()->NowMicros();
    Result<MicroBatchResult> r = engine->IngestMicroBatch(s.spec->name, batch->parts, &batch->range);
    s.commit_seconds->Observe(std::chrono::duration<double>(Clock::now() - t0).count());
    budget.Release(batch->bytes);
    lineage->MicroBatch(s.spec->name, started_us, batch->parts, r);
    if (!r.ok()) {
      ++ingest_commit_failures;
      Log("source " + s.spec->name + ": batch of stream sequences " + std::to_string(batch->range.first_seq) +
              ".." + std::to_string(batch->range.last_seq) +
              " failed, not acknowledged; consuming again from the last commit: " + r.status().ToString(),
          {"", "", s.spec->name, ""});
      s.consumer->Reset();
      continue;
    }
    committed = true;
    LogCommitted(s, *r);
    Status fp = Failpoint("serve.before_ack");
    if (!fp.ok()) {
      Log("source " + s.spec->name + ": " + fp.message(),  // redelivered, skipped
          {r->correlation_id, r->batch_id, s.spec->name, ""});
    }
    s.consumer->Committed(*batch, /*ack=*/fp.ok());
    s.batches->Add();
    s.rows_staged->Add(static_cast<double>(r->rows_staged));
    s.rows_dead->Add(static_cast<double>(r->rows_dead));
    s.rows_late->Add(static_cast<double>(r->rows_late));
    s.ingest_latency->Observe(static_cast<double>(env()->NowMicros() - batch->oldest_publish_us) / 1e6);
    awaiting.push_back({&s, batch->oldest_publish_us, r->rows_staged});
    staged_since_transform += r->rows_staged;
  }
}

void Server::Impl::RunTransform(bool publish) {
  const auto t0 = Clock::now();
  RunOptions options;
  options.publish = publish;
  Result<RunSummary> r = engine->Transform(options);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  transform_seconds->Observe(seconds);
  transforms_since_slo.push_back(seconds);
  lineage->Transform(*engine, r);
  if (!r.ok()) {
    transforms_failed->Add();
    std::lock_guard<std::mutex> lock(transform_mu);
    if (r.status().message() != last_transform_error) {
      Log("transform failed (staged data is safe; retrying every interval): " + r.status().ToString());
    }
    last_transform_error = r.status().message();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(transform_mu);
    if (!last_transform_error.empty()) Log("transform succeeded again");
    last_transform_error.clear();
  }
  transforms_ok->Add();
  if (feeds) {
    if (Status pruned = feeds->Prune(engine->catalog()); !pruned.ok()) {
      Log("feed retention failed (retried after the next transform): " + pruned.ToString());
    }
  }
  for (const auto& q : r->quarantined) {
    Log("batch " + q.batch_id + " quarantined by a test of curated." + q.table +
            " (see `sluice batches list`)",
        {"", q.batch_id, "", "curated." + q.table});
  }
  const int64_t now = env()->NowMicros();
  for (const auto& a : awaiting) {
    const double seconds = static_cast<double>(now - a.accepted_us) / 1e6;
    a.source->accept_to_queryable->Observe(seconds);
    a.source->queryable.Add(seconds, a.rows);
  }
  awaiting.clear();
  staged_since_transform = 0;
  if (warehouse) {
    warehouse->Notify();
    if (Status st = warehouse->Prune(engine->catalog()); !st.ok()) Log("warehouse: " + st.ToString());
  }
}

}  // namespace sluice
