#include "spec/yaml_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>

#include "common/env.h"
#include "common/utf8.h"

namespace sluice {
namespace {

// yaml-cpp reports tabs in indentation as "illegal map value" and the like; point at the tab.
bool FindIndentTab(const std::string& text, int* line, int* col) {
  int l = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    for (size_t i = start; i < end; ++i) {
      if (text[i] == '\t') {
        *line = l;
        *col = static_cast<int>(i - start);
        return true;
      }
      if (text[i] != ' ') break;
    }
    start = end + 1;
    ++l;
  }
  return false;
}

// yaml-cpp passes invalid UTF-8 through into scalars and turns a NUL byte into a stray 0xA0, from
// where either would reach messages, dead letters and DuckDB (which refuses invalid UTF-8 in
// VARCHAR). YAML allows neither, so the whole text is checked first: an error naming the 0-based
// line and column of the first bad byte, or "" when the text is fine.
std::string FindBadByte(const std::string& text, int* line, int* col) {
  size_t bad = InvalidUtf8Offset(text);
  std::string what = "invalid UTF-8 (spec files are UTF-8 text)";
  const size_t nul = text.find('\0');
  if (nul < bad) {
    bad = nul;
    what = "NUL character (not allowed in YAML)";
  }
  if (bad == std::string::npos) return "";
  size_t line_start = 0;
  if (bad > 0) {
    const size_t newline = text.rfind('\n', bad - 1);
    if (newline != std::string::npos) line_start = newline + 1;
  }
  *line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
  *col = static_cast<int>(bad - line_start);
  return what;
}

const char* NodeTypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "something else";
}

}  // namespace

std::string LocatedMessage(const std::string& path, const YAML::Mark& mark, const std::string& field,
                           const std::string& what) {
  std::string out = path;
  if (mark.line >= 0 && mark.column >= 0) {
    out += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + what;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Result<YamlFile> YamlFile::Parse(const std::string& text, const std::string& path) {
  int line = 0, col = 0;
  if (std::string bad = FindBadByte(text, &line, &col); !bad.empty()) {
    YAML::Mark mark;
    mark.line = line;
    mark.column = col;
    return Status::InvalidArgument(LocatedMessage(path, mark, "", bad));
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    int line = 0, col = 0;
    if (FindIndentTab(text, &line, &col) && line <= e.mark.line) {
      YAML::Mark mark;
      mark.line = line;
      mark.column = col;
      return Status::InvalidArgument(
          LocatedMessage(path, mark, "", "tab character in indentation (YAML indents with spaces only)"));
    }
    return Status::InvalidArgument(LocatedMessage(path, e.mark, "", "invalid YAML: " + e.msg));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": invalid YAML: " + e.what());
  }
  if (!root.IsDefined() || root.IsNull()) {
    return Status::InvalidArgument(path + ": the file is empty (expected a mapping of keys)");
  }
  if (!root.IsMap()) {
    return Status::InvalidArgument(LocatedMessage(
        path, root.Mark(), "",
        std::string("expected a mapping of keys at the top level, found ") + NodeTypeName(root)));
  }
  return YamlFile(root, path);
}

Status YamlFile::Error(const YAML::Node& at, const std::string& field, const std::string& what) const {
  YAML::Mark mark = YAML::Mark::null_mark();
  try {
    if (at.IsDefined()) mark = at.Mark();
  } catch (const std::exception&) {
    // An invalid node has no position; report the file only.
  }
  return Status::InvalidArgument(LocatedMessage(path_, mark, field, what));
}

Result<std::vector<YamlEntry>> YamlFile::Entries(const YAML::Node& node, const std::string& field) const {
  if (!node.IsMap()) {
    return Error(node, field, std::string("expected a mapping, found ") + NodeTypeName(node));
  }
  std::vector<YamlEntry> out;
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    YAML::Node key = it->first;
    if (!key.IsScalar()) {
      return Error(key, field, std::string("keys must be plain names, found ") + NodeTypeName(key));
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      return Error(key, field.empty() ? name : field + "." + name, "duplicate key '" + name + "'");
    }
    out.push_back(YamlEntry{name, key, it->second});
  }
  return out;
}

Status YamlFile::CheckKeys(const std::vector<YamlEntry>& entries, const std::string& field,
                           const std::vector<std::string>& known, const std::string& hint) const {
  for (const auto& e : entries) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == e.key;
    if (!ok) {
      std::string what = "unknown key '" + e.key + "' (known: " + JoinNames(known) + ")";
      if (!hint.empty()) what += "; " + hint;
      return Error(e.key_node, field.empty() ? e.key : field + "." + e.key, what);
    }
  }
  return Status::OK();
}

Result<std::string> YamlFile::String(const YAML::Node& node, const std::string& field) const {
  if (!node.IsScalar()) {
    return Error(node, field, std::string("expected a value, found ") + NodeTypeName(node));
  }
  const std::string& s = node.Scalar();
  if (s.find('\0') != std::string::npos) return Error(node, field, "contains a NUL character");
  if (InvalidUtf8Offset(s) != std::string_view::npos) return Error(node, field, "is not valid UTF-8");
  return s;
}

Result<bool> YamlFile::Bool(const YAML::Node& node, const std::string& field) const {
  ASSIGN_OR_RETURN(std::string s, String(node, field));
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  return Error(node, field, "expected true or false, found '" + s + "'");
}

Result<double> YamlFile::Number(const YAML::Node& node, const std::string& field) const {
  ASSIGN_OR_RETURN(std::string s, String(node, field));
  double v = 0;
  try {
    v = node.as<double>();
  } catch (const std::exception&) {
    return Error(node, field, "expected a number, found '" + s + "'");
  }
  if (!std::isfinite(v)) return Error(node, field, "expected a finite number, found '" + s + "'");
  return v;
}

Result<std::vector<std::string>> YamlFile::StringList(const YAML::Node& node, const std::string& field,
                                                      bool allow_single) const {
  std::vector<std::string> out;
  if (allow_single && node.IsScalar()) {
    ASSIGN_OR_RETURN(std::string s, String(node, field));
    out.push_back(std::move(s));
    return out;
  }
  if (!node.IsSequence()) {
    return Error(node, field, std::string("expected a list, found ") + NodeTypeName(node));
  }
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(std::string s, String(node[i], field + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

Status CatchYamlErrors(const std::string& path, const std::function<Status()>& parse) {
  try {
    return parse();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(LocatedMessage(path, e.mark, "", e.msg));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

Result<std::string> ReadSpecFile(const std::string& path, size_t max_bytes) {
  Env* env = Env::Default();
  if (!env->Exists(path)) return Status::NotFound(path + ": " + std::strerror(ENOENT));
  // Refuse huge files before reading them when the real file system knows their size.
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    return Status::InvalidArgument(path + ": file is too large (" + std::to_string(size) + " bytes, limit " +
                                   std::to_string(max_bytes) + ")");
  }
  ASSIGN_OR_RETURN(std::string text, env->ReadFile(path));
  if (text.size() > max_bytes) {
    return Status::InvalidArgument(path + ": file is too large (" + std::to_string(text.size()) +
                                   " bytes, limit " + std::to_string(max_bytes) + ")");
  }
  return text;
}

}  // namespace sluice
