// The example project of `sluice init` and the demo: a shop with an orders source,
// a curated orders table and a daily_revenue mart, plus generated landing data.
#pragma once

#include <string>

#include "common/status.h"
#include "sample/orders_generator.h"

namespace sluice {

// Writes a runnable project named `name` into `dir` (created if missing); the caller checks
// that `name` is a valid project name (ProjectNameFor makes one):
//   dir/sluice.yaml, dir/contracts/orders.yaml, dir/models/daily_revenue.sql,
//   dir/landing/orders/batch-NNNN.<format> and dir/landing/orders/expected.json
// (see GenerateOrders; `options.format` also picks the source's format and glob).
// AlreadyExists if dir/sluice.yaml exists: a user's project is never overwritten.
// InvalidArgument for bad options; IOError if a file cannot be written.
Status WriteExampleProject(const std::string& dir, const OrderGeneratorOptions& options,
                           const std::string& name = "shop");

// A valid project name ([a-z_][a-z0-9_]{0,62}) from a directory's last component: lowercased,
// every other character replaced by '_', a leading digit prefixed with '_'; "my-Shop/" ->
// "my_shop", "2026 demo" -> "_2026_demo"; "." names the current directory; "project" when
// nothing usable is left ("/", "---").
std::string ProjectNameFor(const std::string& dir);

// The texts written by WriteExampleProject, for tests that build variants of the project.
std::string ExampleSluiceYaml(const std::string& format, const std::string& name = "shop");
std::string ExampleOrdersContract();
std::string ExampleDailyRevenueSql();

}  // namespace sluice
