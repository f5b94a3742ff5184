#include "engine/redrive.h"

#include <map>
#include <set>

#include "catalog/dlq.h"
#include "catalog/ledger.h"
#include "catalog/ledger_reads.h"
#include "common/hash.h"
#include "duck/duck.h"
#include "engine/row_checks.h"
#include "ingest/decoder.h"
#include "storage/staging.h"

namespace sluice {

namespace {

// One open DLQ row to re-validate.
struct DeadRow {
  int64_t dlq_id = 0;
  std::string batch_id;
  std::string raw;
};

// Appends row `i` of `from` to `to` (same contract).
void AppendRow(const RecordBatch& from, size_t i, RecordBatch& to) {
  for (size_t c = 0; c < from.columns.size(); ++c) {
    const ColumnData& src = from.columns[c];
    ColumnData& dst = to.columns[c];
    dst.valid.push_back(src.valid[i]);
    switch (src.type.kind) {
      case TypeKind::kString:
        dst.str_data.append(src.StringAt(i));
        dst.str_offsets.push_back(dst.str_data.size());
        break;
      case TypeKind::kInt64:
      case TypeKind::kDecimal:
      case TypeKind::kTimestamp:
        dst.i64.push_back(src.i64[i]);
        break;
      case TypeKind::kInt32:
      case TypeKind::kDate:
        dst.i32.push_back(src.i32[i]);
        break;
      case TypeKind::kFloat:
      case TypeKind::kDouble:
        dst.f64.push_back(src.f64[i]);
        break;
      case TypeKind::kBool:
        dst.u8.push_back(src.u8[i]);
        break;
    }
  }
}

// Decodes `rows` with the current contract into one batch whose line numbers are the rows'
// dlq_ids and whose raw spans index `rows`. Every row is read exactly once (G1).
Result<RecordBatch> Revalidate(const SourceSpec& source, const std::vector<DeadRow>& rows,
                               const std::map<std::string, std::string>& csv_headers) {
  DecodeOptions options;
  options.csv_delimiter = source.csv_delimiter;
  if (!source.partition_by.tenant.empty()) options.path_columns.push_back(source.partition_by.tenant);
  ASSIGN_OR_RETURN(ContractValidator validator, ContractValidator::Create(source.contract, options));
  if (source.format != SourceFormat::kCsv) {
    // JSONL lines and Parquet rows (stored as JSON objects) are JSON records.
    std::vector<std::string> records;
    records.reserve(rows.size());
    for (const auto& r : rows) records.push_back(r.raw);
    ASSIGN_OR_RETURN(RecordBatch batch, validator.DecodeJsonRecords(records));
    for (auto& line : batch.source_line) line = rows[static_cast<size_t>(line) - 1].dlq_id;
    for (auto& d : batch.dead) d.line = rows[static_cast<size_t>(d.line) - 1].dlq_id;
    return batch;
  }
  // CSV: each record re-parsed alone under its batch's header, so that a record with broken
  // quoting cannot run into the next one.
  RecordBatch out;
  out.columns.resize(source.contract.columns.size());
  for (size_t c = 0; c < out.columns.size(); ++c) out.columns[c].type = source.contract.columns[c].type;
  for (size_t k = 0; k < rows.size(); ++k) {
    const DeadRow& row = rows[k];
    ++out.rows_read;
    auto one = validator.DecodeCsv(csv_headers.at(row.batch_id) + "\n" + row.raw);
    if (one.ok() && one->rows_read == 1 && one->rows() == 1) {
      AppendRow(*one, 0, out);
      out.source_line.push_back(row.dlq_id);
      out.raw_spans.push_back(RawSpan{k, row.raw.size()});
    } else if (one.ok() && one->rows_read == 1 && one->dead.size() == 1) {
      DeadLetter d = std::move(one->dead[0]);
      d.line = row.dlq_id;
      d.raw = row.raw;
      out.dead.push_back(std::move(d));
    } else {
      out.dead.push_back(DeadLetter{row.dlq_id, reason::kMalformedRecord, "",
                                    "does not re-parse as one CSV record under its batch's header", row.raw});
    }
  }
  return out;
}

}  // namespace

Result<RedriveOutcome> Redrive(Engine& engine, const std::string& source_name,
                               const std::string& reason_filter) {
  Catalog& catalog = engine.catalog();
  auto& conn = catalog.conn();
  Env* env = catalog.env();
  const SourceSpec* source = engine.spec().FindSource(source_name);
  if (source == nullptr) {
    std::string known;
    for (const auto& s : engine.spec().sources) known += (known.empty() ? "" : ", ") + s.name;
    return Status::NotFound("unknown source '" + source_name + "' (sources: " + known + ")");
  }
  RedriveOutcome out;
  out.source = source_name;

  std::map<std::string, std::string> csv_headers;  // batch id -> header
  if (source->format == SourceFormat::kCsv) {
    ASSIGN_OR_RETURN(csv_headers, CsvHeaders(catalog, source_name));
  }
  DeadLetterFilter filter;
  filter.status = "open";
  if (!reason_filter.empty()) filter.reason = reason_filter;
  ASSIGN_OR_RETURN(std::vector<DeadLetterRow> open, ListDeadLetters(catalog, {source_name}, filter));
  std::vector<DeadRow> rows;
  for (const DeadLetterRow& d : open) {
    DeadRow row{d.dlq_id.value_or(0), d.batch_id, d.raw.value_or("")};
    const bool no_header = source->format == SourceFormat::kCsv && !csv_headers.contains(row.batch_id);
    if (d.reason == reason::kBadEncoding || no_header) {
      ++out.rows_skipped;
      continue;
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return out;

  std::string ids;
  for (const auto& r : rows) ids += (ids.empty() ? "" : ",") + std::to_string(r.dlq_id);
  const std::string hash = ContentHash("redrive:" + source_name + ":" + ids);
  BatchRecord record;
  record.source = source_name;
  record.batch_id = "redrive-" + hash;
  record.content_hash = hash;
  record.file = DlqName(source_name);
  record.correlation_id = NewCorrelationId(env->NowMicros());
  record.started_at = env->NowMicros();
  out.batch_id = record.batch_id;
  ASSIGN_OR_RETURN(auto existing, FindBatch(catalog, source_name, record.batch_id));
  if (existing) {
    // Cannot normally happen (the rows would no longer be open); never load them twice.
    out.duplicate = true;
    return out;
  }

  const int64_t start = env->MonotonicMicros();
  ASSIGN_OR_RETURN(RecordBatch batch, Revalidate(*source, rows, csv_headers));
  record.decode_ms = (env->MonotonicMicros() - start) / 1000;
  BatchStamp stamp{record.batch_id, record.correlation_id, record.started_at};
  RETURN_IF_ERROR(LoadBatchTables(catalog, *source, batch, stamp));
  auto raw_text = [&](size_t row) { return rows[batch.raw_spans[row].offset].raw; };
  ASSIGN_OR_RETURN(int64_t failed_checks,
                   ApplyContractChecks(catalog, source->contract, batch, raw_text, stamp));
  record.rows_read = batch.rows_read;
  record.rows_staged = static_cast<int64_t>(batch.rows()) - failed_checks;
  record.rows_dead = static_cast<int64_t>(batch.dead.size());
  if (record.rows_read != static_cast<int64_t>(rows.size()) ||
      record.rows_read != record.rows_staged + record.rows_dead) {
    return Status::Corruption("redrive of " + source_name + " does not reconcile: re-validated " +
                              std::to_string(rows.size()) + ", read " + std::to_string(record.rows_read) +
                              ", staged " + std::to_string(record.rows_staged) + ", still failing " +
                              std::to_string(record.rows_dead));
  }
  // The rows that passed (their staging _source_line is their dlq_id), and the new reasons of
  // those that still fail.
  std::vector<int64_t> passed;
  {
    ASSIGN_OR_RETURN(duck::Rows staged, conn.Query("SELECT _source_line FROM batch_rows"));
    passed.reserve(staged.rows.size());
    for (size_t r = 0; r < staged.rows.size(); ++r) passed.push_back(staged.IntAt(r, 0));
  }
  std::vector<DeadLetterUpdate> failed;
  failed.reserve(batch.dead.size());
  for (const DeadLetter& d : batch.dead) {
    failed.push_back({d.line, d.reason, d.column, d.message});  // d.line: the dlq_id (Revalidate)
  }
  // Both updates run in one transaction with the batch's ledger row (or alone when none passed).
  auto mark_rows = [&]() -> Status {
    return MarkRedriven(catalog, source_name, record.batch_id, passed, failed);
  };

  out.rows_read = record.rows_read;
  out.rows_staged = record.rows_staged;
  out.rows_dead = record.rows_dead;
  for (const auto& d : batch.dead) out.dead_by_reason[d.reason]++;
  if (record.rows_staged == 0) {
    out.batch_id.clear();
    RETURN_IF_ERROR(catalog.Begin());
    Status st = mark_rows();
    if (!st.ok()) {
      (void)catalog.Rollback();
      return st.WithContext("updating dlq rows of " + source_name);
    }
    RETURN_IF_ERROR(catalog.Commit());
    return out;
  }

  ASSIGN_OR_RETURN(std::vector<DeadLetterOrigin> lineage, DeadLetterOrigins(catalog, source_name, passed));
  std::set<std::string> seen;
  for (const auto& o : lineage) {
    out.redriven_ids.push_back(o.dlq_id);
    if (seen.insert(o.batch_id).second) out.parent_batches.push_back(o.batch_id);
  }
  for (const auto& p : out.parent_batches) {
    record.parent_batches += (record.parent_batches.empty() ? "" : ",") + p;
  }
  const int64_t stage_start = env->MonotonicMicros();
  ASSIGN_OR_RETURN(StagedBatch staged, WriteStagingFiles(catalog, *source, stamp));
  record.stage_ms = (env->MonotonicMicros() - stage_start) / 1000;
  RETURN_IF_ERROR(CommitBatch(catalog, record, staged, "", mark_rows));
  RETURN_IF_ERROR(catalog.RefreshStagingView(*source));
  RETURN_IF_ERROR(catalog.Checkpoint());
  return out;
}

}  // namespace sluice
