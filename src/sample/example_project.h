// The example project of `sluice init` and the demo: a shop with an orders source,
// a curated orders table and a daily_revenue mart, plus generated landing data.
#pragma once

#include <string>

#include "common/status.h"
#include "sample/orders_generator.h"

namespace sluice {

// Writes a runnable project into `dir` (created if missing):
//   dir/sluice.yaml, dir/contracts/orders.yaml, dir/models/daily_revenue.sql,
//   dir/landing/orders/batch-NNNN.<format> and dir/landing/orders/expected.json
// (see GenerateOrders; `options.format` also picks the source's format and glob).
// AlreadyExists if dir/sluice.yaml exists: a user's project is never overwritten.
// InvalidArgument for bad options; IOError if a file cannot be written.
Status WriteExampleProject(const std::string& dir, const OrderGeneratorOptions& options);

// The texts written by WriteExampleProject, for tests that build variants of the project.
std::string ExampleSluiceYaml(const std::string& format);
std::string ExampleOrdersContract();
std::string ExampleDailyRevenueSql();

}  // namespace sluice
