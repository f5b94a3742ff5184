// Text forms of DuckDB's physical values, shared by Rows (duck.h) and JsonRowWriter
// (json_encoder.h). Pure functions of their arguments; thread-safe.
//
// Calendar values use the proleptic Gregorian calendar with astronomical years (1 BC is year 0):
// years 0..9999 print with 4 digits, others with a sign and at least 4 digits (ISO 8601's
// expanded form: "-0044-03-15", "+12345-01-01").
#pragma once

#include <cstdint>
#include <string>

namespace sluice::duck {

// Decimal digits of a 128-bit integer: "-170141183460469231731687303715884105728".
std::string FormatInt128(__int128 v);
std::string FormatUInt128(unsigned __int128 v);

// The unscaled integer `v` of a DECIMAL with `scale` digits after the point, exactly:
// (-5, 2) -> "-0.05", (1250, 2) -> "12.50", (7, 0) -> "7".
std::string FormatDecimal(__int128 v, int scale);

// Shortest text that reads back as the same double/float ("0.1", "1e+300", "-0");
// "inf", "-inf" or "nan" for the non-finite values (not JSON: the JSON writer checks first).
std::string FormatDouble(double v);
std::string FormatFloat(float v);

// Days since 1970-01-01 -> "2026-01-03".
std::string FormatDate(int64_t days);

// A time of day, `frac` in units of 10^-digits s (digits 6: micros, 9: nanos), within a day:
// "10:15:00", "10:15:00.5" (the fraction without trailing zeros, omitted when zero).
std::string FormatTimeOfDay(int64_t frac_of_day, int digits);

enum class TimestampStyle {
  kSql,      // "2026-01-03 10:15:00.5"  (DuckDB's own rendering)
  kRfc3339,  // "2026-01-03T10:15:00.5Z" (UTC)
};

// A point in time as units of 10^-digits s since the epoch (digits 0: seconds, 3: millis,
// 6: micros, 9: nanos).
std::string FormatTimestamp(int64_t units, int digits, TimestampStyle style);

// An INTERVAL as an ISO 8601 duration: P1Y2M3DT4H5M6.5S; each part keeps its own sign
// ("P-1D", "PT-1H-30M", as PostgreSQL's iso_8601 interval style); zero is "PT0S".
std::string FormatInterval(int32_t months, int32_t days, int64_t micros);

// A UUID from DuckDB's storage (a hugeint with the top bit flipped): "8-4-4-4-12" lowercase hex.
std::string FormatUuid(uint64_t lower, int64_t upper);

// RFC 4648 base64 with padding.
std::string Base64(const void* data, size_t size);

// A BIT string from DuckDB's storage (first byte: padding bits) -> "0101".
std::string FormatBits(const unsigned char* data, size_t size);

}  // namespace sluice::duck
