// HttpServer: the HTTP/1.1 (and HTTPS) server of `sluice serve`, on libmicrohttpd.
//
// I/O is event-driven: a few polling threads (epoll) read requests and write answers, so a slow
// client holds a socket and a little memory, never a thread. Once a request is complete
// (headers and body), its connection is suspended and the route's handler runs on a bounded pool
// of worker threads; the answer is sent when the handler returns. The limits (ServerLimits) are
// enforced before a handler sees anything: connections per client address and in all, a
// deadline for a whole request, the header size (431) and the body size (413, before reading
// it). docs/HTTP.md describes what a client gets for each.
//
// Routes are http.h's; the rest of sluice never sees libmicrohttpd's types.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "serve/http.h"

namespace sluice::http {

struct ServerLimits {
  int64_t max_connections = 1024;            // open connections in all; more wait in the listen queue
  int64_t max_connections_per_client = 256;  // per client IP address; more are closed at once
  int64_t idle_timeout_seconds = 30;         // no byte either way for this long: closed
  // The request's headers and body must all be in within this, counted from the connection's
  // opening or, on a keep-alive connection, from the end of the previous answer: past it, the
  // connection is closed, however steadily bytes trickle in.
  int64_t request_timeout_ms = 60000;
  int64_t max_header_bytes = 16 * 1024;       // request line and headers: beyond, 431
  int64_t max_body_bytes = 64 * 1024 * 1024;  // beyond, 413 before the body is read
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // a name or an address ("::1", "0.0.0.0")
  int port = 0;                    // 0: any free port (see HttpServer::port)
  int workers = 64;                // handlers running at once
  ServerLimits limits;
  // PEM text of the certificate (chain) and its private key: HTTPS only. Empty: plain HTTP.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // Where the server's own messages go (start-up failures of the library); may be empty.
  std::function<void(const std::string&)> log;
  // Called (on an I/O thread; must not block) for each connection closed at once because a
  // connection limit was reached (max_connections_per_client, or max_connections when a
  // connection got past the listen queue); may be empty.
  std::function<void()> connection_refused;
};

// Thread safety: AddRoute and the setters before Start(); Stop() from any one thread.
class HttpServer {
 public:
  // Checks the options and binds host:port (listening, nothing served until Start()).
  // Unavailable when the address cannot be bound (in use, not an address here);
  // InvalidArgument for options out of range.
  static Result<std::unique_ptr<HttpServer>> Bind(const ServerOptions& options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the one picked for port 0).
  int port() const;

  // Routes are tried in the order added; the first whose method and pattern match serves.
  void AddRoute(Route route);
  // Who a request comes from; unset: everyone is Principal::Anonymous(). A failure is answered
  // 401 with its message. Called on an I/O thread with the request without its body: must not
  // block.
  void SetAuthenticate(std::function<Result<Principal>(const Request&)> authenticate);
  // The answer to a path no route pattern matches (default: a 404 JSON error naming the path).
  void SetNotFound(std::function<void(const Request&, Response&)> not_found);

  // Starts serving. Unavailable when the library cannot start (e.g. the TLS certificate or key
  // is rejected: InvalidArgument then).
  Status Start();
  // Stops accepting, lets running handlers finish and their answers go out (up to a few
  // seconds), then closes every connection. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::http
