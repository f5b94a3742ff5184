// The only code in sluice that calls duckdb_*: RAII wrappers over DuckDB's C API.
//
// A Connection owns its database instance (in-memory; the lake's file is ATTACHed by the catalog
// layer) and one DuckDB connection. Results are read through data chunks and vectors only (the
// value accessors of the deprecated API crash on some types). None of these classes is safe for
// concurrent use; give each thread its own Connection, or serialize.
#pragma once

#include <duckdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice::duck {

// A fully materialized query result with every cell rendered as text (NULL -> nullopt).
// Numbers print in DuckDB's canonical form; DATE as 2026-01-03, TIMESTAMP as
// 2026-01-03 10:15:00[.ffffff] (TIMESTAMPTZ in UTC with "+00"), infinite ones as infinity.
// Types without a rendering here are an InvalidArgument asking the caller to cast (callers
// showing user SQL cast every column to VARCHAR in SQL). For typed output see json_encoder.h.
struct Rows {
  std::vector<std::string> names;
  std::vector<std::string> types;  // DuckDB type names, e.g. "VARCHAR", "DECIMAL(12,2)"
  std::vector<std::vector<std::optional<std::string>>> rows;

  // Cell (r, c), or `fallback` when NULL.
  std::string At(size_t r, size_t c, const std::string& fallback = "") const;
  int64_t IntAt(size_t r, size_t c) const;  // 0 when NULL or not a number
};

struct OpenOptions {
  int threads = 0;           // 0: DuckDB's default (one per core)
  std::string memory_limit;  // e.g. "1GB"; empty: DuckDB's default (80% of RAM)
  // Where DuckDB spills beyond memory_limit. nullopt: DuckDB's default (".tmp" in the working
  // directory for an in-memory database); "": no spilling (over the limit is an error).
  std::optional<std::string> temp_directory;
};

class Connection {
 public:
  // InvalidArgument naming the setting when DuckDB refuses a value of `options`.
  static Result<std::unique_ptr<Connection>> Open(const OpenOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements, discarding their results. A failed statement is DuckDB's
  // error with its code mapped from DuckDB's error type (duck/errors.h): a syntax error is
  // InvalidArgument, a missing table NotFound, a constraint violation Aborted...
  Status Execute(const std::string& sql);
  // Execute with DuckDB's `threads` at 1, then the setting put back (also on error). For a
  // partitioned COPY whose files must keep the order of its input and be one per partition:
  // with several threads, DuckDB 1.4 may write a partition as two files and interleave runs
  // (docs/DUCKDB_HAZARDS.md). The setting is the database's: other connections of the process
  // run single-threaded meanwhile.
  Status ExecuteSingleThreaded(const std::string& sql);
  // Runs the statement(s) and materializes the last result.
  Result<Rows> Query(const std::string& sql);
  // First column of the first row as an integer; NotFound when there is no row, 0 for NULL.
  Result<int64_t> QueryInt(const std::string& sql);

  // Interrupts the running query from another thread (the only thread-safe member).
  void Interrupt();

  // Another connection to this connection's database: it shares the database's buffer pool,
  // memory_limit, spill directory and attached databases, and has its own transactions and temp
  // tables. A query (e.g. a ResultStream) may run on it while this one runs others. It does not
  // own the database: destroy it before this Connection.
  Result<std::unique_ptr<Connection>> Connect();

  duckdb_connection raw() { return conn_; }

 private:
  Connection(duckdb_database db, duckdb_connection conn, bool owns_db)
      : db_(db), conn_(conn), owns_db_(owns_db) {}
  duckdb_database db_ = nullptr;
  duckdb_connection conn_ = nullptr;
  bool owns_db_ = true;
};

// Quotes a string as a SQL literal: O'Hara -> 'O''Hara'. A value with NUL bytes, which SQL
// text cannot carry, becomes an expression valid wherever one is: ('a' || chr(0) || 'b').
std::string Literal(std::string_view value);
// Quotes an identifier: my col -> "my col", a"b -> "a""b". A name with a NUL byte cannot be
// written in SQL: the statement then fails as a syntax error (DuckDB stops reading at the NUL,
// inside the quotes), never naming another object.
std::string Ident(std::string_view name);

// Appends rows to an existing table chunk by chunk, writing straight into DuckDB's vectors.
// Column types are given as DuckDB type names matching the table ("BIGINT", "DECIMAL(12,2)").
// Supported: VARCHAR, BIGINT, INTEGER, FLOAT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, DECIMAL(p<=18,s).
class ChunkAppender {
 public:
  static Result<std::unique_ptr<ChunkAppender>> Create(Connection& conn, const std::string& schema,
                                                       const std::string& table,
                                                       const std::vector<std::string>& types);
  ~ChunkAppender();

  // Rows per chunk; callers fill rows [0, n) of the current chunk with n <= Capacity().
  static size_t Capacity();
  // Raw data of column c in the current chunk: int64_t* for BIGINT/TIMESTAMP/DECIMAL,
  // int32_t* for INTEGER/DATE, float*, double*, bool*. Not for VARCHAR (use SetString).
  void* Data(size_t c);
  void SetString(size_t c, size_t row, std::string_view value);
  void SetNull(size_t c, size_t row);
  // Appends rows [0, n) of the current chunk and starts a fresh one.
  Status FlushChunk(size_t n);
  // Flushes DuckDB's appender; call once at the end (the destructor discards on error paths).
  Status Close();

 private:
  ChunkAppender() = default;
  Status NewChunk();
  duckdb_appender appender_ = nullptr;
  std::vector<duckdb_logical_type> types_;
  duckdb_data_chunk chunk_ = nullptr;
  std::vector<duckdb_vector> vectors_;
};

}  // namespace sluice::duck
