#include "ingest/value_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

constexpr ParseOutcome kOk = ParseOutcome::kOk;
constexpr ParseOutcome kBad = ParseOutcome::kBadSyntax;
constexpr ParseOutcome kRange = ParseOutcome::kOutOfRange;
constexpr ParseOutcome kScale = ParseOutcome::kExcessScale;

TEST(ParseInt64, ValuesAndLimits) {
  int64_t v = 0;
  EXPECT_EQ(ParseInt64("0", &v), kOk);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(ParseInt64("-42", &v), kOk);
  EXPECT_EQ(v, -42);
  EXPECT_EQ(ParseInt64("+7", &v), kOk);
  EXPECT_EQ(v, 7);
  EXPECT_EQ(ParseInt64("9223372036854775807", &v), kOk);
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_EQ(ParseInt64("-9223372036854775808", &v), kOk);
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_EQ(ParseInt64("9223372036854775808", &v), kRange);
  EXPECT_EQ(ParseInt64("-9223372036854775809", &v), kRange);
  EXPECT_EQ(ParseInt64("99999999999999999999999", &v), kRange);
}

TEST(ParseInt64, RejectsNonIntegers) {
  int64_t v = 0;
  for (const char* text : {"", "-", "+", "1.5", "1e3", " 1", "1 ", "abc", "0x10", "12a"}) {
    EXPECT_EQ(ParseInt64(text, &v), kBad) << text;
  }
  EXPECT_EQ(ParseInt64("99999999999999999999x", &v), kBad);  // syntax wins over overflow
}

TEST(ParseDouble, Values) {
  double v = 0;
  EXPECT_EQ(ParseDouble("1.5", &v), kOk);
  EXPECT_EQ(v, 1.5);
  EXPECT_EQ(ParseDouble("-2e3", &v), kOk);
  EXPECT_EQ(v, -2000.0);
  EXPECT_EQ(ParseDouble("+.25", &v), kOk);
  EXPECT_EQ(v, 0.25);
  EXPECT_EQ(ParseDouble("0.1", &v), kOk);
  EXPECT_EQ(v, 0.1);
  EXPECT_EQ(ParseDouble("1e-400", &v), kOk);  // underflow rounds towards zero
  EXPECT_EQ(v, 0.0);
  EXPECT_EQ(ParseDouble("1e400", &v), kRange);
  for (const char* text : {"", "inf", "nan", "NaN", "infinity", "0x1p3", "1e", "1.5x", " 1", "."}) {
    EXPECT_EQ(ParseDouble(text, &v), kBad) << text;
  }
}

TEST(ParseDecimal, ExactScaling) {
  int64_t v = 0;
  EXPECT_EQ(ParseDecimal("0.1", 12, 2, &v), kOk);
  EXPECT_EQ(v, 10);
  EXPECT_EQ(ParseDecimal("0.2", 12, 2, &v), kOk);
  EXPECT_EQ(v, 20);
  EXPECT_EQ(ParseDecimal("0.3", 12, 2, &v), kOk);
  EXPECT_EQ(v, 30);                                          // 0.1 + 0.2 == 0.3 exactly in scaled integers
  EXPECT_EQ(ParseDecimal("1234567890.12", 12, 2, &v), kOk);  // the largest magnitude that fits
  EXPECT_EQ(v, 123456789012);
  EXPECT_EQ(ParseDecimal("-9999999999.99", 12, 2, &v), kOk);
  EXPECT_EQ(v, -999999999999);
  EXPECT_EQ(ParseDecimal("1234567890123456.78", 18, 2, &v), kOk);  // beyond double's precision
  EXPECT_EQ(v, 123456789012345678);
  EXPECT_EQ(ParseDecimal("999999999999999999", 18, 0, &v), kOk);
  EXPECT_EQ(v, 999999999999999999);
  EXPECT_EQ(ParseDecimal("0.999999999999999999", 18, 18, &v), kOk);
  EXPECT_EQ(v, 999999999999999999);
  EXPECT_EQ(ParseDecimal("7", 12, 2, &v), kOk);
  EXPECT_EQ(v, 700);
  EXPECT_EQ(ParseDecimal("7.", 12, 2, &v), kOk);
  EXPECT_EQ(v, 700);
  EXPECT_EQ(ParseDecimal(".5", 12, 2, &v), kOk);
  EXPECT_EQ(v, 50);
  EXPECT_EQ(ParseDecimal("1.500", 12, 2, &v), kOk);  // trailing zeros beyond the scale are exact
  EXPECT_EQ(v, 150);
  EXPECT_EQ(ParseDecimal("000012.30", 4, 2, &v), kOk);  // leading zeros are not digits
  EXPECT_EQ(v, 1230);
  EXPECT_EQ(ParseDecimal("1.5e2", 12, 2, &v), kOk);
  EXPECT_EQ(v, 15000);
  EXPECT_EQ(ParseDecimal("125E-2", 12, 2, &v), kOk);
  EXPECT_EQ(v, 125);
  EXPECT_EQ(ParseDecimal("-0.00", 12, 2, &v), kOk);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(ParseDecimal("0e999999999999", 12, 2, &v), kOk);
  EXPECT_EQ(v, 0);
}

TEST(ParseDecimal, OutOfRange) {
  int64_t v = 0;
  // decimal(12,2) has 10 integer digits: 12345678901.23 needs 13 digits in all.
  EXPECT_EQ(ParseDecimal("12345678901.23", 12, 2, &v), kRange);
  EXPECT_EQ(ParseDecimal("-12345678901.23", 12, 2, &v), kRange);
  EXPECT_EQ(ParseDecimal("1000000000", 12, 2, &v), kOk);
  EXPECT_EQ(ParseDecimal("10000000000", 12, 2, &v), kRange);
  EXPECT_EQ(ParseDecimal("1.234", 12, 2, &v), kScale);  // would need rounding
  EXPECT_EQ(ParseDecimal("1e9", 12, 2, &v), kOk);
  EXPECT_EQ(v, 100000000000);
  EXPECT_EQ(ParseDecimal("1e10", 12, 2, &v), kRange);
  EXPECT_EQ(ParseDecimal("1e-3", 12, 2, &v), kScale);
  EXPECT_EQ(ParseDecimal("1e999999999999", 18, 2, &v), kRange);
  EXPECT_EQ(ParseDecimal("1e-999999999999", 18, 2, &v), kScale);
  // More places than the scale wins over too many digits: the message names the places.
  EXPECT_EQ(ParseDecimal("12345678901.234", 12, 2, &v), kScale);
  EXPECT_EQ(ParseDecimal("1000000000000000000", 18, 0, &v), kRange);
  EXPECT_EQ(ParseDecimal(std::string(100000, '9'), 18, 0, &v), kRange);
}

TEST(DecimalPlaces, CountsSignificantPlaces) {
  EXPECT_EQ(DecimalPlaces("12.345"), 3);
  EXPECT_EQ(DecimalPlaces("12.340"), 2);
  EXPECT_EQ(DecimalPlaces("-0.005"), 3);
  EXPECT_EQ(DecimalPlaces("1.5e-2"), 3);
  EXPECT_EQ(DecimalPlaces("1.25e1"), 1);
  EXPECT_EQ(DecimalPlaces("1200e-3"), 1);
  EXPECT_EQ(DecimalPlaces("1200"), 0);
  EXPECT_EQ(DecimalPlaces("0.000"), 0);
  EXPECT_EQ(DecimalPlaces("abc"), 0);
}

TEST(ParseDecimal, Syntax) {
  int64_t v = 0;
  for (const char* text : {"", "-", ".", "1.2.3", "abc", "1e", "1e+", " 1", "1,5", "0x1", "inf"}) {
    EXPECT_EQ(ParseDecimal(text, 12, 2, &v), kBad) << text;
  }
}

TEST(ParseBool, Forms) {
  bool b = false;
  EXPECT_EQ(ParseBool("true", false, &b), kOk);
  EXPECT_TRUE(b);
  EXPECT_EQ(ParseBool("FALSE", false, &b), kOk);
  EXPECT_FALSE(b);
  EXPECT_EQ(ParseBool("1", false, &b), kBad);
  EXPECT_EQ(ParseBool("1", true, &b), kOk);
  EXPECT_TRUE(b);
  EXPECT_EQ(ParseBool("0", true, &b), kOk);
  EXPECT_FALSE(b);
  EXPECT_EQ(ParseBool("yes", true, &b), kBad);
  EXPECT_EQ(ParseBool("", true, &b), kBad);
  EXPECT_EQ(ParseBool("2", true, &b), kBad);
}

TEST(ParseDate, DaysSinceEpoch) {
  int32_t d = -1;
  EXPECT_EQ(ParseDate("1970-01-01", &d), kOk);
  EXPECT_EQ(d, 0);
  EXPECT_EQ(ParseDate("2026-01-03", &d), kOk);
  EXPECT_EQ(d, 20456);
  EXPECT_EQ(ParseDate("1969-12-31", &d), kOk);
  EXPECT_EQ(d, -1);
  EXPECT_EQ(ParseDate("2024-02-29", &d), kOk);
  EXPECT_EQ(d, 19782);
  EXPECT_EQ(ParseDate("2000-02-29", &d), kOk);
  for (const char* text : {"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31",
                           "2024-1-01", "24-01-01", "2024/01/01", "2024-01-01T00", "", "abcd-ef-gh"}) {
    EXPECT_EQ(ParseDate(text, &d), kBad) << text;
  }
}

TEST(ParseTimestamp, UtcMicros) {
  int64_t t = 0;
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z", &t), kOk);
  EXPECT_EQ(t, 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01 00:00:01", &t), kOk);
  EXPECT_EQ(t, 1000000);
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30.5Z", &t), kOk);
  EXPECT_EQ(t, 1767435330500000);
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30.123456Z", &t), kOk);
  EXPECT_EQ(t, 1767435330123456);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999Z", &t), kOk);
  EXPECT_EQ(t, -1);
}

TEST(ParseTimestamp, NanosecondsTruncateToMicroseconds) {
  int64_t t = 0;
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30.123456789Z", &t), kOk);
  EXPECT_EQ(t, 1767435330123456);
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30.1234567", &t), kOk);
  EXPECT_EQ(t, 1767435330123456);
  // Truncated, not rounded: the last nanosecond of a day stays in that day.
  EXPECT_EQ(ParseTimestamp("2025-12-31T23:59:59.999999999Z", &t), kOk);
  int64_t midnight = 0;
  ASSERT_EQ(ParseTimestamp("2026-01-01T00:00:00Z", &midnight), kOk);
  EXPECT_EQ(t, midnight - 1);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999999Z", &t), kOk);
  EXPECT_EQ(t, -1);
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30.123456789+02:00", &t), kOk);
  EXPECT_EQ(t, 1767435330123456 - int64_t{7200} * 1000000);
}

TEST(ParseTimestamp, OffsetsConvertToUtc) {
  int64_t utc = 0, t = 0;
  ASSERT_EQ(ParseTimestamp("2026-01-03T08:15:30Z", &utc), kOk);
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30+02:00", &t), kOk);
  EXPECT_EQ(t, utc);
  EXPECT_EQ(ParseTimestamp("2026-01-03T03:45:30-04:30", &t), kOk);
  EXPECT_EQ(t, utc);
  EXPECT_EQ(ParseTimestamp("2026-01-03 08:15:30+00:00", &t), kOk);
  EXPECT_EQ(t, utc);
  // Crossing midnight backwards into the previous day.
  EXPECT_EQ(ParseTimestamp("2026-01-01T01:00:00+02:00", &t), kOk);
  int64_t expected = 0;
  ASSERT_EQ(ParseTimestamp("2025-12-31T23:00:00Z", &expected), kOk);
  EXPECT_EQ(t, expected);
}

TEST(ParseTimestamp, Rejects) {
  int64_t t = 0;
  for (const char* text :
       {"2026-01-03", "2026-01-03T", "2026-01-03T10:15", "2026-01-03T24:00:00Z", "2026-01-03T10:60:00Z",
        "2026-01-03T10:15:60Z", "2026-01-03T10:15:30.Z", "2026-01-03T10:15:30.1234567890Z",
        "2026-01-03T10:15:30+0200", "2026-01-03T10:15:30+02", "2026-01-03T10:15:30+24:00",
        "2026-01-03T10:15:30ZZ", "2026-01-03X10:15:30Z", "2026-02-30T10:15:30Z", " 2026-01-03T10:15:30Z",
        "2026-01-03T10:15:30Z "}) {
    EXPECT_EQ(ParseTimestamp(text, &t), kBad) << text;
  }
  EXPECT_EQ(ParseTimestamp("2026-01-03T10:15:30." + std::string(100000, '1'), &t), kBad);
}

TEST(ScanJsonNumber, Grammar) {
  bool is_int = false;
  EXPECT_TRUE(ScanJsonNumber("0", &is_int));
  EXPECT_TRUE(is_int);
  EXPECT_TRUE(ScanJsonNumber("-12", &is_int));
  EXPECT_TRUE(is_int);
  EXPECT_TRUE(ScanJsonNumber("1.5", &is_int));
  EXPECT_FALSE(is_int);
  EXPECT_TRUE(ScanJsonNumber("1e5", &is_int));
  EXPECT_FALSE(is_int);
  EXPECT_TRUE(ScanJsonNumber("-0.5E-3", &is_int));
  for (const char* text : {"", "-", "01", "+1", "1.", ".5", "1e", "1e+", "1.5.5", "12a", "- 1"}) {
    EXPECT_FALSE(ScanJsonNumber(text, &is_int)) << text;
  }
}

}  // namespace
}  // namespace sluice
