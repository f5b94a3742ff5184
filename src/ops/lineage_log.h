// lake/lineage/<date>.jsonl: the record of every OpenLineage event sluice emitted, one JSON
// object per line, in a file per UTC day of the event (its eventTime's date).
//
// Each Append is one write(2) of whole lines, then fsync of the file (and of the directory when
// the file is new), before it returns: an event a caller was told is written survives a crash.
// A crash during an Append can leave its last line torn (no trailing newline); the next Append
// to that file, in this process or a later one, first truncates the file back to its last
// complete line, so a reader only ever meets a torn line at the very end of a file, and sluice
// never writes after one. Safe for concurrent use (one mutex).
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/status.h"

namespace sluice {

class LineageLog {
 public:
  // Writes under `dir` (lake/lineage), through `env`.
  LineageLog(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  // Appends `lines` (each one JSON object, without newline) to the file of `event_us`'s day.
  // IOError naming the file when it cannot be written or synced.
  Status Append(int64_t event_us, const std::vector<std::string>& lines);

  // The file holding events of `event_us`'s day: "<dir>/2026-12-04.jsonl".
  std::string FileOf(int64_t event_us) const;

 private:
  Status RepairTail(const std::string& path);

  Env* env_;
  std::string dir_;
  std::mutex mu_;
  std::set<std::string> checked_;  // files whose tail was checked by this process
};

// Every event of the files under `dir` (the lineage directory), oldest file first, each line
// parsed; a torn last line is skipped. For `sluice trace` and tests.
Result<std::vector<std::string>> ReadLineageLines(Env* env, const std::string& dir);

}  // namespace sluice
