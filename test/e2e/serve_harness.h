// `sluice serve` as a background child process for the streaming suites, and a small HTTP
// client to talk to it. The server listens on 127.0.0.1 on a port it picks (--listen
// 127.0.0.1:0 --port-file), so suites can run side by side.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace sluice::e2e {

class ServeProcess {
 public:
  // Starts `sluice serve --project <dir> --listen 127.0.0.1:0 [extra...]` and waits (up to
  // `ready_seconds`) until GET /v1/health answers. Records a test failure (with the server's
  // stderr) and returns nullptr when it does not come up.
  // With `ca_file` (PEM), the server speaks HTTPS and readiness is asked over TLS, verifying
  // the server's certificate against it.
  static std::unique_ptr<ServeProcess> Start(const Project& project,
                                             const std::vector<std::string>& extra = {},
                                             const std::vector<std::pair<std::string, std::string>>& env = {},
                                             int ready_seconds = 60, const std::string& ca_file = "");
  ~ServeProcess();  // SIGKILL if still running
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running();  // not yet exited (reaps it when it has)

  // SIGKILL, and reap.
  void Kill9();
  // SIGTERM, then waits up to `seconds` for the exit; the exit status as ProcessResult (err
  // holds the server's stderr so far). timed_out (and a SIGKILL) when it does not exit.
  ProcessResult Terminate(int seconds = 120);
  // Everything the server wrote to stderr so far.
  std::string Stderr() const;
  // Peak resident set size (VmHWM) in bytes, from /proc; 0 once it exited.
  int64_t PeakRssBytes() const;

 private:
  ServeProcess() = default;
  ProcessResult Wait(int seconds);
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_;
  bool exited_ = false;
  int status_ = 0;
};

// A minimal HTTP/1.1 client for 127.0.0.1 (cpp-httplib), one keep-alive connection.
struct HttpResponse {
  int status = 0;  // 0: no answer (connection refused / reset / timeout)
  std::string body;
  std::map<std::string, std::string> headers;
  Json json() const;  // the body parsed; null when it is not JSON
};
class HttpClient {
 public:
  // With `ca_file`: HTTPS, the server's certificate verified against that PEM file.
  explicit HttpClient(int port, int timeout_seconds = 120, const std::string& ca_file = "");
  ~HttpClient();
  HttpResponse Get(const std::string& path, const std::map<std::string, std::string>& headers = {});
  HttpResponse Post(const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers = {},
                    const std::string& content_type = "application/x-ndjson");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A response header, whatever its case on the wire; "" when absent.
std::string Header(const HttpResponse& r, const std::string& name);
// "HTTP <status> <body, cut at 600 bytes>", for messages.
std::string Describe(const HttpResponse& r);

// A raw HTTP/1.1 connection to 127.0.0.1, for what HttpClient cannot do: send half a body and
// the rest later, or a request without Content-Length.
// An HTTP endpoint on 127.0.0.1 that a test points sluice at (an Alertmanager webhook, an
// OpenLineage backend): records the body of every POST to `path`, answers 500 to the first
// `fail_first` of them and 200 after. Listening when the constructor returns.
class PostReceiver {
 public:
  PostReceiver(const std::string& path, int fail_first);
  ~PostReceiver();
  PostReceiver(const PostReceiver&) = delete;
  PostReceiver& operator=(const PostReceiver&) = delete;

  int port() const { return port_; }
  // Every body received, in order, those answered 500 included.
  std::vector<std::string> bodies();
  // The bodies answered 200, in order.
  std::vector<std::string> accepted();
  // Waits up to `seconds` until `n` bodies were answered 200.
  bool WaitForAccepted(size_t n, int seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

class RawConnection {
 public:
  // From `source_ip` (another loopback address, e.g. 127.0.0.2: another client) when given.
  explicit RawConnection(int port, const std::string& source_ip = "");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the connection failed or the peer closed it.
  bool Send(const std::string& bytes);
  // One response: status line, headers, Content-Length body; status 0 when none came within
  // `seconds` (or the connection closed first).
  HttpResponse Read(int seconds);
  // Waits up to `seconds` for the server to close the connection (end of stream or reset),
  // dropping what it sends meanwhile; true when it did.
  bool ClosedWithin(double seconds);
  bool connected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Rewrites the example project's sluice.yaml so that source `orders` has `type: http` (or the
// given YAML lines instead of `type: files` + `path:`), plus top-level `extra_top` lines.
void MakeStreamSource(const Project& project, const std::string& source_lines,
                      const std::string& extra_top = "transform: {interval: 500ms}");

// Makes a self-signed certificate for 127.0.0.1 and its key with openssl, in `dir` as
// <name>.pem and <name>.key (records a test failure when openssl fails).
void MakeCertificate(const std::string& dir, const std::string& name);

// The lines of the project's landing JSONL files (in file name order), `per_request` lines to a
// request body: what a producer would push to the `orders` HTTP source.
std::vector<std::string> LandingBodies(const Project& project, size_t per_request);

// A sample value of /metrics text, named with its labels as exposed, e.g.
// `sluice_consumer_pauses_total{source="orders"}`; -1 if absent.
double MetricValue(const std::string& text, const std::string& name_and_labels);

}  // namespace sluice::e2e
