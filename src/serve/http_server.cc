// HttpServer on libmicrohttpd (MHD): polling threads with epoll, handlers on a worker pool
// while their connection is suspended, and the limits of http_server.h.
//
// A request goes through MHD's access handler, on the polling thread of its connection:
//   first call      headers are in: header size, route, Content-Length against max_body,
//                   authentication, the route's admit hook; any of them may answer at once
//   body calls      the body in pieces, kept (or dropped when an early answer drains it)
//   final call      the request is complete: the connection is suspended and the handler runs
//                   on a worker, which resumes it; MHD calls again and the answer is queued.
// MHD's connection timeout is an idle timeout; the whole-request deadline is ours: each
// connection records since when it is receiving a request, and a sweeper thread shuts down the
// socket of one that is past the deadline (MHD then closes it as a broken connection).
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <regex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace sluice::http {

namespace {

using Clock = std::chrono::steady_clock;

// How often the sweeper looks for requests past their deadline.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
// How long Stop() waits for the answers of finished handlers to go out.
constexpr auto kStopGrace = std::chrono::seconds(3);

// A bounded set of threads running queued tasks in order.
class WorkerPool {
 public:
  void Start(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        std::unique_lock<std::mutex> lock(mu_);
        while (true) {
          cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
          if (tasks_.empty()) return;  // stopped and drained
          std::function<void()> task = std::move(tasks_.front());
          tasks_.pop_front();
          lock.unlock();
          task();
          lock.lock();
        }
      });
    }
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  // Runs what is queued, then joins.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

struct CompiledRoute {
  Route route;
  std::regex pattern;
};

// A connection, for the request deadline. Guarded by Impl::conns_mu.
struct Conn {
  int fd = -1;
  Clock::time_point since;  // when it began to receive the current request
  bool receiving = true;    // false while a handler runs or an answer is being sent
};

// One request, from its first access-handler call to MHD's completion callback.
struct Exchange {
  enum class Phase { kBody, kDrain, kReady, kDispatched };
  Conn* conn = nullptr;
  Request request;
  Principal principal;
  const CompiledRoute* route = nullptr;
  std::string* body = nullptr;  // where the body goes: request.body or the admit hook's string
  Phase phase = Phase::kBody;
  std::optional<Response> answer;  // set by the first call (early) or by the worker
  int64_t drained = 0;
  bool dispatched = false;
};

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string AddressText(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr == nullptr) return "";
  if (addr->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
  } else if (addr->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

Response ErrorAnswer(int status, const std::string& message) {
  Response r;
  r.SetError(status, message);
  return r;
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  int listen_fd = -1;  // ours until MHD takes it in Start()
  int port = 0;
  std::vector<std::unique_ptr<CompiledRoute>> routes;
  std::function<Result<Principal>(const Request&)> authenticate;
  std::function<void(const Request&, Response&)> not_found;

  MHD_Daemon* daemon = nullptr;
  std::atomic<bool> starting{false};  // MHD's messages are logged only while starting
  WorkerPool workers;

  std::mutex conns_mu;
  std::unordered_set<Conn*> conns;
  std::condition_variable sweep_cv;  // with conns_mu
  bool sweep_stop = false;
  std::thread sweeper;

  std::mutex pending_mu;
  std::condition_variable pending_cv;
  int64_t pending = 0;  // requests handed to a worker whose exchange has not completed

  // ---- MHD callbacks (static trampolines below) ----
  MHD_Result OnRequest(MHD_Connection* c, const char* url, const char* method, const char* upload,
                       size_t* upload_size, void** ctx);
  void OnCompleted(void** ctx);
  void OnConnection(MHD_Connection* c, void** socket_ctx, MHD_ConnectionNotificationCode code);

  // Reads the request's head into `x` and decides whether it is answered at once.
  void Admit(MHD_Connection* c, Exchange& x, bool* drainable);
  MHD_Result Queue(MHD_Connection* c, Exchange& x);
  void Dispatch(MHD_Connection* c, Exchange* x);
  void SetReceiving(Conn* conn, bool receiving);
  void Sweep();
};

// ---- request flow ----------------------------------------------------------------------------

MHD_Result HttpServer::Impl::OnRequest(MHD_Connection* c, const char* url, const char* method,
                                       const char* upload, size_t* upload_size, void** ctx) {
  if (*ctx == nullptr) {  // first call: the headers are in
    auto* x = new Exchange;
    *ctx = x;
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    x->conn = info != nullptr ? static_cast<Conn*>(info->socket_context) : nullptr;
    x->request.method = method;
    x->request.path = url;
    bool drainable = true;
    Admit(c, *x, &drainable);
    if (!x->answer) return MHD_YES;  // read the body
    const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const bool chunked = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char* expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    const int64_t declared = length != nullptr ? std::strtoll(length, nullptr, 10) : 0;
    if (!chunked && declared <= 0) {
      x->phase = Exchange::Phase::kReady;  // no body: answered on the next call, kept alive
      return MHD_YES;
    }
    // A body the client is sending is read and dropped (up to max_body), so that the
    // connection carries the next request and the client reads the answer: closing a socket
    // with unread data resets the connection, and the answer may be lost with it. A client
    // that waits for 100-continue has sent no body: answered at once, the body never sent.
    if (drainable && expect == nullptr) {
      x->phase = Exchange::Phase::kDrain;
      return MHD_YES;
    }
    return Queue(c, *x);  // before the body: MHD closes the connection after the answer
  }
  auto* x = static_cast<Exchange*>(*ctx);
  if (*upload_size > 0) {
    const size_t n = *upload_size;
    *upload_size = 0;
    if (x->phase == Exchange::Phase::kDrain) {
      x->drained += static_cast<int64_t>(n);
      return x->drained <= options.limits.max_body_bytes ? MHD_YES : MHD_NO;  // NO: closed
    }
    // A chunked body has no declared size: it is cut off (the connection closed) past the limit.
    if (static_cast<int64_t>(x->body->size() + n) > options.limits.max_body_bytes) return MHD_NO;
    x->body->append(upload, n);
    return MHD_YES;
  }
  // The request is complete.
  SetReceiving(x->conn, false);
  if (x->answer) return Queue(c, *x);
  if (x->dispatched) return MHD_YES;  // not yet answered (a spurious call)
  Dispatch(c, x);
  return MHD_YES;
}

void HttpServer::Impl::Admit(MHD_Connection* c, Exchange& x, bool* drainable) {
  Request& r = x.request;
  const MHD_ConnectionInfo* size = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (size != nullptr && static_cast<int64_t>(size->header_size) > options.limits.max_header_bytes) {
    *drainable = false;
    x.answer = ErrorAnswer(431, "request headers of " + std::to_string(size->header_size) +
                                    " bytes are larger than the limit of " +
                                    std::to_string(options.limits.max_header_bytes) + " bytes");
    return;
  }
  MHD_get_connection_values(
      c, MHD_HEADER_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char* value) {
        static_cast<Request*>(cls)->headers.emplace_back(ToLower(key), value != nullptr ? value : "");
        return MHD_YES;
      },
      &r);
  MHD_get_connection_values(
      c, MHD_GET_ARGUMENT_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char* value) {
        static_cast<Request*>(cls)->query.emplace_back(key, value != nullptr ? value : "");
        return MHD_YES;
      },
      &r);
  if (const MHD_ConnectionInfo* a = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
    r.remote_addr = AddressText(a->client_addr);
  }

  // The route; on a known path with another method, 405 with Allow.
  const std::string& method = r.method;
  std::string allow;
  std::smatch m;
  for (const auto& cr : routes) {
    if (!std::regex_match(r.path, m, cr->pattern)) continue;
    const bool get = cr->route.method == "GET";
    if (cr->route.method == method || (get && method == "HEAD")) {
      x.route = cr.get();
      for (size_t i = 1; i < m.size(); ++i) r.captures.push_back(m[i].str());
      break;
    }
    const std::string methods = get ? "GET, HEAD" : cr->route.method;
    if (allow.find(methods) == std::string::npos) allow += (allow.empty() ? "" : ", ") + methods;
  }
  if (x.route == nullptr) {
    Response out;
    if (!allow.empty()) {
      out.SetError(405, "method " + method + " is not allowed on " + r.path + " (allowed: " + allow + ")");
      out.AddHeader("Allow", allow);
    } else if (not_found) {
      not_found(r, out);
    } else {
      out.SetError(404, "no endpoint " + r.path);
    }
    x.answer = std::move(out);
    return;
  }

  int64_t declared = 0;
  if (auto length = r.Header("content-length")) {
    // MHD refused a Content-Length that is not a number (400) before this call.
    declared = std::max<int64_t>(0, std::strtoll(length->c_str(), nullptr, 10));
    if (declared > options.limits.max_body_bytes) {
      *drainable = false;
      x.answer = ErrorAnswer(
          413, "body of " + std::to_string(declared) + " bytes is larger than the limit of " +
                   std::to_string(options.limits.max_body_bytes) + " bytes; split it into smaller requests");
      return;
    }
  }

  x.principal = Principal::Anonymous();
  if (x.route->route.authenticated && authenticate) {
    Result<Principal> p = authenticate(r);
    if (!p.ok()) {
      Response out;
      out.SetError(401, p.status().message());
      out.AddHeader("WWW-Authenticate", "Bearer");
      x.answer = std::move(out);
      return;
    }
    x.principal = std::move(*p);
  }
  x.body = &r.body;
  if (x.route->route.admit) {
    Admission a = x.route->route.admit(r, x.principal);
    if (a.answer) {
      x.answer = std::move(a.answer);
      return;
    }
    r.admitted = std::move(a.hold);
    if (a.body != nullptr) x.body = a.body;
  }
  x.body->reserve(static_cast<size_t>(declared));
}

MHD_Result HttpServer::Impl::Queue(MHD_Connection* c, Exchange& x) {
  SetReceiving(x.conn, false);
  Response& out = *x.answer;
  MHD_Response* resp =
      MHD_create_response_from_buffer(out.body.size(), out.body.data(), MHD_RESPMEM_MUST_COPY);
  if (resp == nullptr) return MHD_NO;
  for (const auto& [k, v] : out.headers) MHD_add_response_header(resp, k.c_str(), v.c_str());
  if (!out.content_type.empty()) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type.c_str());
  }
  const MHD_Result queued = MHD_queue_response(c, static_cast<unsigned int>(out.status), resp);
  MHD_destroy_response(resp);
  return queued;
}

void HttpServer::Impl::Dispatch(MHD_Connection* c, Exchange* x) {
  x->dispatched = true;
  x->phase = Exchange::Phase::kDispatched;
  {
    std::lock_guard<std::mutex> lock(pending_mu);
    ++pending;
  }
  MHD_suspend_connection(c);
  workers.Submit([x, c] {
    Response out;
    try {
      x->route->route.handler(x->request, x->principal, out);
    } catch (const std::exception& e) {
      out = ErrorAnswer(500, std::string("internal error: ") + e.what());
    }
    x->answer = std::move(out);
    // After this, `x` belongs to the polling thread again (MHD's resume takes a lock).
    MHD_resume_connection(c);
  });
}

void HttpServer::Impl::OnCompleted(void** ctx) {
  auto* x = static_cast<Exchange*>(*ctx);
  if (x == nullptr) return;
  *ctx = nullptr;
  if (x->conn != nullptr) {
    std::lock_guard<std::mutex> lock(conns_mu);
    x->conn->since = Clock::now();  // the next request on this connection starts its clock now
    x->conn->receiving = true;
  }
  const bool dispatched = x->dispatched;
  delete x;  // gives back the admit hook's hold, if the handler never took it over
  if (dispatched) {
    std::lock_guard<std::mutex> lock(pending_mu);
    --pending;
    pending_cv.notify_all();
  }
}

void HttpServer::Impl::OnConnection(MHD_Connection* c, void** socket_ctx,
                                    MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* conn = new Conn;
    if (const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD)) {
      conn->fd = info->connect_fd;
    }
    conn->since = Clock::now();
    *socket_ctx = conn;
    std::lock_guard<std::mutex> lock(conns_mu);
    conns.insert(conn);
    return;
  }
  auto* conn = static_cast<Conn*>(*socket_ctx);
  if (conn == nullptr) return;
  *socket_ctx = nullptr;
  {
    // MHD closes the socket after this callback: under the lock, the sweeper never shuts down
    // a descriptor that was closed (and maybe reused).
    std::lock_guard<std::mutex> lock(conns_mu);
    conns.erase(conn);
  }
  delete conn;
}

void HttpServer::Impl::SetReceiving(Conn* conn, bool receiving) {
  if (conn == nullptr) return;
  std::lock_guard<std::mutex> lock(conns_mu);
  conn->receiving = receiving;
}

void HttpServer::Impl::Sweep() {
  const auto deadline = std::chrono::milliseconds(options.limits.request_timeout_ms);
  std::unique_lock<std::mutex> lock(conns_mu);
  while (!sweep_stop) {
    sweep_cv.wait_for(lock, kSweepInterval);
    const auto now = Clock::now();
    for (Conn* conn : conns) {
      if (!conn->receiving || conn->fd < 0 || now - conn->since < deadline) continue;
      // MHD sees the connection end on its next read and closes it.
      ::shutdown(conn->fd, SHUT_RDWR);
      conn->receiving = false;
    }
  }
}

// ---- HttpServer ------------------------------------------------------------------------------

namespace {

MHD_Result OnRequestThunk(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                          const char* upload, size_t* upload_size, void** ctx) {
  return static_cast<HttpServer::Impl*>(cls)->OnRequest(c, url, method, upload, upload_size, ctx);
}

void OnCompletedThunk(void* cls, MHD_Connection*, void** ctx, MHD_RequestTerminationCode) {
  static_cast<HttpServer::Impl*>(cls)->OnCompleted(ctx);
}

void OnConnectionThunk(void* cls, MHD_Connection* c, void** socket_ctx, MHD_ConnectionNotificationCode code) {
  static_cast<HttpServer::Impl*>(cls)->OnConnection(c, socket_ctx, code);
}

constexpr char kConnectionLimitMessage[] = "Server reached connection limit";

void OnLogThunk(void* cls, const char* format, va_list ap) {
  auto* impl = static_cast<HttpServer::Impl*>(cls);
  // libmicrohttpd (0.9.7x) says nothing else when it closes a connection at a limit, per client
  // or overall, and says it with this one format.
  if (std::strncmp(format, kConnectionLimitMessage, sizeof kConnectionLimitMessage - 1) == 0 &&
      impl->options.connection_refused) {
    impl->options.connection_refused();
  }
  // Once serving, MHD's messages are about single clients (a refused connection, a broken TLS
  // handshake): what a hostile client could flood the log with.
  if (!impl->starting || !impl->options.log) return;
  char buf[512];
  std::vsnprintf(buf, sizeof buf, format, ap);
  std::string line = buf;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  impl->options.log("http: " + line);
}

Status CheckLimits(const ServerLimits& l) {
  if (l.max_connections < 1 || l.max_connections_per_client < 1 || l.idle_timeout_seconds < 1 ||
      l.request_timeout_ms < 1 || l.max_header_bytes < 1024 || l.max_body_bytes < 1) {
    return Status::InvalidArgument("HTTP limits out of range");
  }
  return Status::OK();
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Bind(const ServerOptions& options) {
  RETURN_IF_ERROR(CheckLimits(options.limits));
  if (options.workers < 1) return Status::InvalidArgument("HTTP workers must be at least 1");
  std::string host = options.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string where = options.host + ":" + std::to_string(options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(options.port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot listen on " + where + ": " + ::gai_strerror(rc));
  }
  int fd = -1;
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
    why = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return Status::Unavailable("cannot listen on " + where + " (" + why +
                               "; in use, or not an address here)");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->listen_fd = fd;
  impl->port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                           : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::AddRoute(Route route) {
  auto cr = std::make_unique<CompiledRoute>();
  cr->pattern = std::regex(route.pattern, std::regex::ECMAScript);
  cr->route = std::move(route);
  impl_->routes.push_back(std::move(cr));
}

void HttpServer::SetAuthenticate(std::function<Result<Principal>(const Request&)> authenticate) {
  impl_->authenticate = std::move(authenticate);
}

void HttpServer::SetNotFound(std::function<void(const Request&, Response&)> not_found) {
  impl_->not_found = std::move(not_found);
}

Status HttpServer::Start() {
  Impl& m = *impl_;
  if (m.daemon != nullptr) return Status::OK();
  const ServerLimits& l = m.options.limits;
  const bool tls = !m.options.tls_cert_pem.empty();
  if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
    return Status::Unavailable("this libmicrohttpd is built without TLS: serve.tls cannot be used");
  }
  // A few polling threads: each owns its connections (epoll); never more than connections.
  const unsigned hardware = std::max(2u, std::thread::hardware_concurrency());
  const auto pollers = static_cast<unsigned>(std::min<int64_t>({4, hardware, l.max_connections}));
  // A connection's memory pool holds the request line and headers (and the answer's headers):
  // room for twice the limit, so that a header just over it is seen and answered 431 by us.
  constexpr int64_t kKiB = 1024;
  const auto pool = static_cast<size_t>(std::max<int64_t>(64 * kKiB, 2 * l.max_header_bytes + 16 * kKiB));
  std::vector<MHD_OptionItem> opts = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&OnLogThunk), &m},  // first: for every message
      {MHD_OPTION_LISTEN_SOCKET, m.listen_fd, nullptr},
      {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(pollers), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(l.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(l.max_connections_per_client), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(l.idle_timeout_seconds), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(pool), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&OnCompletedThunk), &m},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&OnConnectionThunk), &m},
  };
  if (tls) {
    opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, m.options.tls_cert_pem.data()});
    opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, m.options.tls_key_pem.data()});
  }
  opts.push_back({MHD_OPTION_END, 0, nullptr});
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (tls) flags |= MHD_USE_TLS;
  m.workers.Start(m.options.workers);
  m.starting = true;
  m.daemon = MHD_start_daemon(flags, 0, nullptr, nullptr, &OnRequestThunk, &m, MHD_OPTION_ARRAY, opts.data(),
                              MHD_OPTION_END);
  m.starting = false;
  if (m.daemon == nullptr) {
    m.workers.Stop();
    if (tls) {
      return Status::InvalidArgument(
          "the HTTP server did not start: is serve.tls's certificate or key not a valid PEM pair?");
    }
    return Status::Unavailable("the HTTP server did not start on " + m.options.host + ":" +
                               std::to_string(m.port));
  }
  m.listen_fd = -1;  // MHD's now: closed by MHD_stop_daemon
  m.sweeper = std::thread([&m] { m.Sweep(); });
  return Status::OK();
}

void HttpServer::Stop() {
  Impl& m = *impl_;
  if (m.daemon == nullptr) return;
  const MHD_socket listening = MHD_quiesce_daemon(m.daemon);  // new connections are refused
  if (listening != MHD_INVALID_SOCKET) ::close(listening);
  m.workers.Stop();  // running and queued handlers finish; each resumes its connection
  {
    std::unique_lock<std::mutex> lock(m.pending_mu);
    m.pending_cv.wait_for(lock, kStopGrace, [&] { return m.pending == 0; });
  }
  MHD_stop_daemon(m.daemon);
  m.daemon = nullptr;
  {
    std::lock_guard<std::mutex> lock(m.conns_mu);
    m.sweep_stop = true;
  }
  m.sweep_cv.notify_all();
  if (m.sweeper.joinable()) m.sweeper.join();
}

}  // namespace sluice::http
