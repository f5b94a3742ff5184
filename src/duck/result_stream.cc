#include "duck/result_stream.h"

#include "duck/errors.h"

namespace sluice::duck {

std::optional<std::string_view> Chunk::StringAt(size_t c, size_t row) const {
  duckdb_vector vector = column(c);
  uint64_t* validity = duckdb_vector_get_validity(vector);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) return std::nullopt;
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  return std::string_view(duckdb_string_t_data(&strings[row]), duckdb_string_t_length(strings[row]));
}

Result<std::unique_ptr<ResultStream>> ResultStream::Open(Connection& conn, const std::string& sql) {
  std::unique_ptr<ResultStream> stream(new ResultStream());
  if (duckdb_query(conn.raw(), sql.c_str(), &stream->result_) != DuckDBSuccess) {
    Status error = ResultError(&stream->result_);
    duckdb_destroy_result(&stream->result_);
    return error;
  }
  stream->open_ = true;
  stream->ReadColumns();
  return stream;
}

Result<std::unique_ptr<ResultStream>> ResultStream::OpenStreaming(Connection& conn, const std::string& sql) {
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare(conn.raw(), sql.c_str(), &prepared) != DuckDBSuccess) {
    const char* why = duckdb_prepare_error(prepared);
    std::string message = why != nullptr ? why : "cannot prepare the statement";
    duckdb_destroy_prepare(&prepared);
    // The prepared path reports no error type: the same statement fails the same way (parse
    // or bind, before any row is read) through duckdb_query, which does.
    duckdb_result typed{};
    const bool failed = duckdb_query(conn.raw(), sql.c_str(), &typed) != DuckDBSuccess;
    Status error = failed ? ResultError(&typed) : Status::Aborted(message);
    duckdb_destroy_result(&typed);
    return error;
  }
  duckdb_pending_result pending = nullptr;
  const duckdb_state planned = duckdb_pending_prepared_streaming(prepared, &pending);
  duckdb_destroy_prepare(&prepared);
  if (planned != DuckDBSuccess) {
    const char* why = duckdb_pending_error(pending);
    Status error = Status::Aborted(why != nullptr ? why : "cannot plan the statement");
    duckdb_destroy_pending(&pending);
    return error;
  }
  std::unique_ptr<ResultStream> stream(new ResultStream());
  const duckdb_state started = duckdb_execute_pending(pending, &stream->result_);
  duckdb_destroy_pending(&pending);
  if (started != DuckDBSuccess) {
    Status error = ResultError(&stream->result_);
    duckdb_destroy_result(&stream->result_);
    return error;
  }
  stream->open_ = true;
  stream->ReadColumns();
  return stream;
}

void ResultStream::ReadColumns() {
  const idx_t ncol = duckdb_column_count(&result_);
  for (idx_t c = 0; c < ncol; ++c) {
    names_.emplace_back(duckdb_column_name(&result_, c));
    types_.push_back(duckdb_column_logical_type(&result_, c));
  }
}

ResultStream::~ResultStream() {
  for (auto& t : types_) duckdb_destroy_logical_type(&t);
  if (open_) duckdb_destroy_result(&result_);
}

bool ResultStream::Next(std::unique_ptr<Chunk>* chunk) {
  duckdb_data_chunk next = duckdb_fetch_chunk(result_);
  if (next == nullptr) {
    chunk->reset();
    if (status_.ok() && duckdb_result_error(&result_) != nullptr) status_ = ResultError(&result_);
    return false;
  }
  *chunk = std::make_unique<Chunk>(next);
  return true;
}

}  // namespace sluice::duck
