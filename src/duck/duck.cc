#include "duck/duck.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sluice::duck {

namespace {

// Days since 1970-01-01 -> y/m/d (Howard Hinnant's civil_from_days).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t days = micros / 86400000000LL;
  int64_t rem = micros % 86400000000LL;
  if (rem < 0) { rem += 86400000000LL; --days; }
  int64_t secs = rem / 1000000, frac = rem % 1000000;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%s %02lld:%02lld:%02lld", FormatDate(days).c_str(),
                        static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                        static_cast<long long>(secs % 60));
  if (frac != 0) {
    char fb[16];
    std::snprintf(fb, sizeof fb, ".%06lld", static_cast<long long>(frac));
    std::string f(fb);
    while (f.back() == '0') f.pop_back();
    return std::string(buf, static_cast<size_t>(n)) + f;
  }
  return std::string(buf, static_cast<size_t>(n));
}

std::string FormatInt128(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u > 0) { s.push_back(static_cast<char>('0' + static_cast<int>(u % 10))); u /= 10; }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

std::string FormatDecimal(__int128 v, int scale) {
  std::string digits = FormatInt128(v < 0 ? -v : v);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return (v < 0 ? "-" : "") + digits;
}

std::string FormatDouble(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string TypeName(duckdb_logical_type t) {
  duckdb_type id = duckdb_get_type_id(t);
  switch (id) {
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL(" + std::to_string(duckdb_decimal_width(t)) + "," +
             std::to_string(duckdb_decimal_scale(t)) + ")";
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    default: return "TYPE#" + std::to_string(static_cast<int>(id));
  }
}

// Renders row `r` of vector `vec` of logical type `t` as text.
Result<std::string> RenderCell(duckdb_logical_type t, duckdb_vector vec, idx_t r) {
  void* data = duckdb_vector_get_data(vec);
  switch (duckdb_get_type_id(t)) {
    case DUCKDB_TYPE_BOOLEAN: return std::string(static_cast<bool*>(data)[r] ? "true" : "false");
    case DUCKDB_TYPE_TINYINT: return std::to_string(static_cast<int8_t*>(data)[r]);
    case DUCKDB_TYPE_SMALLINT: return std::to_string(static_cast<int16_t*>(data)[r]);
    case DUCKDB_TYPE_INTEGER: return std::to_string(static_cast<int32_t*>(data)[r]);
    case DUCKDB_TYPE_BIGINT: return std::to_string(static_cast<int64_t*>(data)[r]);
    case DUCKDB_TYPE_UTINYINT: return std::to_string(static_cast<uint8_t*>(data)[r]);
    case DUCKDB_TYPE_USMALLINT: return std::to_string(static_cast<uint16_t*>(data)[r]);
    case DUCKDB_TYPE_UINTEGER: return std::to_string(static_cast<uint32_t*>(data)[r]);
    case DUCKDB_TYPE_UBIGINT: return std::to_string(static_cast<uint64_t*>(data)[r]);
    case DUCKDB_TYPE_HUGEINT: {
      duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[r];
      return FormatInt128((static_cast<__int128>(h.upper) << 64) | h.lower);
    }
    case DUCKDB_TYPE_FLOAT: return FormatDouble(static_cast<float*>(data)[r]);
    case DUCKDB_TYPE_DOUBLE: return FormatDouble(static_cast<double*>(data)[r]);
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
      duckdb_string_t* s = &static_cast<duckdb_string_t*>(data)[r];
      return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_DATE: return FormatDate(static_cast<int32_t*>(data)[r]);
    case DUCKDB_TYPE_TIMESTAMP: return FormatTimestamp(static_cast<int64_t*>(data)[r]);
    case DUCKDB_TYPE_TIMESTAMP_TZ: return FormatTimestamp(static_cast<int64_t*>(data)[r]) + "+00";
    case DUCKDB_TYPE_DECIMAL: {
      int scale = duckdb_decimal_scale(t);
      switch (duckdb_decimal_internal_type(t)) {
        case DUCKDB_TYPE_SMALLINT: return FormatDecimal(static_cast<int16_t*>(data)[r], scale);
        case DUCKDB_TYPE_INTEGER: return FormatDecimal(static_cast<int32_t*>(data)[r], scale);
        case DUCKDB_TYPE_BIGINT: return FormatDecimal(static_cast<int64_t*>(data)[r], scale);
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
  if (std::sscanf(name.c_str(), "DECIMAL(%d,%d)", &p, &s) == 2 && p >= 1 && p <= 18 && s >= 0 &&
      s <= p) {
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
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
                    .count();
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
  if (options.threads > 0) {
    duckdb_set_config(config, "threads", std::to_string(options.threads).c_str());
  }
  if (!options.memory_limit.empty()) {
    duckdb_set_config(config, "memory_limit", options.memory_limit.c_str());
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
  return std::unique_ptr<Connection>(new Connection(db, conn));
}

Connection::~Connection() {
  if (conn_) duckdb_disconnect(&conn_);
  if (db_) duckdb_close(&db_);
}

void Connection::Interrupt() { duckdb_interrupt(conn_); }

Status Connection::Execute(const std::string& sql) {
  SqlTrace trace(sql);
  duckdb_result res;
  if (duckdb_query(conn_, sql.c_str(), &res) != DuckDBSuccess) {
    std::string msg = duckdb_result_error(&res) ? duckdb_result_error(&res) : "unknown error";
    duckdb_destroy_result(&res);
    return Status::InvalidArgument(msg);
  }
  duckdb_destroy_result(&res);
  return Status::OK();
}

Result<Rows> Connection::Query(const std::string& sql) {
  SqlTrace trace(sql);
  duckdb_result res;
  if (duckdb_query(conn_, sql.c_str(), &res) != DuckDBSuccess) {
    std::string msg = duckdb_result_error(&res) ? duckdb_result_error(&res) : "unknown error";
    duckdb_destroy_result(&res);
    return Status::InvalidArgument(msg);
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
        if (!cell.ok()) { status = cell.status().WithContext(out.names[c]); break; }
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

Result<int64_t> Connection::QueryInt(const std::string& sql) {
  ASSIGN_OR_RETURN(Rows rows, Query(sql));
  if (rows.rows.empty() || rows.names.empty()) return Status::NotFound("no row: " + sql);
  return rows.IntAt(0, 0);
}

std::string Literal(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string Ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::unique_ptr<ChunkAppender>> ChunkAppender::Create(Connection& conn,
                                                             const std::string& schema,
                                                             const std::string& table,
                                                             const std::vector<std::string>& types) {
  std::unique_ptr<ChunkAppender> a(new ChunkAppender());
  for (const auto& t : types) {
    ASSIGN_OR_RETURN(duckdb_logical_type lt, LogicalTypeFromName(t));
    a->types_.push_back(lt);
  }
  if (duckdb_appender_create_ext(conn.raw(), nullptr, schema.c_str(), table.c_str(),
                                 &a->appender_) != DuckDBSuccess) {
    std::string msg = a->appender_ ? duckdb_appender_error(a->appender_) : "unknown error";
    return Status::InvalidArgument("appender on " + schema + "." + table + ": " + msg);
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
    return Status::InvalidArgument(std::string("append: ") + duckdb_appender_error(appender_));
  }
  return NewChunk();
}

Status ChunkAppender::Close() {
  if (duckdb_appender_close(appender_) != DuckDBSuccess) {
    return Status::InvalidArgument(std::string("append: ") + duckdb_appender_error(appender_));
  }
  return Status::OK();
}

}  // namespace sluice::duck
