#include "duck/errors.h"

#include <string>

namespace sluice::duck {

StatusCode StatusCodeForError(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_INVALID:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_UNKNOWN_TYPE:
    case DUCKDB_ERROR_DECIMAL:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
    case DUCKDB_ERROR_OBJECT_SIZE:
    case DUCKDB_ERROR_INVALID_TYPE:
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_EXPRESSION:
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_PLANNER:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_SETTINGS:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_PERMISSION:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
    case DUCKDB_ERROR_DEPENDENCY:
    case DUCKDB_ERROR_SEQUENCE:
      return StatusCode::kInvalidArgument;
    case DUCKDB_ERROR_CATALOG:
      return StatusCode::kNotFound;
    case DUCKDB_ERROR_CONSTRAINT:
    case DUCKDB_ERROR_TRANSACTION:
    case DUCKDB_ERROR_INTERRUPT:
      return StatusCode::kAborted;
    case DUCKDB_ERROR_IO:
      return StatusCode::kIOError;
    case DUCKDB_ERROR_SERIALIZATION:
      return StatusCode::kCorruption;
    case DUCKDB_ERROR_OUT_OF_MEMORY:
    case DUCKDB_ERROR_FATAL:
    case DUCKDB_ERROR_CONNECTION:
    case DUCKDB_ERROR_NETWORK:
    case DUCKDB_ERROR_HTTP:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kAborted;
  }
}

Status ResultError(duckdb_result* result) {
  const char* msg = duckdb_result_error(result);
  return Status(StatusCodeForError(duckdb_result_error_type(result)),
                msg != nullptr ? msg : "unknown DuckDB error");
}

Status AppenderError(duckdb_appender appender) {
  duckdb_error_data error = duckdb_appender_error_data(appender);
  const char* msg = duckdb_error_data_message(error);
  Status status(StatusCodeForError(duckdb_error_data_error_type(error)),
                msg != nullptr ? msg : "unknown DuckDB error");
  duckdb_destroy_error_data(&error);
  return status;
}

std::string FirstLine(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace sluice::duck
