#include "ingest/csv_reader.h"

#include <algorithm>
#include <cstring>

namespace sluice {

bool CsvReader::Next(CsvRecord* record) {
  const char* d = data_.data();
  const size_t n = data_.size();
  if (pos_ >= n) return false;
  record->fields_.clear();
  record->scratch_.clear();
  record->malformed = false;
  record->error.clear();
  record->raw_base_ = d;
  record->line = line_;
  const size_t start = pos_;
  size_t pos = pos_;
  auto set_malformed = [&](const char* why) {
    if (!record->malformed) record->error = why;
    record->malformed = true;
  };

  while (true) {  // one field per iteration
    CsvRecord::Field f;
    if (pos < n && d[pos] == '"') {
      f.quoted = true;
      const size_t field_start = pos;
      size_t segment = ++pos;  // start of the text not yet copied (only used once unescaping)
      bool closed = false;
      while (const void* q = std::memchr(d + pos, '"', n - pos)) {
        const size_t quote = static_cast<const char*>(q) - d;
        if (quote + 1 < n && d[quote + 1] == '"') {  // "" is one quote: copy up to and incl. it
          if (!f.unescaped) {
            f.unescaped = true;
            f.begin = record->scratch_.size();
          }
          record->scratch_.append(d + segment, quote + 1 - segment);
          pos = segment = quote + 2;
          continue;
        }
        if (f.unescaped) {
          record->scratch_.append(d + segment, quote - segment);
          f.size = record->scratch_.size() - f.begin;
        } else {
          f.begin = segment;
          f.size = quote - segment;
        }
        pos = quote + 1;
        closed = true;
        break;
      }
      if (!closed) {
        // Unterminated: the rest of the input is this one malformed record.
        set_malformed("unterminated quoted field");
        line_ += std::count(d + field_start, d + n, '\n');
        size_t end = n;
        if (end > start && d[end - 1] == '\n') --end;
        if (end > start && d[end - 1] == '\r' && end < n) --end;
        f.begin = segment;
        f.size = n - segment;
        f.unescaped = false;
        record->fields_.push_back(f);
        record->raw = std::string_view(d + start, end - start);
        pos_ = n;
        return true;
      }
      line_ += std::count(d + field_start, d + pos, '\n');
      const bool at_end = pos == n || d[pos] == delimiter_ || d[pos] == '\n' ||
                          (d[pos] == '\r' && pos + 1 < n && d[pos + 1] == '\n');
      if (!at_end) {
        set_malformed("unexpected character after closing quote");
        while (pos < n && d[pos] != delimiter_ && d[pos] != '\n') ++pos;
      }
    } else {
      size_t end = pos;
      while (end < n && d[end] != delimiter_ && d[end] != '\n') ++end;
      f.begin = pos;
      f.size = end - pos;
      if (end < n && d[end] == '\n' && f.size > 0 && d[end - 1] == '\r') --f.size;  // CRLF
      pos = end;
    }
    record->fields_.push_back(f);

    if (pos < n && d[pos] == delimiter_) {
      ++pos;  // a delimiter at the very end still opens one more (empty) field
      continue;
    }
    size_t raw_end = pos;
    if (pos < n) {
      if (d[pos] == '\r') ++pos;  // only reached as "\r\n" after a closing quote
      // d[pos] is '\n' here.
      raw_end = (pos > start && d[pos - 1] == '\r') ? pos - 1 : pos;
      ++pos;
      ++line_;
    }
    record->raw = std::string_view(d + start, raw_end - start);
    pos_ = pos;
    return true;
  }
}

}  // namespace sluice
