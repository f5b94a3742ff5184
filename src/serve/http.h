// HTTP requests and responses as sluice's handlers see them, whatever library serves them.
//
// A handler is a function of (Request, Principal) that fills a Response; routes pair a method
// and a path pattern with a handler. The server (serve/server.cc) reads the whole request,
// authenticates it (serve/auth.h) unless the route is public, and calls the handler on one of
// its worker threads; handlers must be thread-safe.
#pragma once

#include <functional>
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

struct Route {
  std::string method;         // "GET" (answers HEAD too) or "POST"
  std::string pattern;        // ECMAScript regex over the whole path; its groups become captures
  bool authenticated = true;  // false: answered without a token (/v1/health)
  Handler handler;
};

}  // namespace sluice::http
