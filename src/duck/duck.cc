#include "duck/duck.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "duck/errors.h"
#include "duck/value_text.h"

namespace sluice::duck {

namespace {

// DuckDB's infinite DATE and TIMESTAMP values (date_t/timestamp_t::infinity()).
constexpr int32_t kDateInfinity = 2147483647;
constexpr int64_t kTimestampInfinity = 9223372036854775807LL;

std::string RenderDate(int32_t days) {
  if (days == kDateInfinity || days == -kDateInfinity) return days > 0 ? "infinity" : "-infinity";
  return FormatDate(days);
}

std::string RenderTimestamp(int64_t micros) {
  if (micros == kTimestampInfinity || micros == -kTimestampInfinity) {
    return micros > 0 ? "infinity" : "-infinity";
  }
  return FormatTimestamp(micros, 6, TimestampStyle::kSql);
}

std::string TypeName(duckdb_logical_type t) {
  duckdb_type id = duckdb_get_type_id(t);
  switch (id) {
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL(" + std::to_string(duckdb_decimal_width(t)) + "," +
             std::to_string(duckdb_decimal_scale(t)) + ")";
    case DUCKDB_TYPE_BOOLEAN:
      return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT:
      return "TINYINT";
    case DUCKDB_TYPE_SMALLINT:
      return "SMALLINT";
    case DUCKDB_TYPE_INTEGER:
      return "INTEGER";
    case DUCKDB_TYPE_BIGINT:
      return "BIGINT";
    case DUCKDB_TYPE_HUGEINT:
      return "HUGEINT";
    case DUCKDB_TYPE_UTINYINT:
      return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT:
      return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER:
      return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT:
      return "UBIGINT";
    case DUCKDB_TYPE_FLOAT:
      return "FLOAT";
    case DUCKDB_TYPE_DOUBLE:
      return "DOUBLE";
    case DUCKDB_TYPE_VARCHAR:
      return "VARCHAR";
    case DUCKDB_TYPE_BLOB:
      return "BLOB";
    case DUCKDB_TYPE_DATE:
      return "DATE";
    case DUCKDB_TYPE_TIMESTAMP:
      return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return "TIMESTAMP WITH TIME ZONE";
    default:
      return "TYPE#" + std::to_string(static_cast<int>(id));
  }
}

// Renders row `r` of vector `vec` of logical type `t` as text.
Result<std::string> RenderCell(duckdb_logical_type t, duckdb_vector vec, idx_t r) {
  void* data = duckdb_vector_get_data(vec);
  switch (duckdb_get_type_id(t)) {
    case DUCKDB_TYPE_BOOLEAN:
      return std::string(static_cast<bool*>(data)[r] ? "true" : "false");
    case DUCKDB_TYPE_TINYINT:
      return std::to_string(static_cast<int8_t*>(data)[r]);
    case DUCKDB_TYPE_SMALLINT:
      return std::to_string(static_cast<int16_t*>(data)[r]);
    case DUCKDB_TYPE_INTEGER:
      return std::to_string(static_cast<int32_t*>(data)[r]);
    case DUCKDB_TYPE_BIGINT:
      return std::to_string(static_cast<int64_t*>(data)[r]);
    case DUCKDB_TYPE_UTINYINT:
      return std::to_string(static_cast<uint8_t*>(data)[r]);
    case DUCKDB_TYPE_USMALLINT:
      return std::to_string(static_cast<uint16_t*>(data)[r]);
    case DUCKDB_TYPE_UINTEGER:
      return std::to_string(static_cast<uint32_t*>(data)[r]);
    case DUCKDB_TYPE_UBIGINT:
      return std::to_string(static_cast<uint64_t*>(data)[r]);
    case DUCKDB_TYPE_HUGEINT: {
      duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[r];
      return FormatInt128((static_cast<__int128>(h.upper) << 64) | h.lower);
    }
    case DUCKDB_TYPE_FLOAT:
      return FormatFloat(static_cast<float*>(data)[r]);
    case DUCKDB_TYPE_DOUBLE:
      return FormatDouble(static_cast<double*>(data)[r]);
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
      duckdb_string_t* s = &static_cast<duckdb_string_t*>(data)[r];
      return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_DATE:
      return RenderDate(static_cast<int32_t*>(data)[r]);
    case DUCKDB_TYPE_TIMESTAMP:
      return RenderTimestamp(static_cast<int64_t*>(data)[r]);
    case DUCKDB_TYPE_TIMESTAMP_TZ: {
      const int64_t micros = static_cast<int64_t*>(data)[r];
      const bool infinite = micros == kTimestampInfinity || micros == -kTimestampInfinity;
      return RenderTimestamp(micros) + (infinite ? "" : "+00");
    }
    case DUCKDB_TYPE_DECIMAL: {
      int scale = duckdb_decimal_scale(t);
      switch (duckdb_decimal_internal_type(t)) {
        case DUCKDB_TYPE_SMALLINT:
          return FormatDecimal(static_cast<int16_t*>(data)[r], scale);
        case DUCKDB_TYPE_INTEGER:
          return FormatDecimal(static_cast<int32_t*>(data)[r], scale);
        case DUCKDB_TYPE_BIGINT:
          return FormatDecimal(static_cast<int64_t*>(data)[r], scale);
        default: {
          duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[r];
          return FormatDecimal((static_cast<__int128>(h.upper) << 64) | h.lower, scale);
        }
      }
    }
    default:
      return Status::InvalidArgument("cannot render a value of type " + TypeName(t) +
                                     " (cast it to VARCHAR in the query)");
  }
}

Result<duckdb_logical_type> LogicalTypeFromName(const std::string& name) {
  if (name == "VARCHAR") return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  if (name == "BIGINT") return duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  if (name == "INTEGER") return duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
  if (name == "DOUBLE") return duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE);
  if (name == "FLOAT") return duckdb_create_logical_type(DUCKDB_TYPE_FLOAT);
  if (name == "BOOLEAN") return duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
  if (name == "DATE") return duckdb_create_logical_type(DUCKDB_TYPE_DATE);
  if (name == "TIMESTAMP") return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP);
  int p = 0, s = 0;
  if (std::sscanf(name.c_str(), "DECIMAL(%d,%d)", &p, &s) == 2 && p >= 1 && p <= 18 && s >= 0 && s <= p) {
    return duckdb_create_decimal_type(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
  }
  return Status::InvalidArgument("appender does not support type " + name);
}

// SLUICE_TRACE_SQL=1 prints every statement with its wall time to stderr (for profiling).
class SqlTrace {
 public:
  explicit SqlTrace(const std::string& sql) : sql_(sql) {
    static const bool enabled = std::getenv("SLUICE_TRACE_SQL") != nullptr;
    if (enabled) start_ = std::chrono::steady_clock::now();
    enabled_ = enabled;
  }
  ~SqlTrace() {
    if (!enabled_) return;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    std::string head = sql_.substr(0, 160);
    for (char& ch : head) ch = (ch == '\n') ? ' ' : ch;
    std::fprintf(stderr, "[sql %8.1f ms] %s\n", ms, head.c_str());
  }

 private:
  const std::string& sql_;
  bool enabled_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::string Rows::At(size_t r, size_t c, const std::string& fallback) const {
  const auto& cell = rows.at(r).at(c);
  return cell ? *cell : fallback;
}

int64_t Rows::IntAt(size_t r, size_t c) const {
  const auto& cell = rows.at(r).at(c);
  if (!cell) return 0;
  int64_t v = 0;
  std::from_chars(cell->data(), cell->data() + cell->size(), v);
  return v;
}

Result<std::unique_ptr<Connection>> Connection::Open(const OpenOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    return Status::Unavailable("duckdb: cannot create config");
  }
  // duckdb_set_config checks the value (an unknown name only fails at duckdb_open_ext).
  auto set = [&](const char* name, const std::string& value) -> Status {
    if (duckdb_set_config(config, name, value.c_str()) == DuckDBSuccess) return Status::OK();
    return Status::InvalidArgument(std::string("duckdb: invalid value '") + value + "' for setting " + name);
  };
  Status configured;
  if (options.threads > 0) configured = set("threads", std::to_string(options.threads));
  if (configured.ok() && !options.memory_limit.empty()) {
    configured = set("memory_limit", options.memory_limit);
  }
  if (!configured.ok()) {
    duckdb_destroy_config(&config);
    return configured;
  }
  if (options.temp_directory) {
    duckdb_set_config(config, "temp_directory", options.temp_directory->c_str());
  }
  duckdb_database db = nullptr;
  char* err = nullptr;
  duckdb_state st = duckdb_open_ext(nullptr, &db, config, &err);
  duckdb_destroy_config(&config);
  if (st != DuckDBSuccess) {
    std::string msg = err ? err : "unknown error";
    duckdb_free(err);
    return Status::Unavailable("duckdb: " + msg);
  }
  duckdb_connection conn = nullptr;
  if (duckdb_connect(db, &conn) != DuckDBSuccess) {
    duckdb_close(&db);
    return Status::Unavailable("duckdb: cannot connect");
  }
  return std::unique_ptr<Connection>(new Connection(db, conn, /*owns_db=*/true));
}

Result<std::unique_ptr<Connection>> Connection::Connect() {
  duckdb_connection conn = nullptr;
  if (duckdb_connect(db_, &conn) != DuckDBSuccess) return Status::Unavailable("duckdb: cannot connect");
  return std::unique_ptr<Connection>(new Connection(db_, conn, /*owns_db=*/false));
}

Connection::~Connection() {
  if (conn_) duckdb_disconnect(&conn_);
  if (db_ && owns_db_) duckdb_close(&db_);
}

void Connection::Interrupt() { duckdb_interrupt(conn_); }

Status Connection::Execute(const std::string& sql) {
  SqlTrace trace(sql);
  duckdb_result res;
  if (duckdb_query(conn_, sql.c_str(), &res) != DuckDBSuccess) {
    Status error = ResultError(&res);
    duckdb_destroy_result(&res);
    return error;
  }
  duckdb_destroy_result(&res);
  return Status::OK();
}

Result<Rows> Connection::Query(const std::string& sql) {
  SqlTrace trace(sql);
  duckdb_result res;
  if (duckdb_query(conn_, sql.c_str(), &res) != DuckDBSuccess) {
    Status error = ResultError(&res);
    duckdb_destroy_result(&res);
    return error;
  }
  Rows out;
  idx_t ncol = duckdb_column_count(&res);
  std::vector<duckdb_logical_type> types;
  for (idx_t c = 0; c < ncol; ++c) {
    out.names.emplace_back(duckdb_column_name(&res, c));
    types.push_back(duckdb_column_logical_type(&res, c));
    out.types.push_back(TypeName(types.back()));
  }
  Status status;
  while (status.ok()) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    if (!chunk) break;
    idx_t n = duckdb_data_chunk_get_size(chunk);
    size_t base = out.rows.size();
    out.rows.resize(base + n, std::vector<std::optional<std::string>>(ncol));
    for (idx_t c = 0; c < ncol && status.ok(); ++c) {
      duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
      uint64_t* validity = duckdb_vector_get_validity(vec);
      for (idx_t r = 0; r < n; ++r) {
        if (validity && !duckdb_validity_row_is_valid(validity, r)) continue;
        auto cell = RenderCell(types[c], vec, r);
        if (!cell.ok()) {
          status = cell.status().WithContext(out.names[c]);
          break;
        }
        out.rows[base + r][c] = std::move(*cell);
      }
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  duckdb_destroy_result(&res);
  if (!status.ok()) return status;
  return out;
}

Status Connection::ExecuteSingleThreaded(const std::string& sql) {
  ASSIGN_OR_RETURN(int64_t threads, QueryInt("SELECT current_setting('threads')"));
  RETURN_IF_ERROR(Execute("SET threads = 1"));
  Status st = Execute(sql);
  Status restored = Execute("SET threads = " + std::to_string(threads));
  return st.ok() ? restored : st;
}

Result<int64_t> Connection::QueryInt(const std::string& sql) {
  ASSIGN_OR_RETURN(Rows rows, Query(sql));
  if (rows.rows.empty() || rows.names.empty()) return Status::NotFound("no row: " + sql);
  return rows.IntAt(0, 0);
}

std::string Literal(std::string_view value) {
  std::string out = "'";
  bool has_nul = false;
  for (char c : value) {
    if (c == '\0') {
      // DuckDB reads SQL text up to the first NUL: splice the byte in with chr(0).
      out += "' || chr(0) || '";
      has_nul = true;
      continue;
    }
    if (c == '\'') out += '\'';
    out += c;
  }
  out += "'";
  return has_nul ? "(" + out + ")" : out;
}

std::string Ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::unique_ptr<ChunkAppender>> ChunkAppender::Create(Connection& conn, const std::string& schema,
                                                             const std::string& table,
                                                             const std::vector<std::string>& types) {
  std::unique_ptr<ChunkAppender> a(new ChunkAppender());
  for (const auto& t : types) {
    ASSIGN_OR_RETURN(duckdb_logical_type lt, LogicalTypeFromName(t));
    a->types_.push_back(lt);
  }
  if (duckdb_appender_create_ext(conn.raw(), nullptr, schema.c_str(), table.c_str(), &a->appender_) !=
      DuckDBSuccess) {
    if (!a->appender_) return Status::Unavailable("duckdb: cannot create an appender");
    return AppenderError(a->appender_).WithContext("appender on " + schema + "." + table);
  }
  RETURN_IF_ERROR(a->NewChunk());
  return a;
}

ChunkAppender::~ChunkAppender() {
  if (chunk_) duckdb_destroy_data_chunk(&chunk_);
  if (appender_) duckdb_appender_destroy(&appender_);
  for (auto& t : types_) duckdb_destroy_logical_type(&t);
}

size_t ChunkAppender::Capacity() { return duckdb_vector_size(); }

Status ChunkAppender::NewChunk() {
  if (chunk_) duckdb_destroy_data_chunk(&chunk_);
  chunk_ = duckdb_create_data_chunk(types_.data(), types_.size());
  if (!chunk_) return Status::Unavailable("duckdb: cannot create data chunk");
  vectors_.clear();
  for (size_t c = 0; c < types_.size(); ++c) {
    vectors_.push_back(duckdb_data_chunk_get_vector(chunk_, c));
  }
  return Status::OK();
}

void* ChunkAppender::Data(size_t c) { return duckdb_vector_get_data(vectors_[c]); }

void ChunkAppender::SetString(size_t c, size_t row, std::string_view value) {
  duckdb_vector_assign_string_element_len(vectors_[c], row, value.data(), value.size());
}

void ChunkAppender::SetNull(size_t c, size_t row) {
  duckdb_vector_ensure_validity_writable(vectors_[c]);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vectors_[c]), row);
}

Status ChunkAppender::FlushChunk(size_t n) {
  duckdb_data_chunk_set_size(chunk_, n);
  if (duckdb_append_data_chunk(appender_, chunk_) != DuckDBSuccess) {
    return AppenderError(appender_).WithContext("append");
  }
  return NewChunk();
}

Status ChunkAppender::Close() {
  if (duckdb_appender_close(appender_) != DuckDBSuccess) {
    return AppenderError(appender_).WithContext("append");
  }
  return Status::OK();
}

}  // namespace sluice::duck
