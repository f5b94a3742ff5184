#include "serve_harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
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
                                                  int ready_seconds) {
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
      HttpClient client(p->port_, 5);
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
  explicit Impl(int port) : client("127.0.0.1", port) {}
};

HttpClient::HttpClient(int port, int timeout_seconds) : impl_(std::make_unique<Impl>(port)) {
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

HttpResponse HttpClient::Get(const std::string& path) { return Convert(impl_->client.Get(path)); }

HttpResponse HttpClient::Post(const std::string& path, const std::string& body,
                              const std::map<std::string, std::string>& headers,
                              const std::string& content_type) {
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  return Convert(impl_->client.Post(path, h, body, content_type));
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

}  // namespace sluice::e2e
