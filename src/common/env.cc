#include "common/env.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/failpoint.h"
#include "common/fault_env.h"

namespace sluice {

namespace fs = std::filesystem;

Env* Env::Default() {
  // Built once, never destroyed (threads may use it until the process exits). A test arming a
  // `powercut` failpoint, or SLUICE_FAIL_MUTATION, gets the fault-injecting Env over the
  // working directory, from start.
  static Env* const env = []() -> Env* {
    if (!PowerCutArmed() && InjectedMutationFailure() == 0) return new Env;
    auto* fault = new FaultInjectionEnv(fs::current_path().string());
    if (InjectedMutationFailure() > 0) {
      fault->FailNthMutation(InjectedMutationFailure());
      fault->set_failure_marker(fault->root() + "/" + kInjectedErrorMarker);
    }
    return fault;
  }();
  return env;
}

Result<std::string> Env::ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path, std::strerror(errno));
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::IOError(path, std::strerror(errno));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

namespace {

// open(2) with `flags`, then every byte of `data`; the file is closed either way.
Status WriteWithFlags(const std::string& path, const std::string& data, int flags) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0) return Status::IOError(path, std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::IOError(path, std::strerror(errno));
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::IOError(path, std::strerror(errno));
  return Status::OK();
}

}  // namespace

Status Env::WriteFile(const std::string& path, const std::string& data) {
  return WriteWithFlags(path, data, O_TRUNC);
}

Status Env::AppendFile(const std::string& path, const std::string& data) {
  return WriteWithFlags(path, data, O_APPEND);
}

Status Env::WriteFileAtomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  RETURN_IF_ERROR(WriteFile(tmp, data));
  RETURN_IF_ERROR(SyncFile(tmp));
  RETURN_IF_ERROR(Rename(tmp, path));
  return SyncDir(fs::path(path).parent_path().string());
}

Status Env::SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path, std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError(path, std::string("fsync: ") + std::strerror(err));
  return Status::OK();
}

Status Env::SyncDir(const std::string& dir) { return SyncFile(dir.empty() ? std::string(".") : dir); }

Status Env::SyncFileSystem(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path, std::strerror(errno));
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError(path, std::string("syncfs: ") + std::strerror(err));
  return Status::OK();
}

Status Env::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::IOError(from, std::string("rename to ") + to + ": " + std::strerror(errno));
  }
  return Status::OK();
}

Status Env::CreateDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError(dir, ec.message());
  return Status::OK();
}

Status Env::RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError(path, ec.message());
  return Status::OK();
}

Status Env::RemoveDir(const std::string& dir) {
  if (::rmdir(dir.c_str()) != 0) return Status::IOError(dir, std::strerror(errno));
  return Status::OK();
}

Result<uint64_t> Env::FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::IOError(path, std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

Status Env::Truncate(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return Status::IOError(path, std::string("truncate: ") + std::strerror(errno));
  }
  return Status::OK();
}

Status Env::LinkFile(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0) {
    return Status::IOError(to, std::string("hard link to ") + from + ": " + std::strerror(errno));
  }
  return Status::OK();
}

Status Env::Symlink(const std::string& target, const std::string& link) {
  if (::symlink(target.c_str(), link.c_str()) != 0) {
    return Status::IOError(link, std::string("symlink: ") + std::strerror(errno));
  }
  return Status::OK();
}

Result<std::string> Env::ReadSymlink(const std::string& link) {
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT) return Status::NotFound(link + ": no such symlink");
    return Status::IOError(link, std::string("readlink: ") + std::strerror(errno));
  }
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::vector<std::string>> Env::ListDir(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return out;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  if (ec) return Status::IOError(dir, ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

bool Env::Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

Result<std::vector<std::string>> Env::ListFilesRecursive(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(it->path().string());
  }
  if (ec) return Status::IOError(dir, ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> Env::Glob(const std::string& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) return Status::IOError(pattern, "glob failed");
  std::sort(out.begin(), out.end());
  return out;
}

int64_t Env::NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t Env::MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatTimestampMicros(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

}  // namespace sluice
