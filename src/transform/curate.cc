#include "transform/curate.h"

#include "catalog/applied.h"
#include "catalog/feeds.h"
#include "catalog/tables.h"
#include "catalog/warehouse_changes.h"
#include "common/failpoint.h"
#include "transform/quality.h"
#include "transform/quarantine.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string Join(const std::vector<std::string>& cols, const std::string& prefix, const std::string& sep) {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : sep) + prefix + Ident(c);
  return out;
}

// Creates curated.<table> if missing, and its row in the catalog.
Status EnsureTable(Catalog& catalog, const TableSpec& table, const SourceSpec& source) {
  RETURN_IF_ERROR(catalog.conn().Execute(
      "CREATE TABLE IF NOT EXISTS curated." + Ident(table.name) + " (" +
      ColumnDefinitions(HeldColumns(table, source.contract)) +
      ", _batch_id VARCHAR, _batch_seq BIGINT, _source_line BIGINT, _ingested_at TIMESTAMP,"
      " _correlation_id VARCHAR)"));
  return EnsureTableRow(catalog, table.name, "curated");
}

}  // namespace

Status EnsureCuratedTable(Catalog& catalog, const TableSpec& table) {
  const SourceSpec* source = catalog.spec().FindSource(table.from);
  if (source == nullptr)
    return Status::InvalidArgument("curated." + table.name + ": unknown source " + table.from);
  return EnsureTable(catalog, table, *source);
}

namespace {

// The day/tenant partition of a curated row, as SQL over alias `t`.
std::string DayExpr(const SourceSpec& s, const std::string& t) {
  return s.partition_by.day.empty() ? "CAST(NULL AS DATE)"
                                    : "CAST(" + t + "." + Ident(s.partition_by.day) + " AS DATE)";
}
std::string TenantExpr(const SourceSpec& s, const std::string& t) {
  return s.partition_by.tenant.empty() ? "CAST(NULL AS VARCHAR)"
                                       : "CAST(" + t + "." + Ident(s.partition_by.tenant) + " AS VARCHAR)";
}

// SQL for the JSON text of a row of `contract`'s columns over alias `t`, values as the typed JSON
// encoder writes them (duck/json_encoder.h): a decimal with exactly its digits (DuckDB's to_json
// goes through a double), a timestamp in RFC 3339 UTC; other types as DuckDB's to_json.
std::string RowJson(const Contract& contract, const std::string& t) {
  std::string out;
  for (const auto& c : contract.columns) {
    const std::string col = t + "." + Ident(c.name);
    std::string value;
    switch (c.type.kind) {
      case TypeKind::kDecimal:
        value = "CAST(" + col + " AS VARCHAR)";
        break;
      case TypeKind::kTimestamp:
        value = "CAST(to_json(CASE WHEN epoch_us(" + col + ") % 1000000 = 0 THEN strftime(" + col +
                ", '%Y-%m-%dT%H:%M:%SZ') ELSE rtrim(strftime(" + col +
                ", '%Y-%m-%dT%H:%M:%S.%f'), '0') || 'Z' END) AS "
                "VARCHAR)";
        break;
      default:
        value = "CAST(to_json(" + col + ") AS VARCHAR)";
    }
    // A column name is an identifier ([a-z_][a-z0-9_]*): nothing to escape in JSON.
    out += std::string(out.empty() ? "'{' || " : " || ',' || ") + Literal("\"" + c.name + "\":") +
           " || coalesce(" + value + ", 'null')";
  }
  return out.empty() ? "'{}'" : out + " || '}'";
}

// The winners of this step (curate_winners) as changes of the table's feed (catalog/feeds.h),
// in the merge's transaction: the change log commits if and only if the merge does. Each
// winner is a change: an insert when its key is new, else an update whose previous version is
// the row it replaces (read before the DELETE below). A row that loses (older version, a
// duplicate) is no winner and no change. `on` joins curate_winners `i` to the table `c` by key.
// Only for tables with consumers: a table without any pays nothing. After a full refresh every
// row is an insert again, under the batch it came from: a consumer deduplicating by (batch id,
// key) sees nothing new.
Status LogChanges(Catalog& catalog, const TableSpec& table, const SourceSpec& source, const std::string& on) {
  auto& conn = catalog.conn();
  const int64_t now = catalog.env()->NowMicros();
  std::vector<std::string> consumers;
  for (const auto& c : catalog.spec().consumers) {
    if (c.table == table.name) consumers.push_back(c.name);
  }
  RETURN_IF_ERROR(StartFeedConsumers(conn, table.name, consumers, now));
  const Contract held = HeldColumns(table, source.contract);
  RETURN_IF_ERROR(conn.Execute(
      "CREATE OR REPLACE TEMP TABLE curate_changes AS SELECT CASE WHEN i._replaces THEN 'update' ELSE "
      "'insert' END AS op, i._batch_id AS batch_id, " +
      TenantExpr(source, "i") + " AS tenant, " + RowJson(held, "i") +
      " AS row_json, CASE WHEN i._replaces THEN " + RowJson(held, "c") +
      " END AS prev_json, i._batch_seq AS batch_seq, i._source_line AS source_line FROM "
      "curate_winners i LEFT JOIN curated." +
      Ident(table.name) + " c ON i._replaces AND " + on));
  ASSIGN_OR_RETURN(std::optional<TableState> state, FindTable(catalog, table.name));
  const int64_t version = (state ? state->version : 0) + 1;  // RecordNewVersion's, below
  ASSIGN_OR_RETURN(int64_t logged, AppendFeedChanges(conn, table.name, "curate_changes", version, now));
  (void)logged;
  return conn.Execute("DROP TABLE curate_changes");
}

// Merges `batches` into curated.<table> (after emptying it when `reset`) and records them
// applied, with the partitions they changed; adds the counts to `result`. In the caller's
// transaction.
Status MergeBatches(Catalog& catalog, const TableSpec& table, const SourceSpec* source,
                    const std::vector<PendingBatch>& batches, bool reset, CurateResult& result) {
  auto& conn = catalog.conn();
  const bool full_refresh = reset;
  {
    const std::string target = "curated." + Ident(table.name);
    if (full_refresh) {
      RETURN_IF_ERROR(conn.Execute("DELETE FROM " + target));
      RETURN_IF_ERROR(ForgetApplied(catalog, table.name));
    }
    result.batches += static_cast<int64_t>(batches.size());
    if (batches.empty() && !full_refresh) return Status::OK();

    std::string seqs;
    for (size_t r = 0; r < batches.size(); ++r) {
      seqs += (r ? ", (" : "(") + Literal(batches[r].batch_id) + ", " + std::to_string(batches[r].seq) + ")";
    }
    ASSIGN_OR_RETURN(std::vector<std::string> files, StagingFilesOf(catalog, source->name, batches));
    std::string cols = Join(
        [&] {
          std::vector<std::string> names;
          for (const auto& c : HeldColumns(table, source->contract).columns) names.push_back(c.name);
          return names;
        }(),
        "s.", ", ");
    std::string incoming;
    if (files.empty()) {
      incoming = "SELECT * FROM " + target + " WHERE false";
    } else {
      std::string list;
      for (size_t r = 0; r < files.size(); ++r) {
        list += (r ? ", " : "") + Literal(catalog.lake() + "/" + files[r]);
      }
      // The winner per key among the incoming rows (ties: later batch, then later line).
      incoming = "SELECT " + cols +
                 ", s._batch_id, v.seq AS _batch_seq, s._source_line, "
                 "s._ingested_at, s._correlation_id FROM " +
                 // Files of older contract versions lack later columns: union by name (G7).
                 StagingRows(source->contract, "read_parquet([" + list +
                                                   "], hive_partitioning = "
                                                   "false, union_by_name = true)") +
                 " s JOIN (VALUES " + seqs +
                 ") v(batch_id, seq) "
                 "ON s._batch_id = v.batch_id QUALIFY row_number() OVER (PARTITION BY " +
                 Join(table.key, "s.", ", ") + " ORDER BY s." + Ident(table.version) +
                 " DESC, v.seq DESC, s._source_line DESC) = 1";
    }
    RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP TABLE curate_incoming AS " + incoming));
    ASSIGN_OR_RETURN(int64_t rows_in, conn.QueryInt("SELECT count(*) FROM curate_incoming"));
    result.rows_in += rows_in;

    // Rows that beat the current state: new keys, higher versions, or equal versions from a
    // later batch. Late and duplicate events lose here and change nothing (G3).
    std::string on = [&] {
      std::string s;
      for (const auto& k : table.key)
        s += (s.empty() ? "" : " AND ") + ("c." + Ident(k) + " = i." + Ident(k));
      return s;
    }();
    const std::string ver = Ident(table.version);
    RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP TABLE curate_winners AS SELECT i.*, " +
                                 DayExpr(*source, "c") + " AS _old_day, " + TenantExpr(*source, "c") +
                                 " AS _old_tenant, c._batch_seq IS NOT NULL "
                                 "AS _replaces FROM curate_incoming i LEFT JOIN " +
                                 target + " c ON " + on + " WHERE c._batch_seq IS NULL OR i." + ver +
                                 " > c." + ver + " OR (i." + ver + " = c." + ver +
                                 " AND i._batch_seq > c._batch_seq)"));
    ASSIGN_OR_RETURN(int64_t rows_merged, conn.QueryInt("SELECT count(*) FROM curate_winners"));
    result.rows_merged += rows_merged;

    // Partitions changed: where winners land, and where the rows they replace were.
    RETURN_IF_ERROR(
        conn.Execute("CREATE OR REPLACE TEMP TABLE curate_touched AS SELECT DISTINCT day, tenant FROM ("
                     "SELECT " +
                     DayExpr(*source, "w") + " AS day, " + TenantExpr(*source, "w") +
                     " AS tenant FROM curate_winners w UNION ALL SELECT _old_day, _old_tenant FROM "
                     "curate_winners WHERE _replaces)"));
    ASSIGN_OR_RETURN(duck::Rows touched_rows,
                     conn.Query("SELECT CAST(day AS VARCHAR), tenant FROM curate_touched"));
    std::vector<Partition> touched;
    for (auto& r : touched_rows.rows) touched.push_back({std::move(r[0]), std::move(r[1])});
    result.partitions += static_cast<int64_t>(touched.size());

    if (catalog.spec().HasConsumers(table.name)) {
      RETURN_IF_ERROR(LogChanges(catalog, table, *source, on));
    }

    std::string del_on;
    for (const auto& k : table.key) {
      del_on += (del_on.empty() ? "" : " AND ") + (target + "." + Ident(k) + " = w." + Ident(k));
    }
    RETURN_IF_ERROR(conn.Execute("DELETE FROM " + target + " USING curate_winners w WHERE w._replaces AND " +
                                 del_on +
                                 ";"
                                 "INSERT INTO " +
                                 target +
                                 " BY NAME SELECT * EXCLUDE (_old_day, _old_tenant, _replaces) FROM "
                                 "curate_winners"));
    // The catalog's side of the same transaction: what changed, and which batches are applied.
    RETURN_IF_ERROR(AddPendingPartitions(catalog, touched));
    RETURN_IF_ERROR(AddPublishPending(catalog, table.name, touched));
    RETURN_IF_ERROR(RecordApplied(catalog, table.name, source->name, batches));
    std::vector<std::string> batch_ids;
    batch_ids.reserve(batches.size());
    for (const PendingBatch& b : batches) batch_ids.push_back(b.batch_id);
    RETURN_IF_ERROR(AddWarehouseBatches(catalog, table.name, source->name, batch_ids));
    ASSIGN_OR_RETURN(int64_t rows, conn.QueryInt("SELECT count(*) FROM " + target));
    RETURN_IF_ERROR(RecordNewVersion(catalog, table.name, rows));
  }
  return Status::OK();
}

// What one curate transaction did: committed, or rolled back by a blocking test failure.
struct Step {
  bool committed = false;
  std::vector<TestOutcome> outcomes;
};

// One transaction: merge `batches`, run the table's tests, and commit with their results unless
// an error test fails (then roll back; `bypass` commits anyway, recording it).
Result<Step> TryStep(Catalog& catalog, const TableSpec& table, const SourceSpec* source,
                     const std::vector<PendingBatch>& batches, bool reset, bool bypass,
                     int64_t run_started_us, CurateResult& result) {
  CurateResult step_result;
  Step step;
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    TestContext context;
    ASSIGN_OR_RETURN(context.rows_before,
                     catalog.conn().QueryInt("SELECT count(*) FROM curated." + Ident(table.name)));
    RETURN_IF_ERROR(MergeBatches(catalog, table, source, batches, reset, step_result));
    if (batches.empty()) {  // only a reset: nothing to gate
      step.committed = true;
      return Status::OK();
    }
    ASSIGN_OR_RETURN(step.outcomes, RunTableTests(catalog, "curated", table, context));
    if (!bypass && !BlockingFailures(step.outcomes).empty()) return Status::OK();
    TestRecord record{run_started_us, "curated", table.name, {}, bypass};
    for (const auto& b : batches) record.batch_ids.push_back(b.batch_id);
    RETURN_IF_ERROR(RecordTestResults(catalog, record, step.outcomes));
    step.committed = true;
    SLUICE_FAILPOINT("curate.before_commit");
    return Status::OK();
  };
  Status st = body();
  if (!st.ok() || !step.committed) {
    (void)catalog.Rollback();
    if (!st.ok()) return st;
    return step;
  }
  RETURN_IF_ERROR(catalog.Commit());
  if (step_result.batches > 0 || reset) SLUICE_FAILPOINT("curate.after_commit");
  result.batches += step_result.batches;
  result.rows_in += step_result.rows_in;
  result.rows_merged += step_result.rows_merged;
  result.partitions += step_result.partitions;
  for (const auto& o : step.outcomes) {
    if (o.failed()) (bypass && o.blocking() ? result.bypassed : result.warnings).push_back(o);
  }
  return step;
}

// Records batch `b` quarantined with the tests it failed, in its own transaction.
Status Quarantine(Catalog& catalog, const TableSpec& table, const SourceSpec& source, const PendingBatch& b,
                  const std::vector<TestOutcome>& outcomes, int64_t run_started_us, CurateResult& result) {
  RETURN_IF_ERROR(catalog.Begin());
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(QuarantineBatch(catalog, table.name, source.name, b.batch_id, run_started_us,
                                    BlockingFailures(outcomes)));
    return RecordTestResults(catalog, {run_started_us, "curated", table.name, {b.batch_id}, false}, outcomes);
  }();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());
  result.quarantined.push_back({b.batch_id, BlockingFailures(outcomes)});
  return Status::OK();
}

}  // namespace

Result<CurateResult> CurateTable(Catalog& catalog, const TableSpec& table, bool full_refresh,
                                 int64_t run_started_us) {
  const SourceSpec* source = catalog.spec().FindSource(table.from);
  if (source == nullptr) return Status::InvalidArgument("table " + table.name + ": unknown source");
  RETURN_IF_ERROR(EnsureTable(catalog, table, *source));
  CurateResult result;
  ASSIGN_OR_RETURN(std::vector<PendingBatch> pending,
                   PendingBatches(catalog, table.name, source->name, full_refresh));
  if (pending.empty() && !full_refresh) return result;

  // The common case: every pending batch at once, in one transaction with the tests.
  ASSIGN_OR_RETURN(Step all,
                   TryStep(catalog, table, source, pending, full_refresh, false, run_started_us, result));
  if (all.committed) return result;

  // An error test failed. Apply the batches one at a time, in commit order, to find the ones
  // that fail it: those are quarantined, the others are applied (G3: the order of application
  // does not change the final state, so a batch released later lands as if applied in order).
  if (pending.size() == 1 && !full_refresh && !pending[0].released) {
    RETURN_IF_ERROR(Quarantine(catalog, table, *source, pending[0], all.outcomes, run_started_us, result));
    return result;
  }
  if (full_refresh) {
    ASSIGN_OR_RETURN(Step reset, TryStep(catalog, table, source, {}, true, true, 0, result));
    (void)reset;
  }
  for (const auto& b : pending) {
    ASSIGN_OR_RETURN(Step one,
                     TryStep(catalog, table, source, {b}, false, b.released, run_started_us, result));
    if (!one.committed) {
      RETURN_IF_ERROR(Quarantine(catalog, table, *source, b, one.outcomes, run_started_us, result));
    }
  }
  return result;
}

}  // namespace sluice
