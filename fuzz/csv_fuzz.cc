// Fuzzes the CSV decoder (DecodeCsv, and the CsvReader under it) against a fixed contract with
// every type and rule. The first byte picks the delimiter (',' ';' '\t' '|'), the rest is the file.
// Checks G1 and the batch invariants (fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fixed_contract.h"
#include "fuzz_support.h"

using namespace sluice;

namespace {

struct Decoder {
  DecodeOptions options;
  ContractValidator validator;
  explicit Decoder(char delimiter)
      : options(fuzz::FixedOptions(delimiter)),
        validator(fuzz::MustCreateValidator(fuzz::kFixedContract, options)) {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Decoder decoders[] = {Decoder(','), Decoder(';'), Decoder('\t'), Decoder('|')};
  if (size == 0) return 0;
  const Decoder& d = decoders[data[0] % 4];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Result<RecordBatch> batch = d.validator.DecodeCsv(input);
  if (batch.ok()) fuzz::CheckBatch(d.validator.contract(), d.options, *batch);
  return 0;
}
