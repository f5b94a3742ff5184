#include "transform/marts.h"

#include <filesystem>
#include <system_error>

#include "catalog/tables.h"
#include "catalog/warehouse_changes.h"
#include "common/failpoint.h"
#include "common/hash.h"
#include "transform/quality.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

namespace fs = std::filesystem;

// `pending`: the partitions curate changed since the last refresh, also in temp table
// marts_touched.
Status RefreshOne(Catalog& catalog, const TableSpec& mart, bool full_refresh,
                  const std::vector<Partition>& pending, MartsResult& result) {
  auto& conn = catalog.conn();
  const std::string target = "marts." + Ident(mart.name);
  const std::string model_hash = ContentHash(mart.sql);
  ASSIGN_OR_RETURN(std::optional<TableState> row, FindTable(catalog, mart.name));
  // The hash of the model the mart was last built from: nullopt when it has no row, "" when
  // forgotten (a schema change upstream).
  std::optional<std::string> built_hash;
  if (row && row->layer == "marts") built_hash = row->model_hash.value_or("");
  ASSIGN_OR_RETURN(int64_t exists,
                   conn.QueryInt("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' "
                                 "AND schema_name = 'marts' AND table_name = " +
                                 Literal(mart.name)));
  bool upstream_rebuilt = false;
  for (const auto& dep : mart.depends_on) {
    upstream_rebuilt |= result.partitions.count(dep) && result.partitions.at(dep) < 0;
  }
  bool full = full_refresh || upstream_rebuilt || !exists || !built_hash || *built_hash != model_hash ||
              mart.partition_by.empty();
  const std::string model = "(" + mart.sql + "\n)";
  TestContext context;  // row_count_change compares with the mart before this refresh
  if (exists) {
    ASSIGN_OR_RETURN(context.rows_before, conn.QueryInt("SELECT count(*) FROM " + target));
  }
  if (full) {
    if (!full_refresh && !upstream_rebuilt && exists && built_hash && *built_hash == model_hash &&
        result.pending_partitions == 0) {
      return Status::OK();  // unpartitioned and nothing changed upstream
    }
    RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TABLE " + target + " AS SELECT * FROM " + model)
                        .WithContext("mart " + mart.name + " (" + mart.sql_path + ")"));
    result.partitions[mart.name] = -1;
    // Published copy: everything changed.
    RETURN_IF_ERROR(ReplacePublishPendingWithAll(catalog, mart.name));
  } else {
    if (result.pending_partitions == 0) return Status::OK();
    std::string cond;
    if (!mart.partition_by.day.empty()) {
      cond = "CAST(m." + Ident(mart.partition_by.day) + " AS DATE) IS NOT DISTINCT FROM p.day";
    }
    if (!mart.partition_by.tenant.empty()) {
      cond += (cond.empty() ? "" : " AND ") +
              ("CAST(m." + Ident(mart.partition_by.tenant) + " AS VARCHAR) IS NOT DISTINCT FROM p.tenant");
    }
    const std::string touched = "marts_touched";  // RefreshMarts: the pending partitions
    RETURN_IF_ERROR(conn.Execute("DELETE FROM " + target + " m USING " + touched + " p WHERE " + cond +
                                 ";"
                                 "INSERT INTO " +
                                 target + " SELECT m.* FROM " + model + " m SEMI JOIN " + touched + " p ON " +
                                 cond)
                        .WithContext("mart " + mart.name + " (" + mart.sql_path + ")"));
    RETURN_IF_ERROR(AddPublishPending(catalog, mart.name, pending));
    result.partitions[mart.name] = result.pending_partitions;
  }
  ASSIGN_OR_RETURN(result.rows[mart.name], conn.QueryInt("SELECT count(*) FROM " + target));
  RETURN_IF_ERROR(AddMartWarehouseBatches(catalog, mart.name));
  RETURN_IF_ERROR(EnsureTableRow(catalog, mart.name, "marts"));
  RETURN_IF_ERROR(RecordNewVersion(catalog, mart.name, result.rows[mart.name], model_hash));
  ASSIGN_OR_RETURN(auto outcomes, RunTableTests(catalog, "marts", mart, context));
  result.tests.emplace_back(mart.name, outcomes);
  auto blocking = BlockingFailures(outcomes);
  if (!blocking.empty()) return Status::Aborted(DescribeFailures("marts", mart.name, blocking));
  return Status::OK();
}

// Records the results of every mart test run so far (meta.test_results), in the caller's
// transaction.
Status RecordMartTests(Catalog& catalog, const MartsResult& result, int64_t run_started_us) {
  for (const auto& [name, outcomes] : result.tests) {
    RETURN_IF_ERROR(RecordTestResults(catalog, {run_started_us, "marts", name, {}, false}, outcomes));
  }
  return Status::OK();
}

// Models run with DuckDB's file access limited to the project directory and the lake (and the
// spill directory inside it), for the rest of the process: a model reads files under the project
// only (the spec checks their paths too, spec/model_reads.cc), whatever DuckDB would otherwise
// resolve, follow or fetch. DuckDB cannot re-enable external access once disabled, so this is
// done once, after everything that reads files elsewhere (ingest) in a `sluice run`.
Status RestrictFileAccess(Catalog& catalog) {
  auto& conn = catalog.conn();
  ASSIGN_OR_RETURN(duck::Rows on, conn.Query("SELECT current_setting('enable_external_access')::VARCHAR"));
  if (on.rows.empty() || on.At(0, 0) != "true") return Status::OK();
  const ProjectSpec& spec = catalog.spec();
  // DuckDB allows no relative path under allowed_directories and reads one from the working
  // directory: the relative paths models were checked with are allowed one by one, as written,
  // when that directory is the project's (relative to which they were checked).
  std::string relative;
  std::error_code ec;
  const bool in_root = fs::equivalent(fs::current_path(ec), spec.root, ec) && !ec;
  for (const auto& t : spec.tables) {
    for (const auto& path : t.reads_files) {
      if (in_root && !fs::path(path).is_absolute())
        relative += (relative.empty() ? "" : ", ") + Literal(path);
    }
  }
  return conn.Execute("SET allowed_directories = [" + Literal(spec.root + "/") + ", " +
                      Literal(spec.lake + "/") + "]; " +
                      (relative.empty() ? "" : "SET allowed_paths = [" + relative + "]; ") +
                      "SET enable_external_access = false");
}

}  // namespace

Result<MartsResult> RefreshMarts(Catalog& catalog, bool full_refresh, int64_t run_started_us,
                                 MartsResult* failed) {
  MartsResult result;
  auto& conn = catalog.conn();
  RETURN_IF_ERROR(RestrictFileAccess(catalog));
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    ASSIGN_OR_RETURN(std::vector<Partition> pending, PendingPartitions(catalog));
    result.pending_partitions = static_cast<int64_t>(pending.size());
    RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP TABLE marts_touched AS SELECT * FROM " +
                                 PartitionsRelation(pending)));
    for (const auto& t : catalog.spec().tables) {
      if (t.kind == TableKind::kMart) {
        RETURN_IF_ERROR(RefreshOne(catalog, t, full_refresh, pending, result));
      }
    }
    RETURN_IF_ERROR(ClearPendingPartitions(catalog));
    RETURN_IF_ERROR(RecordMartTests(catalog, result, run_started_us));
    SLUICE_FAILPOINT("marts.before_commit");
    return Status::OK();
  };
  Status st = body();
  if (!st.ok()) {
    (void)catalog.Rollback();
    if (st.code() == StatusCode::kAborted && !result.tests.empty()) {
      // A failed gate: the refresh is undone, but what the tests found is kept.
      RETURN_IF_ERROR(catalog.Begin());
      Status rec = RecordMartTests(catalog, result, run_started_us);
      RETURN_IF_ERROR(rec.ok() ? catalog.Commit() : catalog.Rollback());
    }
    if (failed != nullptr) *failed = std::move(result);
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());
  if (!result.partitions.empty()) SLUICE_FAILPOINT("marts.after_commit");
  return result;
}

}  // namespace sluice
