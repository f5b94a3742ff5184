#include "catalog/catalog.h"

#include "catalog/ledger.h"
#include "duck/duck.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

const std::vector<MetaColumn>& StagingMetaColumns() {
  static const std::vector<MetaColumn> kColumns = {
      {"_batch_id", "VARCHAR"},
      {"_ingested_at", "TIMESTAMP"},
      {"_correlation_id", "VARCHAR"},
      {"_source_line", "BIGINT"},
  };
  return kColumns;
}

std::string ColumnDefinitions(const Contract& contract) {
  std::string out;
  for (const auto& c : contract.columns) {
    if (!out.empty()) out += ", ";
    out += Ident(c.name) + " " + c.type.DuckType();
  }
  return out;
}

namespace {

constexpr const char* kMetaSchema = R"sql(
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS dlq;
CREATE SCHEMA IF NOT EXISTS curated;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS meta.batches (
  source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, batch_seq BIGINT NOT NULL,
  content_hash VARCHAR NOT NULL, file VARCHAR, rows_read BIGINT NOT NULL,
  rows_staged BIGINT NOT NULL, rows_dead BIGINT NOT NULL, status VARCHAR NOT NULL,
  correlation_id VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, committed_at TIMESTAMP NOT NULL,
  decode_ms BIGINT, stage_ms BIGINT,
  PRIMARY KEY (source, batch_id));
CREATE TABLE IF NOT EXISTS meta.files (
  source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, path VARCHAR NOT NULL,
  tmp_path VARCHAR NOT NULL, day DATE, tenant VARCHAR, rows BIGINT);
CREATE TABLE IF NOT EXISTS meta.applied (
  table_name VARCHAR NOT NULL, source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
  batch_seq BIGINT NOT NULL, applied_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS meta.pending_partitions (day DATE, tenant VARCHAR);
CREATE TABLE IF NOT EXISTS meta.publish_pending (table_name VARCHAR NOT NULL, day DATE, tenant VARCHAR);
CREATE TABLE IF NOT EXISTS meta.tables (
  table_name VARCHAR PRIMARY KEY, layer VARCHAR NOT NULL, version BIGINT NOT NULL,
  published_version BIGINT NOT NULL, model_hash VARCHAR, rows BIGINT,
  updated_at TIMESTAMP, published_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS meta.runs (
  started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, status VARCHAR NOT NULL, summary VARCHAR);
)sql";

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::Open(const ProjectSpec& spec,
                                               const CatalogOptions& options, Env* env) {
  std::unique_ptr<Catalog> cat(new Catalog(spec, env));
  cat->read_only_ = options.read_only;
  std::string db_path = spec.lake + "/sluice.duckdb";
  if (options.read_only) {
    if (!env->Exists(db_path)) {
      return Status::NotFound("no lake at " + spec.lake + " yet (run `sluice run` first)");
    }
  } else {
    RETURN_IF_ERROR(env->CreateDirs(spec.lake));
  }
  ASSIGN_OR_RETURN(cat->conn_, duck::Connection::Open(options.duck));
  Status st = cat->conn_->Execute("ATTACH " + Literal(db_path) + " AS lake" +
                                  (options.read_only ? " (READ_ONLY)" : ""));
  if (!st.ok()) {
    if (st.message().find("lock") != std::string::npos) {
      return Status::Unavailable("the lake " + spec.lake +
                                 " is in use by another sluice process (" + st.message() + ")");
    }
    return st.WithContext("opening " + db_path);
  }
  RETURN_IF_ERROR(cat->conn_->Execute("USE lake; ATTACH ':memory:' AS staging"));
  if (!options.read_only) {
    RETURN_IF_ERROR(cat->CreateSchema());
    // Before any view reads staging: finish or undo batches a crash interrupted.
    RETURN_IF_ERROR(RecoverStaging(*cat).WithContext("recovering staging"));
  }
  for (const auto& source : spec.sources) RETURN_IF_ERROR(cat->RefreshStagingView(source));
  if (options.read_only) {
    // User SQL may read the lake and nothing else, and may not change settings back.
    RETURN_IF_ERROR(cat->conn_->Execute(
        "SET allowed_directories = [" + Literal(spec.lake + "/") + "];"
        "SET enable_external_access = false; SET lock_configuration = true;"));
  }
  return cat;
}

Status Catalog::CreateSchema() {
  RETURN_IF_ERROR(conn_->Execute(kMetaSchema));
  for (const auto& source : spec_.sources) {
    RETURN_IF_ERROR(conn_->Execute(
        "CREATE TABLE IF NOT EXISTS dlq." + Ident(source.name) +
        " (batch_id VARCHAR NOT NULL, line BIGINT, reason VARCHAR NOT NULL, column_name VARCHAR,"
        " message VARCHAR, raw VARCHAR, correlation_id VARCHAR, ingested_at TIMESTAMP)"));
  }
  return Status::OK();
}

Status Catalog::Begin() { return conn_->Execute("BEGIN TRANSACTION"); }
Status Catalog::Commit() { return conn_->Execute("COMMIT"); }
Status Catalog::Rollback() { return conn_->Execute("ROLLBACK"); }
Status Catalog::Checkpoint() { return conn_->Execute("CHECKPOINT lake"); }

Status Catalog::RefreshStagingView(const SourceSpec& source) {
  ASSIGN_OR_RETURN(duck::Rows files,
                   conn_->Query("SELECT path, tmp_path FROM meta.files WHERE source = " +
                                Literal(source.name) + " ORDER BY path"));
  std::string view = "CREATE OR REPLACE VIEW staging.main." + Ident(source.name) + " AS ";
  bool partitioned = !source.partition_by.empty();
  if (files.rows.empty()) {
    // No batch staged yet: an empty relation with the right columns.
    std::string cols;
    for (const auto& c : source.contract.columns) {
      cols += "CAST(NULL AS " + c.type.DuckType() + ") AS " + Ident(c.name) + ", ";
    }
    for (const auto& m : StagingMetaColumns()) {
      cols += std::string("CAST(NULL AS ") + m.type + ") AS " + m.name + ", ";
    }
    if (!source.partition_by.day.empty()) cols += "CAST(NULL AS DATE) AS day, ";
    if (!source.partition_by.tenant.empty()) cols += "CAST(NULL AS VARCHAR) AS tenant, ";
    cols.resize(cols.size() - 2);
    return conn_->Execute(view + "SELECT " + cols + " WHERE false");
  }
  std::string list;
  for (size_t i = 0; i < files.rows.size(); ++i) {
    std::string path = spec_.lake + "/" + files.At(i, 0);
    if (read_only_ && !env_->Exists(path)) {
      // A crash between a batch's commit and its renames, not yet recovered by a writer: the
      // committed file is still under its temp name.
      path = spec_.lake + "/" + files.At(i, 1);
    }
    list += (i ? ", " : "") + Literal(path);
  }
  std::string opts;
  if (partitioned) {
    opts = ", hive_partitioning = true, hive_types = {";
    if (!source.partition_by.day.empty()) opts += "'day': DATE";
    if (!source.partition_by.tenant.empty()) {
      opts += std::string(source.partition_by.day.empty() ? "" : ", ") + "'tenant': VARCHAR";
    }
    opts += "}";
  }
  return conn_->Execute(view + "SELECT * FROM read_parquet([" + list + "]" + opts + ")");
}

}  // namespace sluice
