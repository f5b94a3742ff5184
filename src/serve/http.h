// HTTP requests and responses as sluice's handlers see them, whatever library serves them.
//
// A handler is a function of (Request, Principal) that fills a Response; routes pair a method
// and a path pattern with a handler. The server (serve/http_server.h) reads the whole request,
// authenticates it (serve/auth.h) unless the route is public, and calls the handler on one of
// its worker threads; handlers must be thread-safe. A route may also look at a request's headers
// before its body is read (Route::admit) to refuse it without reading the body.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

struct Request {
  std::string method;                                        // upper case; HEAD is served as GET
  std::string path;                                          // decoded, without the query string
  std::vector<std::string> captures;                         // the route pattern's groups, in order
  std::vector<std::pair<std::string, std::string>> query;    // decoded parameters, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;
  std::string remote_addr;
  // What the route's `admit` hook kept for this request (Admission::hold); null otherwise.
  std::shared_ptr<void> admitted;

  // The first value of the header (name in any case) or query parameter; nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
  std::optional<std::string> Param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // `body` as one line of JSON.
  void SetJson(int status, const nlohmann::json& body);
  // {"error": message}: every refusal of the API has this shape.
  void SetError(int status, std::string_view message);
  void AddHeader(std::string name, std::string value);
};

// Who is asking: the token a request authenticated with (serve/auth.h).
struct Principal {
  std::string name;                 // the token's name; "anonymous" under `serve.auth: none`
  std::vector<std::string> scopes;  // "read:*", "read:marts.daily_revenue", "ingest:orders", "admin"
  // nullopt: every tenant. Otherwise only these tenants' rows, on every endpoint.
  std::optional<std::vector<std::string>> tenants;

  // Whether `scope` ("read:curated.orders", "ingest:orders", "admin") is granted: named
  // exactly, matched by a granted scope ending in `*` ("read:*", "read:marts.*"), or by admin.
  bool Can(std::string_view scope) const;
  // Every scope, every tenant: the principal of `serve.auth: none`.
  static Principal Anonymous();
};

using Handler = std::function<void(const Request&, const Principal&, Response&)>;

// What a route's `admit` hook decides once a request's headers are in (see Route::admit).
struct Admission {
  // Set: this is the answer; the handler is not called and the body is not kept (a body being
  // sent is read and dropped, up to the body limit, so that the keep-alive connection stays in
  // step; a client waiting for 100-continue gets the answer at once and sends no body).
  std::optional<Response> answer;
  // Kept with the request until it ends, and handed to the handler as Request::admitted: e.g. a
  // reservation whose destructor gives it back when the request never reaches the handler (the
  // client went away, the body never came).
  std::shared_ptr<void> hold;
  // Optional: where the body goes instead of Request::body (left empty then), e.g. a string in
  // `hold` that the handler moves out without a copy. Must stay valid while `hold` lives.
  std::string* body = nullptr;
};
// Called with the request without its body (Request::body empty) and its principal.
using AdmitHook = std::function<Admission(const Request&, const Principal&)>;

struct Route {
  std::string method;         // "GET" (answers HEAD too) or "POST"
  std::string pattern;        // ECMAScript regex over the whole path; its groups become captures
  bool authenticated = true;  // false: answered without a token (/v1/health)
  Handler handler;
  // Optional. Called on one of the server's I/O threads once the headers are in and the request
  // is authenticated, before the body is read: it must not block (no I/O, no waiting on a lock
  // held for long). It answers what can be answered from the headers (411, 413, 429, 503).
  AdmitHook admit;
};

}  // namespace sluice::http
