// UTF-8 validation shared by every parser of outside input (DuckDB refuses invalid UTF-8 in
// VARCHAR, so nothing invalid may reach a message, a dead letter or a table).
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice {

// Length (1-4) of the valid UTF-8 sequence starting at p[0] within p[0..n), or 0 when p[0]
// does not start one (stray continuation byte, overlong form, surrogate, > U+10FFFF, truncated).
// Requires n > 0.
size_t Utf8SequenceLength(const unsigned char* p, size_t n);

// Offset of the first byte of `text` that is not part of valid UTF-8, or npos when it is valid.
size_t InvalidUtf8Offset(std::string_view text);

}  // namespace sluice
