#include "storage/staging.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "catalog/schema_registry.h"
#include "common/failpoint.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

// Copies rows [begin, begin + n) of `col` into column `c` of the appender's current chunk.
void FillColumn(duck::ChunkAppender& app, size_t c, const ColumnData& col, size_t begin, size_t n) {
  for (size_t r = 0; r < n; ++r) {
    if (!col.valid[begin + r]) app.SetNull(c, r);
  }
  switch (col.type.kind) {
    case TypeKind::kString:
      for (size_t r = 0; r < n; ++r) {
        if (col.valid[begin + r]) app.SetString(c, r, col.StringAt(begin + r));
      }
      break;
    case TypeKind::kInt64:
    case TypeKind::kTimestamp:
      std::memcpy(app.Data(c), col.i64.data() + begin, n * sizeof(int64_t));
      break;
    case TypeKind::kDecimal:
      // DuckDB stores DECIMAL(p<=4) as int16, (p<=9) as int32, (p<=18) as int64.
      if (col.type.precision <= 4) {
        auto* out = static_cast<int16_t*>(app.Data(c));
        for (size_t r = 0; r < n; ++r) out[r] = static_cast<int16_t>(col.i64[begin + r]);
      } else if (col.type.precision <= 9) {
        auto* out = static_cast<int32_t*>(app.Data(c));
        for (size_t r = 0; r < n; ++r) out[r] = static_cast<int32_t>(col.i64[begin + r]);
      } else {
        std::memcpy(app.Data(c), col.i64.data() + begin, n * sizeof(int64_t));
      }
      break;
    case TypeKind::kInt32:
    case TypeKind::kDate:
      std::memcpy(app.Data(c), col.i32.data() + begin, n * sizeof(int32_t));
      break;
    case TypeKind::kFloat: {
      auto* out = static_cast<float*>(app.Data(c));
      for (size_t r = 0; r < n; ++r) out[r] = static_cast<float>(col.f64[begin + r]);
      break;
    }
    case TypeKind::kDouble:
      std::memcpy(app.Data(c), col.f64.data() + begin, n * sizeof(double));
      break;
    case TypeKind::kBool: {
      auto* out = static_cast<bool*>(app.Data(c));
      for (size_t r = 0; r < n; ++r) out[r] = col.u8[begin + r] != 0;
      break;
    }
  }
}

// The DuckDB types of batch_rows' columns: the contract's, then StagingMetaColumns().
std::vector<std::string> BatchRowTypes(const SourceSpec& source) {
  std::vector<std::string> types;
  for (const auto& c : source.contract.columns) types.push_back(c.type.DuckType());
  for (const auto& m : StagingMetaColumns()) types.emplace_back(m.type);
  return types;
}

}  // namespace

const std::string& BatchStamp::CorrelationFor(int64_t line) const {
  if (parts.empty()) return correlation_id;
  auto it = std::upper_bound(parts.begin(), parts.end(), line,
                             [](int64_t l, const auto& part) { return l < part.first; });
  return it == parts.begin() ? correlation_id : std::prev(it)->second;
}

Status AppendDeadLetters(Catalog& catalog, const RecordBatch& batch, size_t from, const BatchStamp& stamp) {
  auto& conn = catalog.conn();
  ASSIGN_OR_RETURN(auto app, duck::ChunkAppender::Create(conn, "main", "batch_dlq",
                                                         {"VARCHAR", "BIGINT", "VARCHAR", "VARCHAR",
                                                          "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP"}));
  const size_t cap = duck::ChunkAppender::Capacity();
  for (size_t begin = from; begin < batch.dead.size(); begin += cap) {
    size_t n = std::min(cap, batch.dead.size() - begin);
    for (size_t r = 0; r < n; ++r) {
      const DeadLetter& d = batch.dead[begin + r];
      app->SetString(0, r, stamp.batch_id);
      static_cast<int64_t*>(app->Data(1))[r] = d.line;
      app->SetString(2, r, d.reason);
      if (d.column.empty())
        app->SetNull(3, r);
      else
        app->SetString(3, r, d.column);
      app->SetString(4, r, d.message);
      app->SetString(5, r, d.raw);
      app->SetString(6, r, stamp.CorrelationFor(d.line));
      static_cast<int64_t*>(app->Data(7))[r] = stamp.ingested_at;
    }
    RETURN_IF_ERROR(app->FlushChunk(n));
  }
  return app->Close();
}

Status CreateBatchTables(Catalog& catalog, const SourceSpec& source) {
  auto& conn = catalog.conn();
  std::string ddl = "CREATE OR REPLACE TEMP TABLE batch_rows (" + ColumnDefinitions(source.contract);
  for (const auto& m : StagingMetaColumns()) ddl += std::string(", ") + m.name + " " + m.type;
  RETURN_IF_ERROR(conn.Execute(ddl + ")"));
  return conn.Execute(
      "CREATE OR REPLACE TEMP TABLE batch_dlq (batch_id VARCHAR, line BIGINT, reason VARCHAR,"
      " column_name VARCHAR, message VARCHAR, raw VARCHAR, correlation_id VARCHAR,"
      " ingested_at TIMESTAMP)");
}

Status AppendBatchRows(Catalog& catalog, const SourceSpec& source, const RecordBatch& batch,
                       const BatchStamp& stamp) {
  ASSIGN_OR_RETURN(auto app,
                   duck::ChunkAppender::Create(catalog.conn(), "main", "batch_rows", BatchRowTypes(source)));
  const size_t ncols = source.contract.columns.size();
  const size_t cap = duck::ChunkAppender::Capacity();
  for (size_t begin = 0; begin < batch.rows(); begin += cap) {
    size_t n = std::min(cap, batch.rows() - begin);
    for (size_t c = 0; c < ncols; ++c) FillColumn(*app, c, batch.columns[c], begin, n);
    for (size_t r = 0; r < n; ++r) {
      app->SetString(ncols, r, stamp.batch_id);
      static_cast<int64_t*>(app->Data(ncols + 1))[r] = stamp.ingested_at;
      app->SetString(ncols + 2, r, stamp.CorrelationFor(batch.source_line[begin + r]));
      static_cast<int64_t*>(app->Data(ncols + 3))[r] = batch.source_line[begin + r];
    }
    RETURN_IF_ERROR(app->FlushChunk(n));
  }
  return app->Close();
}

Status LoadBatchTables(Catalog& catalog, const SourceSpec& source, const RecordBatch& batch,
                       const BatchStamp& stamp) {
  RETURN_IF_ERROR(CreateBatchTables(catalog, source));
  RETURN_IF_ERROR(AppendBatchRows(catalog, source, batch, stamp));
  return AppendDeadLetters(catalog, batch, 0, stamp);
}

Result<StagedBatch> WriteStagingFiles(Catalog& catalog, const SourceSpec& source, const BatchStamp& stamp) {
  namespace fs = std::filesystem;
  auto& conn = catalog.conn();
  Env* env = catalog.env();
  const std::string tmp_rel = StagingTmpDir(source.name, stamp.batch_id);
  const std::string tmp_abs = catalog.lake() + "/" + tmp_rel;
  RETURN_IF_ERROR(env->RemoveAll(tmp_abs));
  RETURN_IF_ERROR(env->CreateDirs(tmp_abs));

  StagedBatch out;
  ASSIGN_OR_RETURN(int64_t rows, conn.QueryInt("SELECT count(*) FROM batch_rows"));
  if (rows == 0) return out;  // an all-bad or empty batch stages no file

  // Files of one contract version share one directory, so the staging view globs it.
  // (The version CommitBatch records for the batch: the latest registered.)
  ASSIGN_OR_RETURN(int64_t version, LatestSchemaVersion(catalog, source.name));
  const std::string dir = "staging/" + source.name + "/v" + std::to_string(version);
  const PartitionBy& p = source.partition_by;
  const std::string day = p.day.empty() ? "CAST(NULL AS DATE)" : "CAST(" + Ident(p.day) + " AS DATE)";
  const std::string tenant =
      p.tenant.empty() ? "CAST(NULL AS VARCHAR)" : "CAST(" + Ident(p.tenant) + " AS VARCHAR)";
  const std::string name = stamp.batch_id + "_0.parquet";
  const std::string options = "FORMAT parquet, ROW_GROUP_SIZE " + std::to_string(kStagingRowGroupRows);

  // The partition index, and with it the files: one per day (the path COPY ... PARTITION_BY
  // writes below), or one for the batch.
  RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP TABLE batch_partitions AS SELECT " +
                               (p.day.empty() ? Literal(dir + "/" + name)
                                              : Literal(dir + "/day=") + " || coalesce(CAST(" + day +
                                                    " AS VARCHAR), 'NULL') || " + Literal("/" + name)) +
                               " AS path, " + day + " AS day, " + tenant +
                               " AS tenant, count(*) AS rows FROM batch_rows GROUP BY ALL"));
  ASSIGN_OR_RETURN(duck::Rows per_file, conn.Query("SELECT path, CAST(any_value(day) AS VARCHAR), sum(rows) "
                                                   "FROM batch_partitions GROUP BY path ORDER BY path"));
  std::string order = p.tenant.empty() ? "" : " ORDER BY " + tenant;
  std::string copy;
  if (p.day.empty()) {
    copy = "COPY (SELECT * FROM batch_rows" + order + ") TO " + Literal(tmp_abs + "/" + name) + " (" +
           options + ")";
  } else {
    // A hive directory per day; the day column exists only in the path.
    copy = "COPY (SELECT *, " + day + " AS day FROM batch_rows ORDER BY day" +
           (p.tenant.empty() ? "" : ", " + tenant) + ") TO " + Literal(tmp_abs) + " (" + options +
           ", PARTITION_BY (day), FILENAME_PATTERN " + Literal(stamp.batch_id + "_{i}") +
           ", OVERWRITE_OR_IGNORE)";
  }
  // Single-threaded, a partitioned COPY writes one file per day, in tenant order.
  RETURN_IF_ERROR((p.day.empty() ? conn.Execute(copy) : conn.ExecuteSingleThreaded(copy))
                      .WithContext("writing the staging files of " + stamp.batch_id));
  SLUICE_FAILPOINT("ingest.after_stage_write");

  std::set<std::string> expected;
  for (size_t r = 0; r < per_file.rows.size(); ++r) {
    StagedFile f;
    f.path = per_file.At(r, 0);
    f.tmp_path = tmp_rel + "/" + fs::path(f.path).lexically_relative(dir).string();
    f.day = per_file.At(r, 1);  // "" when not partitioned by day (or the day is NULL)
    f.rows = per_file.IntAt(r, 2);
    expected.insert(catalog.lake() + "/" + f.tmp_path);
    out.files.push_back(std::move(f));
  }
  // Every row is in a file the catalog will list, or the batch fails: a file nobody lists would
  // be removed with the temp directory, and its rows with it.
  ASSIGN_OR_RETURN(auto written, env->ListFilesRecursive(tmp_abs));
  for (const auto& abs : written) {
    if (!expected.erase(abs)) {
      return Status::IOError(abs,
                             "unexpected staging file of " + stamp.batch_id + " (one file per day expected)");
    }
  }
  if (!expected.empty()) {
    return Status::IOError(*expected.begin(), "the staging file of " + stamp.batch_id + " was not written");
  }
  out.partitions_table = "batch_partitions";
  // One syncfs for all files and directories of the batch (fsync each costs ms per file).
  RETURN_IF_ERROR(env->SyncFileSystem(tmp_abs));
  SLUICE_FAILPOINT("ingest.after_fsync");
  return out;
}

}  // namespace sluice
