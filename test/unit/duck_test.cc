// Unit tests of duck/: quoting, the text rendering of Rows, DuckDB errors as Status codes,
// settings, the lock probe, and the typed JSON encoder against exact expected text.
#include "duck/duck.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "duck/database_lock.h"
#include "duck/errors.h"
#include "duck/json_encoder.h"
#include "duck/result_stream.h"
#include "duck/value_text.h"

namespace sluice::duck {
namespace {

std::unique_ptr<Connection> Open() {
  auto conn = Connection::Open();
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return std::move(conn).value();
}

// ---- Literal and Ident ----------------------------------------------------------------------

TEST(QuotingTest, LiteralDoublesQuotes) {
  EXPECT_EQ(Literal("O'Hara"), "'O''Hara'");
  EXPECT_EQ(Literal(""), "''");
  EXPECT_EQ(Literal("''"), "''''''");
  EXPECT_EQ(Literal("a\"b\\c"), "'a\"b\\c'");
  EXPECT_EQ(Literal(std::string("a\0b", 3)), "('a' || chr(0) || 'b')");
}

TEST(QuotingTest, IdentDoublesDoubleQuotes) {
  EXPECT_EQ(Ident("orders"), "\"orders\"");
  EXPECT_EQ(Ident("my col"), "\"my col\"");
  EXPECT_EQ(Ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(Ident("it's"), "\"it's\"");
}

// Every value DuckDB reads back from Literal(v) is v, byte for byte.
TEST(QuotingTest, LiteralRoundTripsThroughDuckDB) {
  auto conn = Open();
  const std::string values[] = {"",
                                "O'Hara",
                                "'; DROP TABLE t; --",
                                "''''",
                                "say \"hi\"",
                                "back\\slash \\' ",
                                "line\nbreak\ttab\r",
                                "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\xA6\x86 \xE4\xB8\xAD\xE6\x96\x87",
                                std::string("nul\0inside", 10),
                                std::string("\0", 1),
                                std::string("'\0'", 3)};
  for (const auto& v : values) {
    auto rows = conn->Query("SELECT " + Literal(v) + " AS v, length(" + Literal(v) + ") AS n");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString() << " for " << Literal(v);
    EXPECT_EQ(rows->At(0, 0), v) << Literal(v);
  }
}

TEST(QuotingTest, IdentRoundTripsThroughDuckDB) {
  auto conn = Open();
  const std::string names[] = {"plain", "my col", "a\"b", "\"\"", "select", "caf\xC3\xA9 \xF0\x9F\xA6\x86",
                               "it's",  "dot.ted"};
  for (const auto& n : names) {
    auto rows = conn->Query("SELECT 1 AS " + Ident(n));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString() << " for " << Ident(n);
    EXPECT_EQ(rows->names.at(0), n);
    ASSERT_TRUE(conn->Execute("CREATE TABLE " + Ident(n) + " (" + Ident(n) + " INTEGER)").ok()) << n;
    auto tables = conn->Query("SELECT table_name FROM duckdb_tables() WHERE table_name = " + Literal(n));
    ASSERT_TRUE(tables.ok());
    EXPECT_EQ(tables->rows.size(), 1u) << n;
    ASSERT_TRUE(conn->Execute("DROP TABLE " + Ident(n)).ok()) << n;
  }
}

// A NUL ends DuckDB's SQL text inside the quotes: the statement fails, it never names another
// object (here: the NUL would otherwise hide a DROP).
TEST(QuotingTest, IdentWithNulFailsInsteadOfNamingAnotherObject) {
  auto conn = Open();
  ASSERT_TRUE(conn->Execute("CREATE TABLE keep (a INTEGER)").ok());
  Status st =
      conn->Execute("CREATE TABLE " + Ident(std::string("t\0\"; DROP TABLE keep; --", 24)) + " (a INTEGER)");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_TRUE(conn->Query("SELECT * FROM keep").ok());
}

// ---- Rows: text rendering -------------------------------------------------------------------

struct Rendered {
  const char* sql;
  const char* type;
  const char* text;  // nullptr: NULL
};

TEST(RowsTest, RendersEachSupportedType) {
  auto conn = Open();
  const Rendered cases[] = {
      {"true", "BOOLEAN", "true"},
      {"CAST(-128 AS TINYINT)", "TINYINT", "-128"},
      {"CAST(-32768 AS SMALLINT)", "SMALLINT", "-32768"},
      {"CAST(-2147483648 AS INTEGER)", "INTEGER", "-2147483648"},
      {"CAST(-9223372036854775808 AS BIGINT)", "BIGINT", "-9223372036854775808"},
      {"CAST(255 AS UTINYINT)", "UTINYINT", "255"},
      {"CAST(65535 AS USMALLINT)", "USMALLINT", "65535"},
      {"CAST(4294967295 AS UINTEGER)", "UINTEGER", "4294967295"},
      {"CAST(18446744073709551615 AS UBIGINT)", "UBIGINT", "18446744073709551615"},
      {"CAST('-170141183460469231731687303715884105728' AS HUGEINT)", "HUGEINT",
       "-170141183460469231731687303715884105728"},
      {"CAST(0.1 AS FLOAT)", "FLOAT", "0.1"},
      {"CAST(0.1 AS DOUBLE)", "DOUBLE", "0.1"},
      {"CAST(1e300 AS DOUBLE)", "DOUBLE", "1e+300"},
      {"CAST('inf' AS DOUBLE) - CAST('inf' AS DOUBLE)", "DOUBLE", "nan"},
      {"CAST('-inf' AS DOUBLE)", "DOUBLE", "-inf"},
      {"CAST(12.5 AS DECIMAL(4,2))", "DECIMAL(4,2)", "12.50"},
      {"CAST(-0.05 AS DECIMAL(3,2))", "DECIMAL(3,2)", "-0.05"},
      {"CAST(123456789012345.678 AS DECIMAL(18,3))", "DECIMAL(18,3)", "123456789012345.678"},
      {"CAST('1234567890123456789012345678.0123456789' AS DECIMAL(38,10))", "DECIMAL(38,10)",
       "1234567890123456789012345678.0123456789"},
      {"'O''Hara \xF0\x9F\xA6\x86'", "VARCHAR", "O'Hara \xF0\x9F\xA6\x86"},
      {"CAST('abc' AS BLOB)", "BLOB", "abc"},
      {"DATE '2026-01-03'", "DATE", "2026-01-03"},
      {"CAST('infinity' AS DATE)", "DATE", "infinity"},
      {"TIMESTAMP '2026-01-03 10:15:00'", "TIMESTAMP", "2026-01-03 10:15:00"},
      {"TIMESTAMP '2026-01-03 10:15:00.25'", "TIMESTAMP", "2026-01-03 10:15:00.25"},
      {"TIMESTAMP '1969-12-31 23:59:59.999999'", "TIMESTAMP", "1969-12-31 23:59:59.999999"},
      {"CAST('-infinity' AS TIMESTAMP)", "TIMESTAMP", "-infinity"},
      {"CAST('2026-01-03 10:15:00+02' AS TIMESTAMPTZ)", "TIMESTAMP WITH TIME ZONE", "2026-01-03 08:15:00+00"},
      {"CAST(NULL AS VARCHAR)", "VARCHAR", nullptr},
  };
  for (const auto& c : cases) {
    auto rows = conn->Query(std::string("SELECT ") + c.sql + " AS v");
    ASSERT_TRUE(rows.ok()) << c.sql << ": " << rows.status().ToString();
    EXPECT_EQ(rows->types.at(0), c.type) << c.sql;
    if (c.text == nullptr) {
      EXPECT_FALSE(rows->rows.at(0).at(0).has_value()) << c.sql;
    } else {
      EXPECT_EQ(rows->At(0, 0, "<NULL>"), c.text) << c.sql;
    }
  }
}

// Rows are read chunk by chunk: more rows than one chunk holds come back whole and in order.
TEST(RowsTest, ReadsEveryChunk) {
  auto conn = Open();
  auto rows = conn->Query("SELECT i, i * 2 AS j FROM range(5000) t(i) ORDER BY i");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 5000u);
  EXPECT_EQ(rows->IntAt(4999, 0), 4999);
  EXPECT_EQ(rows->IntAt(4999, 1), 9998);
  EXPECT_EQ(*conn->QueryInt("SELECT count(*) FROM range(7)"), 7);
  EXPECT_EQ(conn->QueryInt("SELECT 1 WHERE false").status().code(), StatusCode::kNotFound);
}

TEST(RowsTest, NestedTypesAskForACast) {
  auto conn = Open();
  auto rows = conn->Query("SELECT [1, 2] AS l");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
}

// ---- Errors ---------------------------------------------------------------------------------

TEST(ErrorsTest, MapsDuckDBErrorTypes) {
  auto conn = Open();
  ASSERT_TRUE(conn->Execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER NOT NULL);"
                            "INSERT INTO t VALUES (1, 1)")
                  .ok());
  struct Case {
    const char* sql;
    StatusCode code;
  } cases[] = {
      {"SELEC 1", StatusCode::kInvalidArgument},                               // parser
      {"SELECT nope FROM t", StatusCode::kInvalidArgument},                    // binder
      {"SELECT CAST('x' AS INTEGER)", StatusCode::kInvalidArgument},           // conversion
      {"SELECT * FROM missing_table", StatusCode::kNotFound},                  // catalog
      {"INSERT INTO t VALUES (1, 2)", StatusCode::kAborted},                   // duplicate key
      {"INSERT INTO t VALUES (2, NULL)", StatusCode::kAborted},                // NOT NULL
      {"SELECT * FROM read_csv('/nonexistent/x.csv')", StatusCode::kIOError},  // IO
      {"SET no_such_setting = 1", StatusCode::kNotFound},                      // catalog
  };
  for (const auto& c : cases) {
    Status st = conn->Execute(c.sql);
    EXPECT_EQ(st.code(), c.code) << c.sql << ": " << st.ToString();
    EXPECT_FALSE(st.message().empty());
    auto rows = conn->Query(c.sql);
    EXPECT_EQ(rows.status().code(), c.code) << c.sql;
    auto stream = ResultStream::Open(*conn, c.sql);
    EXPECT_EQ(stream.ok() ? StatusCode::kOk : stream.status().code(), c.code) << c.sql;
  }
  EXPECT_EQ(*conn->QueryInt("SELECT count(*) FROM t"), 1);  // the failed inserts left nothing
}

TEST(ErrorsTest, TableOfCodes) {
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_SYNTAX), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_PARSER), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_PERMISSION), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_CATALOG), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_CONSTRAINT), StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_TRANSACTION), StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_INTERRUPT), StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_IO), StatusCode::kIOError);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_SERIALIZATION), StatusCode::kCorruption);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_OUT_OF_MEMORY), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_FATAL), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForError(DUCKDB_ERROR_INTERNAL), StatusCode::kAborted);
}

TEST(ErrorsTest, AppenderOnAMissingTableIsNotFound) {
  auto conn = Open();
  auto appender = ChunkAppender::Create(*conn, "main", "missing", {"BIGINT"});
  ASSERT_FALSE(appender.ok());
  EXPECT_EQ(appender.status().code(), StatusCode::kNotFound) << appender.status().ToString();
}

// ---- Settings -------------------------------------------------------------------------------

TEST(OpenTest, ABadSettingIsAnErrorNamingIt) {
  OpenOptions options;
  options.memory_limit = "lots";
  auto conn = Connection::Open(options);
  ASSERT_FALSE(conn.ok()) << "memory_limit=lots was accepted";
  EXPECT_EQ(conn.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conn.status().message().find("memory_limit"), std::string::npos) << conn.status().message();
}

TEST(OpenTest, GoodSettingsApply) {
  OpenOptions options;
  options.threads = 2;
  options.memory_limit = "256MB";
  auto conn = Connection::Open(options);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(*(*conn)->QueryInt("SELECT current_setting('threads')"), 2);
  auto limit = (*conn)->Query("SELECT current_setting('memory_limit')");
  ASSERT_TRUE(limit.ok());
  EXPECT_NE(limit->At(0, 0), "") << "memory_limit";
}

// ---- The lock probe -------------------------------------------------------------------------

// A child process holds a POSIX record lock of `type` on `path` until `release` is written to.
struct LockHolder {
  pid_t pid = -1;
  int release = -1;
};

LockHolder HoldLock(const std::string& path, short type) {
  int ready[2], go[2];
  EXPECT_EQ(::pipe(ready), 0);
  EXPECT_EQ(::pipe(go), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls in the child of a threaded process.
    ::close(go[1]);  // so that the parent closing its end is seen as end of file
    ::close(ready[0]);
    int fd = ::open(path.c_str(), O_RDWR);
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0) ? 'y' : 'n';
    (void)::write(ready[1], &ok, 1);
    char c;
    (void)::read(go[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char ok = 'n';
  EXPECT_EQ(::read(ready[0], &ok, 1), 1);
  EXPECT_EQ(ok, 'y');
  ::close(ready[0]);
  return {pid, go[1]};
}

void Release(const LockHolder& h) {
  ::close(h.release);
  int status = 0;
  ::waitpid(h.pid, &status, 0);
}

TEST(DatabaseLockTest, NamesTheProcessHoldingTheLock) {
  char dir[] = "/tmp/sluice-duck-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/db.duckdb";
  {
    auto conn = Open();
    ASSERT_TRUE(conn->Execute("ATTACH " + Literal(path) + " AS db; CREATE TABLE db.t (a INT)").ok());
  }
  EXPECT_EQ(DatabaseLockHolder(path, true), std::nullopt);
  EXPECT_EQ(DatabaseLockHolder(dir + std::string("/missing"), true), std::nullopt);

  LockHolder writer = HoldLock(path, F_WRLCK);
  EXPECT_EQ(DatabaseLockHolder(path, true), writer.pid);
  EXPECT_EQ(DatabaseLockHolder(path, false), writer.pid);
  {
    // DuckDB's own refusal is an IOError (and the probe explains it).
    auto conn = Open();
    Status st = conn->Execute("ATTACH " + Literal(path) + " AS db");
    EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  }
  Release(writer);
  EXPECT_EQ(DatabaseLockHolder(path, true), std::nullopt);

  LockHolder reader = HoldLock(path, F_RDLCK);
  EXPECT_EQ(DatabaseLockHolder(path, true), reader.pid);     // a writer must wait for readers
  EXPECT_EQ(DatabaseLockHolder(path, false), std::nullopt);  // readers share
  Release(reader);
  std::remove(path.c_str());
  std::remove((path + ".wal").c_str());
  ::rmdir(dir);
}

// ---- value_text -----------------------------------------------------------------------------

TEST(ValueTextTest, Formats) {
  EXPECT_EQ(FormatInt128(0), "0");
  EXPECT_EQ(FormatInt128(-static_cast<__int128>(1) << 127), "-170141183460469231731687303715884105728");
  EXPECT_EQ(FormatUInt128(~static_cast<unsigned __int128>(0)), "340282366920938463463374607431768211455");
  EXPECT_EQ(FormatDecimal(-5, 2), "-0.05");
  EXPECT_EQ(FormatDecimal(0, 3), "0.000");
  EXPECT_EQ(FormatDecimal(7, 0), "7");
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  // Day numbers from DuckDB: SELECT DATE '0001-01-01' - 1 - DATE '1970-01-01', ...
  EXPECT_EQ(FormatDate(-719163), "0000-12-31");   // 1 BC, astronomical year 0
  EXPECT_EQ(FormatDate(-735525), "-0044-03-15");  // DuckDB's DATE '-44-03-15'
  EXPECT_EQ(FormatDate(2932897), "+10000-01-01");
  EXPECT_EQ(FormatTimestamp(-1, 6, TimestampStyle::kRfc3339), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(1767435300, 0, TimestampStyle::kSql), "2026-01-03 10:15:00");
  EXPECT_EQ(FormatTimestamp(1767435300123, 3, TimestampStyle::kRfc3339), "2026-01-03T10:15:00.123Z");
  EXPECT_EQ(FormatInterval(0, 0, 0), "PT0S");
  EXPECT_EQ(FormatInterval(14, 3, 14706500000), "P1Y2M3DT4H5M6.5S");
  EXPECT_EQ(FormatInterval(0, -1, -5400000000), "P-1DT-1H-30M");
  EXPECT_EQ(FormatInterval(0, 0, -500000), "PT-0.5S");
  EXPECT_EQ(Base64("", 0), "");
  EXPECT_EQ(Base64("f", 1), "Zg==");
  EXPECT_EQ(Base64("fo", 2), "Zm8=");
  EXPECT_EQ(Base64("foobar", 6), "Zm9vYmFy");  // RFC 4648 test vectors
}

// ---- JSON -----------------------------------------------------------------------------------

// The result of `sql` as JsonRowWriter writes it, or "error: <Status>".
std::string Json(Connection& conn, const std::string& sql,
                 JsonRowWriter::Layout layout = JsonRowWriter::Layout::kLines) {
  auto result = ResultStream::Open(conn, sql);
  if (!result.ok()) return "error: " + result.status().ToString();
  auto writer = JsonRowWriter::Create((*result)->names(), (*result)->types(), layout);
  if (!writer.ok()) return "error: " + writer.status().ToString();
  std::string out;
  (*writer)->Begin(&out);
  std::unique_ptr<Chunk> chunk;
  while ((*result)->Next(&chunk)) (*writer)->WriteChunk(*chunk, &out);
  (*writer)->End(&out);
  return out;
}

struct Encoded {
  const char* sql;   // a select list of one row
  const char* json;  // the exact line JsonRowWriter writes for it
};

TEST(JsonTest, EncodesEveryTypeExactly) {
  auto conn = Open();
  ASSERT_TRUE(conn->Execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')").ok());
  const Encoded cases[] = {
      {"NULL AS n, CAST(NULL AS VARCHAR) AS s, true AS t, false AS f",
       R"({"n":null,"s":null,"t":true,"f":false})"},
      {"CAST(-128 AS TINYINT) a, CAST(-32768 AS SMALLINT) b, CAST(-2147483648 AS INTEGER) c, "
       "CAST(-9223372036854775808 AS BIGINT) d",
       R"({"a":-128,"b":-32768,"c":-2147483648,"d":-9223372036854775808})"},
      {"CAST(255 AS UTINYINT) a, CAST(65535 AS USMALLINT) b, CAST(4294967295 AS UINTEGER) c, "
       "CAST(18446744073709551615 AS UBIGINT) d",
       R"({"a":255,"b":65535,"c":4294967295,"d":18446744073709551615})"},
      {"CAST('-170141183460469231731687303715884105728' AS HUGEINT) h, "
       "CAST('170141183460469231731687303715884105727' AS HUGEINT) i, "
       "CAST('340282366920938463463374607431768211455' AS UHUGEINT) u",
       R"({"h":-170141183460469231731687303715884105728,"i":170141183460469231731687303715884105727,)"
       R"("u":340282366920938463463374607431768211455})"},
      {"CAST(0.1 AS FLOAT) f, CAST(0.1 AS DOUBLE) d, CAST(1e300 AS DOUBLE) e, "
       "CAST(100 AS DOUBLE) i, CAST(1.5e-7 AS DOUBLE) s",
       R"({"f":0.1,"d":0.1,"e":1e+300,"i":100,"s":1.5e-07})"},
      {"CAST('inf' AS DOUBLE) - CAST('inf' AS DOUBLE) AS nan, CAST('inf' AS DOUBLE) AS inf, "
       "CAST('-inf' AS DOUBLE) AS ninf, CAST('nan' AS FLOAT) AS fnan, CAST('-inf' AS FLOAT) AS "
       "finf",
       R"({"nan":null,"inf":null,"ninf":null,"fnan":null,"finf":null})"},
      {"CAST(12.5 AS DECIMAL(4,2)) a, CAST(-0.05 AS DECIMAL(3,2)) b, "
       "CAST(123456789012345.678 AS DECIMAL(18,3)) c, CAST(7 AS DECIMAL(9,0)) d, "
       "CAST('1234567890123456789012345678.0123456789' AS DECIMAL(38,10)) e, "
       "CAST('-0.0000000001' AS DECIMAL(38,10)) f, CAST(0 AS DECIMAL(38,10)) g",
       R"({"a":12.50,"b":-0.05,"c":123456789012345.678,"d":7,)"
       R"("e":1234567890123456789012345678.0123456789,"f":-0.0000000001,"g":0.0000000000})"},
      {"'say \"hi\" \\ back' AS q, 'line' || chr(10) || 'tab' || chr(9) || 'cr' || chr(13) AS c, "
       "chr(1) || chr(31) || chr(127) AS ctl, 'caf\xC3\xA9 \xF0\x9F\xA6\x86' AS u, chr(0) AS nul",
       "{\"q\":\"say \\\"hi\\\" \\\\ "
       "back\",\"c\":\"line\\ntab\\tcr\\r\",\"ctl\":\"\\u0001\\u001f\x7f\","
       "\"u\":\"caf\xC3\xA9 \xF0\x9F\xA6\x86\",\"nul\":\"\\u0000\"}"},
      {"CAST('\\x00\\xFFabc' AS BLOB) AS b, CAST('' AS BLOB) AS e", R"({"b":"AP9hYmM=","e":""})"},
      {"CAST('happy' AS mood) AS m", R"({"m":"happy"})"},
      {"DATE '2026-01-03' AS d, CAST('infinity' AS DATE) AS i, CAST('-infinity' AS DATE) AS n",
       R"({"d":"2026-01-03","i":null,"n":null})"},
      {"TIMESTAMP '2026-01-03 10:15:00' AS a, TIMESTAMP '2026-01-03 10:15:00.25' AS b, "
       "TIMESTAMP '1969-12-31 23:59:59.999999' AS c, CAST('infinity' AS TIMESTAMP) AS i",
       R"({"a":"2026-01-03T10:15:00Z","b":"2026-01-03T10:15:00.25Z","c":"1969-12-31T23:59:59.999999Z","i":null})"},
      {"CAST('2026-01-03 10:15:00+02' AS TIMESTAMPTZ) AS tz, "
       "CAST('2026-01-03 10:15:00' AS TIMESTAMP_S) AS s, "
       "CAST('2026-01-03 10:15:00.123' AS TIMESTAMP_MS) AS ms, "
       "CAST('2026-01-03 10:15:00.123456789' AS TIMESTAMP_NS) AS ns",
       R"({"tz":"2026-01-03T08:15:00Z","s":"2026-01-03T10:15:00Z","ms":"2026-01-03T10:15:00.123Z",)"
       R"("ns":"2026-01-03T10:15:00.123456789Z"})"},
      {"TIME '10:15:00.5' AS t, CAST('10:15:00+05:30' AS TIMETZ) AS tz, "
       "CAST('23:59:59-03' AS TIMETZ) AS w",
       R"({"t":"10:15:00.5","tz":"10:15:00+05:30","w":"23:59:59-03:00"})"},
      {"INTERVAL '1 year 2 months 3 days 04:05:06.5' AS a, INTERVAL '-90 minutes' AS b, "
       "INTERVAL '0 seconds' AS z",
       R"({"a":"P1Y2M3DT4H5M6.5S","b":"PT-1H-30M","z":"PT0S"})"},
      {"UUID '0b5e7f1c-3a2d-4c8e-9f00-1234567890ab' AS a, "
       "UUID '00000000-0000-0000-0000-000000000000' AS z, "
       "UUID 'ffffffff-ffff-ffff-ffff-ffffffffffff' AS f",
       R"({"a":"0b5e7f1c-3a2d-4c8e-9f00-1234567890ab","z":"00000000-0000-0000-0000-000000000000",)"
       R"("f":"ffffffff-ffff-ffff-ffff-ffffffffffff"})"},
      {"CAST('0101' AS BIT) AS a, CAST('101010101' AS BIT) AS b", R"({"a":"0101","b":"101010101"})"},
      {"[1, 2, NULL] AS l, CAST([] AS INTEGER[]) AS e, [[1], [2, 3], NULL] AS n, "
       "CAST(NULL AS INTEGER[]) AS nl",
       R"({"l":[1,2,null],"e":[],"n":[[1],[2,3],null],"nl":null})"},
      {"CAST([1, 2, 3] AS INTEGER[3]) AS a, CAST([[1.5, NULL], [NULL, 2]] AS DOUBLE[2][2]) AS m",
       R"({"a":[1,2,3],"m":[[1.5,null],[null,2]]})"},
      {"{'a': 1, 'b': 'x', 'we\"ird': NULL} AS s, CAST(NULL AS STRUCT(a INTEGER)) AS n",
       R"({"s":{"a":1,"b":"x","we\"ird":null},"n":null})"},
      {"[{'k': 1, 'd': CAST(1.5 AS DECIMAL(5,2)), 't': TIMESTAMP '2026-01-03 10:15:00'}, "
       "{'k': 2, 'd': NULL, 't': NULL}] AS ls",
       R"({"ls":[{"k":1,"d":1.50,"t":"2026-01-03T10:15:00Z"},{"k":2,"d":null,"t":null}]})"},
      {"MAP {'a': 1, 'b': 2} AS m, MAP {1: [1.5], 2: NULL} AS n, MAP {} AS e",
       R"({"m":[{"key":"a","value":1},{"key":"b","value":2}],)"
       R"("n":[{"key":1,"value":[1.5]},{"key":2,"value":null}],"e":[]})"},
      {"union_value(num := 2)::UNION(num INTEGER, str VARCHAR) AS a, "
       "union_value(str := 'x')::UNION(num INTEGER, str VARCHAR) AS b",
       R"({"a":2,"b":"x"})"},
      {"1 AS \"we\"\"ird\", 2 AS \"caf\xC3\xA9\"", "{\"we\\\"ird\":1,\"caf\xC3\xA9\":2}"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Json(*conn, std::string("SELECT ") + c.sql), std::string(c.json) + "\n") << c.sql;
  }
}

TEST(JsonTest, ArrayLayoutOneRowPerLine) {
  auto conn = Open();
  using Layout = JsonRowWriter::Layout;
  EXPECT_EQ(Json(*conn, "SELECT 1 AS a WHERE false", Layout::kArray), "[]\n");
  EXPECT_EQ(Json(*conn, "SELECT 1 AS a WHERE false", Layout::kLines), "");
  EXPECT_EQ(Json(*conn, "SELECT i FROM range(3) t(i) ORDER BY i", Layout::kArray),
            "[{\"i\":0},\n{\"i\":1},\n{\"i\":2}]\n");
}

TEST(JsonTest, EveryChunkIsWritten) {
  auto conn = Open();
  std::string out = Json(*conn, "SELECT i FROM range(5000) t(i) ORDER BY i");
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, 5000u);
  const std::string last = "}\n{\"i\":4999}\n";
  EXPECT_EQ(out.substr(out.size() - last.size()), last);
}

TEST(JsonTest, RefusesTypesWithoutAnEncodingNamingTheColumn) {
  auto conn = Open();
  std::string out = Json(*conn, "SELECT CAST(123 AS BIGNUM) AS big");
  EXPECT_EQ(out.rfind("error: InvalidArgument: column big:", 0), 0u) << out;
}

TEST(JsonTest, StringsAreAlwaysValidUtf8) {
  auto s = [](std::string_view in) {
    std::string out;
    AppendJsonString(in, &out);
    return out;
  };
  EXPECT_EQ(s(""), "\"\"");
  EXPECT_EQ(s("a\xFF"
              "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");                                                          // invalid byte -> U+FFFD
  EXPECT_EQ(s("\xC3"), "\"\xEF\xBF\xBD\"");                                  // truncated sequence
  EXPECT_EQ(s("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate, per byte
  EXPECT_EQ(s("\xC0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong NUL
  EXPECT_EQ(s("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");                          // valid, kept as is
  EXPECT_EQ(s(std::string_view("\0\b\f/", 4)), "\"\\u0000\\b\\f/\"");
}

}  // namespace
}  // namespace sluice::duck
