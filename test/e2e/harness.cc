#include "harness.h"

#include <duckdb.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "common/failpoint.h"
#include "sample/example_project.h"
#include "support/csv.h"

extern char** environ;

namespace sluice::e2e {

namespace fs = std::filesystem;

// ---- Child processes ------------------------------------------------------------------------

std::string ProcessResult::Describe() const {
  std::ostringstream s;
  if (timed_out) {
    s << "timed out";
  } else if (signaled) {
    s << "killed by signal " << term_signal << " (" << strsignal(term_signal) << ")";
  } else {
    s << "exit " << exit_code;
  }
  s << " after " << seconds << " s";
  auto tail = [](const std::string& text) {
    return text.size() > 2000 ? "..." + text.substr(text.size() - 2000) : text;
  };
  s << "\n  stderr: " << tail(err) << "\n  stdout: " << tail(out);
  return s.str();
}

const std::string& SluiceBinary() {
  static const std::string kBinary = SLUICE_BINARY;
  return kBinary;
}

ProcessResult RunProcess(const std::string& binary, const std::vector<std::string>& args,
                         const ProcessOptions& options) {
  ProcessResult result;
  // Everything the child needs is built before fork(): after it only async-signal-safe calls.
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::set<std::string> replaced = {"SLUICE_FAILPOINTS"};
  for (const auto& [k, v] : options.env) replaced.insert(k);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    if (replaced.count(kv.substr(0, kv.find('='))) == 0) env_s.push_back(kv);
  }
  for (const auto& [k, v] : options.env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return result;
  }
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  const auto deadline = start + std::chrono::seconds(options.timeout_seconds);
  auto ms_left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
        .count();
  };
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[1 << 16];
  while (open_fds > 0) {
    long long left = ms_left();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  struct rusage usage {};
  while (true) {
    pid_t w = ::wait4(pid, &status, WNOHANG, &usage);
    if (w == pid) {
      result.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // ru_maxrss is in KiB
      break;
    }
    if (w < 0 && errno != EINTR) break;
    if (ms_left() <= 0 && !result.timed_out) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    ::usleep(2000);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.term_signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

// ---- Files ----------------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("SLUICE_KEEP_TMP") != nullptr) {
    std::cerr << "[harness] kept " << path_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFileOrDie(const std::string& path, const std::string& data) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

void CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  EXPECT_FALSE(ec) << "copy " << from << " -> " << to << ": " << ec.message();
}

std::vector<std::string> FindFiles(const std::string& dir, bool (*pred)(const std::string&)) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::string rel = fs::relative(it->path(), dir, ec).string();
    if (it->is_regular_file(ec) && pred(rel)) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ListTree(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    out.push_back(fs::relative(it->path(), dir, ec).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- Projects -------------------------------------------------------------------------------

ProcessResult Project::Sluice(const std::string& command, const std::vector<std::string>& args,
                              const std::vector<std::pair<std::string, std::string>>& env) const {
  std::vector<std::string> all = {command};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back("--project");
  all.push_back(dir_);
  ProcessOptions options;
  options.cwd = dir_;
  options.env = env;
  return RunProcess(SluiceBinary(), all, options);
}

Json Project::RunJson(const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {"--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult r = Sluice("run", args);
  if (!r.ok()) {
    ADD_FAILURE() << "sluice run failed: " << r.Describe();
    return nullptr;
  }
  try {
    return Json::parse(r.out);
  } catch (const Json::exception& e) {
    ADD_FAILURE() << "sluice run --json printed no JSON (" << e.what() << "): " << r.out;
    return nullptr;
  }
}

Json Project::Query(const std::string& sql) const {
  ProcessResult r = Sluice("query", {sql, "--format", "json"});
  if (!r.ok()) {
    ADD_FAILURE() << "sluice query failed: " << sql << "\n" << r.Describe();
    return Json::array();
  }
  try {
    return Json::parse(r.out);
  } catch (const Json::exception& e) {
    ADD_FAILURE() << "sluice query --format json printed no JSON (" << e.what() << "): " << r.out;
    return Json::array();
  }
}

namespace {

// Query output as text rows, NULL as "NULL" (as `sluice query --format csv` leaves it empty).
std::vector<std::vector<std::string>> ParseCsv(const std::string& data) {
  std::vector<std::vector<std::string>> out;
  for (auto& rec : testing::ParseCsv(data)) {
    std::vector<std::string> row;
    for (auto& f : rec) row.push_back(f ? std::move(*f) : "NULL");
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> Project::Rows(const std::string& sql) const {
  // CSV keeps the query's column order and DuckDB's own rendering of each value (exact
  // decimals, timestamps), unlike JSON objects.
  ProcessResult r = Sluice("query", {sql, "--format", "csv"});
  if (!r.ok()) {
    ADD_FAILURE() << "sluice query failed: " << sql << "\n" << r.Describe();
    return {};
  }
  auto records = ParseCsv(r.out);
  if (!records.empty()) records.erase(records.begin());  // header
  return records;
}

std::string Project::Scalar(const std::string& sql) const {
  auto rows = Rows(sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    ADD_FAILURE() << "expected one value from: " << sql << " (got " << rows.size() << " rows)";
    return "";
  }
  return rows[0][0];
}

Project MakeExampleProject(const std::string& dir, const OrderGeneratorOptions& options) {
  Status s = WriteExampleProject(dir, options);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return Project(dir);
}

Snapshot TakeSnapshot(const Project& project) {
  // Columns that differ between two correct runs over the same input: ingestion and commit
  // times, durations (*_ms), correlation ids, and the landing file's absolute path (compared
  // by its name instead).
  const std::string kKeep =
      "lambda c: c NOT IN ('_ingested_at', '_correlation_id', 'ingested_at', 'correlation_id', "
      "'started_at', 'committed_at', 'file') AND NOT suffix(c, '_ms')";
  Snapshot snap;
  for (const char* table :
       {"staging.orders", "curated.orders", "marts.daily_revenue", "dlq.orders", "meta.batches"}) {
    std::string extra =
        std::string(table) == "meta.batches" ? ", regexp_replace(file, '^.*/', '') AS file_name" : "";
    std::string sql = "SELECT COLUMNS(" + kKeep + ")::VARCHAR" + extra + " FROM " + table + " ORDER BY ALL";
    ProcessResult r = project.Sluice("query", {sql, "--format", "csv"});
    if (!r.ok() && r.err.find("does not exist") != std::string::npos) {
      // A table not created yet (e.g. curated before the first run) is part of the state too.
      snap[table] = {{"<table does not exist>"}};
      continue;
    }
    if (!r.ok()) {
      ADD_FAILURE() << "snapshot of " << table << " failed: " << r.Describe();
      snap[table] = {{"<query failed>"}};
      continue;
    }
    auto records = ParseCsv(r.out);
    if (!records.empty()) records.erase(records.begin());
    snap[table] = std::move(records);
  }
  return snap;
}

namespace {
std::string RowText(const std::vector<std::string>& row) {
  std::string s;
  for (const auto& v : row) s += (s.empty() ? "" : " | ") + v.substr(0, 200);
  return s;
}
}  // namespace

void ExpectSameSnapshot(const Snapshot& expected, const Snapshot& actual, const std::string& what) {
  for (const auto& [table, rows] : expected) {
    auto it = actual.find(table);
    if (it == actual.end()) {
      ADD_FAILURE() << what << ": " << table << " missing";
      continue;
    }
    const auto& got = it->second;
    if (rows == got) continue;
    size_t i = 0;
    while (i < rows.size() && i < got.size() && rows[i] == got[i]) ++i;
    ADD_FAILURE() << what << ": " << table << " differs (" << rows.size() << " rows expected, " << got.size()
                  << " found); first difference at row " << i
                  << "\n  expected: " << (i < rows.size() ? RowText(rows[i]) : "<none>")
                  << "\n  actual:   " << (i < got.size() ? RowText(got[i]) : "<none>");
  }
}

// ---- An independent reader ------------------------------------------------------------------

struct DuckReader::Impl {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
};

DuckReader::DuckReader() : impl_(new Impl) {
  if (duckdb_open(nullptr, &impl_->db) != DuckDBSuccess ||
      duckdb_connect(impl_->db, &impl_->con) != DuckDBSuccess) {
    ADD_FAILURE() << "cannot open an in-memory DuckDB";
  }
}

DuckReader::~DuckReader() {
  if (impl_->con != nullptr) duckdb_disconnect(&impl_->con);
  if (impl_->db != nullptr) duckdb_close(&impl_->db);
  delete impl_;
}

DuckReader::Result DuckReader::Query(const std::string& sql) {
  Result out;
  duckdb_result res;
  // Everything as VARCHAR, read through data chunks (docs/DUCKDB_HAZARDS.md: the deprecated
  // value accessors crash on some types).
  std::string wrapped = "SELECT COLUMNS(*)::VARCHAR FROM (" + sql + "\n)";
  if (duckdb_query(impl_->con, wrapped.c_str(), &res) != DuckDBSuccess) {
    const char* e = duckdb_result_error(&res);
    out.error = e != nullptr ? e : "unknown error";
    duckdb_destroy_result(&res);
    return out;
  }
  idx_t cols = duckdb_column_count(&res);
  for (idx_t c = 0; c < cols; ++c) out.names.emplace_back(duckdb_column_name(&res, c));
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    if (chunk == nullptr) break;
    idx_t n = duckdb_data_chunk_get_size(chunk);
    std::vector<duckdb_string_t*> data(cols);
    std::vector<uint64_t*> validity(cols);
    for (idx_t c = 0; c < cols; ++c) {
      duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
      data[c] = static_cast<duckdb_string_t*>(duckdb_vector_get_data(v));
      validity[c] = duckdb_vector_get_validity(v);
    }
    for (idx_t r = 0; r < n; ++r) {
      std::vector<std::optional<std::string>> row(cols);
      for (idx_t c = 0; c < cols; ++c) {
        if (validity[c] != nullptr && !duckdb_validity_row_is_valid(validity[c], r)) continue;
        duckdb_string_t* s = &data[c][r];
        row[c] = std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
      }
      out.rows.push_back(std::move(row));
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(&res);
  return out;
}

std::string DuckReader::Execute(const std::string& sql) {
  duckdb_result res;
  std::string error;
  if (duckdb_query(impl_->con, sql.c_str(), &res) != DuckDBSuccess) {
    const char* e = duckdb_result_error(&res);
    error = e != nullptr ? e : "unknown error";
  }
  duckdb_destroy_result(&res);
  return error;
}

std::vector<std::vector<std::string>> DuckReader::Rows(const std::string& sql) {
  Result r = Query(sql);
  if (!r.error.empty()) {
    ADD_FAILURE() << "DuckDB (test reader): " << r.error << "\n  in: " << sql;
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (auto& row : r.rows) {
    std::vector<std::string> out;
    for (auto& v : row) out.push_back(v.value_or("NULL"));
    rows.push_back(std::move(out));
  }
  return rows;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::vector<std::vector<std::string>> ReadPublished(DuckReader& duck, const Project& project,
                                                    const std::string& layer, const std::string& table,
                                                    const std::string& columns) {
  std::string glob = project.Lake() + "/published/" + layer + "/" + table + "/current/**/*.parquet";
  return duck.Rows("SELECT " + columns + " FROM read_parquet(" + Quote(glob) +
                   ", hive_partitioning = true) ORDER BY ALL");
}

// ---- Assertions shared by the suites --------------------------------------------------------

void ExpectCleanFailure(const ProcessResult& r, const std::string& what) {
  EXPECT_FALSE(r.signaled) << what << ": " << r.Describe();
  EXPECT_FALSE(r.timed_out) << what << ": " << r.Describe();
  EXPECT_NE(r.exit_code, 0) << what << ": " << r.Describe();
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << what << ": stderr should start with 'error: ': " << r.err;
  std::string trimmed = r.err;
  while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
  EXPECT_EQ(trimmed.find('\n'), std::string::npos) << what << ": stderr should be one line: " << r.err;
  for (const char* bad : {"terminate called", "Aborted", "what():", "Segmentation", "core dumped",
                          "Assertion", "INTERNAL Error", "internal error"}) {
    EXPECT_EQ(r.err.find(bad), std::string::npos) << what << ": stderr has '" << bad << "': " << r.err;
  }
}

namespace {

// The select list for a published table, adapting to whether the hive partition column
// (e.g. tenant) or the table's own column (tenant_id) is in the files.
std::string PublishedColumns(DuckReader& duck, const std::string& glob,
                             const std::vector<std::pair<std::string, std::string>>& wanted) {
  DuckReader::Result d =
      duck.Query("DESCRIBE SELECT * FROM read_parquet(" + Quote(glob) + ", hive_partitioning = true)");
  std::set<std::string> have;
  for (auto& row : d.rows) {
    if (!row.empty() && row[0]) have.insert(*row[0]);
  }
  std::string list;
  for (const auto& [column, fallback] : wanted) {
    std::string expr = have.count(column) || fallback.empty() ? column : fallback;
    list += (list.empty() ? "" : ", ") + ("CAST(" + expr + " AS VARCHAR) AS " + column);
  }
  return list;
}

}  // namespace

void ExpectPublishedEqualsTables(DuckReader& duck, const Project& project, const std::string& what) {
  struct Table {
    std::string layer, name, engine_table;
    std::vector<std::pair<std::string, std::string>> columns;  // column, fallback expression
  };
  const std::vector<Table> tables = {
      {"curated",
       "orders",
       "curated.orders",
       {{"order_id", ""},
        {"tenant_id", "tenant"},
        {"status", ""},
        {"amount", ""},
        {"created_at", ""},
        {"seq", ""}}},
      {"marts",
       "daily_revenue",
       "marts.daily_revenue",
       {{"day", ""}, {"tenant_id", "tenant"}, {"orders", ""}, {"revenue", ""}}},
  };
  for (const Table& t : tables) {
    std::string base = project.Lake() + "/published/" + t.layer + "/" + t.name;
    std::error_code ec;
    EXPECT_TRUE(fs::is_symlink(base + "/current", ec)) << what << ": " << base << "/current is not a symlink";
    // One file per day (or one file): no directory per tenant below the day.
    for (const auto& e : fs::recursive_directory_iterator(base + "/current/", ec)) {
      if (!e.is_regular_file()) continue;
      const fs::path rel = e.path().lexically_relative(base + "/current");
      const std::string dir = rel.parent_path().string();
      EXPECT_TRUE(rel.extension() == ".parquet" &&
                  (dir.empty() || (dir.find('/') == std::string::npos && dir.rfind("day=", 0) == 0)))
          << what << ": published " << t.layer << "/" << t.name << " has " << rel.string()
          << ", expected day=D/<file>.parquet";
    }
    std::string glob = base + "/current/**/*.parquet";
    std::string cols = PublishedColumns(duck, glob, t.columns);
    auto published = duck.Rows("SELECT " + cols + " FROM read_parquet(" + Quote(glob) +
                               ", hive_partitioning = true) ORDER BY ALL");
    std::string engine_cols;
    for (const auto& [column, fallback] : t.columns) {
      engine_cols += (engine_cols.empty() ? "" : ", ") + ("CAST(" + column + " AS VARCHAR) AS " + column);
    }
    auto engine = project.Rows("SELECT " + engine_cols + " FROM " + t.engine_table + " ORDER BY ALL");
    EXPECT_FALSE(engine.empty()) << what << ": " << t.engine_table << " is empty";
    EXPECT_EQ(published.size(), engine.size())
        << what << ": published " << t.layer << "/" << t.name << " row count";
    EXPECT_TRUE(published == engine) << what << ": published " << t.layer << "/" << t.name << " differs from "
                                     << t.engine_table;
  }
}

const char* const kParquetAndJsonlSpec = R"(name: shop
lake: lake
sources:
  orders:
    type: files
    path: landing/orders/*.parquet
    format: parquet
    contract: contracts/orders.yaml
  events:
    type: files
    path: landing/events/*.jsonl
    format: jsonl
    contract: contracts/events.yaml
tables:
  orders: {from: orders, key: [order_id], version: seq}
  events: {from: events, key: [order_id], version: seq}
)";

void WriteParquet(const std::string& select, const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  duckdb_database db;
  duckdb_connection con;
  ASSERT_EQ(duckdb_open(nullptr, &db), DuckDBSuccess);
  ASSERT_EQ(duckdb_connect(db, &con), DuckDBSuccess);
  duckdb_result res;
  const std::string sql = "COPY (" + select + ") TO " + Quote(path) + " (FORMAT parquet)";
  const bool ok = duckdb_query(con, sql.c_str(), &res) == DuckDBSuccess;
  EXPECT_TRUE(ok) << duckdb_result_error(&res);
  duckdb_destroy_result(&res);
  duckdb_disconnect(&con);
  duckdb_close(&db);
}

// Also without `sluice restore`'s (restore.*, restore_test.cc).
std::vector<std::string> BatchRunFailpoints() {
  std::vector<std::string> out;
  for (const std::string& fp : AllFailpoints()) {
    if (fp.rfind("serve.", 0) != 0 && fp.rfind("streams.", 0) != 0 && fp.rfind("warehouse.", 0) != 0 &&
        fp.rfind("lineage.", 0) != 0 && fp.rfind("vacuum.", 0) != 0 && fp.rfind("restore.", 0) != 0) {
      out.push_back(fp);
    }
  }
  return out;
}

std::vector<std::string> TempLeftovers(const std::string& lake) {
  std::vector<std::string> out;
  for (const std::string& rel : ListTree(lake)) {
    // An empty working directory (e.g. staging/<source>/_tmp) is not a leftover; files in it are.
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(lake + "/" + rel, ec))) continue;
    for (const auto& part : fs::path(rel)) {
      std::string p = part.string();
      std::string lower;
      for (char c : p) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool part_file = lower.size() > 5 && lower.compare(lower.size() - 5, 5, ".part") == 0;
      if (lower.find("tmp") != std::string::npos || part_file) {
        out.push_back(rel);
        break;
      }
    }
  }
  return out;
}

std::string Basename(const std::string& path) { return fs::path(path).filename().string(); }

std::string Str(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void ExpectCuratedOrdersEqualFinalState(const Project& p, const Json& expected, const std::string& what) {
  const Json& final_state = expected["final_state"];
  auto rows = p.Rows(
      "SELECT order_id, status, CAST(seq AS VARCHAR), CAST(amount AS VARCHAR), "
      "tenant_id, CAST(created_at AS VARCHAR) FROM curated.orders ORDER BY order_id");
  EXPECT_EQ(rows.size(), final_state.size()) << what << ": curated.orders row count";
  int mismatches = 0;
  std::set<std::string> seen;
  for (const auto& r : rows) {
    if (r.size() != 6 || !final_state.contains(r[0])) {
      if (++mismatches <= 5) ADD_FAILURE() << what << ": unexpected row " << ::testing::PrintToString(r);
      continue;
    }
    seen.insert(r[0]);
    const Json& f = final_state[r[0]];
    std::vector<std::string> want = {
        r[0], Str(f["status"]), Str(f["seq"]), Str(f["amount"]), Str(f["tenant_id"]), Str(f["created_at"])};
    if (r != want && ++mismatches <= 5) {
      ADD_FAILURE() << what << ": final state of " << r[0] << ": got " << ::testing::PrintToString(r)
                    << ", want " << ::testing::PrintToString(want);
    }
  }
  for (auto& [key, v] : final_state.items()) {
    if (!seen.count(key) && ++mismatches <= 5) ADD_FAILURE() << what << ": key " << key << " missing";
  }
  EXPECT_EQ(mismatches, 0) << what << ": curated.orders differs from expected.json final_state";
}

HeldLock::HeldLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR)) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  ok_ = fd_ >= 0 && ::fcntl(fd_, F_SETLK, &lock) == 0;
}

HeldLock::~HeldLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace sluice::e2e
