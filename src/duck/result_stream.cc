#include "duck/result_stream.h"

#include "duck/errors.h"

namespace sluice::duck {

Result<std::unique_ptr<ResultStream>> ResultStream::Open(Connection& conn, const std::string& sql) {
  std::unique_ptr<ResultStream> stream(new ResultStream());
  if (duckdb_query(conn.raw(), sql.c_str(), &stream->result_) != DuckDBSuccess) {
    Status error = ResultError(&stream->result_);
    duckdb_destroy_result(&stream->result_);
    return error;
  }
  stream->open_ = true;
  const idx_t ncol = duckdb_column_count(&stream->result_);
  for (idx_t c = 0; c < ncol; ++c) {
    stream->names_.emplace_back(duckdb_column_name(&stream->result_, c));
    stream->types_.push_back(duckdb_column_logical_type(&stream->result_, c));
  }
  return stream;
}

ResultStream::~ResultStream() {
  for (auto& t : types_) duckdb_destroy_logical_type(&t);
  if (open_) duckdb_destroy_result(&result_);
}

bool ResultStream::Next(std::unique_ptr<Chunk>* chunk) {
  duckdb_data_chunk next = duckdb_fetch_chunk(result_);
  if (next == nullptr) {
    chunk->reset();
    return false;
  }
  *chunk = std::make_unique<Chunk>(next);
  return true;
}

}  // namespace sluice::duck
