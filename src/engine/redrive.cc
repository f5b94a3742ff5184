#include "engine/redrive.h"

#include <map>
#include <set>

#include "catalog/ledger.h"
#include "common/hash.h"
#include "duck/duck.h"
#include "engine/row_checks.h"
#include "ingest/decoder.h"
#include "storage/staging.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

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
                                    "does not re-parse as one CSV record under its batch's header",
                                    row.raw});
    }
  }
  return out;
}

// Loads the still-failing rows' new reasons into temp table `redrive_failed`.
Status LoadFailed(duck::Connection& conn, const std::vector<DeadLetter>& dead) {
  RETURN_IF_ERROR(conn.Execute(
      "CREATE OR REPLACE TEMP TABLE redrive_failed (dlq_id BIGINT, reason VARCHAR,"
      " column_name VARCHAR, message VARCHAR)"));
  ASSIGN_OR_RETURN(auto app, duck::ChunkAppender::Create(conn, "main", "redrive_failed",
                                                         {"BIGINT", "VARCHAR", "VARCHAR", "VARCHAR"}));
  const size_t cap = duck::ChunkAppender::Capacity();
  for (size_t begin = 0; begin < dead.size(); begin += cap) {
    const size_t n = std::min(cap, dead.size() - begin);
    for (size_t r = 0; r < n; ++r) {
      const DeadLetter& d = dead[begin + r];
      static_cast<int64_t*>(app->Data(0))[r] = d.line;  // the dlq_id (see Revalidate)
      app->SetString(1, r, d.reason);
      if (d.column.empty()) app->SetNull(2, r); else app->SetString(2, r, d.column);
      app->SetString(3, r, d.message);
    }
    RETURN_IF_ERROR(app->FlushChunk(n));
  }
  return app->Close();
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
  const std::string dlq_table = "dlq." + Ident(source_name);
  RedriveOutcome out;
  out.source = source_name;

  std::map<std::string, std::string> csv_headers;  // batch id -> header
  if (source->format == SourceFormat::kCsv) {
    ASSIGN_OR_RETURN(duck::Rows headers,
                     conn.Query("SELECT batch_id, csv_header FROM meta.batches WHERE source = " +
                                Literal(source_name) + " AND csv_header IS NOT NULL"));
    for (size_t r = 0; r < headers.rows.size(); ++r) csv_headers[headers.At(r, 0)] = headers.At(r, 1);
  }
  ASSIGN_OR_RETURN(duck::Rows open,
                   conn.Query("SELECT dlq_id, batch_id, reason, raw FROM " + dlq_table +
                              " WHERE status = 'open'" +
                              (reason_filter.empty() ? "" : " AND reason = " + Literal(reason_filter)) +
                              " ORDER BY dlq_id"));
  std::vector<DeadRow> rows;
  for (size_t r = 0; r < open.rows.size(); ++r) {
    DeadRow row{open.IntAt(r, 0), open.At(r, 1), open.At(r, 3)};
    const bool no_header = source->format == SourceFormat::kCsv && !csv_headers.contains(row.batch_id);
    if (open.At(r, 2) == reason::kBadEncoding || no_header) {
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
  record.file = "dlq." + source_name;
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
                              std::to_string(rows.size()) + ", read " +
                              std::to_string(record.rows_read) + ", staged " +
                              std::to_string(record.rows_staged) + ", still failing " +
                              std::to_string(record.rows_dead));
  }
  RETURN_IF_ERROR(LoadFailed(conn, batch.dead));
  // Both updates run in one transaction with the batch's ledger row (or alone when none passed).
  auto mark_rows = [&]() -> Status {
    return conn.Execute(
        "UPDATE " + dlq_table + " SET status = 'redriven', redriven_batch = " +
        Literal(record.batch_id) + " WHERE dlq_id IN (SELECT _source_line FROM batch_rows);"
        "UPDATE " + dlq_table + " AS d SET reason = f.reason, column_name = f.column_name,"
        " message = f.message FROM redrive_failed f WHERE d.dlq_id = f.dlq_id");
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

  ASSIGN_OR_RETURN(duck::Rows lineage,
                   conn.Query("SELECT DISTINCT d.batch_id, d.dlq_id FROM " + dlq_table +
                              " d WHERE d.dlq_id IN (SELECT _source_line FROM batch_rows)"
                              " ORDER BY d.dlq_id"));
  std::set<std::string> seen;
  for (size_t r = 0; r < lineage.rows.size(); ++r) {
    out.redriven_ids.push_back(lineage.IntAt(r, 1));
    if (seen.insert(lineage.At(r, 0)).second) out.parent_batches.push_back(lineage.At(r, 0));
  }
  for (const auto& p : out.parent_batches) {
    record.parent_batches += (record.parent_batches.empty() ? "" : ",") + p;
  }
  const int64_t stage_start = env->MonotonicMicros();
  ASSIGN_OR_RETURN(auto files, WriteStagingFiles(catalog, *source, stamp));
  record.stage_ms = (env->MonotonicMicros() - stage_start) / 1000;
  RETURN_IF_ERROR(CommitBatch(catalog, record, files, "", mark_rows));
  RETURN_IF_ERROR(catalog.RefreshStagingView(*source));
  RETURN_IF_ERROR(catalog.Checkpoint());
  return out;
}

}  // namespace sluice
