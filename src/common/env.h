// Env: every file-system and clock access of sluice goes through here, so tests can fake time
// and inject I/O errors (cf. LevelDB's Env). Env::Default() is the real POSIX implementation and
// is safe for concurrent use.
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
  virtual Status SyncFile(const std::string& path);
  virtual Status SyncDir(const std::string& dir);
  // Makes everything written so far on the file system holding `path` durable (syncfs(2)):
  // one call instead of an fsync per file and directory when a step wrote many files.
  virtual Status SyncFileSystem(const std::string& path);
  virtual Status Rename(const std::string& from, const std::string& to);
  virtual Status CreateDirs(const std::string& dir);
  virtual Status RemoveAll(const std::string& path);
  virtual bool Exists(const std::string& path);
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
