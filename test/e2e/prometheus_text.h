// Reading Prometheus text expositions in the e2e tests the way Prometheus tooling does: checked
// by promtool and parsed by the Prometheus Python client's parser (test/e2e/parse_prometheus.py;
// Debian packages prometheus and python3-prometheus-client, installed by scripts/setup.sh).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "harness.h"

namespace sluice::e2e {

// The text at `path` as the parser reads it: {"families": {name: type}, "samples": [{"name",
// "labels", "value"}]}; null and a test failure when it does not parse.
inline Json ParseExposition(const std::string& path) {
  ProcessResult r = RunProcess("/usr/bin/python3",
                               {std::string(SLUICE_DOCS_ROOT) + "/test/e2e/parse_prometheus.py", path}, {});
  EXPECT_TRUE(r.ok()) << "the Prometheus text parser (apt-get install python3-prometheus-client): "
                      << r.Describe();
  if (!r.ok()) return Json();
  return Json::parse(r.out);
}

// `promtool check metrics` accepts the text at `path` (a test failure otherwise).
inline void ExpectPromtoolAccepts(const std::string& path) {
  ProcessResult check = RunProcess("/bin/sh", {"-c", "promtool check metrics < '" + path + "'"}, {});
  EXPECT_NE(check.exit_code, 127) << "promtool is not installed (apt-get install prometheus)";
  EXPECT_TRUE(check.ok()) << "promtool check metrics: " << check.Describe() << "\n" << ReadFileOrDie(path);
}

// The value of the sample `name` with exactly `labels` in a parsed exposition; NaN when none.
inline double Sample(const Json& parsed, const std::string& name,
                     const std::map<std::string, std::string>& labels) {
  if (!parsed.is_object()) return std::nan("");
  for (const Json& s : parsed["samples"]) {
    if (s["name"] != name) continue;
    if (s["labels"].get<std::map<std::string, std::string>>() == labels && s["value"].is_number()) {
      return s["value"].get<double>();
    }
  }
  return std::nan("");
}

// Every sample of `name`, labels -> value.
inline std::map<std::map<std::string, std::string>, double> Samples(const Json& parsed,
                                                                    const std::string& name) {
  std::map<std::map<std::string, std::string>, double> out;
  if (!parsed.is_object()) return out;
  for (const Json& s : parsed["samples"]) {
    if (s["name"] == name && s["value"].is_number()) {
      out[s["labels"].get<std::map<std::string, std::string>>()] = s["value"].get<double>();
    }
  }
  return out;
}

}  // namespace sluice::e2e
