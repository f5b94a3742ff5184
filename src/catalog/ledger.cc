#include "catalog/ledger.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/failpoint.h"

namespace sluice {

using duck::Literal;

namespace {

std::string Timestamp(int64_t micros) { return "make_timestamp(" + std::to_string(micros) + "::BIGINT)"; }

constexpr const char* kBatchColumns =
    "source, batch_id, batch_seq, content_hash, file, rows_read, rows_staged, rows_dead, status, "
    "correlation_id, epoch_us(started_at), epoch_us(committed_at), decode_ms, stage_ms";

std::vector<BatchRecord> ToRecords(const duck::Rows& rows) {
  std::vector<BatchRecord> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    BatchRecord b;
    b.source = rows.At(r, 0);
    b.batch_id = rows.At(r, 1);
    b.batch_seq = rows.IntAt(r, 2);
    b.content_hash = rows.At(r, 3);
    b.file = rows.At(r, 4);
    b.rows_read = rows.IntAt(r, 5);
    b.rows_staged = rows.IntAt(r, 6);
    b.rows_dead = rows.IntAt(r, 7);
    b.status = rows.At(r, 8);
    b.correlation_id = rows.At(r, 9);
    b.started_at = rows.IntAt(r, 10);
    b.committed_at = rows.IntAt(r, 11);
    b.decode_ms = rows.IntAt(r, 12);
    b.stage_ms = rows.IntAt(r, 13);
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::optional<BatchRecord>> FindOne(Catalog& catalog, const std::string& where) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(std::string("SELECT ") + kBatchColumns + " FROM meta.batches WHERE " +
                                        where + " ORDER BY batch_seq LIMIT 1"));
  auto records = ToRecords(rows);
  if (records.empty()) return std::optional<BatchRecord>();
  return std::optional<BatchRecord>(std::move(records[0]));
}

}  // namespace

bool IsValidBatchId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::optional<BatchRecord>> FindBatch(Catalog& catalog, const std::string& source,
                                             const std::string& batch_id) {
  return FindOne(catalog, "source = " + Literal(source) + " AND batch_id = " + Literal(batch_id));
}

Result<std::optional<BatchRecord>> FindBatchByHash(Catalog& catalog, const std::string& source,
                                                   const std::string& content_hash) {
  return FindOne(catalog, "source = " + Literal(source) + " AND content_hash = " + Literal(content_hash));
}

Result<std::vector<BatchRecord>> ListBatches(Catalog& catalog) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(std::string("SELECT ") + kBatchColumns +
                                                         " FROM meta.batches ORDER BY batch_seq"));
  return ToRecords(rows);
}

Result<std::vector<BatchRecord>> RecentBatches(Catalog& catalog, int64_t limit) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(std::string("SELECT ") + kBatchColumns +
                                                         " FROM meta.batches ORDER BY batch_seq DESC LIMIT " +
                                                         std::to_string(std::max<int64_t>(0, limit))));
  return ToRecords(rows);
}

std::string StagingTmpDir(const std::string& source, const std::string& batch_id) {
  return "staging/" + source + "/_tmp/" + batch_id;
}

Status CommitBatch(Catalog& catalog, BatchRecord& record, const StagedBatch& staged,
                   const std::string& dlq_table, const std::function<Status()>& in_transaction) {
  auto& conn = catalog.conn();
  const std::vector<StagedFile>& files = staged.files;
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    ASSIGN_OR_RETURN(record.batch_seq,
                     conn.QueryInt("SELECT coalesce(max(batch_seq), 0) + 1 FROM meta.batches"));
    record.committed_at = catalog.env()->NowMicros();
    RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO meta.batches (source, batch_id, batch_seq, content_hash, file, rows_read, "
        "rows_staged, rows_dead, status, correlation_id, started_at, committed_at, decode_ms, "
        "stage_ms, parent_batches, csv_header, rows_late, cpu_us, bytes_written, schema_version) VALUES (" +
        Literal(record.source) + ", " + Literal(record.batch_id) + ", " + std::to_string(record.batch_seq) +
        ", " + Literal(record.content_hash) + ", " + Literal(record.file) + ", " +
        std::to_string(record.rows_read) + ", " + std::to_string(record.rows_staged) + ", " +
        std::to_string(record.rows_dead) + ", " + Literal(record.status) + ", " +
        Literal(record.correlation_id) + ", " + Timestamp(record.started_at) + ", " +
        Timestamp(record.committed_at) + ", " + std::to_string(record.decode_ms) + ", " +
        std::to_string(record.stage_ms) + ", " +
        (record.parent_batches.empty() ? "NULL" : Literal(record.parent_batches)) + ", " +
        (record.csv_header.empty() ? "NULL" : Literal(record.csv_header)) + ", " +
        std::to_string(record.rows_late) + ", " +
        (record.cpu_us < 0 ? "NULL" : std::to_string(record.cpu_us)) + ", " +
        (record.bytes_written < 0 ? "NULL" : std::to_string(record.bytes_written)) +
        // The contract version the batch was validated and staged under: the latest registered,
        // since schema evolution runs before any batch (schema_registry.h, RetainedStagingVersions).
        ", (SELECT max(version) FROM meta.schemas WHERE source = " + Literal(record.source) + "))"));
    if (!files.empty()) {
      std::string values;
      for (const auto& f : files) {
        if (!values.empty()) values += ", ";
        values += "(" + Literal(record.source) + ", " + Literal(record.batch_id) + ", " + Literal(f.path) +
                  ", " + Literal(f.tmp_path) + ", " + (f.day.empty() ? "NULL" : "DATE " + Literal(f.day)) +
                  ", " + (f.tenant.empty() ? "NULL" : Literal(f.tenant)) + ", " + std::to_string(f.rows) +
                  ")";
      }
      RETURN_IF_ERROR(conn.Execute(
          "INSERT INTO meta.files (source, batch_id, path, tmp_path, day, tenant, rows) VALUES " + values));
    }
    if (!staged.partitions_table.empty()) {
      RETURN_IF_ERROR(conn.Execute("INSERT INTO meta.file_partitions SELECT " + Literal(record.source) +
                                   ", " + Literal(record.batch_id) + ", path, day, tenant, rows FROM " +
                                   staged.partitions_table));
    }
    if (!dlq_table.empty()) {
      // Ids continue the lake's counter, in line order; the counter moves in this transaction.
      RETURN_IF_ERROR(conn.Execute(
          "INSERT INTO dlq." + duck::Ident(record.source) +
          " (batch_id, line, reason, column_name, message, raw, correlation_id, ingested_at,"
          " dlq_id, status) SELECT d.batch_id, d.line, d.reason, d.column_name, d.message, d.raw,"
          " d.correlation_id, d.ingested_at, (SELECT value FROM meta.counters WHERE name = "
          "'dlq_id') + row_number() OVER (ORDER BY d.line), 'open' FROM " +
          dlq_table +
          " d;"
          "UPDATE meta.counters SET value = value + (SELECT count(*) FROM " +
          dlq_table + ") WHERE name = 'dlq_id'"));
    }
    if (in_transaction) RETURN_IF_ERROR(in_transaction());
    return Status::OK();
  };
  Status st = body();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st.WithContext("committing batch " + record.batch_id + " of " + record.source);
  }
  RETURN_IF_ERROR(catalog.Commit());
  SLUICE_FAILPOINT("ingest.after_catalog_commit");

  Env* env = catalog.env();
  const std::string& lake = catalog.lake();
  for (const auto& f : files) {
    std::string to = lake + "/" + f.path;
    RETURN_IF_ERROR(env->CreateDirs(std::filesystem::path(to).parent_path().string()));
    RETURN_IF_ERROR(env->Rename(lake + "/" + f.tmp_path, to));
  }
  if (!files.empty()) RETURN_IF_ERROR(env->SyncFileSystem(lake));  // the renames, durably
  SLUICE_FAILPOINT("ingest.after_rename");
  const std::string tmp = lake + "/" + StagingTmpDir(record.source, record.batch_id);
  if (catalog.tmp_dir_remover()) {
    catalog.tmp_dir_remover()(tmp);  // empty directories only: the files were renamed
    return Status::OK();
  }
  RETURN_IF_ERROR(env->RemoveAll(tmp));
  (void)env->RemoveDir(std::filesystem::path(tmp).parent_path().string());  // "_tmp", when empty
  return Status::OK();
}

Status RecoverStaging(Catalog& catalog) {
  Env* env = catalog.env();
  const std::string& lake = catalog.lake();
  namespace fs = std::filesystem;
  for (const auto& source : catalog.spec().sources) {
    std::string tmp_root = lake + "/staging/" + source.name + "/_tmp";
    ASSIGN_OR_RETURN(auto batch_ids, env->ListDir(tmp_root));
    if (batch_ids.empty() && !env->Exists(tmp_root)) continue;
    for (const std::string& batch_id : batch_ids) {
      ASSIGN_OR_RETURN(auto batch, FindBatch(catalog, source.name, batch_id));
      if (batch) {
        // Committed: roll forward the renames the crash interrupted.
        ASSIGN_OR_RETURN(duck::Rows files,
                         catalog.conn().Query("SELECT tmp_path, path FROM meta.files WHERE source = " +
                                              Literal(source.name) + " AND batch_id = " + Literal(batch_id)));
        for (size_t r = 0; r < files.rows.size(); ++r) {
          std::string from = lake + "/" + files.At(r, 0), to = lake + "/" + files.At(r, 1);
          if (env->Exists(to)) continue;
          if (!env->Exists(from)) {
            return Status::Corruption("staging file of committed batch " + batch_id + " is missing: " + to);
          }
          RETURN_IF_ERROR(env->CreateDirs(fs::path(to).parent_path().string()));
          RETURN_IF_ERROR(env->Rename(from, to));
          RETURN_IF_ERROR(env->SyncDir(fs::path(to).parent_path().string()));
        }
      }
      // Uncommitted (or finished): nothing in it is visible; remove it.
      RETURN_IF_ERROR(env->RemoveAll(tmp_root + "/" + batch_id));
    }
    RETURN_IF_ERROR(env->RemoveAll(tmp_root));
  }
  return Status::OK();
}

}  // namespace sluice
