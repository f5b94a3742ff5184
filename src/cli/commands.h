// One function per `sluice` command; main.cc wires them to CLI11. Each returns the process exit
// code and prints its own output; errors go to stderr as one line "error: ...".
#pragma once

#include <string>
#include <vector>

namespace sluice::cli {

struct InitArgs { std::string dir; };
struct GenerateArgs {
  std::string dir;
  int64_t orders = 1000;
  int batches = 5;
  uint64_t seed = 42;
  std::string format = "jsonl";
};
struct RunArgs { std::string project = "."; bool json = false; bool full_refresh = false; };
struct IngestArgs {
  std::string project = ".";
  std::string source;
  std::vector<std::string> files;
  std::string batch_id;
  bool json = false;
};
struct QueryArgs { std::string project = "."; std::string sql; std::string format = "table"; };
struct StatusArgs { std::string project = "."; bool json = false; };

int Init(const InitArgs& args);
int Generate(const GenerateArgs& args);
int Run(const RunArgs& args);
int Ingest(const IngestArgs& args);
int Query(const QueryArgs& args);
int ShowStatus(const StatusArgs& args);

// Prints "error: <message>" to stderr and returns 1.
int Fail(const std::string& message);

}  // namespace sluice::cli
