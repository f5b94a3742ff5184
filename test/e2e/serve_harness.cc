#include "serve_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

extern char** environ;

namespace sluice::e2e {

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<ServeProcess> ServeProcess::Start(const Project& project,
                                                  const std::vector<std::string>& extra,
                                                  const std::vector<std::pair<std::string, std::string>>& env,
                                                  int ready_seconds, const std::string& ca_file) {
  std::unique_ptr<ServeProcess> p(new ServeProcess());
  static int counter = 0;
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++counter);
  const std::string port_file = project.Path(".serve-port-" + tag);
  p->stderr_path_ = project.Path(".serve-stderr-" + tag);
  ::unlink(port_file.c_str());

  std::vector<std::string> argv_s = {SluiceBinary(), "serve",       "--project",   project.dir(),
                                     "--listen",     "127.0.0.1:0", "--port-file", port_file};
  argv_s.insert(argv_s.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    std::string k = kv.substr(0, kv.find('='));
    bool replaced = k == "SLUICE_FAILPOINTS";
    for (const auto& [ek, ev] : env) replaced = replaced || ek == k;
    if (!replaced) env_s.push_back(kv);
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int err_fd = ::open(p->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    ADD_FAILURE() << "cannot create " << p->stderr_path_ << ": " << std::strerror(errno);
    return nullptr;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(err_fd);
    return nullptr;
  }
  if (pid == 0) {
    if (::chdir(project.dir().c_str()) != 0) ::_exit(126);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
    }
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(err_fd);
  p->pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ready_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!p->running()) {
      ADD_FAILURE() << "sluice serve exited during start (status " << p->status_ << "); stderr:\n"
                    << p->Stderr();
      return nullptr;
    }
    if (p->port_ == 0) {
      std::string text = ReadAll(port_file);
      if (!text.empty()) p->port_ = std::atoi(text.c_str());
    }
    if (p->port_ > 0) {
      HttpClient client(p->port_, 5, ca_file);
      if (client.Get("/v1/health").status != 0) return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "sluice serve did not answer /v1/health within " << ready_seconds << " s; stderr:\n"
                << p->Stderr();
  return nullptr;
}

ServeProcess::~ServeProcess() {
  if (running()) Kill9();
}

bool ServeProcess::running() {
  if (exited_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = status;
    return false;
  }
  return true;
}

void ServeProcess::Kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  Wait(30);
}

ProcessResult ServeProcess::Wait(int seconds) {
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (running()) {
    result.timed_out = true;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    status_ = status;
  }
  if (WIFSIGNALED(status_)) {
    result.signaled = true;
    result.term_signal = WTERMSIG(status_);
  } else if (WIFEXITED(status_)) {
    result.exit_code = WEXITSTATUS(status_);
  }
  result.err = Stderr();
  return result;
}

ProcessResult ServeProcess::Terminate(int seconds) {
  if (running()) ::kill(pid_, SIGTERM);
  return Wait(seconds);
}

std::string ServeProcess::Stderr() const { return ReadAll(stderr_path_); }

int64_t ServeProcess::PeakRssBytes() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

// ---- HttpClient -----------------------------------------------------------------------------

Json HttpResponse::json() const { return Json::parse(body, nullptr, /*allow_exceptions=*/false); }

struct HttpClient::Impl {
  httplib::Client client;
  Impl(int port, const std::string& ca_file)
      : client((ca_file.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(port)) {
    if (!ca_file.empty()) {
      client.set_ca_cert_path(ca_file.c_str());
      client.enable_server_certificate_verification(true);
    }
  }
};

HttpClient::HttpClient(int port, int timeout_seconds, const std::string& ca_file)
    : impl_(std::make_unique<Impl>(port, ca_file)) {
  impl_->client.set_keep_alive(true);
  impl_->client.set_connection_timeout(5, 0);
  impl_->client.set_read_timeout(timeout_seconds, 0);
  impl_->client.set_write_timeout(timeout_seconds, 0);
}

HttpClient::~HttpClient() = default;

namespace {

HttpResponse Convert(const httplib::Result& r) {
  HttpResponse out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  for (const auto& [k, v] : r->headers) out.headers[k] = v;
  return out;
}

}  // namespace

HttpResponse HttpClient::Get(const std::string& path, const std::map<std::string, std::string>& headers) {
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  return Convert(impl_->client.Get(path, h));
}

HttpResponse HttpClient::Post(const std::string& path, const std::string& body,
                              const std::map<std::string, std::string>& headers,
                              const std::string& content_type) {
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  return Convert(impl_->client.Post(path, h, body, content_type));
}

// ---- raw HTTP -------------------------------------------------------------------------------

std::string Header(const HttpResponse& r, const std::string& name) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const auto& [k, v] : r.headers) {
    if (lower(k) == lower(name)) return v;
  }
  return "";
}

std::string Describe(const HttpResponse& r) {
  std::string body = r.body.size() > 600 ? r.body.substr(0, 600) + "..." : r.body;
  return "HTTP " + std::to_string(r.status) + (r.status == 0 ? " (no answer)" : "") + " " + body;
}

RawConnection::RawConnection(int port, const std::string& source_ip) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ >= 0 && !source_ip.empty()) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_ip.c_str(), &from.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(const std::string& bytes) {
  size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

bool RawConnection::ClosedWithin(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  char buf[4096];
  while (fd_ >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return true;
}

HttpResponse RawConnection::Read(int seconds) {
  HttpResponse out;
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  size_t header_end = std::string::npos, need = std::string::npos;
  while (fd_ >= 0 && std::chrono::steady_clock::now() < deadline) {
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = buf.substr(0, header_end);
        std::vector<std::string> hl;
        for (size_t pos = 0; pos < head.size();) {
          size_t e = head.find("\r\n", pos);
          if (e == std::string::npos) e = head.size();
          hl.push_back(head.substr(pos, e - pos));
          pos = e + 2;
        }
        if (hl.empty() || hl[0].size() < 12) return out;
        out.status = std::atoi(hl[0].c_str() + 9);
        for (size_t i = 1; i < hl.size(); ++i) {
          size_t colon = hl[i].find(':');
          if (colon == std::string::npos) continue;
          std::string v = hl[i].substr(colon + 1);
          while (!v.empty() && v[0] == ' ') v.erase(0, 1);
          out.headers[hl[i].substr(0, colon)] = v;
        }
        need = header_end + 4 + static_cast<size_t>(std::atoll(Header(out, "Content-Length").c_str()));
      }
    }
    if (need != std::string::npos && buf.size() >= need) {
      out.body = buf.substr(header_end + 4, need - header_end - 4);
      return out;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  out.status = 0;
  return out;
}

void MakeStreamSource(const Project& project, const std::string& source_lines, const std::string& extra_top) {
  std::string spec = ReadFileOrDie(project.Path("sluice.yaml"));
  const std::string from = "    type: files\n    path: landing/orders/*.jsonl\n";
  size_t pos = spec.find(from);
  ASSERT_NE(pos, std::string::npos) << spec;
  spec.replace(pos, from.size(), source_lines);
  if (!extra_top.empty()) spec = extra_top + "\n" + spec;
  WriteFileOrDie(project.Path("sluice.yaml"), spec);
}

double MetricValue(const std::string& text, const std::string& name_and_labels) {
  size_t pos = 0;
  while ((pos = text.find(name_and_labels, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      size_t start = pos + name_and_labels.size();
      if (start < text.size() && text[start] == ' ') return std::atof(text.c_str() + start + 1);
    }
    pos += name_and_labels.size();
  }
  return -1;
}

std::vector<std::string> LandingBodies(const Project& p, size_t per_request) {
  auto jsonl = [](const std::string& rel) {
    return rel.size() > 6 && rel.substr(rel.size() - 6) == ".jsonl";
  };
  std::vector<std::string> files = FindFiles(p.Landing(), jsonl);
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  std::string body;
  size_t n = 0;
  for (const auto& f : files) {
    const std::string text = ReadFileOrDie(f.rfind('/', 0) == 0 ? f : p.Landing() + "/" + f);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      body += text.substr(pos, nl - pos) + "\n";
      pos = nl + 1;
      if (++n % per_request == 0) {
        out.push_back(std::move(body));
        body.clear();
      }
    }
  }
  if (!body.empty()) out.push_back(std::move(body));
  return out;
}

void MakeCertificate(const std::string& dir, const std::string& name) {
  ProcessOptions o;
  o.cwd = dir;
  o.timeout_seconds = 60;
  ProcessResult r =
      RunProcess("/usr/bin/openssl",
                 {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                  "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", name + ".key", "-out", name + ".pem"},
                 o);
  ASSERT_TRUE(r.ok()) << r.Describe();
}

// ---- PostReceiver --------------------------------------------------------------------------

struct PostReceiver::Impl {
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<std::string> accepted;
};

PostReceiver::PostReceiver(const std::string& path, int fail_first) : impl_(std::make_unique<Impl>()) {
  Impl* m = impl_.get();
  m->server.Post(path, [m, fail_first](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(m->mu);
    m->bodies.push_back(req.body);
    if (static_cast<int>(m->bodies.size()) <= fail_first) {
      res.status = 500;
      return;
    }
    m->accepted.push_back(req.body);
    res.status = 200;
  });
  port_ = m->server.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    ADD_FAILURE() << "the receiver could not listen on 127.0.0.1";
    return;
  }
  m->thread = std::thread([m] { m->server.listen_after_bind(); });
  // stop() before the listening loop runs would be lost, and the destructor would wait forever.
  for (int i = 0; i < 10000 && !m->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

PostReceiver::~PostReceiver() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::vector<std::string> PostReceiver::bodies() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->bodies;
}

std::vector<std::string> PostReceiver::accepted() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->accepted;
}

bool PostReceiver::WaitForAccepted(size_t n, int seconds) {
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    if (accepted().size() >= n) return true;
  }
  return false;
}

}  // namespace sluice::e2e
