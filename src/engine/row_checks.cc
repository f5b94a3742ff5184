#include "engine/row_checks.h"

#include <algorithm>

#include "duck/duck.h"
#include "duck/errors.h"
#include "duck/sql_parser.h"
#include "ingest/record_batch.h"

namespace sluice {

namespace {

// The expression parenthesised on lines of its own, so that a trailing "--" comment in it
// cannot swallow the SQL around it.
std::string Parenthesised(const std::string& expr) { return "(\n" + expr + "\n)"; }

std::string Where(const Contract& contract, const ContractCheck& check) {
  return contract.path + ":" + std::to_string(check.line) + ": checks." + check.name;
}

}  // namespace

Status ValidateContractChecks(const Contract& contract) {
  if (contract.checks.empty()) return Status::OK();
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open());
  std::string ddl = "CREATE TABLE batch_rows (" + ColumnDefinitions(contract);
  for (const auto& m : StagingMetaColumns()) ddl += std::string(", ") + m.name + " " + m.type;
  RETURN_IF_ERROR(conn->Execute(ddl + ")"));
  for (const auto& check : contract.checks) {
    // The check is pasted into our SQL as `(\n<expr>\n)`: it must read as one expression on its
    // own, or text such as "a > 0) OR (true" would change the SQL around it. DuckDB's parser
    // decides: `SELECT\n<expr>\n` must be a SELECT of that one expression and nothing else.
    ASSIGN_OR_RETURN(duck::ParsedSql parsed, duck::ParseSql(*conn, "SELECT\n" + check.expr + "\n"));
    if (!parsed.single_expression) {
      std::string why = parsed.kind == duck::SqlStatementKind::kInvalid
                            ? ": DuckDB cannot parse it (" + parsed.error + ")"
                            : " (nothing may follow it: no ';', FROM, WHERE, AS, ORDER BY, ...)";
      return Status::InvalidArgument(Where(contract, check) + ": '" + check.expr +
                                     "' is not one SQL expression" + why);
    }
    auto rows = conn->Query("SELECT " + Parenthesised(check.expr) + " AS ok FROM batch_rows LIMIT 0");
    if (!rows.ok()) {
      return Status::InvalidArgument(Where(contract, check) + ": cannot evaluate '" + check.expr +
                                     "' over the contract's columns: " + rows.status().message());
    }
    if (rows->types.empty() || rows->types[0] != "BOOLEAN") {
      return Status::InvalidArgument(Where(contract, check) + ": '" + check.expr +
                                     "' is not a boolean expression (its type is " +
                                     (rows->types.empty() ? "unknown" : rows->types[0]) + ")");
    }
  }
  return Status::OK();
}

Result<int64_t> ApplyContractChecks(Catalog& catalog, const Contract& contract, RecordBatch& batch,
                                    const RowRawText& raw, const BatchStamp& stamp, int64_t from_line) {
  if (contract.checks.empty() || batch.rows() == 0) return 0;
  auto& conn = catalog.conn();
  // The index of the first check that is false for the row; NULL when all pass or are NULL.
  std::string first_failing = "CASE";
  for (size_t i = 0; i < contract.checks.size(); ++i) {
    first_failing +=
        " WHEN " + Parenthesised(contract.checks[i].expr) + " IS FALSE THEN " + std::to_string(i);
  }
  first_failing += " END";
  Status st = conn.Execute(
      "CREATE OR REPLACE TEMP TABLE batch_check_failed AS SELECT line, k FROM (SELECT "
      "_source_line AS line, " +
      first_failing + " AS k FROM batch_rows WHERE _source_line >= " + std::to_string(from_line) +
      ") WHERE k IS NOT NULL");
  if (!st.ok()) {
    // Name the check that cannot evaluate on these rows (e.g. a cast of a value that does not
    // convert): each is tried alone, in contract order.
    for (const auto& check : contract.checks) {
      Status alone =
          conn.Execute("SELECT count(*) FROM batch_rows WHERE " + Parenthesised(check.expr) + " IS FALSE");
      if (!alone.ok()) {
        return Status::InvalidArgument(Where(contract, check) + ": cannot evaluate '" + check.expr +
                                       "' on the rows of batch " + stamp.batch_id + ": " +
                                       duck::FirstLine(alone.message()) +
                                       "; nothing was committed: fix or remove the check");
      }
    }
    return Status::InvalidArgument(contract.path + ": checks: evaluating the contract's checks on batch " +
                                   stamp.batch_id + " failed: " + st.message());
  }
  ASSIGN_OR_RETURN(duck::Rows failed, conn.Query("SELECT line, k FROM batch_check_failed ORDER BY line"));
  if (failed.rows.empty()) return 0;
  const size_t first_new = batch.dead.size();
  for (size_t r = 0; r < failed.rows.size(); ++r) {
    const int64_t line = failed.IntAt(r, 0);
    const auto k = static_cast<size_t>(failed.IntAt(r, 1));
    // Lines increase with the rows of a batch: find the row by binary search.
    auto it = std::lower_bound(batch.source_line.begin(), batch.source_line.end(), line);
    if (it == batch.source_line.end() || *it != line || k >= contract.checks.size()) {
      return Status::Corruption("batch " + stamp.batch_id + ": check result for unknown line " +
                                std::to_string(line));
    }
    const auto row = static_cast<size_t>(it - batch.source_line.begin());
    const ContractCheck& check = contract.checks[k];
    batch.dead.push_back(DeadLetter{line, reason::kCheckFailed, check.name, check.expr, raw(row)});
  }
  RETURN_IF_ERROR(
      conn.Execute("DELETE FROM batch_rows WHERE _source_line IN (SELECT line FROM batch_check_failed)"));
  RETURN_IF_ERROR(AppendDeadLetters(catalog, batch, first_new, stamp));
  // Dead letters in line order, as the decoder produced them.
  std::stable_sort(batch.dead.begin(), batch.dead.end(),
                   [](const DeadLetter& a, const DeadLetter& b) { return a.line < b.line; });
  return static_cast<int64_t>(failed.rows.size());
}

Status LoadAndCheckBatch(Catalog& catalog, const SourceSpec& source, RecordBatch& batch,
                         const RowRawText& raw, const BatchStamp& stamp, BatchRecord& record) {
  RETURN_IF_ERROR(LoadBatchTables(catalog, source, batch, stamp));
  // Contract checks move failing rows from batch_rows to the dead letters (before staging).
  ASSIGN_OR_RETURN(int64_t failed_checks, ApplyContractChecks(catalog, source.contract, batch, raw, stamp));
  record.rows_read = batch.rows_read;
  record.rows_staged = static_cast<int64_t>(batch.rows()) - failed_checks;
  record.rows_dead = static_cast<int64_t>(batch.dead.size());
  return CheckReconciles(record);
}

Status CheckReconciles(const BatchRecord& record) {
  if (record.rows_read == record.rows_staged + record.rows_dead) return Status::OK();
  return Status::Corruption("batch " + record.batch_id + " does not reconcile: read " +
                            std::to_string(record.rows_read) + ", staged " +
                            std::to_string(record.rows_staged) + ", dead-lettered " +
                            std::to_string(record.rows_dead));
}

}  // namespace sluice
