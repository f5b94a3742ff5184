// The end-to-end harness: runs the real `sluice` binary as a child process on throw-away
// projects, and reads what it leaves behind through the CLI and, independently, through an
// in-process DuckDB (the published Parquet files).
//
// Nothing here is shared between threads; each test builds its own projects.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sample/orders_generator.h"

namespace sluice::e2e {

using Json = nlohmann::json;

// ---- Child processes ------------------------------------------------------------------------

struct ProcessOptions {
  std::string cwd;                                       // empty: the test's own
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing) ours
  int timeout_seconds = 300;                             // then SIGKILL, timed_out = true
};

struct ProcessResult {
  int exit_code = -1;     // valid when !signaled && !timed_out
  bool signaled = false;  // died by a signal (term_signal)
  int term_signal = 0;
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
  int64_t peak_rss_bytes = 0;  // the child's peak resident set (getrusage ru_maxrss of it)

  bool ok() const { return !signaled && !timed_out && exit_code == 0; }
  // "exit 1 after 0.3 s; stderr: ..." for assertion messages.
  std::string Describe() const;
};

// Runs `binary args...` (no shell) and waits for it, capturing stdout and stderr.
// SLUICE_FAILPOINTS is never inherited from the test's environment; pass it in options.env.
ProcessResult RunProcess(const std::string& binary, const std::vector<std::string>& args,
                         const ProcessOptions& options);

// The binary under test (SLUICE_BINARY, set by CMake).
const std::string& SluiceBinary();

// ---- Files ----------------------------------------------------------------------------------

// A directory under /tmp, removed with everything in it on destruction unless SLUICE_KEEP_TMP
// is set in the environment (then its path is printed so it can be inspected).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sluice-e2e");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& data);
void CopyTree(const std::string& from, const std::string& to);
// Regular files below dir whose path (relative to dir) matches `pred`.
std::vector<std::string> FindFiles(const std::string& dir, bool (*pred)(const std::string&));
// Every path below `dir` (files, dirs, symlinks), relative to it, sorted.
std::vector<std::string> ListTree(const std::string& dir);

// Holds a POSIX write lock on `path` (as DuckDB does on a database it has open read-write) for
// the life of the object, in this test process.
class HeldLock {
 public:
  explicit HeldLock(const std::string& path);
  ~HeldLock();
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

// ---- Projects -------------------------------------------------------------------------------

// A project directory driven through the binary. Every command gets --project <dir> and runs
// with <dir> as its working directory.
class Project {
 public:
  explicit Project(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& rel) const { return dir_ + "/" + rel; }
  std::string Landing() const { return Path("landing/orders"); }
  std::string Lake() const { return Path("lake"); }

  // `sluice <command> <args...> --project <dir>`.
  ProcessResult Sluice(const std::string& command, const std::vector<std::string>& args = {},
                       const std::vector<std::pair<std::string, std::string>>& env = {}) const;
  // `sluice run --json [extra]`; expects success and returns the parsed summary (null and a
  // test failure otherwise).
  Json RunJson(const std::vector<std::string>& extra = {}) const;
  // `sluice query SQL --format json`; expects success and returns the array of rows.
  Json Query(const std::string& sql) const;
  // Rows of a query as strings ("NULL" for null), in the query's order; every value rendered
  // the same way whatever its JSON type, so that two result sets compare exactly.
  std::vector<std::vector<std::string>> Rows(const std::string& sql) const;
  // The single value of a one-row, one-column query, as a string.
  std::string Scalar(const std::string& sql) const;

 private:
  std::string dir_;
};

// Writes the example project into dir (WriteExampleProject) with the given generator options.
Project MakeExampleProject(const std::string& dir, const OrderGeneratorOptions& options);

// Content of every table a user can query, ordered, minus the columns that legitimately differ
// between two runs over the same input (ingestion/commit times, correlation ids):
// staging.orders, curated.orders, marts.daily_revenue, dlq.orders, meta.batches.
using Snapshot = std::map<std::string, std::vector<std::vector<std::string>>>;
Snapshot TakeSnapshot(const Project& project);
// EXPECT_EQ per table, reporting the first differing row.
void ExpectSameSnapshot(const Snapshot& expected, const Snapshot& actual, const std::string& what);

// ---- An independent reader ------------------------------------------------------------------

// An in-memory DuckDB in the test process, for reading published Parquet files as another
// tool would. Every value comes back as text (cast to VARCHAR), NULL as nullopt.
class DuckReader {
 public:
  DuckReader();
  ~DuckReader();
  DuckReader(const DuckReader&) = delete;
  DuckReader& operator=(const DuckReader&) = delete;

  struct Result {
    std::string error;  // empty when the query succeeded
    std::vector<std::string> names;
    std::vector<std::vector<std::optional<std::string>>> rows;
  };
  Result Query(const std::string& sql);
  // Runs a statement that returns no rows of interest (e.g. SET); its error, empty on success.
  std::string Execute(const std::string& sql);
  // Rows as strings ("NULL" for null); a test failure if the query fails.
  std::vector<std::vector<std::string>> Rows(const std::string& sql);

 private:
  struct Impl;
  Impl* impl_;
};

// SQL string literal.
std::string Quote(const std::string& s);

// ---- Assertions shared by the suites --------------------------------------------------------

// A JSON value as text: strings as they are, anything else as JSON.
std::string Str(const Json& v);

// curated.orders equals the generator's expected.json final_state: every key once, with its
// status, version, amount, tenant and UTC created_at (at most 5 differences reported).
void ExpectCuratedOrdersEqualFinalState(const Project& p, const Json& expected, const std::string& what);

// A failure the way users should see one: a non-zero exit (no signal, no timeout), stderr a
// single line "error: ..." and no sign of an escaped exception or abort.
void ExpectCleanFailure(const ProcessResult& r, const std::string& what);

// The published copies (curated.orders, marts.daily_revenue) read by `duck` from the Parquet
// files under <lake>/published/.../current equal the engine's tables, `current` is a symlink
// to a version directory, and that directory holds day=D/<file>.parquet files only (one per day,
// no directory per tenant).
void ExpectPublishedEqualsTables(DuckReader& duck, const Project& project, const std::string& what);

// Files below the lake that look like leftovers of an interrupted write: a path component
// containing "tmp" (case-insensitive) or ending in ".part". Empty directories do not count.
std::vector<std::string> TempLeftovers(const std::string& lake);

std::string Basename(const std::string& path);

// True when this build runs under AddressSanitizer: a process's RSS then holds ASan's shadow
// memory and quarantine, so bounds on it are checked in the normal build only.
constexpr bool kSanitizedBuild =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif

// Writes the rows of `select` to a Parquet file (parent directories created), with an in-memory
// DuckDB of the test's own.
void WriteParquet(const std::string& select, const std::string& path);

// sluice.yaml of a project with a Parquet source `orders` (landing/orders/*.parquet) and a JSON
// Lines source `events` (landing/events/*.jsonl), contracts/<source>.yaml, each curated into a
// table of its name keyed by order_id, versioned by seq.
extern const char* const kParquetAndJsonlSpec;

// Every failpoint on the path of `sluice run`, in commit-protocol order: AllFailpoints() without
// those of `sluice serve` (serve.*, serve_crash_test.cc) and `sluice streams reset` (streams.*,
// serve_nats_streams_test.cc), nor
// those of the PostgreSQL warehouse (warehouse.*, warehouse_test.cc), nor the lineage file's
// (lineage.*, lineage_events_test.cc).
std::vector<std::string> BatchRunFailpoints();

// Published copy of a table as rows: reads <lake>/published/<layer>/<table>/current/**/*.parquet
// with hive partitioning and selects `columns` (a SQL select list), ordered by all.
std::vector<std::vector<std::string>> ReadPublished(DuckReader& duck, const Project& project,
                                                    const std::string& layer, const std::string& table,
                                                    const std::string& columns);

}  // namespace sluice::e2e
