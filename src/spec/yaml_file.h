// YamlFile: a parsed YAML document plus the path it came from, with typed accessors whose errors
// say where: "contracts/orders.yaml:7:15: columns.amount.type: unknown type 'money'".
//
// Private to spec/. yaml-cpp throws; every accessor here catches and returns Status instead, and
// Parse() turns syntax errors into InvalidArgument with a 1-based line and column. Callers still
// wrap their whole parse in CatchYamlErrors() as a last line of defence. Not thread-safe (yaml-cpp
// nodes share mutable state); use one YamlFile per thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

// Spec files are small; anything bigger than this is refused before parsing.
inline constexpr size_t kMaxYamlBytes = 4 << 20;
// SQL model files.
inline constexpr size_t kMaxSqlBytes = 16 << 20;

// One `key: value` of a mapping, in file order.
struct YamlEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class YamlFile {
 public:
  // Parses `text`; `path` is used in messages only. InvalidArgument when the text is not YAML,
  // is empty, or its top level is not a mapping.
  static Result<YamlFile> Parse(const std::string& text, const std::string& path);

  const YAML::Node& root() const { return root_; }
  const std::string& path() const { return path_; }

  // "<path>:<line>:<col>: <field>: <what>" at the node's position (1-based).
  Status Error(const YAML::Node& at, const std::string& field, const std::string& what) const;

  // The entries of a mapping in file order. InvalidArgument when `node` is not a mapping, a key is
  // not a plain scalar, or a key repeats.
  Result<std::vector<YamlEntry>> Entries(const YAML::Node& node, const std::string& field) const;
  // InvalidArgument naming the first key not in `known`, and listing `known`.
  Status CheckKeys(const std::vector<YamlEntry>& entries, const std::string& field,
                   const std::vector<std::string>& known, const std::string& hint = "") const;

  // A scalar as text. InvalidArgument for a missing value, a list or a mapping.
  Result<std::string> String(const YAML::Node& node, const std::string& field) const;
  Result<bool> Bool(const YAML::Node& node, const std::string& field) const;
  // A finite number.
  Result<double> Number(const YAML::Node& node, const std::string& field) const;
  // A list of scalars; with `allow_single`, a lone scalar is a list of one.
  Result<std::vector<std::string>> StringList(const YAML::Node& node, const std::string& field,
                                              bool allow_single) const;

 private:
  YamlFile(YAML::Node root, std::string path) : root_(std::move(root)), path_(std::move(path)) {}
  YAML::Node root_;
  std::string path_;
};

// "<path>:<line>:<col>: <field>: <what>" for a 0-based yaml-cpp mark; without line and column
// when the mark is unknown.
std::string LocatedMessage(const std::string& path, const YAML::Mark& mark, const std::string& field,
                           const std::string& what);

// Runs `parse`, turning any exception that escapes it into InvalidArgument naming `path`.
Status CatchYamlErrors(const std::string& path, const std::function<Status()>& parse);

// Reads a spec file through Env. NotFound when it does not exist; InvalidArgument when it is
// larger than `max_bytes`; IOError otherwise.
Result<std::string> ReadSpecFile(const std::string& path, size_t max_bytes);

// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace sluice
