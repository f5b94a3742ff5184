// DuckDB's errors as sluice Status values: the code comes from DuckDB's error type
// (duckdb_result_error_type), never from the wording of the message.
//
//   InvalidArgument  the SQL or a value in it is wrong: parser, syntax, binder, conversion,
//                    out of range, invalid input, settings, and the sandbox's PERMISSION errors
//   NotFound         CATALOG: a table, view, schema, function or setting that does not exist.
//                    DuckDB also reports CREATE of an existing entry as CATALOG; sluice creates
//                    with IF NOT EXISTS, so for sluice a catalog error means "not found".
//   Aborted          the statement was rolled back: CONSTRAINT (duplicate key, NOT NULL, CHECK),
//                    TRANSACTION (write-write conflict), INTERRUPT (Connection::Interrupt)
//   IOError          IO: a file DuckDB could not open, read, write or lock
//   Corruption       SERIALIZATION: a database file DuckDB cannot read back
//   Unavailable      OUT_OF_MEMORY (over memory_limit), FATAL (the database is invalidated and
//                    must be reopened), network, HTTP and extension loading
// Anything else (DuckDB's internal, executor, optimizer... errors) is Aborted: the statement
// failed inside DuckDB and nothing it did was kept.
// Thread-safe (pure functions).
#pragma once

#include <duckdb.h>

#include <string>

#include "common/status.h"

namespace sluice::duck {

// The Status code for a DuckDB error type (see the table above).
StatusCode StatusCodeForError(duckdb_error_type type);

// The error of a failed duckdb_query result: its mapped code and DuckDB's message
// ("Catalog Error: Table with name x does not exist! ..."). Does not destroy `result`.
Status ResultError(duckdb_result* result);

// The last error of `appender` (duckdb_appender_error_data), mapped the same way.
Status AppenderError(duckdb_appender appender);

// The first line of a DuckDB error message: DuckDB appends the SQL text with a caret under
// the error on further lines, which a one-line error of sluice's must not carry.
std::string FirstLine(const std::string& message);

}  // namespace sluice::duck
