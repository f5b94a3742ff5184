// A check on the tree itself: no code outside src/catalog/ writes SQL against the catalog's
// tables (meta.* and dlq.*). Every read and write of them goes through catalog/ functions, so
// that a catalog on another database (PostgreSQL, for scale-out) replaces one folder.
//
// The check reads every .h/.cc under src/ except src/catalog/, extracts C++ string literals
// (ordinary and raw; comments skipped) and fails on a literal naming `meta.` or `dlq.` as a
// qualified name. `dlq.retention` is the sluice.yaml key, not a table, and is allowed.
// SLUICE_SOURCE_DIR in the environment points the check at another tree.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct Literal {
  int line = 0;
  std::string text;
};

// The string literals of C++ source `src`, with the line each starts on.
std::vector<Literal> StringLiterals(const std::string& src) {
  std::vector<Literal> out;
  int line = 1;
  size_t i = 0;
  const size_t n = src.size();
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < n) {
    const char c = src[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '/' && i + 1 < n && src[i + 1] == '/') {
      while (i < n && src[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && src[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(src[i] == '*' && src[i + 1] == '/')) line += src[i++] == '\n';
      i += 2;
    } else if (c == 'R' && i + 1 < n && src[i + 1] == '"' &&
               (i == 0 || !ident_char(src[i - 1]) || src[i - 1] == 'u' || src[i - 1] == '8' ||
                src[i - 1] == 'L' || src[i - 1] == 'U')) {
      // R"delim( ... )delim"
      const size_t open = src.find('(', i + 2);
      if (open == std::string::npos) break;
      const std::string close = ")" + src.substr(i + 2, open - i - 2) + "\"";
      const size_t end = src.find(close, open + 1);
      if (end == std::string::npos) break;
      Literal lit{line, src.substr(open + 1, end - open - 1)};
      for (char ch : lit.text) line += ch == '\n';
      out.push_back(std::move(lit));
      i = end + close.size();
    } else if (c == '"' ||
               (c == '\'' && (i == 0 || !std::isxdigit(static_cast<unsigned char>(src[i - 1]))))) {
      // An ordinary string or character literal (a ' between hex digits is a digit separator).
      Literal lit{line, ""};
      ++i;
      while (i < n && src[i] != c) {
        if (src[i] == '\\' && i + 1 < n) lit.text += src[i++];
        lit.text += src[i++];
      }
      ++i;
      if (c == '"') out.push_back(std::move(lit));
    } else {
      ++i;
    }
  }
  return out;
}

// True when `text` names `meta.<x>` or `dlq.<x>` (a schema-qualified catalog table); a file
// name such as "catalog/dlq.h" does not.
bool NamesCatalogTable(std::string text) {
  for (size_t at; (at = text.find("dlq.retention")) != std::string::npos;) text.erase(at, 13);
  for (const std::string schema : {"meta.", "dlq."}) {
    for (size_t at = text.find(schema); at != std::string::npos; at = text.find(schema, at + 1)) {
      const char before = at == 0 ? ' ' : text[at - 1];
      const bool starts_word =
          !(std::isalnum(static_cast<unsigned char>(before)) || before == '_' || before == '/');
      if (starts_word) return true;
    }
  }
  return false;
}

std::string SourceDir() {
  if (const char* dir = std::getenv("SLUICE_SOURCE_DIR")) return dir;
  return SLUICE_SOURCE_DIR;
}

TEST(CatalogBoundary, ScannerFindsCatalogSqlInLiteralsOnly) {
  const std::string code =
      "// SELECT * FROM meta.tables in a comment\n"
      "/* UPDATE meta.batches */ int x = meta.rows.size();\n"
      "auto q = \"SELECT version FROM \" \"meta.tables WHERE a = 'it''s'\";\n"
      "auto r = R\"sql(\nDELETE FROM dlq.orders\n)sql\";\n"
      "auto k = \"dlq.retention\"; auto t = \"parameta.x\"; char c = '\"'; int m = 1'000;\n"
      "auto d = \"dlq.\" + Ident(name);\n"
      "#include \"catalog/dlq.h\"\n";
  std::vector<int> hits;
  for (const auto& lit : StringLiterals(code)) {
    if (NamesCatalogTable(lit.text)) hits.push_back(lit.line);
  }
  EXPECT_EQ(hits, (std::vector<int>{3, 4, 8}));  // the raw string spans lines 4-6
}

TEST(CatalogBoundary, NoCatalogSqlOutsideCatalogFolder) {
  const fs::path src = SourceDir();
  ASSERT_TRUE(fs::is_directory(src / "catalog")) << src;
  std::vector<std::string> offenders;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || (p.extension() != ".cc" && p.extension() != ".h")) continue;
    const fs::path rel = p.lexically_relative(src);
    if (*rel.begin() == "catalog") continue;
    ++files;
    std::ifstream in(p, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& lit : StringLiterals(text.str())) {
      if (NamesCatalogTable(lit.text)) {
        offenders.push_back("src/" + rel.string() + ":" + std::to_string(lit.line) + ": \"" +
                            lit.text.substr(0, 80) + "\"");
      }
    }
  }
  EXPECT_GT(files, 20u);
  std::string list;
  for (const auto& o : offenders) list += "\n  " + o;
  EXPECT_TRUE(offenders.empty())
      << "SQL against meta.*/dlq.* outside src/catalog/ (move it behind a catalog/ function):" << list;
}

}  // namespace
}  // namespace sluice
