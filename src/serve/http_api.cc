// The HTTP endpoints of `sluice serve` (see server.h).
#include <simdjson.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "common/hash.h"
#include "serve/command_api.h"
#include "serve/dashboard_api.h"
#include "serve/query_api.h"
#include "serve/server_impl.h"

namespace sluice {

namespace {

using Json = nlohmann::json;

constexpr auto kCommitTimeout = std::chrono::seconds(300);
constexpr const char* kEventsPath = R"(/v1/sources/([^/]+)/events)";
// What the NDJSON decoder skips as a blank line.
constexpr const char* kBlank = " \t\r\n\f\v";

// Header values sluice keeps: visible ASCII only, bounded.
bool IsToken(const std::string& v, size_t max) {
  if (v.empty() || v.size() > max) return false;
  for (unsigned char c : v) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

bool IsCorrelationId(const std::string& v) {
  if (v.empty() || v.size() > 128) return false;
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A JSON array body (or one pretty-printed object) as NDJSON: one minified event per line.
// InvalidArgument when it does not parse: it cannot be split into events safely.
Result<std::string> JsonToLines(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto error = parser.parse(body).get(doc);
  if (error) {
    return Status::InvalidArgument(std::string("the body is not valid JSON (") +
                                   simdjson::error_message(error) +
                                   "); send NDJSON to have bad events dead-lettered one by one");
  }
  std::string out;
  if (doc.is_array()) {
    for (simdjson::dom::element e : doc.get_array()) out += simdjson::minify(e) + "\n";
  } else {
    out = simdjson::minify(doc) + "\n";
  }
  return out;
}

int64_t CountLines(const std::string& data) {
  int64_t n = 0;
  for (char c : data) n += c == '\n';
  if (!data.empty() && data.back() != '\n') ++n;
  return n;
}

http::Response ErrorResponse(int status, const std::string& message) {
  http::Response r;
  r.SetError(status, message);
  return r;
}

}  // namespace

// What the events endpoint's admit hook keeps for its handler: the in-flight budget reserved
// for the body, given back unless the handler hands it over to the engine thread (which gives
// it back after the commit).
struct EventsAdmission {
  InflightBudget* budget = nullptr;
  int64_t bytes = 0;
  int64_t received_us = 0;
  std::string source;
  std::string correlation;
  std::string key;
  std::optional<std::vector<std::string>> tenants;  // the pushing token's, when tenant-bound
  std::string body;                                 // the server reads the body here (Admission::body)
  bool handed_over = false;
  ~EventsAdmission() {
    if (!handed_over) budget->Release(bytes);
  }
};

void Server::Impl::InstallRoutes() {
  endpoints.clear();
  http->SetAuthenticate([this](const http::Request& r) -> Result<http::Principal> {
    if (!authenticate) return http::Principal::Anonymous();
    return authenticate(r);
  });
  // A path no route serves: a 404 that says what exists (a known path with another method is
  // answered 405 with Allow by the server).
  http->SetNotFound([](const http::Request& req, http::Response& res) {
    res.SetError(404,
                 "no endpoint " + req.path +
                     " (endpoints: GET / (the dashboard), GET /v1/health, GET /v1/slo, GET /v1/stats, GET "
                     "/metrics, GET /v1/pipeline, GET /v1/history, POST "
                     "/v1/sources/<source>/events, GET /v1/tables, POST /v1/query, GET "
                     "/v1/feeds/<consumer>, POST /v1/admin/command; docs/QUERY_API.md, "
                     "docs/FEEDS.md)");
  });

  AddRoute({"GET", "/v1/health", /*authenticated=*/false,
            [this](const http::Request&, const http::Principal&, http::Response& res) {
              Json j = StatusJson(/*ask_broker=*/true);
              bool ok = !draining;
              for (auto& [name, s] : j["sources"].items()) {
                if (s.contains("error")) ok = false;
              }
              j["status"] = ok ? "ok" : draining ? "stopping" : "degraded";
              res.SetJson(ok ? 200 : 503, j);
            }});

  // The SLOs as last evaluated (serve_slo.cc); readable as /v1/health is.
  AddRoute({"GET", "/v1/slo", /*authenticated=*/false,
            [this](const http::Request&, const http::Principal&, http::Response& res) {
              res.SetJson(200, SloJson());
            }});

  AddRoute({"GET", "/v1/stats", /*authenticated=*/true,
            [this](const http::Request&, const http::Principal&, http::Response& res) {
              res.SetJson(200, StatusJson(/*ask_broker=*/true));
            }});

  AddRoute({"GET", "/metrics", /*authenticated=*/true,
            [this](const http::Request&, const http::Principal&, http::Response& res) {
              RefreshGauges(/*ask_broker=*/true);
              res.body = metrics.Render() + PipelineMetricsText();
              res.content_type = "text/plain; version=0.0.4; charset=utf-8";
            }});

  http::Route events{"POST", kEventsPath, /*authenticated=*/true,
                     [this](const http::Request& req, const http::Principal& who, http::Response& res) {
                       ServeEvents(req, who, res);
                     }};
  events.admit = [this](const http::Request& req, const http::Principal& who) {
    return AdmitEvents(req, who);
  };
  AddRoute(std::move(events));

  // The endpoints built on http.h, each file's routes in turn (AddRoute).
  for (auto& r : QueryRoutes(*this)) AddRoute(std::move(r));
  for (auto& r : FeedRoutes(*this)) AddRoute(std::move(r));
  AddRoute(CommandRoute(*this));
  for (auto& r : DashboardRoutes(*this)) AddRoute(std::move(r));
}

// On an HTTP I/O thread, before the body is read: everything that can be refused from the
// headers is, without reading the body; the body's share of the in-flight budget is reserved.
http::Admission Server::Impl::AdmitEvents(const http::Request& req, const http::Principal& who) {
  http::Admission out;
  const int64_t received = env()->NowMicros();
  const std::string& name = req.captures.at(0);
  // The token (already authenticated) needs ingest:<source> (docs/SECURITY.md).
  if (!who.Can("ingest:" + name)) {
    out.answer = ErrorResponse(403, "token '" + who.name + "' may not push to source '" + name +
                                        "' (needs scope ingest:" + name + ")");
    return out;
  }
  auto it = sources.find(name);
  if (it == sources.end() || it->second->spec->type != SourceType::kHttp) {
    std::string known;
    for (const auto& [n, s] : sources) {
      if (s->spec->type == SourceType::kHttp) known += (known.empty() ? "" : ", ") + n;
    }
    out.answer = ErrorResponse(
        404, "no http source '" + name + "' (http sources: " + (known.empty() ? "none" : known) + ")");
    return out;
  }
  SourceState& source = *it->second;
  if (who.tenants && source.spec->partition_by.tenant.empty()) {
    out.answer =
        ErrorResponse(403, "token '" + who.name + "' is bound to tenants, and source '" + name +
                               "' has no tenant column to check its rows against (partition_by.tenant)");
    return out;
  }
  std::string correlation = req.Header("X-Correlation-ID").value_or("");
  if (correlation.empty()) {
    correlation = NewCorrelationId(received);
  } else if (!IsCorrelationId(correlation)) {
    out.answer = ErrorResponse(400, "X-Correlation-ID must be 1-128 of [A-Za-z0-9_.:-]");
    return out;
  }
  // Every later refusal carries the correlation id.
  auto refuse = [&](int status, const std::string& message) {
    out.answer = ErrorResponse(status, message);
    out.answer->AddHeader("X-Correlation-ID", correlation);
    return out;
  };
  const std::optional<std::string> key = req.Header("Idempotency-Key");
  if (key && !IsToken(*key, 255))
    return refuse(400, "Idempotency-Key must be 1-255 visible ASCII characters");
  const std::optional<std::string> length_text = req.Header("Content-Length");
  if (!length_text) {
    return refuse(411, "Length Required: send the body with a Content-Length (chunked bodies are not taken)");
  }
  if (length_text->empty() || length_text->size() > 15 ||
      length_text->find_first_not_of("0123456789") != std::string::npos) {
    return refuse(400, "bad Content-Length '" + *length_text + "'");
  }
  const int64_t length = std::stoll(*length_text);
  if (length > budget.limit()) {
    return refuse(413, "body of " + std::to_string(length) +
                           " bytes is larger than the in-flight budget of " + std::to_string(budget.limit()) +
                           " bytes; split it into smaller requests");
  }
  if (draining) {
    refuse(503, "sluice is shutting down; retry against the restarted server");
    out.answer->AddHeader("Retry-After", "5");
    return out;
  }
  if (!budget.TryAcquire(length)) {
    source.rejected->Add();
    refuse(429, "in-flight budget of " + std::to_string(budget.limit() >> 20) +
                    " MiB is full (staging is behind); retry after 1 s");
    out.answer->AddHeader("Retry-After", "1");
    return out;
  }
  auto hold = std::make_shared<EventsAdmission>();
  hold->budget = &budget;
  hold->bytes = length;
  hold->received_us = received;
  hold->source = name;
  hold->correlation = correlation;
  hold->key = key.value_or("");
  hold->tenants = who.tenants;
  out.body = &hold->body;
  out.hold = std::move(hold);
  return out;
}

// On an HTTP worker, once the body is in: hands the events to the engine thread and waits for
// their commit.
void Server::Impl::ServeEvents(const http::Request& req, const http::Principal&, http::Response& res) {
  auto admission = std::static_pointer_cast<EventsAdmission>(req.admitted);
  std::string correlation = admission->correlation;
  AnswerEvents(req, *admission, res, &correlation);
  res.AddHeader("X-Correlation-ID", correlation);
}

void Server::Impl::AnswerEvents(const http::Request& req, EventsAdmission& admission, http::Response& res,
                                std::string* correlation) {
  SourceState& source = *sources.at(admission.source);
  const int64_t length = admission.bytes;
  const std::string& key = admission.key;
  active_handlers.fetch_add(1);
  struct Leave {
    std::atomic<int>& n;
    bool done = false;
    void operator()() {
      if (!done) n.fetch_sub(1);
      done = true;
    }
    ~Leave() { (*this)(); }
  } leave{active_handlers};
  if (draining) {
    res.SetError(503, "sluice is shutting down; retry against the restarted server");
    res.AddHeader("Retry-After", "5");
    return;
  }
  std::string body = std::move(admission.body);
  if (static_cast<int64_t>(body.size()) != length) {
    return res.SetError(400, "the body ended before its Content-Length");
  }
  size_t first = body.find_first_not_of(" \t\r\n");
  const bool json_doc =
      first != std::string::npos &&
      (body[first] == '[' ||
       (body[first] == '{' && req.Header("Content-Type").value_or("").rfind("application/json", 0) == 0));
  if (json_doc) {
    Result<std::string> lines = JsonToLines(body);
    if (!lines.ok()) return res.SetError(400, lines.status().message());
    body = std::move(*lines);
  }
  if (body.find_first_not_of(kBlank) == std::string::npos) {
    return res.SetError(400,
                        "the body holds no events (empty, blank lines or an empty JSON array); nothing was "
                        "committed");
  }
  auto item = std::make_shared<HttpItem>();
  item->bytes = length;
  item->received_us = admission.received_us;
  item->lines = CountLines(body);
  item->part.data = std::move(body);
  item->part.correlation_id = *correlation;
  item->part.idempotency_key = key;
  item->part.tenants = admission.tenants;
  std::future<Result<PartResult>> done = item->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu);
    source.http.push_back(std::move(item));
    admission.handed_over = true;  // the engine thread gives the budget back after the commit
  }
  cv.notify_all();
  leave();
  if (done.wait_for(kCommitTimeout) != std::future_status::ready) {
    return res.SetError(503, "the commit did not finish in time; retry with the same Idempotency-Key");
  }
  Result<PartResult> r = done.get();
  if (!r.ok()) {
    return res.SetError(
        500, "the commit failed (" + r.status().message() + "); retry with the same Idempotency-Key");
  }
  Json out = {{"source", admission.source},
              {"batch_id", r->batch_id},
              {"accepted", r->accepted},
              {"dead_lettered", r->dead_lettered},
              {"correlation_id", r->correlation_id}};
  if (!key.empty()) out["idempotency_key"] = key;
  if (r->kind == PartResult::Kind::kConflict) {
    return res.SetError(422, "Idempotency-Key '" + key +
                                 "' was used before for a different body"
                                 " (batch " +
                                 r->batch_id + "); use a new key for new data");
  }
  // A replay answers with the first request's correlation id, in the header as in the body.
  *correlation = r->correlation_id;
  out["replayed"] = r->kind == PartResult::Kind::kReplay;
  if (r->kind == PartResult::Kind::kReplay) res.AddHeader("Idempotent-Replayed", "true");
  res.SetJson(200, out);
}

void Server::Impl::AddRoute(http::Route route) {
  const std::string allow = route.method == "GET" ? "GET, HEAD" : route.method;
  bool merged = false;
  for (auto& [pattern, methods] : endpoints) {
    if (pattern == route.pattern) {
      methods += ", " + allow;
      merged = true;
    }
  }
  if (!merged) endpoints.emplace_back(route.pattern, allow);
  http->AddRoute(std::move(route));
}

}  // namespace sluice
