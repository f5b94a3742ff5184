// Env: every file-system and clock access of sluice goes through here, so tests can fake time
// and inject I/O errors (cf. LevelDB's Env). Env::Default() is the real POSIX implementation and
// is safe for concurrent use; when SLUICE_FAILPOINTS arms a `powercut` action, or
// SLUICE_FAIL_MUTATION is set (common/failpoint.h), it is instead the process's
// FaultInjectionEnv (common/fault_env.h), which tracks what each sync made durable.
//
// Errors: IOError(path, strerror) unless a method says otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();

  virtual Result<std::string> ReadFile(const std::string& path);
  // Writes `data` to `path` directly (not atomic); use WriteFileAtomic for anything a reader sees.
  virtual Status WriteFile(const std::string& path, const std::string& data);
  // Writes to "<path>.tmp-<pid>", fsyncs it, renames over `path`, fsyncs the directory.
  virtual Status WriteFileAtomic(const std::string& path, const std::string& data);
  // Appends `data` to `path` (created when missing) with one write; not synced (SyncFile).
  virtual Status AppendFile(const std::string& path, const std::string& data);
  virtual Status SyncFile(const std::string& path);
  virtual Status SyncDir(const std::string& dir);
  // Makes everything written so far on the file system holding `path` durable (syncfs(2)):
  // one call instead of an fsync per file and directory when a step wrote many files.
  virtual Status SyncFileSystem(const std::string& path);
  // rename(2): atomic replacement of `to` (a file, an empty directory or a symlink).
  virtual Status Rename(const std::string& from, const std::string& to);
  // Creates `dir` and its missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& dir);
  // Removes `path` and everything below it (a symlink itself, never its target); OK if absent.
  virtual Status RemoveAll(const std::string& path);
  // rmdir(2): removes an empty directory; IOError if it is not empty or absent.
  virtual Status RemoveDir(const std::string& dir);
  // True if `path` names anything, a dangling symlink included.
  virtual bool Exists(const std::string& path);
  // Size of the regular file `path` in bytes (following symlinks).
  virtual Result<uint64_t> FileSize(const std::string& path);
  // Cuts (or extends with zeros) the regular file `path` to `size` bytes.
  virtual Status Truncate(const std::string& path, uint64_t size);
  // A hard link `to` of the existing file `from` (same inode: no copy); `to` must not exist.
  virtual Status LinkFile(const std::string& from, const std::string& to);
  // A symlink `link` whose content is `target` (taken as is, usually relative); `link` must not
  // exist.
  virtual Status Symlink(const std::string& target, const std::string& link);
  // The content of the symlink `link`; NotFound if nothing is there, IOError if it is no symlink.
  virtual Result<std::string> ReadSymlink(const std::string& link);
  // Names (not paths) of the entries directly in `dir`, sorted, without "." and ".."; empty if
  // `dir` does not exist.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir);
  // Regular files below `dir` (recursively), sorted; empty if `dir` does not exist.
  virtual Result<std::vector<std::string>> ListFilesRecursive(const std::string& dir);
  // Paths matching a glob such as "landing/orders/*.jsonl", sorted by name.
  virtual Result<std::vector<std::string>> Glob(const std::string& pattern);

  // Microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros();
  // A monotonic clock for durations.
  virtual int64_t MonotonicMicros();
};

// "2026-01-03T10:15:00.123456Z" for a UTC timestamp in microseconds.
std::string FormatTimestampMicros(int64_t micros);

}  // namespace sluice
