// Shared by the fuzz targets: the invariants every decoded RecordBatch must satisfy, checked after
// each input. A violation prints what broke and abort()s, which libFuzzer reports as a crash with
// the input saved, exactly like an ASan or UBSan finding.
#pragma once

#include <string>
#include <string_view>

#include "ingest/decoder.h"
#include "spec/contract.h"

namespace sluice::fuzz {

// Prints "invariant violated: <what>" to stderr and aborts.
[[noreturn]] void Fail(const std::string& what);

// G1 and the shape of the batch: rows_read == rows() + dead.size(); one column per contract
// column, each with rows() values in the vector its type uses (string offsets consistent); row
// and dead-letter lines >= 1; every reason one of reason::k*; every string value and every
// dead letter's raw text valid UTF-8. Also the contract's row rules on the values that passed:
// enum, max_length, pattern-free rules, min/max and path-column safety.
void CheckBatch(const Contract& contract, const DecodeOptions& options, const RecordBatch& batch);

// Parses a contract that the target embeds; aborts if it does not parse or compile.
ContractValidator MustCreateValidator(const std::string& yaml, DecodeOptions options);

}  // namespace sluice::fuzz
