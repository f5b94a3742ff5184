// A real JetStream broker for tests: `nats-server` run as a child process on 127.0.0.1 with a
// throw-away store, which a test can crash (SIGKILL) and restart on the same port and store; and
// helpers that create a stream, publish to it and read its state through the NATS C client.
//
// The server is configured as docs/JETSTREAM.md recommends for the installed version: file
// storage and, where the server supports it (>= 2.10), `sync_interval: always`. nats-server 2.9.x
// has no per-write fsync: it write()s every message to its block file before acknowledging it,
// so a SIGKILL of the server (what these tests do) loses nothing acknowledged; a power loss could.
//
// Failures (nats-server not installed, not ready within ~10 s, a JetStream error) are fatal gtest
// failures carrying the server's log; wrap calls in ASSERT_NO_FATAL_FAILURE, or ASSERT that
// Start() returned non-null, to stop the test there. Nothing here is safe for concurrent use.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace sluice::testing {
class TempDir;
}

namespace sluice::test {

// A real `nats-server -js` on 127.0.0.1 with a throw-away store directory, for tests.
class NatsServer {
 public:
  // Starts nats-server on a free 127.0.0.1 port (no monitoring port), JetStream on, store dir
  // `store_dir` (empty: <temp dir>/store, removed on destruction), using the durability settings
  // documented in docs/JETSTREAM.md; waits until it answers JetStream API requests (~10 s).
  // Config and log live in a fresh temp dir (kept if SLUICE_KEEP_TMP is set). On failure records
  // a fatal test failure with the server's log and returns nullptr. The server gets SIGKILL if
  // the thread that started it exits (PR_SET_PDEATHSIG), so none outlives a crashed test.
  static std::unique_ptr<NatsServer> Start(const std::string& store_dir = "");
  ~NatsServer();  // SIGTERM, wait up to 10 s, then SIGKILL; removes its temp dir
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  std::string url() const;  // "nats://127.0.0.1:<port>"
  void Kill();              // SIGKILL now (a crash) and reap it; keeps the store
  // Kill() if running, then starts again on the same port and store and waits until ready;
  // a fatal test failure (with the log) if it does not come up.
  void Restart();
  pid_t pid() const { return pid_; }  // -1 when not running
  const std::string& store_dir() const { return store_dir_; }
  const std::string& log_path() const { return log_path_; }
  // The last `max_bytes` of the server's log (stdout and stderr of every run), for messages.
  std::string LogTail(size_t max_bytes = 8000) const;

 private:
  NatsServer() = default;
  // Writes the config, spawns the server and waits until it is ready (learning the port on the
  // first start); false after recording a fatal test failure.
  bool SpawnAndWait();
  void WriteConfig(bool sync_always) const;

  std::unique_ptr<testing::TempDir> tmp_;
  std::string store_dir_, config_path_, log_path_;
  int port_ = -1;  // -1 until the first start has chosen one
  pid_t pid_ = -1;
};

// Creates (or keeps, if it exists with these subjects) a file-storage stream with one replica.
// A fatal test failure if it exists with other subjects or cannot be created.
void CreateStream(const std::string& url, const std::string& stream,
                  const std::vector<std::string>& subjects);

// Publishes each payload, in order, to `subject` through JetStream (async, at most 256 pending)
// and waits for every ack; a fatal test failure if any publish is not positively acknowledged.
void PublishAll(const std::string& url, const std::string& subject, const std::vector<std::string>& payloads);

// Deletes `stream` with all its messages and consumers (as an operator resetting it would); a
// fatal test failure if it cannot be deleted (a missing stream is not an error).
void DeleteStream(const std::string& url, const std::string& stream);

// The stream's last sequence number and message count ({0, 0} and a fatal failure on error).
struct StreamState {
  uint64_t last_seq = 0;
  uint64_t messages = 0;
  bool operator==(const StreamState&) const = default;
};
void PrintTo(const StreamState& state, std::ostream* os);  // "{last_seq: 10, messages: 10}"
StreamState GetStreamState(const std::string& url, const std::string& stream);

}  // namespace sluice::test
