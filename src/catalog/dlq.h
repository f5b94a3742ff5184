// Dead-lettered rows (dlq.<source>): one table per source, each row with a lake-wide dlq_id
// (meta.counters), its reason and raw text, and its state: status 'open' until a redrive
// loads it ('redriven', with redriven_batch). Rows are inserted by the batch commit protocol
// (ledger.h CommitBatch); this file holds every other read and write of them.
//
// Writes run on the catalog's connection inside the caller's transaction (MarkRedriven inside
// the redrive batch's commit, DeleteDeadLettersBefore inside vacuum's). Ids are passed as
// values; the DuckDB catalog loads them into temp tables of its connection (dlq_ids,
// dlq_failed), replacing earlier contents. Errors: DuckDB's. Not safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// "dlq.<source>": the DLQ table's name as users see it (a redrive batch's `file` in the ledger).
std::string DlqName(const std::string& source);

struct DeadLetterRow {
  std::optional<int64_t> dlq_id;
  std::string source;
  std::string batch_id;
  std::optional<int64_t> line;  // 1-based line or record of the batch; for a redrive batch the
                                // dlq_id the row came from
  std::string reason;           // a reason code (ingest/record_batch.h)
  std::optional<std::string> column_name, message, raw, status, redriven_batch, correlation_id;
  std::optional<std::string> ingested_at;  // "2026-01-03 10:15:00.123456" (UTC)
};

// Which rows to read; unset fields do not filter.
struct DeadLetterFilter {
  std::optional<int64_t> dlq_id;
  std::optional<std::string> reason;
  std::optional<std::string> batch_id;
  std::optional<std::string> status;  // open | redriven
};

// The rows of `sources`' DLQ tables matching `filter`, ordered by dlq_id.
Result<std::vector<DeadLetterRow>> ListDeadLetters(Catalog& catalog, const std::vector<std::string>& sources,
                                                   const DeadLetterFilter& filter);

struct DeadLetterCounts {
  int64_t rows = 0;
  int64_t open = 0;
};
Result<DeadLetterCounts> CountDeadLetters(Catalog& catalog, const std::string& source);

// `source`'s DLQ rows per reason code, most rows first (then by reason).
struct DeadLetterReasonCount {
  std::string reason;
  int64_t rows = 0;
  int64_t open = 0;
};
Result<std::vector<DeadLetterReasonCount>> CountDeadLettersByReason(Catalog& catalog,
                                                                    const std::string& source);

// The batch each of `ids` (dlq_ids of `source`) was dead-lettered from, ordered by dlq_id.
struct DeadLetterOrigin {
  int64_t dlq_id = 0;
  std::string batch_id;
};
Result<std::vector<DeadLetterOrigin>> DeadLetterOrigins(Catalog& catalog, const std::string& source,
                                                        const std::vector<int64_t>& ids);

// A row that failed again on redrive, with its new reason.
struct DeadLetterUpdate {
  int64_t dlq_id = 0;
  std::string reason;
  std::string column_name;  // "" when the reason names no column (stored as NULL)
  std::string message;
};

// A redrive's outcome: rows `redriven` (dlq_ids of `source`) are marked 'redriven' by batch
// `batch_id`; rows `still_failing` keep status 'open' with their new reason, column, message.
Status MarkRedriven(Catalog& catalog, const std::string& source, const std::string& batch_id,
                    const std::vector<int64_t>& redriven, const std::vector<DeadLetterUpdate>& still_failing);

// Deletes `source`'s rows ingested before `cutoff_us` (UTC micros), whatever their status;
// returns how many.
Result<int64_t> DeleteDeadLettersBefore(Catalog& catalog, const std::string& source, int64_t cutoff_us);

}  // namespace sluice
