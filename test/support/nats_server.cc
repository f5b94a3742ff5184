#include "support/nats_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <ostream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/test_project.h"

namespace sluice::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr int64_t kPublishMaxPending = 256;
constexpr int64_t kPublishAckWaitMs = 30000;

// Records a fatal failure from any function (FAIL() itself only compiles in void functions), so
// that ASSERT_NO_FATAL_FAILURE around a helper stops the calling test.
void Fatal(const std::string& message) { FAIL() << message; }

// The nats-server binary: PATH first, then the sbin directories Debian installs it in (often not
// on a non-root PATH). Empty when it is not installed.
std::string FindNatsServer() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string dir; std::getline(ss, dir, ':');) {
      if (!dir.empty()) dirs.push_back(dir);
    }
  }
  for (const char* dir : {"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"}) dirs.push_back(dir);
  for (const auto& dir : dirs) {
    std::string candidate = dir + "/nats-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// fork/exec of `binary args...` (no shell) with stdin from /dev/null and stdout+stderr appended
// to `out_fd`. The child gets SIGKILL if the test process dies, so no server outlives a crashed
// test. Returns the pid, or -1 with `error` set.
pid_t Spawn(const std::string& binary, const std::vector<std::string>& args, int out_fd, std::string* error) {
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<std::string> argv_store = {binary};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    *error = std::string("open /dev/null: ") + std::strerror(errno);
    return -1;
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    ::execv(argv[0], argv.data());
    static const char kMsg[] = "exec nats-server failed\n";
    (void)!::write(2, kMsg, sizeof(kMsg) - 1);
    ::_exit(127);
  }
  int saved = errno;
  ::close(null_fd);
  if (pid < 0) *error = std::string("fork: ") + std::strerror(saved);
  return pid;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Reaps `pid`, waiting at most `timeout`; true when it has exited.
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// `nats-server --version` ("nats-server: v2.9.10") as {major, minor}; {0, 0} if unreadable.
std::pair<int, int> ServerVersion(const std::string& binary, std::string* raw) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {0, 0};
  std::string error;
  pid_t pid = Spawn(binary, {"--version"}, fds[1], &error);
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; pid > 0 && (n = ::read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (pid > 0 && !WaitExit(pid, std::chrono::seconds(10), &status)) {
    ::kill(pid, SIGKILL);
    WaitExit(pid, std::chrono::seconds(10), &status);
  }
  *raw = out;
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(v(\d+)\.(\d+)\.)"))) return {0, 0};
  return {std::stoi(m[1]), std::stoi(m[2])};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The client port from the ports file nats-server writes once it listens
// (<dir>/<executable>_<pid>.ports: {"nats":["nats://127.0.0.1:43465"]}); -1 if not there yet.
int ReadPortsFile(const std::string& dir, pid_t pid) {
  const std::string suffix = "_" + std::to_string(pid) + ".ports";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    std::smatch m;
    std::string text = ReadAll(entry.path().string());
    if (std::regex_search(text, m, std::regex(R"(nats://127\.0\.0\.1:(\d+))"))) {
      return std::stoi(m[1]);
    }
  }
  return -1;
}

std::string NatsError(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail != nullptr && *detail != '\0') {
    text += ": " + std::string(detail);
  }
  return text;
}

// A connection with a JetStream context; no reconnects, so a dead server fails fast.
struct Client {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  // Empty on success, else what failed.
  std::string Connect(const std::string& url, int64_t timeout_ms, jsOptions* jo = nullptr) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, timeout_ms);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return "connect to " + url + ": " + NatsError(s);
    s = natsConnection_JetStream(&js, nc, jo);
    if (s != NATS_OK) return "JetStream context: " + NatsError(s);
    return "";
  }
};

// Empty when the server at `url` answers a JetStream API request, else why not.
std::string JetStreamReady(const std::string& url) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 1000;
  Client c;
  if (std::string err = c.Connect(url, 500, &jo); !err.empty()) return err;
  jsAccountInfo* ai = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetAccountInfo(&ai, c.js, nullptr, &code);
  jsAccountInfo_Destroy(ai);
  return s == NATS_OK ? "" : "JetStream account info: " + NatsError(s, code);
}

}  // namespace

// ---- NatsServer -------------------------------------------------------------------------------

std::unique_ptr<NatsServer> NatsServer::Start(const std::string& store_dir) {
  std::unique_ptr<NatsServer> server(new NatsServer());
  server->tmp_ = std::make_unique<testing::TempDir>("sluice-nats");
  const std::string& tmp = server->tmp_->path();
  server->store_dir_ = store_dir.empty() ? tmp + "/store" : store_dir;
  server->config_path_ = tmp + "/nats-server.conf";
  server->log_path_ = tmp + "/nats-server.log";
  if (!server->SpawnAndWait()) return nullptr;
  return server;
}

NatsServer::~NatsServer() {
  if (pid_ > 0) {
    int status = 0;
    ::kill(pid_, SIGTERM);
    if (!WaitExit(pid_, kStopTimeout, &status)) {
      ::kill(pid_, SIGKILL);
      WaitExit(pid_, kStopTimeout, &status);
    }
    pid_ = -1;
  }
  tmp_.reset();
}

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

void NatsServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  WaitExit(pid_, kStopTimeout, &status);
  pid_ = -1;
}

void NatsServer::Restart() {
  Kill();
  std::ofstream(log_path_, std::ios::app) << "---- [test] restart on port " << port_ << " ----\n";
  SpawnAndWait();
}

std::string NatsServer::LogTail(size_t max_bytes) const {
  std::string log = ReadAll(log_path_);
  if (log.size() > max_bytes) log = "...\n" + log.substr(log.size() - max_bytes);
  return log;
}

void NatsServer::WriteConfig(bool sync_always) const {
  std::ofstream out(config_path_, std::ios::trunc);
  out << "# A nats-server for one sluice test (test/support/nats_server.cc); see "
         "docs/JETSTREAM.md.\n"
      << "listen: \"127.0.0.1:" << port_ << "\"\n"  // -1: a free port, reported in the ports file
      << "ports_file_dir: \"" << tmp_->path() << "\"\n"
      << "jetstream {\n"
      << "  store_dir: \"" << store_dir_ << "\"\n";
  if (sync_always) out << "  sync_interval: always\n";  // fsync before every ack (>= 2.10)
  out << "}\n";
}

bool NatsServer::SpawnAndWait() {
  static const std::string binary = FindNatsServer();
  if (binary.empty()) {
    Fatal(
        "nats-server is not installed (not on PATH nor in /usr/sbin, /usr/local/sbin, /sbin, "
        "/usr/bin): "
        "the JetStream tests need a real server; install the Debian package nats-server");
    return false;
  }
  // Per-write fsync exists from 2.10 on; older servers reject the option as an unknown field.
  static std::string version_text;
  static const std::pair<int, int> version = ServerVersion(binary, &version_text);
  if (version.first == 0) {
    Fatal("cannot read the version of " + binary + ": '" + version_text + "'");
    return false;
  }
  WriteConfig(version > std::pair<int, int>{2, 9});

  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    Fatal("open " + log_path_ + ": " + std::strerror(errno));
    return false;
  }
  std::string error;
  pid_ = Spawn(binary, {"-c", config_path_}, log_fd, &error);
  ::close(log_fd);
  if (pid_ < 0) {
    Fatal("cannot start " + binary + ": " + error);
    return false;
  }

  std::string last_error = "no ports file yet";
  const auto deadline = Clock::now() + kReadyTimeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      Fatal(binary + " exited (" + DescribeWaitStatus(status) + ") before it was ready; its log:\n" +
            LogTail());
      return false;
    }
    if (port_ < 0) port_ = ReadPortsFile(tmp_->path(), pid_);
    if (port_ > 0) {
      last_error = JetStreamReady(url());
      if (last_error.empty()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  Fatal(binary + " did not accept JetStream requests within 10 s (last: " + last_error + "); its log:\n" +
        LogTail());
  return false;
}

// ---- Stream helpers ---------------------------------------------------------------------------

void CreateStream(const std::string& url, const std::string& stream,
                  const std::vector<std::string>& subjects) {
  Client c;
  if (std::string err = c.Connect(url, 2000); !err.empty()) return Fatal(err);

  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, c.js, stream.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    std::vector<std::string> have(si->Config->Subjects, si->Config->Subjects + si->Config->SubjectsLen);
    jsStreamInfo_Destroy(si);
    std::vector<std::string> want = subjects;
    std::sort(have.begin(), have.end());
    std::sort(want.begin(), want.end());
    if (have != want) Fatal("stream " + stream + " exists with other subjects");
    return;
  }
  if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
    return Fatal("stream info " + stream + ": " + NatsError(s, code));
  }

  std::vector<const char*> subject_ptrs;
  for (const auto& subject : subjects) subject_ptrs.push_back(subject.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  cfg.Subjects = subject_ptrs.data();
  cfg.SubjectsLen = static_cast<int>(subject_ptrs.size());
  cfg.Storage = js_FileStorage;
  cfg.Replicas = 1;
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&si, c.js, &cfg, nullptr, &code);
  jsStreamInfo_Destroy(si);
  if (s != NATS_OK) Fatal("add stream " + stream + ": " + NatsError(s, code));
}

namespace {

// Outcome of the acks of one PublishAll, filled by the client's delivery thread.
struct Acks {
  std::mutex mu;
  size_t ok = 0, failed = 0;
  std::string first_error;
};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* acks = static_cast<Acks*>(closure);
  {
    std::lock_guard<std::mutex> lock(acks->mu);
    if (pa != nullptr && pae == nullptr) {
      ++acks->ok;
    } else {
      if (acks->failed++ == 0) {
        acks->first_error = pae == nullptr ? "no ack"
                                           : (pae->ErrText != nullptr ? std::string(pae->ErrText)
                                                                      : NatsError(pae->Err, pae->ErrCode));
      }
    }
  }
  natsMsg_Destroy(msg);  // the ack handler owns the message
}

}  // namespace

void PublishAll(const std::string& url, const std::string& subject,
                const std::vector<std::string>& payloads) {
  Acks acks;  // outlives the client, whose thread calls OnAck
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = kPublishMaxPending;
  jo.PublishAsync.AckHandler = OnAck;
  jo.PublishAsync.AckHandlerClosure = &acks;
  jo.PublishAsync.StallWait = kPublishAckWaitMs;  // a full window waits for acks, not 200 ms
  Client c;
  if (std::string err = c.Connect(url, 2000, &jo); !err.empty()) return Fatal(err);

  std::string error;
  for (size_t i = 0; i < payloads.size() && error.empty(); ++i) {
    const std::string& p = payloads[i];
    natsStatus s = js_PublishAsync(c.js, subject.c_str(), p.data(), static_cast<int>(p.size()), nullptr);
    if (s != NATS_OK) error = "publish #" + std::to_string(i) + ": " + NatsError(s);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = kPublishAckWaitMs;
  natsStatus s = js_PublishAsyncComplete(c.js, &po);
  if (s != NATS_OK && error.empty()) error = "waiting for acks: " + NatsError(s);
  // Take back whatever is still unacknowledged so that no late ack reaches `acks`.
  natsMsgList pending{};
  if (js_PublishAsyncGetPendingList(&pending, c.js) == NATS_OK) natsMsgList_Destroy(&pending);

  std::lock_guard<std::mutex> lock(acks.mu);
  if (error.empty() && acks.failed > 0) {
    error = std::to_string(acks.failed) + " publishes failed, first: " + acks.first_error;
  }
  if (error.empty() && acks.ok != payloads.size()) {
    error = std::to_string(acks.ok) + " of " + std::to_string(payloads.size()) + " acknowledged";
  }
  if (!error.empty()) Fatal("PublishAll to " + subject + " at " + url + ": " + error);
}

void DeleteStream(const std::string& url, const std::string& stream) {
  Client c;
  if (std::string err = c.Connect(url, 2000); !err.empty()) return Fatal(err);
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(c.js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
    Fatal("delete stream " + stream + ": " + NatsError(s, code));
  }
}

StreamState GetStreamState(const std::string& url, const std::string& stream) {
  Client c;
  if (std::string err = c.Connect(url, 2000); !err.empty()) {
    Fatal(err);
    return {};
  }
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, c.js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    Fatal("stream info " + stream + ": " + NatsError(s, code));
    return {};
  }
  StreamState state{si->State.LastSeq, si->State.Msgs};
  jsStreamInfo_Destroy(si);
  return state;
}

void PrintTo(const StreamState& state, std::ostream* os) {
  *os << "{last_seq: " << state.last_seq << ", messages: " << state.messages << "}";
}

}  // namespace sluice::test
