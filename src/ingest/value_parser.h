// Parsing of typed scalar values from text, shared by the JSON and CSV decoders.
//
// Every function is exact and total: it never throws, never reads past `text`, runs in time
// linear in text.size() and reports either a value, a syntax failure (the text is not a value of
// the type: the decoder's bad_type) or a value that is well-formed but does not fit (out_of_range).
// A decimal with more places than its scale is a third outcome (kExcessScale): it is neither
// malformed nor too large, and the decoder says how many places it had (DecimalPlaces).
// Nothing is trimmed: " 1" is not an int64. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

enum class ParseOutcome {
  kOk,
  kBadSyntax,    // not a value of the type
  kOutOfRange,   // well-formed, but does not fit the type (overflow, too many digits)
  kExcessScale,  // a decimal with non-zero digits beyond its scale (never rounded silently)
};

// [+-]?[0-9]+ into a signed 64-bit integer.
ParseOutcome ParseInt64(std::string_view text, int64_t* out);

// A decimal number [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, correctly rounded.
// "inf", "nan" and hex are not accepted; a magnitude beyond double's range is kOutOfRange
// (an underflow rounds to 0 / a subnormal, as strtod does).
ParseOutcome ParseDouble(std::string_view text, double* out);

// The same syntax as ParseDouble, parsed exactly (never through a double) into the value scaled
// by 10^scale, e.g. "12.3" with scale 2 -> 1230. kExcessScale when it has non-zero digits
// beyond `scale` decimal places (no silent rounding: "12.345" into scale 2, "12.340" is fine),
// else kOutOfRange when the value needs more than `precision` digits.
// Requires 1 <= precision <= 18 and 0 <= scale <= precision.
ParseOutcome ParseDecimal(std::string_view text, int precision, int scale, int64_t* out);

// The decimal places a number in ParseDouble's syntax needs, trailing zeros not counted:
// "12.345" -> 3, "12.340" -> 2, "1.5e-2" -> 3, "1200" -> 0; 0 for text that is not a number.
int64_t DecimalPlaces(std::string_view text);

// "true"/"false" (also "TRUE", "True", ...); with allow_digits also "1"/"0" (CSV).
ParseOutcome ParseBool(std::string_view text, bool allow_digits, bool* out);

// "YYYY-MM-DD" (a real calendar day, years 0000-9999) into days since 1970-01-01.
ParseOutcome ParseDate(std::string_view text, int32_t* days);

// ISO-8601 "YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM]" into microseconds since the Unix
// epoch in UTC; an offset is subtracted, no zone means UTC. A date alone is not a timestamp.
// Fractions finer than a microsecond (7 to 9 digits: nanoseconds) are truncated to the
// microsecond, never rounded, so a value never moves to the next second or day.
ParseOutcome ParseTimestamp(std::string_view text, int64_t* micros);

// Checks `text` against the JSON number grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
// Returns false if it is not a JSON number; *is_integer is set when it has no fraction or exponent.
bool ScanJsonNumber(std::string_view text, bool* is_integer);

// Days since 1970-01-01 of a proleptic Gregorian date (no validation of month/day).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace sluice
