#include "spec/sql_refs.h"

#include <cctype>

namespace sluice {
namespace {

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<SqlTableRef> FindTableRefs(const std::string& sql) {
  std::vector<SqlTableRef> refs;
  const size_t n = sql.size();
  int line = 1;
  size_t line_start = 0;
  size_t i = 0;
  // Advances over sql[i], keeping line numbers right.
  auto step = [&]() {
    if (sql[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
    ++i;
  };
  while (i < n) {
    char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') step();
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      i += 2;
      while (i < n && !(sql[i] == '*' && i + 1 < n && sql[i + 1] == '/')) step();
      if (i < n) i += 2;
    } else if (c == '\'' || c == '"') {
      step();
      while (i < n && sql[i] != c) step();  // doubled quotes read as two adjacent strings
      if (i < n) step();
    } else if (IsWordChar(c)) {
      size_t start = i;
      while (i < n && IsWordChar(sql[i])) ++i;
      std::string word = Lower(sql.substr(start, i - start));
      if ((word == "curated" || word == "marts" || word == "staging") && i + 1 < n &&
          sql[i] == '.' && IsWordChar(sql[i + 1])) {
        size_t name_start = i + 1;
        size_t j = name_start;
        while (j < n && IsWordChar(sql[j])) ++j;
        refs.push_back(SqlTableRef{word, Lower(sql.substr(name_start, j - name_start)), line,
                                   static_cast<int>(start - line_start) + 1});
        i = j;
      }
    } else {
      step();
    }
  }
  return refs;
}

}  // namespace sluice
