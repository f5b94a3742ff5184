// Contract checks (Contract::checks): row-level SQL boolean expressions over a contract's
// columns, such as "amount <= 10000 OR currency = 'JPY'". DuckDB evaluates them on a decoded
// batch after the decoder's per-column rules and before staging; a row for which a check is
// false (NULL passes, as in SQL CHECK constraints) becomes a dead letter with reason
// check_failed, so G1 still holds: rows_read = staged + dead.
//
// The expressions are the user's, like model SQL; ValidateContractChecks makes sure DuckDB's
// parser reads each as exactly one expression. Not safe for concurrent use (they use the
// catalog's one connection).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "catalog/catalog.h"
#include "catalog/ledger.h"
#include "common/status.h"
#include "ingest/record_batch.h"
#include "spec/contract.h"
#include "storage/staging.h"

namespace sluice {

// InvalidArgument naming the contract file, the check's line and name when DuckDB cannot bind a
// check against a table of the contract's columns (unknown column, syntax error) or when it is
// not a boolean expression. Uses its own in-memory DuckDB: no lake is touched.
Status ValidateContractChecks(const Contract& contract);

// The raw input text of valid row `row` of a batch (see RecordBatch::raw_spans).
using RowRawText = std::function<std::string(size_t row)>;

// Evaluates `contract`'s checks over the temp table `batch_rows` (LoadBatchTables; rows are
// identified by _source_line, unique within a batch). Each row for which a check is false --
// the first such check in contract order -- is deleted from `batch_rows` and appended to
// `batch.dead` and to `batch_dlq` as check_failed, column = the check's name, message = its
// expression, raw = raw(row). Returns how many rows moved (batch.rows() still counts them:
// staged = rows() - moved). A check that fails while evaluating (e.g. a failed cast) is an
// InvalidArgument naming the contract; then nothing has moved. Only rows with _source_line >=
// from_line are evaluated: a batch loaded in parts checks each part once, as it is appended
// (`batch` then holds that part's rows).
Result<int64_t> ApplyContractChecks(Catalog& catalog, const Contract& contract, RecordBatch& batch,
                                    const RowRawText& raw, const BatchStamp& stamp, int64_t from_line = 0);

// The common middle of a batch commit: loads `batch` into the temp tables (LoadBatchTables),
// applies the contract's checks, and sets record's rows_read / rows_staged / rows_dead.
// Corruption when they do not reconcile (G1 is checked, not assumed).
Status LoadAndCheckBatch(Catalog& catalog, const SourceSpec& source, RecordBatch& batch,
                         const RowRawText& raw, const BatchStamp& stamp, BatchRecord& record);

// Corruption when record's rows_read != rows_staged + rows_dead (G1 is checked, not assumed).
Status CheckReconciles(const BatchRecord& record);

}  // namespace sluice
