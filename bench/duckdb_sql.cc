// duckdb_sql: runs a SQL script against a fresh DuckDB database file, statement by statement, and
// reports the wall time of each statement. It is the runner of the benchmark's plain-DuckDB
// reference (bench/plain_duckdb.sql) and of the result checks in bench/run.sh; it is not part of
// the engine and deliberately uses nothing but the DuckDB C API.
//
//   duckdb_sql --db FILE [--var NAME=VALUE]... [--batch FILE]... [--timings FILE] SCRIPT|-
//
// SCRIPT may be split into sections by marker lines:
//   -- @setup   statements run once, first (also the default section before any marker)
//   -- @batch   statements run once per --batch FILE, in order, with ${BATCH} = the file and
//               ${BATCH_NO} = its 1-based number
//   -- @final   statements run once, last
// A comment line `-- @step NAME` names the statement that follows it (its timing label).
// ${NAME} is replaced by the value of --var NAME=VALUE; an unknown ${NAME} is an error.
//
// Results of SELECT-like statements are printed to stdout (tab-separated, with a header; at most
// 100 rows). Per-statement times go to stderr and, with --timings, to FILE as TSV lines
// `section  batch  step  seconds`. Exit status 0 when every statement succeeded; 1 with the
// failing statement's step and error on stderr otherwise (later statements are not run).
//
// Results are read through data chunks and vectors (duckdb_fetch_chunk), never through the
// deprecated duckdb_value_* accessors, which crash on some types in DuckDB 1.4 (docs/DUCKDB_HAZARDS.md).
#include <duckdb.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Statement {
  std::string step;  // label for timings
  std::string sql;
};

struct Script {
  std::vector<Statement> setup, batch, final;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "duckdb_sql: %s\n", message.c_str());
  std::exit(2);
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A label for a statement without `-- @step`: its first few words.
std::string DefaultStep(const std::string& sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= 40) break;
  }
  return out;
}

// Splits a script into sections and statements. Understands '...' and "..." (doubled quotes),
// E'...' (backslash escapes), $tag$...$tag$, -- line comments and /* */ block comments, so a ';'
// inside any of them does not end a statement.
Script Parse(const std::string& text) {
  Script script;
  std::vector<Statement>* section = &script.setup;
  std::string current, pending_step;
  auto flush = [&] {
    std::string sql = Trim(current);
    current.clear();
    // A statement of only comments is not a statement.
    bool has_code = false;
    {
      size_t i = 0;
      while (i < sql.size()) {
        if (sql.compare(i, 2, "--") == 0) {
          i = sql.find('\n', i);
          if (i == std::string::npos) break;
        } else if (sql.compare(i, 2, "/*") == 0) {
          i = sql.find("*/", i);
          if (i == std::string::npos) break;
          i += 2;
        } else if (std::isspace(static_cast<unsigned char>(sql[i]))) {
          ++i;
        } else {
          has_code = true;
          break;
        }
      }
    }
    if (!has_code) return;
    section->push_back({pending_step.empty() ? DefaultStep(sql) : pending_step, sql});
    pending_step.clear();
  };
  size_t i = 0, n = text.size();
  bool line_start = true;
  while (i < n) {
    char c = text[i];
    if (c == '-' && i + 1 < n && text[i + 1] == '-') {
      size_t end = text.find('\n', i);
      if (end == std::string::npos) end = n;
      std::string comment = Trim(text.substr(i + 2, end - i - 2));
      if (line_start && comment.rfind("@", 0) == 0) {
        std::istringstream words(comment);
        std::string marker, arg;
        words >> marker >> arg;
        if (marker == "@setup" || marker == "@batch" || marker == "@final") {
          flush();
          section = marker == "@setup" ? &script.setup : marker == "@batch" ? &script.batch : &script.final;
        } else if (marker == "@step") {
          pending_step = arg;
        } else {
          Die("unknown marker: -- " + comment);
        }
        i = end;
        continue;
      }
      current.append(text, i, end - i);
      i = end;
      continue;
    }
    if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      end = end == std::string::npos ? n : end + 2;
      current.append(text, i, end - i);
      i = end;
      line_start = false;
      continue;
    }
    if (c == '\'' || c == '"') {
      bool escapes =
          c == '\'' && i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
          (i < 2 || !(std::isalnum(static_cast<unsigned char>(text[i - 2])) || text[i - 2] == '_'));
      size_t j = i + 1;
      while (j < n) {
        if (escapes && text[j] == '\\') {
          j += 2;
          continue;
        }
        if (text[j] == c) {
          if (j + 1 < n && text[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      j = j < n ? j + 1 : n;
      current.append(text, i, j - i);
      i = j;
      line_start = false;
      continue;
    }
    if (c == '$') {
      size_t j = i + 1;
      while (j < n && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
      if (j < n && text[j] == '$' && (j == i + 1 || !std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
        std::string tag = text.substr(i, j - i + 1);
        size_t end = text.find(tag, j + 1);
        end = end == std::string::npos ? n : end + tag.size();
        current.append(text, i, end - i);
        i = end;
        line_start = false;
        continue;
      }
    }
    if (c == ';') {
      flush();
      ++i;
      line_start = false;
      continue;
    }
    if (c == '\n') {
      line_start = true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      line_start = false;
    }
    current += c;
    ++i;
  }
  flush();
  return script;
}

std::string Substitute(const std::string& sql, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < sql.size()) {
    if (sql[i] == '$' && i + 1 < sql.size() && sql[i + 1] == '{') {
      size_t end = sql.find('}', i + 2);
      if (end == std::string::npos) Die("unterminated ${ in: " + DefaultStep(sql));
      std::string name = sql.substr(i + 2, end - i - 2);
      auto it = vars.find(name);
      if (it == vars.end()) Die("no value for ${" + name + "} (pass --var " + name + "=...)");
      out += it->second;
      i = end + 1;
    } else {
      out += sql[i++];
    }
  }
  return out;
}

// One cell of a vector as text; NULL as "NULL".
std::string CellText(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  if (validity && !duckdb_validity_row_is_valid(validity, row)) return "NULL";
  void* data = duckdb_vector_get_data(vector);
  char buf[64];
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
      duckdb_string_t* s = static_cast<duckdb_string_t*>(data) + row;
      return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_BOOLEAN:
      return static_cast<bool*>(data)[row] ? "true" : "false";
    case DUCKDB_TYPE_TINYINT:
      return std::to_string(static_cast<int8_t*>(data)[row]);
    case DUCKDB_TYPE_SMALLINT:
      return std::to_string(static_cast<int16_t*>(data)[row]);
    case DUCKDB_TYPE_INTEGER:
      return std::to_string(static_cast<int32_t*>(data)[row]);
    case DUCKDB_TYPE_BIGINT:
      return std::to_string(static_cast<int64_t*>(data)[row]);
    case DUCKDB_TYPE_UTINYINT:
      return std::to_string(static_cast<uint8_t*>(data)[row]);
    case DUCKDB_TYPE_USMALLINT:
      return std::to_string(static_cast<uint16_t*>(data)[row]);
    case DUCKDB_TYPE_UINTEGER:
      return std::to_string(static_cast<uint32_t*>(data)[row]);
    case DUCKDB_TYPE_UBIGINT:
      return std::to_string(static_cast<uint64_t*>(data)[row]);
    case DUCKDB_TYPE_FLOAT: {  // the shortest text that reads back as the same value
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<float*>(data)[row]);
      return std::string(buf, ec == std::errc() ? end : buf);
    }
    case DUCKDB_TYPE_DOUBLE: {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double*>(data)[row]);
      return std::string(buf, ec == std::errc() ? end : buf);
    }
    case DUCKDB_TYPE_DATE: {
      duckdb_date_struct d = duckdb_from_date(static_cast<duckdb_date*>(data)[row]);
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
      return buf;
    }
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ: {
      duckdb_timestamp_struct t = duckdb_from_timestamp(static_cast<duckdb_timestamp*>(data)[row]);
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.date.year, t.date.month, t.date.day,
                    t.time.hour, t.time.min, t.time.sec);
      return buf;
    }
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_DECIMAL: {
      // Decimals are stored as scaled integers of a width-dependent physical type.
      uint8_t scale = 0;
      __int128 v = 0;
      if (duckdb_get_type_id(type) == DUCKDB_TYPE_HUGEINT) {
        duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[row];
        v = (static_cast<__int128>(h.upper) << 64) | h.lower;
      } else {
        scale = duckdb_decimal_scale(type);
        switch (duckdb_decimal_internal_type(type)) {
          case DUCKDB_TYPE_SMALLINT:
            v = static_cast<int16_t*>(data)[row];
            break;
          case DUCKDB_TYPE_INTEGER:
            v = static_cast<int32_t*>(data)[row];
            break;
          case DUCKDB_TYPE_BIGINT:
            v = static_cast<int64_t*>(data)[row];
            break;
          default: {
            duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[row];
            v = (static_cast<__int128>(h.upper) << 64) | h.lower;
          }
        }
      }
      bool negative = v < 0;
      unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
      std::string digits;
      do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
      } while (u);
      if (scale) {
        while (digits.size() <= scale) digits.insert(digits.begin(), '0');
        digits.insert(digits.end() - scale, '.');
      }
      return negative ? "-" + digits : digits;
    }
    default:
      return "<type " + std::to_string(duckdb_get_type_id(type)) + ": cast to VARCHAR>";
  }
}

void PrintResult(duckdb_result* result) {
  idx_t columns = duckdb_column_count(result);
  std::vector<duckdb_logical_type> types(columns);
  for (idx_t c = 0; c < columns; ++c) {
    types[c] = duckdb_column_logical_type(result, c);
    std::printf("%s%s", c ? "\t" : "", duckdb_column_name(result, c));
  }
  std::printf("\n");
  const idx_t kMaxRows = 100;
  idx_t printed = 0, total = 0;
  while (duckdb_data_chunk chunk = duckdb_fetch_chunk(*result)) {
    idx_t rows = duckdb_data_chunk_get_size(chunk);
    for (idx_t r = 0; r < rows; ++r, ++total) {
      if (printed >= kMaxRows) continue;
      for (idx_t c = 0; c < columns; ++c) {
        std::string cell = CellText(duckdb_data_chunk_get_vector(chunk, c), types[c], r);
        std::printf("%s%s", c ? "\t" : "", cell.c_str());
      }
      std::printf("\n");
      ++printed;
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  if (total > printed) std::printf("... (%" PRIu64 " rows, %" PRIu64 " shown)\n", total, printed);
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  std::fflush(stdout);
}

struct Runner {
  duckdb_connection conn;
  std::FILE* timings = nullptr;
  std::map<std::string, double> step_totals;  // step -> seconds over all batches
  std::vector<std::string> step_order;

  // Runs one statement; returns false (after printing the error) when it failed.
  bool Run(const std::string& section, int batch_no, const Statement& st, const std::string& sql) {
    duckdb_result result;
    auto start = std::chrono::steady_clock::now();
    duckdb_state state = duckdb_query(conn, sql.c_str(), &result);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (state != DuckDBSuccess) {
      std::fprintf(stderr, "duckdb_sql: %s%s step '%s' failed: %s\n", section.c_str(),
                   batch_no ? (" " + std::to_string(batch_no)).c_str() : "", st.step.c_str(),
                   duckdb_result_error(&result));
      duckdb_destroy_result(&result);
      return false;
    }
    if (duckdb_result_statement_type(result) == DUCKDB_STATEMENT_TYPE_SELECT) PrintResult(&result);
    duckdb_destroy_result(&result);
    std::fprintf(stderr, "  %-6s %3d  %-32s %8.3f s\n", section.c_str(), batch_no, st.step.c_str(), seconds);
    if (timings)
      std::fprintf(timings, "%s\t%d\t%s\t%.6f\n", section.c_str(), batch_no, st.step.c_str(), seconds);
    if (!step_totals.count(st.step)) step_order.push_back(st.step);
    step_totals[st.step] += seconds;
    return true;
  }
};

void Usage() {
  std::fprintf(stderr,
               "usage: duckdb_sql --db FILE [--var NAME=VALUE]... [--batch FILE]... [--timings FILE] "
               "SCRIPT|-\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, script_path, timings_path;
  std::map<std::string, std::string> vars;
  std::vector<std::string> batches;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (arg == "--db") {
      db_path = value();
    } else if (arg == "--var") {
      std::string kv = value();
      size_t eq = kv.find('=');
      if (eq == std::string::npos) Usage();
      vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (arg == "--batch") {
      batches.push_back(value());
    } else if (arg == "--timings") {
      timings_path = value();
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      Usage();
    } else if (script_path.empty()) {
      script_path = arg;
    } else {
      Usage();
    }
  }
  if (db_path.empty() || script_path.empty()) Usage();

  std::stringstream text;
  if (script_path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(script_path, std::ios::binary);
    if (!in) Die("cannot read " + script_path + ": " + std::strerror(errno));
    text << in.rdbuf();
  }
  Script script = Parse(text.str());
  if (!script.batch.empty() && batches.empty())
    Die("the script has a @batch section but no --batch was given");

  // A fresh database every time: the benchmark measures a run from empty.
  if (db_path != ":memory:") {
    std::remove(db_path.c_str());
    std::remove((db_path + ".wal").c_str());
  }
  duckdb_database db;
  char* open_error = nullptr;
  duckdb_config config;
  duckdb_create_config(&config);
  if (duckdb_open_ext(db_path == ":memory:" ? nullptr : db_path.c_str(), &db, config, &open_error) !=
      DuckDBSuccess) {
    Die("cannot open " + db_path + ": " + (open_error ? open_error : "?"));
  }
  duckdb_destroy_config(&config);
  Runner runner;
  if (duckdb_connect(db, &runner.conn) != DuckDBSuccess) Die("cannot connect");
  if (!timings_path.empty()) {
    runner.timings = std::fopen(timings_path.c_str(), "w");
    if (!runner.timings) Die("cannot write " + timings_path + ": " + std::strerror(errno));
  }

  auto start = std::chrono::steady_clock::now();
  bool ok = true;
  for (const Statement& st : script.setup) {
    if (!(ok = runner.Run("setup", 0, st, Substitute(st.sql, vars)))) break;
  }
  for (size_t b = 0; ok && b < batches.size(); ++b) {
    auto batch_vars = vars;
    batch_vars["BATCH"] = batches[b];
    batch_vars["BATCH_NO"] = std::to_string(b + 1);
    for (const Statement& st : script.batch) {
      if (!(ok = runner.Run("batch", static_cast<int>(b + 1), st, Substitute(st.sql, batch_vars)))) break;
    }
  }
  for (size_t s = 0; ok && s < script.final.size(); ++s) {
    ok = runner.Run("final", 0, script.final[s], Substitute(script.final[s].sql, vars));
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (script.batch.size() && ok) {
    std::fprintf(stderr, "  per step, summed over %zu batches:\n", batches.size());
    for (const auto& step : runner.step_order) {
      std::fprintf(stderr, "    %-32s %8.3f s\n", step.c_str(), runner.step_totals[step]);
    }
  }
  std::fprintf(stderr, "  total %.3f s\n", total);
  if (runner.timings) {
    std::fprintf(runner.timings, "total\t0\ttotal\t%.6f\n", total);
    std::fclose(runner.timings);
  }
  duckdb_disconnect(&runner.conn);
  duckdb_close(&db);
  return ok ? 0 : 1;
}
