// `sluice init` and `sluice generate`: example projects and generated data.
#include <iostream>

#include "cli/commands.h"
#include "common/env.h"
#include "common/log.h"
#include "common/memory_limit.h"
#include "sample/example_project.h"
#include "sample/orders_generator.h"
#include "spec/contract.h"

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
  if (GetLogFormat() == LogFormat::kJson) {
    LogLine(Env::Default(), LogLevel::kError, "sluice", line);
  } else {
    std::cerr << "error: " << line << std::endl;
  }
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
  const std::string name = args.name.empty() ? ProjectNameFor(args.dir) : args.name;
  if (!IsValidIdentifier(name)) {
    return Fail("--name '" + name +
                "' is not a valid project name (use [a-z_][a-z0-9_]*, at most 63 characters)");
  }
  Status st = WriteExampleProject(args.dir, options, name);
  if (!st.ok()) return Fail(st.message());
  std::cout << "created example project " << name << " in " << args.dir << "\n"
            << "  sluice.yaml, contracts/orders.yaml, models/daily_revenue.sql,\n"
            << "  landing/orders/ with " << options.batches << " generated batches\n"
            << "next: sluice run --project " << args.dir << std::endl;
  return 0;
}

// `generate` writes into an empty directory, so that expected.json describes every data file
// in it. With --force it first removes the files an earlier generate wrote there (and only
// those: IsGeneratedFileName), so a smaller --batches leaves no stale batch behind.
Status PrepareGenerateDir(const std::string& dir, bool force) {
  Env* env = Env::Default();
  ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir(dir));
  if (entries.empty()) return Status::OK();
  if (!force) {
    return Status::AlreadyExists(dir + " is not empty (" + std::to_string(entries.size()) +
                                 " entries): generate writes into an empty directory; --force replaces "
                                 "the files an earlier generate wrote (batch-NNNN.*, expected.json)");
  }
  for (const std::string& name : entries) {
    if (IsGeneratedFileName(name)) RETURN_IF_ERROR(env->RemoveAll(dir + "/" + name));
  }
  return Status::OK();
}

int Generate(const GenerateArgs& args) {
  if (Status st = PrepareGenerateDir(args.dir, args.force); !st.ok()) return Fail(st.message());
  OrderGeneratorOptions options;
  options.orders = args.orders;
  options.batches = args.batches;
  options.tenants = args.tenants;
  options.days = args.days;
  options.seed = args.seed;
  options.format = args.format;
  Status st = GenerateOrders(options, args.dir, args.dir + "/expected.json");
  if (!st.ok()) return Fail(st.message());
  std::cout << "wrote " << args.batches << " " << args.format << " files and expected.json to " << args.dir
            << std::endl;
  return 0;
}

}  // namespace sluice::cli
