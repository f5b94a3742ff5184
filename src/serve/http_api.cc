// The HTTP endpoints of `sluice serve` (see server.h).
#include <simdjson.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "common/hash.h"
#include "serve/query_api.h"
#include "serve/server_impl.h"

namespace sluice {

namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxRequestBytes = int64_t{64} << 20;
constexpr auto kCommitTimeout = std::chrono::seconds(300);
constexpr const char* kEventsPath = R"(/v1/sources/([^/]+)/events)";
// What the NDJSON decoder skips as a blank line.
constexpr const char* kBlank = " \t\r\n\f\v";

void Reply(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void Error(httplib::Response& res, int status, const std::string& message) {
  Reply(res, status, Json{{"error", message}});
}

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

// The endpoints of the HTTP-library routes below and the methods each answers (HEAD with GET),
// for 405's Allow header; routes added through AddRoute extend it (Impl::endpoints).
std::vector<std::pair<std::string, std::string>> BuiltInEndpoints() {
  return {{"/v1/health", "GET, HEAD"},
          {"/v1/stats", "GET, HEAD"},
          {"/metrics", "GET, HEAD"},
          {kEventsPath, "POST"}};
}

int64_t CountLines(const std::string& data) {
  int64_t n = 0;
  for (char c : data) n += c == '\n';
  if (!data.empty() && data.back() != '\n') ++n;
  return n;
}

}  // namespace

void Server::Impl::InstallRoutes() {
  endpoints = BuiltInEndpoints();
  http.set_payload_max_length(static_cast<size_t>(kMaxRequestBytes));
  http.set_read_timeout(30, 0);
  http.set_keep_alive_max_count(100000);
  http.set_keep_alive_timeout(2);  // idle connections do not hold up a graceful stop for long

  http.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    Json j = StatusJson(/*ask_broker=*/true);
    bool ok = !draining;
    for (auto& [name, s] : j["sources"].items()) {
      if (s.contains("error")) ok = false;
    }
    j["status"] = ok ? "ok" : draining ? "stopping" : "degraded";
    Reply(res, ok ? 200 : 503, j);
  });

  http.Get("/v1/stats", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, StatusJson(/*ask_broker=*/true));
  });

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    RefreshGauges(/*ask_broker=*/true);
    res.set_content(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });

  // httplib answers a request no handler took with a bare 404 (or 400 for a method it does not
  // route, e.g. TRACE): on a known path that is the wrong method, so 405 with Allow; elsewhere a
  // 404 naming the endpoints. Answers sluice's handlers wrote (they always have a body) are kept.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    using Answer = httplib::Server::HandlerResponse;
    if (!res.body.empty() || (res.status != 404 && res.status != 400) || req.path.empty()) {
      return Answer::Unhandled;
    }
    std::string listed;
    for (const auto& [pattern, allow] : endpoints) {
      if (std::regex_match(req.path, std::regex(pattern))) {
        res.set_header("Allow", allow);
        Error(res, 405,
              "method " + req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
        return Answer::Handled;
      }
    }
    if (res.status != 404) return Answer::Unhandled;
    Error(res, 404,
          "no endpoint " + req.path +
              " (endpoints: GET /v1/health, GET /v1/stats, GET /metrics, POST /v1/sources/<source>/events)");
    return Answer::Handled;
  }));

  http.Post(kEventsPath, [this](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    const int64_t received = env()->NowMicros();
    // A request refused before its body is read still has its body read (and dropped): left
    // unread, it would be parsed as the next request of this keep-alive connection.
    bool body_read = false;
    struct Drain {
      const httplib::ContentReader& reader;
      const bool& read;
      ~Drain() {
        if (!read) reader([](const char*, size_t) { return true; });
      }
    } drain{reader, body_read};
    const std::string name = req.matches[1];
    // Who pushes: a token with ingest:<source> (docs/SECURITY.md), asked before anything else.
    http::Principal who = http::Principal::Anonymous();
    if (authenticate) {
      http::Request credentials;
      if (req.has_header("Authorization")) {
        credentials.headers.emplace_back("authorization", req.get_header_value("Authorization"));
      }
      Result<http::Principal> p = authenticate(credentials);
      if (!p.ok()) {
        res.set_header("WWW-Authenticate", "Bearer");
        return Error(res, 401, p.status().message());
      }
      who = std::move(*p);
    }
    if (!who.Can("ingest:" + name)) {
      return Error(
          res, 403,
          "token '" + who.name + "' may not push to source '" + name + "' (needs scope ingest:" + name + ")");
    }
    auto it = sources.find(name);
    if (it == sources.end() || it->second->spec->type != SourceType::kHttp) {
      std::string known;
      for (const auto& [n, s] : sources) {
        if (s->spec->type == SourceType::kHttp) known += (known.empty() ? "" : ", ") + n;
      }
      return Error(res, 404,
                   "no http source '" + name + "' (http sources: " + (known.empty() ? "none" : known) + ")");
    }
    SourceState& source = *it->second;
    if (who.tenants && source.spec->partition_by.tenant.empty()) {
      return Error(res, 403,
                   "token '" + who.name + "' is bound to tenants, and source '" + name +
                       "' has no tenant column to check its rows against (partition_by.tenant)");
    }

    std::string correlation = req.get_header_value("X-Correlation-ID");
    if (correlation.empty()) {
      correlation = NewCorrelationId(received);
    } else if (!IsCorrelationId(correlation)) {
      return Error(res, 400, "X-Correlation-ID must be 1-128 of [A-Za-z0-9_.:-]");
    }
    res.set_header("X-Correlation-ID", correlation);
    const std::string key = req.get_header_value("Idempotency-Key");
    if (req.has_header("Idempotency-Key") && !IsToken(key, 255)) {
      return Error(res, 400, "Idempotency-Key must be 1-255 visible ASCII characters");
    }
    if (!req.has_header("Content-Length")) {
      // Without Transfer-Encoding a request without Content-Length has no body (RFC 9112
      // 6.3): nothing to drain, and draining would wait for the client to close.
      if (!req.has_header("Transfer-Encoding")) body_read = true;
      return Error(res, 411,
                   "Length Required: send the body with a Content-Length (chunked bodies are not taken)");
    }
    const std::string length_text = req.get_header_value("Content-Length");
    if (length_text.empty() || length_text.size() > 15 ||
        length_text.find_first_not_of("0123456789") != std::string::npos) {
      return Error(res, 400, "bad Content-Length '" + length_text + "'");
    }
    const int64_t length = std::stoll(length_text);
    if (length > budget.limit() || length > kMaxRequestBytes) {
      return Error(res, 413,
                   "body of " + std::to_string(length) + " bytes is larger than " +
                       std::to_string(std::min(budget.limit(), kMaxRequestBytes)) +
                       " bytes; split it into smaller requests");
    }

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
      res.set_header("Retry-After", "5");
      return Error(res, 503, "sluice is shutting down; retry against the restarted server");
    }
    if (!budget.TryAcquire(length)) {
      source.rejected->Add();
      res.set_header("Retry-After", "1");
      return Error(res, 429,
                   "in-flight budget of " + std::to_string(budget.limit() >> 20) +
                       " MiB is full (staging is behind); retry after 1 s");
    }
    auto item = std::make_shared<HttpItem>();
    item->bytes = length;
    item->received_us = received;
    std::string body;
    body.reserve(static_cast<size_t>(length));
    body_read = true;
    bool read_ok = reader([&](const char* data, size_t n) {
      if (static_cast<int64_t>(body.size() + n) > length) return false;
      body.append(data, n);
      return true;
    });
    if (!read_ok || static_cast<int64_t>(body.size()) != length) {
      budget.Release(length);
      return Error(res, 400, "the body ended before its Content-Length");
    }
    size_t first = body.find_first_not_of(" \t\r\n");
    const bool json_doc =
        first != std::string::npos &&
        (body[first] == '[' ||
         (body[first] == '{' && req.get_header_value("Content-Type").rfind("application/json", 0) == 0));
    if (json_doc) {
      Result<std::string> lines = JsonToLines(body);
      if (!lines.ok()) {
        budget.Release(length);
        return Error(res, 400, lines.status().message());
      }
      body = std::move(*lines);
    }
    if (body.find_first_not_of(kBlank) == std::string::npos) {
      budget.Release(length);
      return Error(res, 400,
                   "the body holds no events (empty, blank lines or an empty JSON array); nothing was "
                   "committed");
    }
    item->lines = CountLines(body);
    item->part.data = std::move(body);
    item->part.correlation_id = correlation;
    item->part.idempotency_key = key;
    item->part.tenants = who.tenants;
    std::future<Result<PartResult>> done = item->done.get_future();
    {
      std::lock_guard<std::mutex> lock(mu);
      source.http.push_back(std::move(item));
    }
    cv.notify_all();
    leave();
    if (done.wait_for(kCommitTimeout) != std::future_status::ready) {
      return Error(res, 503, "the commit did not finish in time; retry with the same Idempotency-Key");
    }
    Result<PartResult> r = done.get();
    if (!r.ok()) {
      return Error(res, 500,
                   "the commit failed (" + r.status().message() + "); retry with the same Idempotency-Key");
    }
    Json out = {{"source", name},
                {"batch_id", r->batch_id},
                {"accepted", r->accepted},
                {"dead_lettered", r->dead_lettered},
                {"correlation_id", r->correlation_id}};
    if (!key.empty()) out["idempotency_key"] = key;
    if (r->kind == PartResult::Kind::kConflict) {
      return Error(res, 422,
                   "Idempotency-Key '" + key +
                       "' was used before for a different body"
                       " (batch " +
                       r->batch_id + "); use a new key for new data");
    }
    // A replay answers with the first request's correlation id, in the header as in the body.
    res.headers.erase("X-Correlation-ID");
    res.set_header("X-Correlation-ID", r->correlation_id);
    out["replayed"] = r->kind == PartResult::Kind::kReplay;
    if (r->kind == PartResult::Kind::kReplay) res.set_header("Idempotent-Replayed", "true");
    Reply(res, 200, out);
  });

  // The endpoints built on http.h, each file's routes in turn (AddRoute).
  for (auto& r : QueryRoutes(*this)) AddRoute(std::move(r));
  for (auto& r : FeedRoutes(*this)) AddRoute(std::move(r));
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
  auto serve = [this, route](const httplib::Request& req, httplib::Response& res) {
    http::Request r;
    r.method = req.method;
    r.path = req.path;
    for (size_t i = 1; i < req.matches.size(); ++i) r.captures.push_back(req.matches[i]);
    for (const auto& [k, v] : req.params) r.query.emplace_back(k, v);
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(std::move(name), v);
    }
    r.body = req.body;
    r.remote_addr = req.remote_addr;
    http::Response out;
    http::Principal who = http::Principal::Anonymous();
    if (route.authenticated && authenticate) {
      Result<http::Principal> p = authenticate(r);
      if (!p.ok()) {
        out.SetError(401, p.status().message());
        out.AddHeader("WWW-Authenticate", "Bearer");
      } else {
        who = std::move(*p);
      }
    }
    if (out.body.empty()) route.handler(r, who, out);
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    res.set_content(out.body, out.content_type);
  };
  if (route.method == "GET") {
    http.Get(route.pattern, serve);
  } else {
    http.Post(route.pattern, serve);
  }
}

}  // namespace sluice
