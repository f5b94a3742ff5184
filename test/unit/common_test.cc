// Unit tests of common/: Status and Result, timestamps, UTF-8 validation, failpoints, a
// known-answer test of the content hash, and a thread's CPU time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "common/cpu_time.h"
#include "common/env.h"
#include "common/failpoint.h"
#include "common/hash.h"
#include "common/status.h"
#include "common/utf8.h"

namespace sluice {
namespace {

// ---- Status and Result ----------------------------------------------------------------------

TEST(StatusTest, OkHasNoMessage) {
  Status ok = Status::OK();
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), StatusCode::kOk);
  EXPECT_EQ(ok.ToString(), "OK");
  EXPECT_TRUE(ok.WithContext("ignored").ok());
}

TEST(StatusTest, EachFactoryCarriesItsCode) {
  EXPECT_EQ(Status::InvalidArgument("m").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Status::NotFound("m").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::AlreadyExists("m").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Status::Corruption("m").code(), StatusCode::kCorruption);
  EXPECT_EQ(Status::Unavailable("m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Status::Aborted("m").code(), StatusCode::kAborted);
  Status io = Status::IOError("/lake/x.parquet", "No such file or directory");
  EXPECT_EQ(io.code(), StatusCode::kIOError);
  EXPECT_EQ(io.message(), "/lake/x.parquet: No such file or directory");
  EXPECT_EQ(io.ToString(), "IOError: /lake/x.parquet: No such file or directory");
}

TEST(StatusTest, CodeNamesAreDistinct) {
  std::set<std::string> names;
  for (StatusCode c :
       {StatusCode::kOk, StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kAlreadyExists,
        StatusCode::kCorruption, StatusCode::kIOError, StatusCode::kUnavailable, StatusCode::kAborted}) {
    names.insert(StatusCodeName(c));
  }
  EXPECT_EQ(names.size(), 8u);
  EXPECT_STREQ(StatusCodeName(StatusCode::kNotFound), "NotFound");
}

TEST(StatusTest, WithContextPrefixesAndKeepsTheCode) {
  Status s = Status::NotFound("no table t").WithContext("batch b1").WithContext("orders");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "orders: batch b1: no table t");
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument(std::to_string(v) + " is odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  ASSIGN_OR_RETURN(int half, Half(v));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int v) {
  RETURN_IF_ERROR(Half(v).status());
  return Status::OK();
}

TEST(ResultTest, HoldsAValueOrAStatus) {
  Result<int> good = Half(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "3 is odd");
}

TEST(ResultTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, MovesItsValueOut) {
  Result<std::string> r(std::string(1000, 'x'));
  std::string taken = std::move(r).value();
  EXPECT_EQ(taken.size(), 1000u);
}

// ---- FormatTimestampMicros ------------------------------------------------------------------

TEST(FormatTimestampMicrosTest, UtcWithSixDigits) {
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00.000000Z");
  // 2026-01-03T10:15:00.123456Z (python3: datetime(2026,1,3,10,15,0,123456,utc).timestamp()).
  EXPECT_EQ(FormatTimestampMicros(1767435300123456), "2026-01-03T10:15:00.123456Z");
  EXPECT_EQ(FormatTimestampMicros(951782400000000), "2000-02-29T00:00:00.000000Z");
}

TEST(FormatTimestampMicrosTest, BeforeTheEpochRoundsDown) {
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestampMicros(-1000000), "1969-12-31T23:59:59.000000Z");
  EXPECT_EQ(FormatTimestampMicros(-1500000), "1969-12-31T23:59:58.500000Z");
}

// ---- UTF-8 ----------------------------------------------------------------------------------

size_t Len(const std::string& s) {
  return Utf8SequenceLength(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

TEST(Utf8Test, SequenceLengths) {
  EXPECT_EQ(Len("a"), 1u);
  EXPECT_EQ(Len(std::string(1, '\0')), 1u);
  EXPECT_EQ(Len("\xC3\xA9"), 2u);          // é
  EXPECT_EQ(Len("\xE2\x82\xAC"), 3u);      // €
  EXPECT_EQ(Len("\xF0\x9F\xA6\x86"), 4u);  // 🦆
  EXPECT_EQ(Len("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF, the last code point
  EXPECT_EQ(Len("\xEF\xBF\xBD"), 3u);      // U+FFFD
}

TEST(Utf8Test, RefusesWhatIsNotUtf8) {
  EXPECT_EQ(Len("\x80"), 0u);              // stray continuation byte
  EXPECT_EQ(Len("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(Len("\xC1\xBF"), 0u);          // overlong
  EXPECT_EQ(Len("\xE0\x80\x80"), 0u);      // overlong 3-byte
  EXPECT_EQ(Len("\xF0\x80\x80\x80"), 0u);  // overlong 4-byte
  EXPECT_EQ(Len("\xED\xA0\x80"), 0u);      // surrogate U+D800
  EXPECT_EQ(Len("\xF4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(Len("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(Len("\xFF"), 0u);
  EXPECT_EQ(Len("\xC3"), 0u);      // truncated
  EXPECT_EQ(Len("\xE2\x82"), 0u);  // truncated
  EXPECT_EQ(Len("\xC3\x41"), 0u);  // continuation expected
}

TEST(Utf8Test, InvalidOffset) {
  EXPECT_EQ(InvalidUtf8Offset(""), std::string_view::npos);
  EXPECT_EQ(InvalidUtf8Offset("plain ascii"), std::string_view::npos);
  EXPECT_EQ(InvalidUtf8Offset("caf\xC3\xA9 \xF0\x9F\xA6\x86"), std::string_view::npos);
  EXPECT_EQ(InvalidUtf8Offset("caf\xC3\xA9\xFF"), 5u);
  EXPECT_EQ(InvalidUtf8Offset("\x80"), 0u);
  EXPECT_EQ(InvalidUtf8Offset("ab\xE2\x82"), 2u);  // truncated at the end
}

// ---- Failpoints -----------------------------------------------------------------------------

TEST(FailpointTest, NamesAreUniqueAndInProtocolOrder) {
  const auto& all = AllFailpoints();
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), "schema.before_commit");
  auto pos = [&](const std::string& n) { return std::find(all.begin(), all.end(), n) - all.begin(); };
  EXPECT_LT(pos("ingest.after_stage_write"), pos("ingest.after_fsync"));
  EXPECT_LT(pos("ingest.after_fsync"), pos("ingest.after_catalog_commit"));
  EXPECT_LT(pos("publish.after_write"), pos("publish.after_swap"));
}

// SLUICE_FAILPOINTS is read once per process, on the first Failpoint call: this is the only
// test of this binary that calls Failpoint (ctest runs each test in its own process).
TEST(FailpointTest, ParsesTheEnvironmentOnce) {
  ASSERT_EQ(::setenv("SLUICE_FAILPOINTS", ",ingest.after_fsync=error,,publish.after_swap=error", 1), 0);
  Status armed = Failpoint("ingest.after_fsync");
  EXPECT_EQ(armed.code(), StatusCode::kIOError);
  EXPECT_NE(armed.message().find("ingest.after_fsync"), std::string::npos) << armed.message();
  EXPECT_EQ(Failpoint("publish.after_swap").code(), StatusCode::kIOError);
  EXPECT_TRUE(Failpoint("curate.before_commit").ok());  // not armed
  EXPECT_TRUE(Failpoint("ingest.after").ok());          // a prefix is another name
  ::setenv("SLUICE_FAILPOINTS", "curate.before_commit=error", 1);
  EXPECT_TRUE(Failpoint("curate.before_commit").ok());  // read once: the change is not seen
  ::unsetenv("SLUICE_FAILPOINTS");
}

// ---- Content hash ---------------------------------------------------------------------------

// Batch identity is the content hash of a file's bytes (hash.h): these digests must never change.
// Expected values computed independently with `xxhsum -H2` (xxhash 0.8.1, Debian package
// xxhash), which prints XXH3-128 in its canonical form: high 64 bits, then low 64 bits, in hex.
TEST(ContentHashTest, KnownAnswers) {
  EXPECT_EQ(ContentHash(""), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(ContentHash("a"), "a96faf705af16834e6c632b61e964e1f");
  EXPECT_EQ(ContentHash("The quick brown fox jumps over the lazy dog"), "ddd650205ca3e7fa24a1cc2e3a8a7651");
  EXPECT_EQ(ContentHash("{\"order_id\":\"o1\",\"amount\":12.50}\n"), "d3f32b8bf60a11a7afa77aaaa8d1ea3c");
  // 1024 bytes (0x00..0xff four times): XXH3's long-input path (> 240 bytes).
  std::string bytes;
  for (int i = 0; i < 1024; ++i) bytes.push_back(static_cast<char>(i % 256));
  EXPECT_EQ(ContentHash(bytes), "83885e853bb6640ca870f92984398d22");
}

TEST(ContentHashTest, CorrelationIdsAreFreshHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(NewCorrelationId(1767435300123456));
  EXPECT_EQ(ids.size(), 100u);
  for (const auto& id : ids) {
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
}

// ---- CPU time ------------------------------------------------------------------------------

// A thread's CPU time is its own: the thread that waits while another spins gains next to none
// of the spinner's, which the process's CPU time has.
TEST(CpuTimeTest, ThreadCpuIsTheCallingThreadsOwn) {
  const int64_t process0 = ProcessCpuMicros();
  const int64_t waiter0 = ThreadCpuMicros();
  int64_t spun = 0;
  std::thread spinner([&spun] {
    const int64_t start = ThreadCpuMicros();
    volatile uint64_t x = 0;
    while (ThreadCpuMicros() - start < 200000) x = x + 1;
    spun = ThreadCpuMicros() - start;
  });
  spinner.join();
  const int64_t waited = ThreadCpuMicros() - waiter0;
  EXPECT_GE(spun, 200000);
  EXPECT_LT(waited, spun / 4);
  EXPECT_GE(ProcessCpuMicros() - process0, spun);
}

}  // namespace
}  // namespace sluice
