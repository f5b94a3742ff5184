// Fuzzes the scalar parsers (ingest/value_parser.h) on the input text, and cross-checks them where
// their grammars overlap: an int64 is also a double of the same value, a decimal is close to the
// double of the same text, a date is a timestamp at midnight, a JSON number is ParseDouble syntax.
// The first byte picks the decimal's precision and scale.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "ingest/value_parser.h"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int precision = 1 + data[0] % 18;
  const int scale = (data[0] / 18) % (precision + 1);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  int64_t i = 0;
  const ParseOutcome int_outcome = ParseInt64(text, &i);
  double d = 0;
  const ParseOutcome double_outcome = ParseDouble(text, &d);
  if (double_outcome == ParseOutcome::kOk && !std::isfinite(d)) fuzz::Fail("ParseDouble: not finite");
  if (int_outcome != ParseOutcome::kBadSyntax && double_outcome == ParseOutcome::kBadSyntax) {
    fuzz::Fail("an integer is not double syntax");
  }
  if (int_outcome == ParseOutcome::kOk && double_outcome != ParseOutcome::kOk) {
    fuzz::Fail("an int64 is not a double");
  }
  if (int_outcome == ParseOutcome::kOk && static_cast<double>(i) != d) {
    fuzz::Fail("ParseInt64 and ParseDouble disagree");
  }

  int64_t dec = 0;
  const ParseOutcome dec_outcome = ParseDecimal(text, precision, scale, &dec);
  if (dec_outcome != ParseOutcome::kBadSyntax && double_outcome == ParseOutcome::kBadSyntax) {
    fuzz::Fail("a decimal is not double syntax");
  }
  if (dec_outcome == ParseOutcome::kOk) {
    const int64_t limit = static_cast<int64_t>(std::pow(10.0, precision));
    if (dec <= -limit || dec >= limit) fuzz::Fail("decimal exceeds its precision");
    if (double_outcome != ParseOutcome::kOk) fuzz::Fail("a fitting decimal is not a double");
    const double as_double = static_cast<double>(dec) / std::pow(10.0, scale);
    if (std::fabs(as_double - d) > 1e-9 * std::fmax(1.0, std::fabs(d))) {
      fuzz::Fail("ParseDecimal and ParseDouble disagree");
    }
  }

  bool b = false;
  (void)ParseBool(text, true, &b);
  (void)ParseBool(text, false, &b);

  int32_t days = 0;
  if (ParseDate(text, &days) == ParseOutcome::kOk) {
    int64_t micros = 0;
    const std::string midnight = std::string(text) + "T00:00:00";
    if (ParseTimestamp(midnight, &micros) != ParseOutcome::kOk || micros != int64_t{days} * 86400 * 1000000) {
      fuzz::Fail("a date is not the timestamp of its midnight");
    }
  }
  int64_t micros = 0;
  (void)ParseTimestamp(text, &micros);

  bool is_integer = false;
  if (ScanJsonNumber(text, &is_integer)) {
    if (double_outcome == ParseOutcome::kBadSyntax) fuzz::Fail("a JSON number is not double syntax");
    if (is_integer && int_outcome == ParseOutcome::kBadSyntax)
      fuzz::Fail("a JSON integer is not int64 syntax");
  }
  return 0;
}
