// `sluice init` and `sluice generate`: example projects and generated data.
#include <iostream>

#include "cli/commands.h"
#include "common/memory_limit.h"
#include "sample/example_project.h"
#include "sample/orders_generator.h"

namespace sluice::cli {

int Fail(const std::string& message) {
  // One line: DuckDB's messages span several (hints, "LINE 1:" with a caret under it).
  std::string line;
  size_t pos = 0;
  while (pos <= message.size()) {
    size_t nl = message.find('\n', pos);
    if (nl == std::string::npos) nl = message.size();
    std::string part = message.substr(pos, nl - pos);
    pos = nl + 1;
    if (part.find_first_not_of(" ^\t\r") == std::string::npos) continue;  // blank or caret
    if (line.find(part) != std::string::npos) continue;                   // repeated context
    line += (line.empty() ? "" : " | ") + part;
  }
  std::cerr << "error: " << line << std::endl;
  return 1;
}

std::optional<int64_t> MemoryLimitFlag(const std::string& flag) {
  if (flag.empty()) return std::nullopt;
  return ParseByteSize(flag);
}

int Init(const InitArgs& args) {
  OrderGeneratorOptions options;
  options.orders = 200;
  options.batches = 3;
  Status st = WriteExampleProject(args.dir, options);
  if (!st.ok()) return Fail(st.message());
  std::cout << "created example project in " << args.dir << "\n"
            << "  sluice.yaml, contracts/orders.yaml, models/daily_revenue.sql,\n"
            << "  landing/orders/ with " << options.batches << " generated batches\n"
            << "next: sluice run --project " << args.dir << std::endl;
  return 0;
}

int Generate(const GenerateArgs& args) {
  OrderGeneratorOptions options;
  options.orders = args.orders;
  options.batches = args.batches;
  options.seed = args.seed;
  options.format = args.format;
  Status st = GenerateOrders(options, args.dir, args.dir + "/expected.json");
  if (!st.ok()) return Fail(st.message());
  std::cout << "wrote " << args.batches << " " << args.format << " files and expected.json to " << args.dir
            << std::endl;
  return 0;
}

}  // namespace sluice::cli
