// Content hashing for batch identity (G2): a file's default batch id is the hash of its bytes.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// 128-bit XXH3 of `data` as 32 lowercase hex digits. Stable across platforms and versions.
std::string ContentHash(std::string_view data);

}  // namespace sluice
