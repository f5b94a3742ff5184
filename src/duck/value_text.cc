#include "duck/value_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

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

int64_t Pow10(int digits) {
  int64_t p = 1;
  for (int i = 0; i < digits; ++i) p *= 10;
  return p;
}

// ".5" for (500000, 6); "" for 0. `frac` < 10^digits.
std::string Fraction(int64_t frac, int digits) {
  if (frac == 0 || digits == 0) return "";
  std::string f(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && frac > 0; --i, frac /= 10) {
    f[static_cast<size_t>(i)] = static_cast<char>('0' + frac % 10);
  }
  while (!f.empty() && f.back() == '0') f.pop_back();
  return "." + f;
}

template <typename Float>
std::string FormatFloating(Float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

std::string FormatUInt128(unsigned __int128 u) {
  if (u == 0) return "0";
  char buf[48];
  size_t i = sizeof buf;
  while (u > 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  return std::string(buf + i, sizeof buf - i);
}

std::string FormatInt128(__int128 v) {
  // Negating in unsigned arithmetic is defined for the minimum value too.
  if (v < 0) return "-" + FormatUInt128(-static_cast<unsigned __int128>(v));
  return FormatUInt128(static_cast<unsigned __int128>(v));
}

std::string FormatDecimal(__int128 v, int scale) {
  const bool negative = v < 0;
  std::string digits =
      FormatUInt128(negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v));
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return (negative ? "-" : "") + digits;
}

std::string FormatDouble(double v) { return FormatFloating(v); }
std::string FormatFloat(float v) { return FormatFloating(v); }

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  if (y >= 0 && y <= 9999) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  } else {
    std::snprintf(buf, sizeof buf, "%c%04lld-%02u-%02u", y < 0 ? '-' : '+',
                  static_cast<long long>(y < 0 ? -y : y), m, d);
  }
  return buf;
}

std::string FormatTimeOfDay(int64_t frac_of_day, int digits) {
  const int64_t scale = Pow10(digits);
  const int64_t secs = frac_of_day / scale;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf + Fraction(frac_of_day % scale, digits);
}

std::string FormatTimestamp(int64_t units, int digits, TimestampStyle style) {
  const int64_t per_day = 86400 * Pow10(digits);
  int64_t days = units / per_day;
  int64_t rem = units % per_day;
  if (rem < 0) {
    rem += per_day;
    --days;
  }
  const bool rfc = style == TimestampStyle::kRfc3339;
  return FormatDate(days) + (rfc ? "T" : " ") + FormatTimeOfDay(rem, digits) + (rfc ? "Z" : "");
}

std::string FormatInterval(int32_t months, int32_t days, int64_t micros) {
  std::string out = "P";
  auto part = [&](int64_t n, char unit) {
    if (n != 0) out += std::to_string(n) + unit;
  };
  part(months / 12, 'Y');
  part(months % 12, 'M');
  part(days, 'D');
  if (micros != 0) {
    out += "T";
    part(micros / 3600000000LL, 'H');
    part(micros / 60000000LL % 60, 'M');
    const int64_t us = micros % 60000000LL;
    if (us != 0) {
      const int64_t abs = us < 0 ? -us : us;
      out += (us < 0 ? "-" : "") + std::to_string(abs / 1000000) + Fraction(abs % 1000000, 6) + "S";
    }
  }
  return out == "P" ? "PT0S" : out;
}

std::string FormatUuid(uint64_t lower, int64_t upper) {
  const uint64_t hi = static_cast<uint64_t>(upper) ^ (uint64_t{1} << 63);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF), static_cast<unsigned long long>(lower >> 48),
                static_cast<unsigned long long>(lower & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string Base64(const void* data, size_t size) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t n = (uint32_t{p[i]} << 16) | (i + 1 < size ? uint32_t{p[i + 1]} << 8 : 0) |
                       (i + 2 < size ? uint32_t{p[i + 2]} : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string FormatBits(const unsigned char* data, size_t size) {
  std::string out;
  if (size == 0) return out;
  const unsigned padding = data[0];
  for (size_t byte = 1; byte < size; ++byte) {
    for (unsigned bit = byte == 1 ? padding : 0; bit < 8; ++bit) {
      out += ((data[byte] >> (7 - bit)) & 1) ? '1' : '0';
    }
  }
  return out;
}

}  // namespace sluice::duck
