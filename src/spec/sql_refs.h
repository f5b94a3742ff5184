// Table references in a SQL model: `curated.<t>`, `marts.<t>`, `staging.<s>`.
//
// Private to spec/: LoadProject uses them to check that a mart reads only tables that exist and
// to order marts by dependency. A lexical scan, not a SQL parser: comments and quoted strings and
// identifiers are skipped, schema names match case-insensitively as whole words.
#pragma once

#include <string>
#include <vector>

namespace sluice {

struct SqlTableRef {
  std::string schema;  // "curated" | "marts" | "staging", lower case
  std::string name;    // lower case, as DuckDB resolves unquoted identifiers
  int line = 0;        // 1-based position of the schema word in the SQL text
  int column = 0;
};

// Every reference in `sql`, in text order (repeats included).
std::vector<SqlTableRef> FindTableRefs(const std::string& sql);

}  // namespace sluice
