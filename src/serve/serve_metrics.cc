// The metrics of `sluice serve` and the status file `sluice status` reads while it runs.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "serve/server_impl.h"

namespace sluice {

void Server::Impl::InitMetrics() {
  for (auto& [name, s] : sources) {
    const MetricLabels src = {{"source", name}};
    const std::string& source = name;  // clang 14 cannot capture a structured binding
    auto rows = [&](const char* outcome) {
      return &metrics.GetCounter("sluice_ingest_rows_total", "Rows ingested from stream sources, by outcome.",
                                 {{"source", source}, {"outcome", outcome}});
    };
    s->rows_staged = rows("staged");
    s->rows_dead = rows("dead_lettered");
    s->rows_late = rows("late");
    s->rows_replayed = rows("replayed");
    s->rejected = &metrics.GetCounter("sluice_backpressure_rejections_total",
                                      "HTTP requests answered 429: the in-flight budget was full.", src);
    s->batches =
        &metrics.GetCounter("sluice_batches_committed_total", "Micro-batches committed to staging.", src);
    s->ingest_latency = &metrics.GetHistogram(
        "sluice_ingest_latency_seconds",
        "From an event's arrival (HTTP) or publish (NATS) to its commit in staging.", LatencyBuckets(), src);
    s->commit_seconds = &metrics.GetHistogram("sluice_batch_commit_seconds",
                                              "Duration of one micro-batch commit (decode, stage, ledger).",
                                              LatencyBuckets(), src);
    s->accept_to_queryable = &metrics.GetHistogram(
        "sluice_accept_to_queryable_seconds",
        "From an event's arrival to its batch being merged into curated tables.", LatencyBuckets(), src);
    s->queue_depth =
        &metrics.GetGauge("sluice_queue_depth", "Requests or micro-batches waiting for the engine.", src);
    if (s->consumer) {
      s->lag_messages =
          &metrics.GetGauge("sluice_consumer_lag_messages", "Stream messages not yet committed.", src);
      s->lag_seconds = &metrics.GetGauge("sluice_consumer_lag_seconds",
                                         "Age of the oldest fetched message not yet committed.", src);
      s->paused = &metrics.GetGauge("sluice_consumer_paused",
                                    "1 while the consumer stops pulling (backpressure).", src);
      s->pauses = &metrics.GetCounter("sluice_consumer_pauses_total",
                                      "Times the consumer stopped pulling (backpressure).", src);
      s->refused = &metrics.GetGauge("sluice_consumer_refused",
                                     "1 while the stream is refused (replaced or went backwards) "
                                     "until `sluice streams reset`.",
                                     src);
      s->consumer_error = &metrics.GetGauge("sluice_consumer_error",
                                            "1 while the consumer is not consuming (see /v1/health).", src);
    } else {
      s->lag_messages =
          &metrics.GetGauge("sluice_consumer_lag_messages", "Stream messages not yet committed.", src);
      s->lag_seconds = &metrics.GetGauge("sluice_consumer_lag_seconds",
                                         "Age of the oldest fetched message not yet committed.", src);
    }
  }
  inflight_bytes =
      &metrics.GetGauge("sluice_inflight_bytes", "Stream data accepted into memory and not yet committed.");
  inflight_limit =
      &metrics.GetGauge("sluice_inflight_limit_bytes",
                        "The in-flight budget (--max-inflight-mb, or an eighth of the memory limit).");
  inflight_limit->Set(static_cast<double>(budget.limit()));
  metrics.GetGauge("sluice_memory_limit_bytes", "The process's memory limit (memory_limit).")
      .Set(static_cast<double>(memory.limit));
  metrics.GetGauge("sluice_duckdb_memory_limit_bytes", "DuckDB's share of the memory limit.")
      .Set(static_cast<double>(memory.duckdb));
  transform_seconds = &metrics.GetHistogram(
      "sluice_transform_seconds", "Duration of one curate + marts + publish cycle.", LatencyBuckets());
  transforms_ok =
      &metrics.GetCounter("sluice_transforms_total", "Transform cycles, by status.", {{"status", "ok"}});
  transforms_failed =
      &metrics.GetCounter("sluice_transforms_total", "Transform cycles, by status.", {{"status", "failed"}});
}

void Server::Impl::RefreshGauges(bool ask_broker) {
  inflight_bytes->Set(static_cast<double>(budget.used()));
  if (feeds) feeds->RefreshGauges();
  RefreshWarehouseGauges();
  // Asked before taking `mu`: the broker may take a while to answer.
  std::map<std::string, NatsConsumer::Lag> lags;
  for (auto& [name, s] : sources) {
    if (s->consumer) lags[name] = s->consumer->lag(ask_broker);
  }
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [name, s] : sources) {
    s->queue_depth->Set(static_cast<double>(s->http.size() + s->nats.size()));
    if (s->consumer) {
      const NatsConsumer::Lag& lag = lags[name];
      s->refused->Set(lag.refused ? 1 : 0);
      s->consumer_error->Set(lag.error.empty() ? 0 : 1);
      s->lag_messages->Set(static_cast<double>(lag.messages));
      s->lag_seconds->Set(lag.seconds);
      s->paused->Set(lag.paused ? 1 : 0);
      if (static_cast<double>(lag.pauses) > s->pauses_seen) {
        s->pauses->Add(static_cast<double>(lag.pauses) - s->pauses_seen);
        s->pauses_seen = static_cast<double>(lag.pauses);
      }
    } else {
      // HTTP: requests waiting for the engine, and how long the oldest has waited.
      double oldest = 0;
      if (!s->http.empty()) {
        oldest = static_cast<double>(env()->NowMicros() - s->http.front()->received_us) / 1e6;
      }
      s->lag_messages->Set(static_cast<double>(s->http.size()));
      s->lag_seconds->Set(oldest);
    }
  }
}

// The catalog is read on the scraping thread through a reader of its own (one snapshot); a
// scrape within this long of the last read renders the figures of that read, freshness as of now.
constexpr int64_t kPipelineMetricsRefreshUs = 5 * 1000000LL;

std::string Server::Impl::PipelineMetricsText() {
  std::lock_guard<std::mutex> lock(pipeline_metrics_mu);
  const int64_t mono = env()->MonotonicMicros();
  if (pipeline_metrics_read_us < 0 || mono - pipeline_metrics_read_us >= kPipelineMetricsRefreshUs) {
    Status st = [&]() -> Status {
      ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> conn, engine->catalog().conn().Connect());
      ASSIGN_OR_RETURN(std::unique_ptr<Catalog> reader,
                       Catalog::OpenReader(engine->spec(), std::move(conn), env()));
      return pipeline_metrics.Collect(*reader, env()->NowMicros());
    }();
    // On an error the scrape still answers, with the figures of the last read that worked.
    if (!st.ok()) Log("metrics: reading the catalog failed: " + st.message());
    pipeline_metrics_read_us = mono;
  }
  pipeline_metrics.SetLiveStageErrors("ingest", static_cast<double>(ingest_commit_failures.load()));
  return pipeline_metrics.Render(env()->NowMicros());
}

nlohmann::json Server::Impl::StatusJson(bool ask_broker) {
  RefreshGauges(ask_broker);  // the lag as of now, not as of the last refresh
  nlohmann::json out;
  out["pid"] = static_cast<int64_t>(::getpid());
  out["listen"] = std::string(engine->spec().serve.tls ? "https://" : "http://") + options.host + ":" +
                  std::to_string(port);
  out["state"] = draining ? "stopping" : "serving";
  out["updated_at_us"] = env()->NowMicros();
  out["inflight_bytes"] = budget.used();
  out["inflight_limit_bytes"] = budget.limit();
  {
    std::lock_guard<std::mutex> lock(transform_mu);
    out["transform_error"] =
        last_transform_error.empty() ? nlohmann::json() : nlohmann::json(last_transform_error);
  }
  if (feeds) out["feeds"] = feeds->StatusJson();
  nlohmann::json list = nlohmann::json::object();
  for (auto& [name, s] : sources) {
    nlohmann::json j;
    j["type"] = SourceTypeName(s->spec->type);
    j["rows_staged"] = s->rows_staged->Value();
    j["rows_dead_lettered"] = s->rows_dead->Value();
    j["rows_late"] = s->rows_late->Value();
    j["rows_replayed"] = s->rows_replayed->Value();
    j["batches"] = s->batches->Value();
    j["rejected_429"] = s->rejected->Value();
    j["queue_depth"] = s->queue_depth->Value();
    j["lag_messages"] = s->lag_messages->Value();
    j["lag_seconds"] = s->lag_seconds->Value();
    j["accept_to_queryable_p50_s"] = s->queryable.Quantile(0.5);
    j["accept_to_queryable_p99_s"] = s->queryable.Quantile(0.99);
    if (s->consumer) {
      NatsConsumer::Lag lag = s->consumer->lag();
      j["committed_seq"] = lag.committed_seq;
      j["stream"] = s->spec->nats.stream;
      j["refused"] = lag.refused;
      j["paused"] = lag.paused;
      j["connected"] = lag.connected;
      j["pauses"] = lag.pauses;
      if (!lag.error.empty()) {
        j["error"] = lag.error;
      } else if (lag.ever_connected && !lag.connected) {
        j["error"] = "not connected to " + s->spec->nats.url + " (reconnecting)";
      }
    }
    list[name] = j;
  }
  out["sources"] = list;
  if (warehouse) out["warehouse"] = WarehouseJson();
  out["slo"] = SloJson();
  return out;
}

void Server::Impl::WriteStatusFile() {
  // Atomic replace: `sluice status` never reads half a file.
  // Atomic replace without fsync: advisory, rewritten every second; an error is dropped (the
  // next second tries again).
  // It holds the local secret (server_impl.h): readable by the lake's owner only.
  const std::string path = engine->spec().lake + "/serve.json";
  const std::string tmp = path + ".tmp";
  nlohmann::json status = StatusJson();
  status["local_secret"] = local_secret;
  // Under TLS, the certificate the CLI trusts for this server, and that one only.
  if (engine->spec().serve.tls) status["tls_cert"] = engine->spec().serve.tls->cert;
  if (!env()->WriteFile(tmp, "").ok() || ::chmod(tmp.c_str(), 0600) != 0) return;
  if (env()->WriteFile(tmp, status.dump(2) + "\n").ok()) (void)env()->Rename(tmp, path);
}

}  // namespace sluice
