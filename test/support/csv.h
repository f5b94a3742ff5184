// An independent RFC 4180 reader for tests: checks what sluice writes (`query --format csv`) and
// reads generated CSV landing files without going through sluice's own CSV reader.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

// Records of `data`, ',' separated; quoted fields may hold ',', '"' (doubled) and line breaks; a
// trailing '\r' of an unquoted field is dropped. An unquoted empty field is nullopt (NULL).
std::vector<std::vector<std::optional<std::string>>> ParseCsv(const std::string& data);

}  // namespace sluice::testing
