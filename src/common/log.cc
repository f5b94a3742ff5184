#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace sluice {

namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// `s` as a JSON string literal (RFC 8259: quote, backslash and control characters escaped; other
// bytes as they are, the messages being UTF-8).
void AppendJsonString(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void AppendField(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out += ",\"";
  out += key;
  out += "\":";
  AppendJsonString(out, value);
}

void WriteAll(const std::string& line) {
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;  // nowhere else to report it
    off += static_cast<size_t>(n);
  }
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format.store(format); }
LogFormat GetLogFormat() { return g_format.load(); }

bool ParseLogFormat(const std::string& text, LogFormat* format) {
  if (text == "text") {
    *format = LogFormat::kText;
  } else if (text == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::string LogJson(int64_t now_micros, LogLevel level, const std::string& component, const std::string& msg,
                    const LogFields& fields) {
  std::string out = "{\"ts\":";
  AppendJsonString(out, FormatTimestampMicros(now_micros));
  out += ",\"level\":";
  AppendJsonString(out, LevelName(level));
  AppendField(out, "component", component);
  out += ",\"msg\":";
  AppendJsonString(out, msg);
  AppendField(out, "correlation_id", fields.correlation_id);
  AppendField(out, "batch_id", fields.batch_id);
  AppendField(out, "source", fields.source);
  AppendField(out, "table", fields.table);
  out += '}';
  return out;
}

void LogLine(Env* clock, LogLevel level, const std::string& component, const std::string& msg,
             const LogFields& fields) {
  const int64_t now = clock->NowMicros();
  std::string line;
  if (GetLogFormat() == LogFormat::kJson) {
    line = LogJson(now, level, component, msg, fields) + "\n";
  } else {
    std::string stamp = FormatTimestampMicros(now);  // "...T10:15:00.123456Z"
    line = stamp.substr(0, 19) + "Z " + component + ": " + msg + "\n";
  }
  WriteAll(line);
}

}  // namespace sluice
