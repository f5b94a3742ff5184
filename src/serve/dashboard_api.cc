#include "serve/dashboard_api.h"

#include <atomic>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "ops/pipeline.h"
#include "serve/dashboard_assets.h"

namespace sluice {

namespace {

// The batches /v1/pipeline lists.
constexpr int64_t kRecentBatches = 20;

const char* ContentTypeOf(const std::string& name) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

void ServeAsset(const std::string& name, http::Response& res) {
  for (const DashboardAsset& a : DashboardAssets()) {
    if (name != a.name) continue;
    res.status = 200;
    res.content_type = ContentTypeOf(name);
    res.body.assign(a.bytes());
    res.AddHeader("Content-Security-Policy", kDashboardCsp);
    res.AddHeader("X-Content-Type-Options", "nosniff");
    res.AddHeader("Referrer-Policy", "no-referrer");
    res.AddHeader("Cache-Control", "no-cache");
    return;
  }
  res.SetError(404, "no dashboard file '" + name + "'");
}

// Whether `who` may read the overview at all: every tenant's counts are in it.
bool RefuseTenantBound(const http::Principal& who, http::Response& res) {
  if (!who.tenants) return false;
  res.SetError(403, "token '" + who.name +
                        "' is bound to tenants; the dashboard's data counts every tenant's rows (use a token "
                        "without tenants)");
  return true;
}

}  // namespace

void Server::Impl::SampleHistory() {
  const int64_t now = env()->NowMicros();
  if (!history.Due(now)) return;
  MetricsHistory::Sample sample;
  sample.at_us = now;
  for (auto& [name, s] : sources) {
    MetricsHistory::SourceSample& v = sample.sources[name];
    v.rows_staged = s->rows_staged->Value();
    v.rows_dead = s->rows_dead->Value();
    v.lag_messages = s->lag_messages->Value();
    v.lag_seconds = s->lag_seconds->Value();
  }
  if (feeds) {
    const nlohmann::json status = feeds->StatusJson();
    for (const auto& [name, j] : status.items()) {
      if (!j.contains("lag_seconds")) continue;  // its position could not be read
      sample.consumers[name] = {j["lag_changes"].get<double>(), j["lag_seconds"].get<double>()};
    }
  }
  if (warehouse) sample.warehouse_lag_seconds = warehouse->stats().seconds_behind;
  history.Add(std::move(sample));
}

std::vector<http::Route> DashboardRoutes(Server::Impl& impl) {
  Server::Impl* m = &impl;
  std::vector<http::Route> routes;
  routes.push_back({"GET", "/", /*authenticated=*/false,
                    [](const http::Request&, const http::Principal&, http::Response& res) {
                      ServeAsset("index.html", res);
                    }});
  routes.push_back({"GET", R"(/(dashboard\.js|dashboard\.css|favicon\.svg))", /*authenticated=*/false,
                    [](const http::Request& req, const http::Principal&, http::Response& res) {
                      ServeAsset(req.captures.at(0), res);
                    }});

  auto running = std::make_shared<std::atomic<int64_t>>(0);
  routes.push_back(
      {"GET", "/v1/pipeline", /*authenticated=*/true,
       [m, running](const http::Request&, const http::Principal& who, http::Response& res) {
         if (RefuseTenantBound(who, res)) return;
         const int64_t limit = m->engine->spec().serve.query.max_concurrent;
         if (running->fetch_add(1) >= limit) {
           running->fetch_sub(1);
           res.AddHeader("Retry-After", "1");
           return res.SetError(429, std::to_string(limit) +
                                        " reads are running (serve.query.max_concurrent); retry after 1 s");
         }
         struct Release {
           std::atomic<int64_t>* n;
           ~Release() { n->fetch_sub(1); }
         } release{running.get()};
         const ProjectSpec& spec = m->engine->spec();
         // A reader on a connection of its own (never the engine thread's): one snapshot.
         Result<std::unique_ptr<duck::Connection>> conn = m->engine->catalog().conn().Connect();
         if (!conn.ok()) return res.SetError(503, conn.status().message());
         Result<std::unique_ptr<Catalog>> reader = Catalog::OpenReader(spec, std::move(*conn), m->env());
         if (!reader.ok()) return res.SetError(503, reader.status().message());
         Result<PipelineFacts> facts = ReadPipelineFacts(**reader, spec, kRecentBatches);
         reader->reset();
         if (!facts.ok()) return res.SetError(500, facts.status().message());
         const nlohmann::json status = m->StatusJson();
         auto can_read = [&who](const std::string& dataset) { return who.Can("read:" + dataset); };
         res.status = 200;
         res.content_type = "application/json";
         // Errors may quote input: a stray byte is replaced rather than failing the answer.
         res.body = PipelineJson(spec, *facts, status, m->env()->NowMicros(), can_read)
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                    "\n";
       }});
  routes.push_back({"GET", "/v1/history", /*authenticated=*/true,
                    [m](const http::Request&, const http::Principal& who, http::Response& res) {
                      if (RefuseTenantBound(who, res)) return;
                      // The same scopes as the nodes of /v1/pipeline: a source's staging, a
                      // consumer's curated table, every table published to PostgreSQL.
                      const ProjectSpec& spec = m->engine->spec();
                      auto visible = [&who, &spec](const std::string& key) {
                        const std::string name = key.substr(key.find('.') + 1);
                        if (key.rfind("sources.", 0) == 0) return who.Can("read:staging." + name);
                        if (key.rfind("consumers.", 0) == 0) {
                          const ConsumerSpec* c = spec.FindConsumer(name);
                          return c != nullptr && who.Can("read:curated." + c->table);
                        }
                        if (!spec.serve.postgres) return false;
                        for (const auto& t : spec.serve.postgres->publish) {
                          if (!who.Can("read:" + t)) return false;
                        }
                        return true;
                      };
                      res.status = 200;
                      res.content_type = "application/json";
                      res.body = m->history.Json(visible).dump() + "\n";
                    }});
  return routes;
}

}  // namespace sluice
