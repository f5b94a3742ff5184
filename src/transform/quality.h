// Quality gates: the table tests declared in sluice.yaml (`not_null`, `unique`,
// `accepted_values`), run inside the transaction that changed the table so that a failure can
// roll the change back before anything downstream sees it.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "spec/spec.h"

namespace sluice {

struct TestFailure {
  std::string test;        // TableTest::Describe(): "unique(order_id)"
  int64_t failing_rows = 0;
  std::string sample;      // a few offending values, e.g. "o0000012, o0000040"
};

// Runs every test of `table` against `<layer>.<table>`; returns the failures (empty: passed).
Result<std::vector<TestFailure>> RunTableTests(Catalog& catalog, const std::string& layer,
                                               const TableSpec& table);

// "quality gate failed on curated.orders: unique(order_id): 2 rows (e.g. o1, o2); ..."
std::string DescribeFailures(const std::string& layer, const std::string& table,
                             const std::vector<TestFailure>& failures);

}  // namespace sluice
