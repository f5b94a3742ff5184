// A query result read chunk by chunk, for writers that encode rows as they go (JsonRowWriter)
// instead of materializing every cell as text (Connection::Query).
//
// Open: DuckDB runs the statement with duckdb_query (so that every error carries its type, which
// the C API's prepared/streaming path does not report) and materializes its result; the reader
// then holds one chunk at a time. OpenStreaming: DuckDB produces the result as it is read, so
// that neither side holds more than a few chunks of it (a scan of a file larger than memory).
// Not safe for concurrent use; the Connection must outlive the stream and run nothing else
// while it is open (use another Connection, Connection::Connect, for other work meanwhile).
#pragma once

#include <duckdb.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "duck/duck.h"

namespace sluice::duck {

// One chunk of a result: up to duckdb_vector_size() rows, one vector per column. Owns the chunk.
class Chunk {
 public:
  explicit Chunk(duckdb_data_chunk chunk) : chunk_(chunk) {}
  ~Chunk() {
    if (chunk_) duckdb_destroy_data_chunk(&chunk_);
  }
  Chunk(Chunk&& other) noexcept : chunk_(other.chunk_) { other.chunk_ = nullptr; }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  Chunk& operator=(Chunk&&) = delete;

  size_t size() const { return duckdb_data_chunk_get_size(chunk_); }
  duckdb_vector column(size_t c) const { return duckdb_data_chunk_get_vector(chunk_, c); }
  // Row `row` of VARCHAR column c: NULL is nullopt. The view lives as long as the chunk.
  std::optional<std::string_view> StringAt(size_t c, size_t row) const;

 private:
  duckdb_data_chunk chunk_;
};

class ResultStream {
 public:
  // Runs one statement (or several: the last one's result is read). A failed statement is its
  // mapped Status (duck/errors.h).
  static Result<std::unique_ptr<ResultStream>> Open(Connection& conn, const std::string& sql);
  // One statement, its result streamed. A statement DuckDB cannot prepare (parse, bind) is its
  // mapped Status (duck/errors.h), as with Open; an error while producing rows ends the stream
  // and is status().
  static Result<std::unique_ptr<ResultStream>> OpenStreaming(Connection& conn, const std::string& sql);
  ~ResultStream();
  ResultStream(const ResultStream&) = delete;
  ResultStream& operator=(const ResultStream&) = delete;

  const std::vector<std::string>& names() const { return names_; }
  // Logical type of column c, owned by the stream.
  const std::vector<duckdb_logical_type>& types() const { return types_; }

  // The next chunk, or false at the end of the result or on an error (then status() says which).
  bool Next(std::unique_ptr<Chunk>* chunk);
  // OK, or the error that ended a streamed result early (mapped as duck/errors.h says).
  const Status& status() const { return status_; }

 private:
  ResultStream() = default;
  void ReadColumns();  // names_ and types_ of result_
  duckdb_result result_{};
  bool open_ = false;
  Status status_;
  std::vector<std::string> names_;
  std::vector<duckdb_logical_type> types_;
};

}  // namespace sluice::duck
