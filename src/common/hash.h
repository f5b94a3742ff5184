// Content hashing for batch identity (G2): a file's default batch id is the hash of its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// 128-bit XXH3 of `data` as 32 lowercase hex digits. Stable across platforms and versions.
std::string ContentHash(std::string_view data);

// A fresh correlation id (32 hex digits) from the clock, the process id and a counter: unique
// within a lake for practical purposes. Thread-safe.
std::string NewCorrelationId(int64_t now_micros);

}  // namespace sluice
