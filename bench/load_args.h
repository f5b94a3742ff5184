// The command line and failure of the benchmarks' load clients (stream_load.cc,
// lookup_load.cc): `<program> <subcommand> --name value ...`. Not a test.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace sluice::bench {

// The name failures are prefixed with ("sluice_stream_load"); each client's main sets it.
inline const char*& ProgramName() {
  static const char* name = "load";
  return name;
}

// Prints "<program>: <message>" on stderr and exits 1.
[[noreturn]] inline void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", ProgramName(), message.c_str());
  std::exit(1);
}

using Clock = std::chrono::steady_clock;
inline double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

inline constexpr const char* kRequired = "<required>";

// --name value pairs after the subcommand; every name known (a key of `defaults`), every value
// given, and those whose default is kRequired given on the line.
class Args {
 public:
  Args(int argc, char** argv, const std::map<std::string, std::string>& defaults) : values_(defaults) {
    for (int i = 2; i < argc; ++i) {
      std::string name = argv[i];
      if (name.rfind("--", 0) != 0 || values_.count(name.substr(2)) == 0) {
        Die("unknown argument '" + name + "' for " + argv[1]);
      }
      if (i + 1 >= argc) Die(name + " needs a value");
      values_[name.substr(2)] = argv[++i];
    }
    for (const auto& [k, v] : values_) {
      if (v == kRequired) Die("--" + k + " is required for " + argv[1]);
    }
  }
  std::string Str(const std::string& name) const { return values_.at(name); }
  // A whole number >= 0, or Die.
  int64_t Int(const std::string& name) const {
    const std::string& v = values_.at(name);
    char* end = nullptr;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || x < 0) Die("--" + name + " '" + v + "' is not a count");
    return x;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace sluice::bench
