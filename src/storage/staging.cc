#include "storage/staging.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

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

// "day=2026-01-03" -> "2026-01-03" for key "day"; "" when `segment` is not key=value.
std::string HiveValue(const std::string& segment, const std::string& key) {
  std::string prefix = key + "=";
  return segment.rfind(prefix, 0) == 0 ? segment.substr(prefix.size()) : "";
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

Result<std::vector<StagedFile>> WriteStagingFiles(Catalog& catalog, const SourceSpec& source,
                                                  const BatchStamp& stamp, StagingLayout layout) {
  namespace fs = std::filesystem;
  auto& conn = catalog.conn();
  Env* env = catalog.env();
  const std::string tmp_rel = StagingTmpDir(source.name, stamp.batch_id);
  const std::string tmp_abs = catalog.lake() + "/" + tmp_rel;
  RETURN_IF_ERROR(env->RemoveAll(tmp_abs));
  RETURN_IF_ERROR(env->CreateDirs(tmp_abs));

  ASSIGN_OR_RETURN(int64_t rows, conn.QueryInt("SELECT count(*) FROM batch_rows"));
  std::vector<StagedFile> files;
  if (rows == 0) return files;  // an all-bad or empty batch stages no file

  if (layout == StagingLayout::kOneFile || source.partition_by.empty()) {
    const std::string name = stamp.batch_id + "_0.parquet";
    RETURN_IF_ERROR(conn.Execute("COPY batch_rows TO " + Literal(tmp_abs + "/" + name) + " (FORMAT parquet)")
                        .WithContext("writing the staging file of " + stamp.batch_id));
    SLUICE_FAILPOINT("ingest.after_stage_write");
    StagedFile f;
    f.tmp_path = tmp_rel + "/" + name;
    f.path = "staging/" + source.name + "/" + (source.partition_by.empty() ? "" : "stream/") + name;
    f.rows = rows;
    files.push_back(std::move(f));
    RETURN_IF_ERROR(env->SyncFileSystem(tmp_abs));
    SLUICE_FAILPOINT("ingest.after_fsync");
    return files;
  }

  const PartitionBy& p = source.partition_by;
  std::string select = "SELECT *";
  std::vector<std::string> parts;
  if (!p.day.empty()) {
    select += ", CAST(" + Ident(p.day) + " AS DATE) AS day";
    parts.push_back("day");
  }
  if (!p.tenant.empty()) {
    select += ", " + Ident(p.tenant) + " AS tenant";
    parts.push_back("tenant");
  }
  select += " FROM batch_rows";
  std::string by;
  for (const auto& c : parts) by += (by.empty() ? "" : ", ") + c;
  const std::string copy = "COPY (" + select + ") TO " + Literal(tmp_abs) + " (FORMAT parquet," +
                           " PARTITION_BY (" + by + "), FILENAME_PATTERN " +
                           Literal(stamp.batch_id + "_{i}") + ", OVERWRITE_OR_IGNORE)";
  RETURN_IF_ERROR(conn.Execute(copy).WithContext("writing staging files of " + stamp.batch_id));
  SLUICE_FAILPOINT("ingest.after_stage_write");

  // Rows per partition, to record with each file (one file per partition).
  std::map<std::pair<std::string, std::string>, int64_t> partition_rows;
  {
    std::string day = p.day.empty() ? "''" : "CAST(CAST(" + Ident(p.day) + " AS DATE) AS VARCHAR)";
    std::string tenant = p.tenant.empty() ? "''" : Ident(p.tenant);
    ASSIGN_OR_RETURN(duck::Rows counts,
                     conn.Query("SELECT " + day + ", " + tenant + ", count(*) FROM batch_rows GROUP BY ALL"));
    for (size_t r = 0; r < counts.rows.size(); ++r) {
      partition_rows[{counts.At(r, 0), counts.At(r, 1)}] = counts.IntAt(r, 2);
    }
  }
  ASSIGN_OR_RETURN(auto written, env->ListFilesRecursive(tmp_abs));
  for (const auto& abs : written) {
    StagedFile f;
    std::string rel = fs::path(abs).lexically_relative(tmp_abs).string();  // day=../tenant=../x
    f.tmp_path = tmp_rel + "/" + rel;
    f.path = "staging/" + source.name + "/" + rel;
    for (const auto& seg : fs::path(rel).parent_path()) {
      if (f.day.empty()) f.day = HiveValue(seg.string(), "day");
      if (f.tenant.empty()) f.tenant = HiveValue(seg.string(), "tenant");
    }
    auto& rows_left = partition_rows[{f.day, f.tenant}];
    f.rows = rows_left;  // all of a partition's rows are in its first (only) file
    rows_left = 0;
    files.push_back(std::move(f));
  }
  // One syncfs for all files and directories of the batch (fsync each costs ms per file).
  RETURN_IF_ERROR(env->SyncFileSystem(tmp_abs));
  SLUICE_FAILPOINT("ingest.after_fsync");
  return files;
}

}  // namespace sluice
