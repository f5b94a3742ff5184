#include "ingest/value_parser.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace sluice {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `count` digits at `pos` as a number (the caller checked the length).
bool Digits(std::string_view text, size_t pos, size_t count, int* out) {
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(text[i])) return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// The parts of a decimal literal [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?.
struct DecimalParts {
  bool negative = false;
  std::string_view int_digits;
  std::string_view frac_digits;
  int64_t exponent = 0;  // clamped to +-1e9: beyond that every non-zero value is out of range
};

bool SplitDecimal(std::string_view text, DecimalParts* parts) {
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && (text[i] == '+' || text[i] == '-')) parts->negative = text[i++] == '-';
  size_t begin = i;
  while (i < n && IsDigit(text[i])) ++i;
  parts->int_digits = text.substr(begin, i - begin);
  if (i < n && text[i] == '.') {
    begin = ++i;
    while (i < n && IsDigit(text[i])) ++i;
    parts->frac_digits = text.substr(begin, i - begin);
  }
  if (parts->int_digits.empty() && parts->frac_digits.empty()) return false;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative_exp = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) negative_exp = text[i++] == '-';
    if (i == n || !IsDigit(text[i])) return false;
    int64_t e = 0;
    for (; i < n && IsDigit(text[i]); ++i) {
      if (e < 1000000000) e = e * 10 + (text[i] - '0');
    }
    parts->exponent = negative_exp ? -e : e;
  }
  return i == n;
}

}  // namespace

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  // Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

ParseOutcome ParseInt64(std::string_view text, int64_t* out) {
  size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) negative = text[i++] == '-';
  if (i == text.size()) return ParseOutcome::kBadSyntax;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t v = 0;
  bool overflow = false;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return ParseOutcome::kBadSyntax;
    const auto d = static_cast<uint64_t>(text[i] - '0');
    if (v > (limit - d) / 10) overflow = true;  // keep scanning: syntax errors win
    if (!overflow) v = v * 10 + d;
  }
  if (overflow) return ParseOutcome::kOutOfRange;
  *out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return ParseOutcome::kOk;
}

ParseOutcome ParseDouble(std::string_view text, double* out) {
  DecimalParts parts;
  if (!SplitDecimal(text, &parts)) return ParseOutcome::kBadSyntax;
  if (text[0] == '+') text.remove_prefix(1);  // from_chars rejects a leading '+'
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports underflow and overflow alike; strtod tells them apart.
    const std::string copy(text);
    errno = 0;
    v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v)) return ParseOutcome::kOutOfRange;
  } else if (ec != std::errc() || ptr != text.data() + text.size()) {
    return ParseOutcome::kBadSyntax;
  }
  *out = v;
  return ParseOutcome::kOk;
}

ParseOutcome ParseDecimal(std::string_view text, int precision, int scale, int64_t* out) {
  DecimalParts parts;
  if (!SplitDecimal(text, &parts)) return ParseOutcome::kBadSyntax;
  // The value is D * 10^(exponent - frac_len) where D is the digit string int_digits+frac_digits;
  // scaled by 10^scale, digit k (0-based from the left) has weight 10^(len - 1 - k + shift).
  const auto int_len = static_cast<int64_t>(parts.int_digits.size());
  const int64_t len = int_len + static_cast<int64_t>(parts.frac_digits.size());
  const int64_t shift = parts.exponent - static_cast<int64_t>(parts.frac_digits.size()) + scale;
  auto digit = [&](int64_t k) {
    return k < int_len ? parts.int_digits[k] - '0' : parts.frac_digits[k - int_len] - '0';
  };
  int64_t first = 0;
  while (first < len && digit(first) == 0) ++first;
  if (first == len) {
    *out = 0;
    return ParseOutcome::kOk;
  }
  int64_t last = len - 1;
  while (digit(last) == 0) --last;
  if (len - 1 - last + shift < 0) return ParseOutcome::kExcessScale;           // beyond `scale` places
  if (len - 1 - first + shift >= precision) return ParseOutcome::kOutOfRange;  // too many digits
  // At most `precision` (<= 18) significant digits remain, so int64 cannot overflow.
  int64_t v = 0;
  const int64_t end = std::min(len - 1, len - 1 + shift);
  for (int64_t k = first; k <= end; ++k) v = v * 10 + digit(k);
  for (int64_t s = 0; s < shift; ++s) v *= 10;
  *out = parts.negative ? -v : v;
  return ParseOutcome::kOk;
}

int64_t DecimalPlaces(std::string_view text) {
  DecimalParts parts;
  if (!SplitDecimal(text, &parts)) return 0;
  std::string_view frac = parts.frac_digits;
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  int64_t places = static_cast<int64_t>(frac.size()) - parts.exponent;
  if (frac.empty()) {
    // No fractional digits: trailing zeros of the integer part absorb a negative exponent.
    std::string_view digits = parts.int_digits;
    int64_t zeros = 0;
    while (!digits.empty() && digits.back() == '0') {
      digits.remove_suffix(1);
      ++zeros;
    }
    if (digits.empty()) return 0;  // the value is zero
    places -= zeros;
  }
  return std::max<int64_t>(places, 0);
}

ParseOutcome ParseBool(std::string_view text, bool allow_digits, bool* out) {
  auto equals_nocase = [&](std::string_view word) {
    if (text.size() != word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if ((text[i] | 0x20) != word[i]) return false;
    }
    return true;
  };
  if (equals_nocase("true") || (allow_digits && text == "1")) {
    *out = true;
  } else if (equals_nocase("false") || (allow_digits && text == "0")) {
    *out = false;
  } else {
    return ParseOutcome::kBadSyntax;
  }
  return ParseOutcome::kOk;
}

ParseOutcome ParseDate(std::string_view text, int32_t* days) {
  int y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, &y) ||
      !Digits(text, 5, 2, &m) || !Digits(text, 8, 2, &d)) {
    return ParseOutcome::kBadSyntax;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return ParseOutcome::kBadSyntax;
  *days = static_cast<int32_t>(DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
  return ParseOutcome::kOk;
}

ParseOutcome ParseTimestamp(std::string_view text, int64_t* micros) {
  int32_t days;
  int hh, mm, ss;
  if (text.size() < 19 || ParseDate(text.substr(0, 10), &days) != ParseOutcome::kOk ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' || text[16] != ':' ||
      !Digits(text, 11, 2, &hh) || !Digits(text, 14, 2, &mm) || !Digits(text, 17, 2, &ss) || hh > 23 ||
      mm > 59 || ss > 59) {
    return ParseOutcome::kBadSyntax;
  }
  size_t i = 19;
  int64_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    const size_t begin = ++i;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      if (i - begin < 6) fraction = fraction * 10 + (text[i] - '0');  // digits 7-9 are dropped
    }
    const size_t count = i - begin;
    if (count < 1 || count > 9) return ParseOutcome::kBadSyntax;
    for (size_t k = count; k < 6; ++k) fraction *= 10;
  }
  int64_t offset_seconds = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (text.size() - i != 6 || text[i + 3] != ':' || !Digits(text, i + 1, 2, &oh) ||
        !Digits(text, i + 4, 2, &om) || oh > 23 || om > 59) {
      return ParseOutcome::kBadSyntax;
    }
    offset_seconds = (text[i] == '-' ? -1 : 1) * (int64_t{oh} * 3600 + int64_t{om} * 60);
    i += 6;
  }
  if (i != text.size()) return ParseOutcome::kBadSyntax;
  // Local time minus its offset is UTC: 10:00+02:00 is 08:00Z.
  const int64_t seconds = int64_t{days} * 86400 + int64_t{hh} * 3600 + int64_t{mm} * 60 + ss - offset_seconds;
  *micros = seconds * 1000000 + fraction;
  return ParseOutcome::kOk;
}

bool ScanJsonNumber(std::string_view text, bool* is_integer) {
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i == n || !IsDigit(text[i])) return false;
  if (text[i] == '0') {
    ++i;
  } else {
    while (i < n && IsDigit(text[i])) ++i;
  }
  *is_integer = true;
  if (i < n && text[i] == '.') {
    ++i;
    if (i == n || !IsDigit(text[i])) return false;
    while (i < n && IsDigit(text[i])) ++i;
    *is_integer = false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (i == n || !IsDigit(text[i])) return false;
    while (i < n && IsDigit(text[i])) ++i;
    *is_integer = false;
  }
  return i == n;
}

}  // namespace sluice
