#include "storage/cold_tier.h"

#include <filesystem>

#include "common/failpoint.h"
#include "storage/staging.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

std::string ColdFilePath(const ProjectSpec& spec, const std::string& source, int64_t version,
                         const std::string& ingest_day, int64_t first_seq, int64_t last_seq) {
  return spec.retention.cold_path + "/" + source + "/v" + std::to_string(version) +
         "/ingested=" + ingest_day + "/batches-" + std::to_string(first_seq) + "-" +
         std::to_string(last_seq) + ".parquet";
}

std::string CatalogPathOf(const ProjectSpec& spec, const std::string& abs_path) {
  const std::string lake = spec.lake + "/";
  return abs_path.rfind(lake, 0) == 0 ? abs_path.substr(lake.size()) : abs_path;
}

Result<int64_t> WriteColdFile(Catalog& catalog, const SourceSpec& source, const std::vector<std::string>& hot,
                              const std::string& to) {
  namespace fs = std::filesystem;
  Env* env = catalog.env();
  const std::string dir = fs::path(to).parent_path().string();
  const std::string tmp = to + ".tmp";
  RETURN_IF_ERROR(env->CreateDirs(dir));
  std::string list;
  for (const auto& p : hot) list += (list.empty() ? "" : ", ") + Literal(p);
  std::string order;
  if (!source.partition_by.day.empty()) order += "CAST(" + Ident(source.partition_by.day) + " AS DATE), ";
  if (!source.partition_by.tenant.empty())
    order += "CAST(" + Ident(source.partition_by.tenant) + " AS VARCHAR), ";
  order += "_batch_id, _source_line";
  RETURN_IF_ERROR(catalog.conn()
                      .Execute("COPY (SELECT * FROM read_parquet([" + list +
                               "], hive_partitioning = false, union_by_name = true) ORDER BY " + order +
                               ") TO " + Literal(tmp) +
                               " (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE " +
                               std::to_string(kStagingRowGroupRows) + ")")
                      .WithContext("writing the cold file " + to));
  RETURN_IF_ERROR(env->SyncFile(tmp));
  RETURN_IF_ERROR(env->Rename(tmp, to));
  RETURN_IF_ERROR(env->SyncDir(dir));
  ASSIGN_OR_RETURN(uint64_t bytes, env->FileSize(to));
  return static_cast<int64_t>(bytes);
}

}  // namespace sluice
