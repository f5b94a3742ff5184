// Quality gates: the table tests declared in sluice.yaml, run inside the transaction that
// changed the table so that a failure can roll the change back before anything downstream sees
// it, and their results (meta.test_results).
//
// Kinds: not_null, unique, accepted_values, relationships (every non-null value exists in
// another table), range (inclusive bounds), freshness (max(column) within max_age of the Env
// clock), row_count_change (the step changed the row count by at most max_pct percent; the
// first load from empty always passes) and sql (a query returning the failing rows). Each test
// has a severity: an `error` failure blocks, a `warn` failure is only recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "spec/spec.h"

namespace sluice {

// The result of one test on one table state.
struct TestOutcome {
  std::string test;  // TableTest::Describe(): "unique(order_id)"
  Severity severity = Severity::kError;
  int64_t failing_rows = 0;  // 0: passed
  std::string sample;        // a few offending values, e.g. "o0000012, o0000040"

  bool failed() const { return failing_rows > 0; }
  // A failure that must stop the data: severity error.
  bool blocking() const { return failed() && severity == Severity::kError; }
};

// What a test needs to know about the step besides the table itself.
struct TestContext {
  int64_t rows_before = -1;  // row count before the step (row_count_change); -1: unknown, pass
};

// Runs every test of `table` against `<layer>.<table>` and returns one outcome per test, in
// spec order. Errors only when a test's SQL itself fails (e.g. a bad `sql` test), with context.
Result<std::vector<TestOutcome>> RunTableTests(Catalog& catalog, const std::string& layer,
                                               const TableSpec& table, const TestContext& context = {});

// The blocking failures among `outcomes`.
std::vector<TestOutcome> BlockingFailures(const std::vector<TestOutcome>& outcomes);

// "quality gate failed on curated.orders: unique(order_id): 2 failing rows (e.g. o1, o2); ..."
// over the failed outcomes given.
std::string DescribeFailures(const std::string& layer, const std::string& table,
                             const std::vector<TestOutcome>& failures);

// Where a set of outcomes came from, for meta.test_results.
struct TestRecord {
  int64_t run_started_us = 0;  // the run's id (meta.runs.started_at); 0: now
  std::string layer;           // curated | marts
  std::string table;
  std::vector<std::string> batch_ids;  // the batches the checked step applied (may be empty)
  bool bypassed = false;               // a released batch: error failures did not block
};

// Inserts one meta.test_results row per outcome with status pass | warn | fail | bypassed
// (an error failure of a released batch, applied anyway). Runs in the caller's transaction.
Status RecordTestResults(Catalog& catalog, const TestRecord& record,
                         const std::vector<TestOutcome>& outcomes);

}  // namespace sluice
