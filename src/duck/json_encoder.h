// Typed JSON for query results: the one encoder of rows as JSON (`sluice query --format json`
// today, the serve API's query endpoints later). Reads DuckDB's vectors directly, chunk by chunk.
//
// Each row is an object {"<column>": value, ...} in the result's column order. Values:
//   NULL                                  null
//   BOOLEAN                               true / false
//   TINYINT..BIGINT, UTINYINT..UBIGINT,   a JSON number with every digit: 18446744073709551615.
//   HUGEINT, UHUGEINT                     (JavaScript's JSON.parse rounds integers beyond 2^53;
//                                         cast to VARCHAR in SQL to receive a string instead)
//   DECIMAL(p,s)                          a JSON number with exactly the decimal's digits and
//                                         scale: 12.50, -0.0000000001 (same caveat as above)
//   FLOAT, DOUBLE                         the shortest number that reads back as the same value
//                                         (0.1, 1e+300); NaN, Infinity and -Infinity are null
//   VARCHAR, ENUM                         a string; bytes that are not UTF-8 become U+FFFD
//   BLOB                                  a string, base64 (RFC 4648, padded)
//   DATE                                  "2026-01-03"
//   TIMESTAMP[_S|_MS|_NS], TIMESTAMPTZ    RFC 3339 in UTC: "2026-01-03T10:15:00Z", with the
//                                         fraction when it is not zero ("...:00.25Z")
//   TIME, TIME_NS / TIMETZ                "10:15:00.5" / "10:15:00+05:30"
//   infinite DATE and TIMESTAMP values    null
//   INTERVAL                              an ISO 8601 duration: "P1Y2M3DT4H5M6.5S"
//   UUID                                  "0b5e7f1c-...": 8-4-4-4-12 lowercase hex
//   BIT                                   "0101"
//   LIST, ARRAY                           an array
//   STRUCT                                an object in field order
//   MAP                                   an array of {"key": k, "value": v} objects, in the
//                                         map's order (keys of any type, never merged)
//   UNION                                 the value of its current member
// Other types (BIGNUM, ...) are refused by Create, naming the column: cast them in SQL.
// Years outside 0..9999 print in ISO 8601's expanded form ("+12345-01-01").
//
// A JsonRowWriter is not safe for concurrent use: one per result, fed by one thread.
#pragma once

#include <duckdb.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "duck/result_stream.h"

namespace sluice::duck {

class JsonRowWriter {
 public:
  enum class Layout {
    kArray,  // one JSON array, one row per line: "[{...},\n{...}]\n" ("[]\n" when empty)
    kLines,  // newline-delimited JSON (NDJSON): "{...}\n{...}\n"
  };

  // A writer for rows with these column names and types (the types are read here and not kept).
  // InvalidArgument naming the column when a type has no JSON encoding.
  static Result<std::unique_ptr<JsonRowWriter>> Create(const std::vector<std::string>& names,
                                                       const std::vector<duckdb_logical_type>& types,
                                                       Layout layout);
  ~JsonRowWriter();
  JsonRowWriter(const JsonRowWriter&) = delete;
  JsonRowWriter& operator=(const JsonRowWriter&) = delete;

  // Appends to `out`: the start of the document, the rows of one chunk, the end of the document.
  // Call Begin once, WriteChunk per chunk, End once; the caller may flush `out` between calls.
  void Begin(std::string* out);
  void WriteChunk(const Chunk& chunk, std::string* out);
  void End(std::string* out);

  // Rows written so far.
  size_t rows() const { return rows_; }

  struct Node;  // the encoding of one (possibly nested) type; defined in json_encoder.cc

 private:
  JsonRowWriter() = default;
  Layout layout_ = Layout::kArray;
  std::vector<std::string> keys_;  // column names, already JSON-quoted with a trailing ':'
  std::vector<std::unique_ptr<Node>> columns_;
  size_t rows_ = 0;
};

// Appends `text` to `out` as a JSON string (quotes included), escaping '"', '\\' and control
// characters, and writing U+FFFD for each byte that is not part of valid UTF-8.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace sluice::duck
