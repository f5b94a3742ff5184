// Fixtures shared by the unit tests: temporary directories, files written into a project,
// the orders project most engine-level tests start from, and query results as comparable text.
// Nothing here is safe for concurrent use; each test builds its own.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "duck/duck.h"
#include "engine/engine.h"

namespace sluice::testing {

// ---- Files ----------------------------------------------------------------------------------

// A fresh directory /tmp/<prefix>-XXXXXX, removed with everything in it on destruction unless
// SLUICE_KEEP_TMP is set in the environment (then its path is printed so it can be inspected).
// A failed mkdtemp is recorded as a test failure.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sluice-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `text` to `dir`/`rel` (binary, truncating), creating missing parent directories.
// Returns the full path written.
std::string WriteFile(const std::string& dir, const std::string& rel, const std::string& text);

// ---- Query results as text ------------------------------------------------------------------

// Cells joined by '|', each row ended by '\n'; NULL as "NULL".
std::string Dump(const duck::Rows& rows);
// Runs `sql` on `conn` and dumps its result; "<error>" (and a test failure) when it fails.
std::string Dump(duck::Connection& conn, const std::string& sql);
// The integer `sql` yields; -1 (and a test failure) when it fails.
int64_t QueryInt(duck::Connection& conn, const std::string& sql);

// ---- The orders project ---------------------------------------------------------------------

// contracts/orders.yaml of the orders project.
inline constexpr const char* kOrdersContract = R"(name: orders
columns:
  order_id:   {type: string, required: true}
  tenant_id:  {type: string, required: true}
  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled]}
  amount:     {type: decimal(12,2), min: 0}
  created_at: {type: timestamp, required: true}
  seq:        {type: int64, required: true}
)";
// Its "columns:" block alone, for contracts that differ only above it.
inline constexpr const char* kOrdersColumns = kOrdersContract + sizeof("name: orders\n") - 1;

// sluice.yaml of the orders project: files source `orders` (landing/orders/*.jsonl, partitioned
// by day and tenant) merged into the curated table `orders` by `key` with version `seq`.
// `tests` (a YAML flow list) is added to that table when non-empty; `more_tables` (lines indented
// as entries of `tables:`) is appended as is.
std::string OrdersSpec(const std::string& key = "[order_id]", const std::string& tests = "",
                       const std::string& more_tables = "");

// `spec` with `max_dead_ratio: 1` on every source (before each `    contract:` line): for tests
// that ingest small files of mostly bad rows on purpose, which the default ratio would refuse.
std::string AllowDeadLetters(std::string spec);

// A `tables:` entry for a mart `name` whose SQL is models/<name>.sql, partitioned by its `day`
// and `tenant_id` columns unless `partitioned` is false; for OrdersSpec's `more_tables`.
std::string MartTable(const std::string& name, bool partitioned = true);

// One JSONL line of the orders source, created at 10:00 UTC on `day` (YYYY-MM-DD); `amount` is
// written as a JSON number as given.
std::string Order(const std::string& id, const std::string& tenant, const std::string& status,
                  const std::string& amount, const std::string& day, int seq);

// Opens an Engine on `dir`; nullptr (and a test failure naming the error) when it cannot.
std::unique_ptr<Engine> OpenEngine(const std::string& dir);

// A gtest fixture owning a project directory (dir_) and an Engine on it (engine_). Derived
// fixtures write the project in SetUp and then call OpenEngine(). The engine is closed before
// the directory is removed.
class ProjectTest : public ::testing::Test {
 protected:
  // `prefix` names the temporary directory, e.g. "sluice_ledger_test".
  explicit ProjectTest(const std::string& prefix) : tmp_(prefix), dir_(tmp_.path()) {}
  void TearDown() override { engine_.reset(); }

  void Write(const std::string& rel, const std::string& text) { WriteFile(dir_, rel, text); }
  // Closes any open engine, then opens a new one on dir_ (asserting that it opens).
  void OpenEngine();
  // Engine::Run, expecting success; an empty summary when it fails.
  RunSummary Run(bool full_refresh = false);
  Catalog& cat() { return engine_->catalog(); }
  duck::Connection& conn() { return engine_->catalog().conn(); }
  std::string Q(const std::string& sql) { return Dump(conn(), sql); }
  int64_t Int(const std::string& sql) { return QueryInt(conn(), sql); }

  TempDir tmp_;
  const std::string dir_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace sluice::testing
