// CsvReader: splits CSV text into records and fields (RFC 4180), without interpreting values.
//
// Fields may be quoted with '"'; inside quotes the delimiter and line breaks are data and "" is
// one quote. Records end at "\n" or "\r\n" (outside quotes) or at the end of the input; the
// final line break is optional. A lone '\r' is data. Quotes inside an unquoted field are data.
// Never fails as a whole: a record that breaks the rules (an unterminated quote, text after a
// closing quote) is returned with `malformed` set so the caller can dead-letter exactly that
// record. Runs in time linear in the input. Not thread-safe; the input must outlive the reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// One record. Views are valid until the next CsvReader::Next on the same record.
class CsvRecord {
 public:
  int64_t line = 0;        // 1-based line the record starts on
  std::string_view raw;    // the record's text, without its line ending
  bool malformed = false;  // the record breaks the quoting rules; `error` says how
  std::string error;

  size_t size() const { return fields_.size(); }
  // Field i with quotes removed and "" unescaped.
  std::string_view field(size_t i) const { return FieldView(fields_[i]); }
  // True if field i was quoted: "" is an empty string, an unquoted empty field is NULL.
  bool quoted(size_t i) const { return fields_[i].quoted; }

 private:
  friend class CsvReader;
  struct Field {
    size_t begin = 0;  // offset into the input, or into scratch_ when `unescaped`
    size_t size = 0;
    bool quoted = false;
    bool unescaped = false;
  };
  std::string_view FieldView(const Field& f) const {
    return f.unescaped ? std::string_view(scratch_).substr(f.begin, f.size)
                       : std::string_view(raw_base_ + f.begin, f.size);
  }
  const char* raw_base_ = nullptr;  // start of the whole input
  std::vector<Field> fields_;
  std::string scratch_;  // quoted fields that contained "" escapes, unescaped
};

class CsvReader {
 public:
  CsvReader(std::string_view data, char delimiter) : data_(data), delimiter_(delimiter) {}

  // Reads the next record into *record (reusing its buffers); false at the end of the input.
  // An empty input has no records; "\n" has one record with one empty unquoted field.
  bool Next(CsvRecord* record);

 private:
  std::string_view data_;
  char delimiter_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

}  // namespace sluice
