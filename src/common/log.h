// Log lines of the long-running commands (`sluice serve`, `sluice run`) on stderr, as text or as
// structured JSON (`--log-format json`, one object per line), so a log pipeline can follow a
// batch by its correlation id.
//
//   text: 2026-12-04T10:15:00Z sluice serve: <msg>
//   json: {"ts":"2026-12-04T10:15:00.123456Z","level":"info","component":"sluice serve",
//          "msg":"...","correlation_id":"...","batch_id":"...","source":"...","table":"..."}
// A field of LogFields that is empty is left out of the JSON object (and never printed as text).
// The format is process-wide, set once by main before any thread starts; LogLine is safe from
// any thread (one write(2) per line, so lines of threads never interleave).
#pragma once

#include <string>

#include "common/env.h"

namespace sluice {

enum class LogFormat { kText, kJson };
enum class LogLevel { kInfo, kWarning, kError };

// What a line is about, where known.
struct LogFields {
  std::string correlation_id;
  std::string batch_id;
  std::string source;
  std::string table;
};

void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();

// Sets *format from "text" or "json"; false for anything else.
bool ParseLogFormat(const std::string& text, LogFormat* format);

// Writes one line to stderr, stamped with `clock`'s wall time (Env so tests can fake it).
void LogLine(Env* clock, LogLevel level, const std::string& component, const std::string& msg,
             const LogFields& fields = {});

// The JSON object of one line (without the newline), for tests of the format.
std::string LogJson(int64_t now_micros, LogLevel level, const std::string& component, const std::string& msg,
                    const LogFields& fields);

}  // namespace sluice
