// Fuzzes the JSON decoders: the input as a JSONL file (DecodeJsonl), and the same input split at
// '\n' as one JSON record per element (DecodeJsonRecords, the Parquet path), against a fixed
// contract with every type and rule. Checks G1 and the batch invariants (fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fixed_contract.h"
#include "fuzz_support.h"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const DecodeOptions options = fuzz::FixedOptions(',');
  static const ContractValidator validator = fuzz::MustCreateValidator(fuzz::kFixedContract, options);
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Result<RecordBatch> batch = validator.DecodeJsonl(input);
  if (batch.ok()) fuzz::CheckBatch(validator.contract(), options, *batch);

  std::vector<std::string> records;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    records.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  Result<RecordBatch> parquet_like = validator.DecodeJsonRecords(records);
  if (parquet_like.ok()) {
    fuzz::CheckBatch(validator.contract(), options, *parquet_like);
    if (parquet_like->rows_read != static_cast<int64_t>(records.size())) {
      fuzz::Fail("DecodeJsonRecords: rows_read != number of records");
    }
  }
  return 0;
}
