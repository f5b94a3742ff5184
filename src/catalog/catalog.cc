#include "catalog/catalog.h"

#include "catalog/cold_files.h"
#include "catalog/feeds.h"
#include "catalog/ledger.h"
#include "catalog/lifecycle_log.h"
#include "catalog/slo_history.h"
#include "catalog/snapshots.h"
#include "catalog/stream_ledger.h"
#include "catalog/warehouse_changes.h"
#include "common/memory_limit.h"
#include "duck/database_lock.h"
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

std::string StagingRows(const Contract& contract, const std::string& scan) {
  // An empty relation typed by the contract, unioned by name with the files: a column no file
  // has yet reads NULL, and a column whose files hold a narrower type (int32 before a widening)
  // reads the contract's type. A declared default fills what is missing.
  std::string typed, defaults;
  for (const auto& c : contract.columns) {
    typed += (typed.empty() ? "" : ", ") + ("CAST(NULL AS " + c.type.DuckType() + ") AS " + Ident(c.name));
    if (c.default_value) {
      defaults += (defaults.empty() ? "" : ", ") +
                  ("coalesce(" + Ident(c.name) + ", CAST(" + Literal(*c.default_value) + " AS " +
                   c.type.DuckType() + ")) AS " + Ident(c.name));
    }
  }
  return "(SELECT *" + (defaults.empty() ? "" : " REPLACE (" + defaults + ")") + " FROM (SELECT " + typed +
         " WHERE false UNION ALL BY NAME SELECT * FROM " + scan + "))";
}

std::string StagingPartitionColumns(const SourceSpec& source) {
  std::string out;
  if (!source.partition_by.day.empty()) {
    out += ", CAST(" + Ident(source.partition_by.day) + " AS DATE) AS day";
  }
  if (!source.partition_by.tenant.empty()) {
    out += ", CAST(" + Ident(source.partition_by.tenant) + " AS VARCHAR) AS tenant";
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
CREATE TABLE IF NOT EXISTS meta.file_partitions (
  source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, path VARCHAR NOT NULL,
  day DATE, tenant VARCHAR, rows BIGINT NOT NULL);
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
CREATE TABLE IF NOT EXISTS meta.schemas (
  source VARCHAR NOT NULL, version BIGINT NOT NULL, fingerprint VARCHAR NOT NULL,
  columns VARCHAR NOT NULL, checks VARCHAR, compatibility VARCHAR NOT NULL,
  registered_at TIMESTAMP NOT NULL, PRIMARY KEY (source, version));
CREATE TABLE IF NOT EXISTS meta.schema_acceptances (
  source VARCHAR NOT NULL, column_name VARCHAR NOT NULL, rule VARCHAR NOT NULL,
  fingerprint VARCHAR NOT NULL, version BIGINT, accepted_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS meta.test_results (
  run_started_at TIMESTAMP NOT NULL, layer VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
  test VARCHAR NOT NULL, severity VARCHAR NOT NULL, status VARCHAR NOT NULL,
  failing_rows BIGINT NOT NULL, sample VARCHAR, batch_ids VARCHAR, checked_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS meta.quarantine (
  source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
  tests VARCHAR NOT NULL, failures VARCHAR NOT NULL, sample VARCHAR,
  run_started_at TIMESTAMP, quarantined_at TIMESTAMP NOT NULL, released_at TIMESTAMP,
  dropped_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS meta.stream_offsets (
  source VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, stream VARCHAR NOT NULL,
  first_seq UBIGINT NOT NULL, last_seq UBIGINT NOT NULL, messages BIGINT NOT NULL,
  redelivered BIGINT NOT NULL, committed_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS meta.idempotency (
  source VARCHAR NOT NULL, idempotency_key VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
  content_hash VARCHAR NOT NULL, accepted BIGINT NOT NULL, dead_lettered BIGINT NOT NULL,
  correlation_id VARCHAR NOT NULL, accepted_at TIMESTAMP NOT NULL,
  PRIMARY KEY (source, idempotency_key));
CREATE TABLE IF NOT EXISTS meta.watermarks (
  source VARCHAR NOT NULL, partition VARCHAR NOT NULL, max_event_time TIMESTAMP NOT NULL,
  watermark TIMESTAMP NOT NULL, late_rows BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL);
)sql";

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::Open(const ProjectSpec& spec, const CatalogOptions& options,
                                               Env* env) {
  std::unique_ptr<Catalog> cat(new Catalog(spec, env));
  cat->read_only_ = options.read_only;
  std::string db_path = spec.lake + "/" + kLakeDatabaseFile;
  if (options.read_only) {
    if (!env->Exists(db_path)) {
      return Status::NotFound("no lake at " + spec.lake + " yet (run `sluice run` first)");
    }
  } else {
    RETURN_IF_ERROR(env->CreateDirs(spec.lake));
  }
  duck::OpenOptions duck_options = options.duck;
  int64_t duck_memory = options.memory_limit_bytes;
  if (duck_memory == 0) {
    ASSIGN_OR_RETURN(
        MemoryPlan plan,
        PlanMemory(spec.MemoryLimit(options.read_only ? MemoryUse::kQuery : MemoryUse::kPipeline), 0));
    duck_memory = plan.duckdb;
  }
  duck_options.memory_limit = std::to_string(duck_memory) + "B";
  const std::string spill_dir = spec.lake + "/" + kSpillDir;
  // Without a temp_directory an in-memory DuckDB spills into ".tmp" of the working directory.
  duck_options.temp_directory = options.read_only ? "" : spill_dir;
  ASSIGN_OR_RETURN(cat->conn_, duck::Connection::Open(duck_options));
  Status st = cat->conn_->Execute("ATTACH " + Literal(db_path) + " AS lake" +
                                  (options.read_only ? " (READ_ONLY)" : ""));
  if (!st.ok()) {
    // DuckDB reports a lock conflict as an IO error like any other: ask who holds the lock.
    std::optional<int64_t> holder;
    if (st.code() == StatusCode::kIOError) {
      holder = duck::DatabaseLockHolder(db_path, /*for_write=*/!options.read_only);
    }
    if (holder) {
      return Status::Unavailable("the lake " + spec.lake + " is in use by another sluice process (pid " +
                                 std::to_string(*holder) + ")");
    }
    return st.WithContext("opening " + db_path);
  }
  RETURN_IF_ERROR(cat->conn_->Execute("USE lake; ATTACH ':memory:' AS staging"));
  if (!options.read_only) {
    // The lake's lock is ours now: spill files left by a process that died are garbage. Nothing
    // has spilled yet in this one (DuckDB creates its files on the first spill).
    RETURN_IF_ERROR(env->RemoveAll(spill_dir));
    RETURN_IF_ERROR(cat->CreateSchema());
    RETURN_IF_ERROR(SyncWarehouseTracking(*cat));
    // Before any view reads staging: finish or undo batches a crash interrupted.
    RETURN_IF_ERROR(RecoverStaging(*cat).WithContext("recovering staging"));
    RETURN_IF_ERROR(RecoverColdTier(*cat).WithContext("recovering the cold tier"));
  }
  for (const auto& source : spec.sources) RETURN_IF_ERROR(cat->RefreshStagingView(source));
  if (options.read_only && options.before_sandbox) RETURN_IF_ERROR(options.before_sandbox(*cat));
  if (options.read_only) {
    // User SQL may read the lake and nothing else, and may not change settings back.
    // A cold tier outside the lake (retention.staging.cold_path) is read too.
    std::string allowed = Literal(spec.lake + "/");
    const std::string& cold = spec.retention.cold_path;
    if (!cold.empty() && cold.rfind(spec.lake + "/", 0) != 0) allowed += ", " + Literal(cold + "/");
    RETURN_IF_ERROR(
        cat->conn_->Execute("SET allowed_directories = [" + allowed +
                            "];"
                            "SET enable_external_access = false; SET lock_configuration = true;"));
  }
  return cat;
}

Result<std::unique_ptr<Catalog>> Catalog::OpenReader(const ProjectSpec& spec,
                                                     std::unique_ptr<duck::Connection> conn, Env* env) {
  std::unique_ptr<Catalog> cat(new Catalog(spec, env));
  cat->read_only_ = true;
  cat->conn_ = std::move(conn);
  RETURN_IF_ERROR(cat->conn_->Execute("USE lake; BEGIN TRANSACTION"));
  cat->reader_ = true;
  return cat;
}

Catalog::~Catalog() {
  // A reader's transaction: whatever ran in it is discarded (and an error here changes nothing).
  if (reader_ && conn_) (void)conn_->Execute("ROLLBACK");
}

Status Catalog::CreateSchema() {
  RETURN_IF_ERROR(conn_->Execute(kMetaSchema));
  RETURN_IF_ERROR(conn_->Execute(kWarehouseSchema));
  for (const auto& source : spec_.sources) {
    RETURN_IF_ERROR(conn_->Execute(
        "CREATE TABLE IF NOT EXISTS dlq." + Ident(source.name) +
        " (batch_id VARCHAR NOT NULL, line BIGINT, reason VARCHAR NOT NULL, column_name VARCHAR,"
        " message VARCHAR, raw VARCHAR, correlation_id VARCHAR, ingested_at TIMESTAMP)"));
  }
  RETURN_IF_ERROR(CreateDlqIdentity());
  RETURN_IF_ERROR(CreateFeedTables(*conn_));
  RETURN_IF_ERROR(CreateSloTables(*conn_));
  RETURN_IF_ERROR(CreateLifecycleTables(*conn_));
  RETURN_IF_ERROR(CreateColdTierTables(*conn_));
  RETURN_IF_ERROR(CreateSnapshotTable(*conn_));
  std::vector<std::pair<std::string, std::string>> consumers;
  for (const auto& c : spec_.consumers) consumers.emplace_back(c.name, c.table);
  RETURN_IF_ERROR(ForgetFeedsWithoutConsumers(*conn_, consumers));
  return MigrateStreamLedger(*this);
}

// DLQ rows' identity and state (dlq_id, status, redriven_batch), the ledger's redrive lineage
// (parent_batches), CSV headers (csv_header) and stream micro-batches' cost (cpu_us,
// bytes_written): added with ALTER so lakes created before get them too, in the same column
// order. DLQ rows of such lakes get ids here, in (source, batch, line) order. meta.counters holds the last
// dlq_id handed out: ids are never reused, even after vacuum deleted the newest rows.
Status Catalog::CreateDlqIdentity() {
  RETURN_IF_ERROR(conn_->Execute(
      "ALTER TABLE meta.batches ADD COLUMN IF NOT EXISTS parent_batches VARCHAR;"
      "ALTER TABLE meta.batches ADD COLUMN IF NOT EXISTS csv_header VARCHAR;"
      "ALTER TABLE meta.batches ADD COLUMN IF NOT EXISTS rows_late BIGINT;"
      "ALTER TABLE meta.batches ADD COLUMN IF NOT EXISTS schema_version BIGINT;"
      // The cost of stream micro-batches (ledger.h, BatchRecord::cpu_us).
      "ALTER TABLE meta.batches ADD COLUMN IF NOT EXISTS cpu_us BIGINT;"
      "ALTER TABLE meta.batches ADD COLUMN IF NOT EXISTS bytes_written BIGINT;"
      "CREATE TABLE IF NOT EXISTS meta.counters (name VARCHAR NOT NULL, value BIGINT NOT NULL);"
      "INSERT INTO meta.counters SELECT 'dlq_id', 0"
      " WHERE NOT EXISTS (SELECT 1 FROM meta.counters WHERE name = 'dlq_id')"));
  for (const auto& source : spec_.sources) {
    const std::string t = "dlq." + Ident(source.name);
    RETURN_IF_ERROR(conn_->Execute("ALTER TABLE " + t +
                                   " ADD COLUMN IF NOT EXISTS dlq_id BIGINT;"
                                   "ALTER TABLE " +
                                   t +
                                   " ADD COLUMN IF NOT EXISTS status VARCHAR;"
                                   "ALTER TABLE " +
                                   t + " ADD COLUMN IF NOT EXISTS redriven_batch VARCHAR"));
    ASSIGN_OR_RETURN(int64_t unnumbered,
                     conn_->QueryInt("SELECT count(*) FROM " + t + " WHERE dlq_id IS NULL"));
    if (unnumbered == 0) continue;
    RETURN_IF_ERROR(
        conn_->Execute("BEGIN TRANSACTION;"
                       "UPDATE " +
                       t + " SET dlq_id = n.id, status = coalesce(" + t +
                       ".status, 'open') FROM ("
                       "  SELECT rowid AS rid, (SELECT value FROM meta.counters WHERE name = 'dlq_id') +"
                       "    row_number() OVER (ORDER BY batch_id, line, rowid) AS id"
                       "  FROM " +
                       t + " WHERE dlq_id IS NULL) n WHERE " + t +
                       ".rowid = n.rid;"
                       "UPDATE meta.counters SET value = value + " +
                       std::to_string(unnumbered) +
                       " WHERE name = 'dlq_id';"
                       "COMMIT"));
  }
  return Status::OK();
}

Status Catalog::Begin() { return conn_->Execute("BEGIN TRANSACTION"); }
Status Catalog::Commit() { return conn_->Execute("COMMIT"); }
Status Catalog::Rollback() { return conn_->Execute("ROLLBACK"); }
Status Catalog::Checkpoint() { return conn_->Execute("CHECKPOINT lake"); }

namespace {

// True when `path` can be part of a DuckDB glob pattern as is (no wildcard characters).
bool GlobSafe(const std::string& path) { return path.find_first_of("*?[]{}") == std::string::npos; }

// An empty relation with the staging view's columns, for a source with no staged batch yet.
std::string EmptyStagingRows(const SourceSpec& source) {
  std::string cols;
  for (const auto& c : source.contract.columns) {
    cols += "CAST(NULL AS " + c.type.DuckType() + ") AS " + Ident(c.name) + ", ";
  }
  for (const auto& m : StagingMetaColumns())
    cols += std::string("CAST(NULL AS ") + m.type + ") AS " + m.name + ", ";
  if (!source.partition_by.day.empty()) cols += "CAST(NULL AS DATE) AS day, ";
  if (!source.partition_by.tenant.empty()) cols += "CAST(NULL AS VARCHAR) AS tenant, ";
  cols.resize(cols.size() - 2);
  return "SELECT " + cols + " WHERE false";
}

}  // namespace

namespace {

// The glob directory of a staged file's lake-relative path, as RefreshStagingView's SQL
// extracts it ('^(staging/[^/]+/v[0-9]+/(day=)?)'); "" for a path of another layout.
std::string StagingGlobDir(const std::string& path) {
  const std::string prefix = "staging/";
  if (path.rfind(prefix, 0) != 0) return "";
  const size_t source_end = path.find('/', prefix.size());
  if (source_end == std::string::npos || source_end == prefix.size()) return "";
  size_t i = source_end + 1;
  if (i >= path.size() || path[i] != 'v') return "";
  size_t digits = i + 1;
  while (digits < path.size() && path[digits] >= '0' && path[digits] <= '9') ++digits;
  if (digits == i + 1 || digits >= path.size() || path[digits] != '/') return "";
  std::string dir = path.substr(0, digits + 1);
  if (path.compare(digits + 1, 4, "day=") == 0) dir += "day=";
  return dir;
}

}  // namespace

Status Catalog::RefreshStagingViewFor(const SourceSpec& source, const std::vector<std::string>& paths) {
  auto known = staging_view_dirs_.find(source.name);
  bool seen = known != staging_view_dirs_.end();
  for (size_t i = 0; seen && i < paths.size(); ++i) {
    const std::string dir = StagingGlobDir(paths[i]);
    seen = !dir.empty() && known->second.count(dir) > 0;
  }
  return seen ? Status::OK() : RefreshStagingView(source);
}

Status Catalog::RefreshStagingView(const SourceSpec& source) {
  const std::string src = Literal(source.name);
  const std::string lake = spec_.lake + "/";
  // On a read-only open after a crash between a batch's commit and its renames (a writer's next
  // open completes them: RecoverStaging), a committed file may still be under its temp name:
  // list every file then, each at whichever name it has.
  const bool globs =
      GlobSafe(lake) && !(read_only_ && env_->Exists(lake + "staging/" + source.name + "/_tmp"));
  // Files staged per (batch, day) under v<N>/ (storage/staging.h) are read through one glob per
  // directory kind: `dir` is "staging/<source>/v<N>/day=" or "staging/<source>/v<N>/". Files of
  // the layout before it (one per (batch, day, tenant), or one per micro-batch) have dir "" and
  // are listed one by one; no new file is ever staged that way.
  ASSIGN_OR_RETURN(
      duck::Rows groups,
      conn_->Query("SELECT DISTINCT regexp_extract(path, '^(staging/[^/]+/v[0-9]+/(day=)?)', 1) AS "
                   "dir FROM meta.files WHERE source = " +
                   src + " ORDER BY dir"));
  std::vector<std::string> dirs;
  bool listed = false;
  for (size_t i = 0; i < groups.rows.size(); ++i) {
    const std::string dir = groups.At(i, 0);
    if (dir.empty() || !globs) {
      listed = true;
    } else {
      dirs.push_back(dir);
    }
  }
  // Files to list: those of the older layout, or all when not globbing.
  const std::string where = globs ? "regexp_extract(path, '^staging/[^/]+/v[0-9]+/', 0) = ''" : "true";
  std::string partitioned, mixed;
  if (listed) {
    ASSIGN_OR_RETURN(
        duck::Rows files,
        conn_->Query("SELECT path, any_value(tmp_path), bool_and((day IS NOT NULL OR tenant IS NOT "
                     "NULL) AND regexp_extract(path, '^staging/[^/]+/v[0-9]+/', 0) = '') "
                     "FROM meta.files WHERE source = " +
                     src + " AND " + where + " GROUP BY path ORDER BY path"));
    // A cold file (cold_files.h) holds many batches, with a row per batch: listed once.
    for (size_t i = 0; i < files.rows.size(); ++i) {
      std::string path = LakePath(spec_.lake, files.At(i, 0));
      if (read_only_ && !env_->Exists(path)) path = LakePath(spec_.lake, files.At(i, 1));
      // A file of one (day, tenant) partition takes both from its hive path; any other computes
      // them from its rows.
      const bool one_partition = !source.partition_by.empty() && files.At(i, 2) == "true";
      std::string& list = one_partition ? partitioned : mixed;
      list += (list.empty() ? "" : ", ") + Literal(path);
    }
  }
  // Files a move to the cold tier or a delete retired but not yet removed (cold_files.h) stay
  // out of the globs: their rows are in a cold file now, or deleted.
  ASSIGN_OR_RETURN(std::vector<std::string> retired, RetiredFiles(*this));
  std::string retired_in;
  for (const auto& p : retired)
    retired_in += (retired_in.empty() ? "" : ", ") + Literal(LakePath(spec_.lake, p));
  std::vector<std::string> selects;
  for (const auto& dir : dirs) {
    const bool by_day = dir.ends_with("day=");
    const std::string filename = retired_in.empty() ? "" : ", filename = true";
    std::string scan =
        "read_parquet(" + Literal(lake + dir + (by_day ? "*/*.parquet" : "*.parquet")) + filename +
        (by_day ? ", hive_partitioning = true, hive_types = {'day': DATE})" : ", hive_partitioning = false)");
    std::string computed;  // partition columns not in the path
    if (!by_day && !source.partition_by.day.empty()) {
      computed += ", CAST(" + Ident(source.partition_by.day) + " AS DATE) AS day";
    }
    if (!source.partition_by.tenant.empty()) {
      computed += ", CAST(" + Ident(source.partition_by.tenant) + " AS VARCHAR) AS tenant";
    }
    selects.push_back(retired_in.empty()
                          ? "SELECT *" + computed + " FROM " + StagingRows(source.contract, scan)
                          : "SELECT * EXCLUDE (filename)" + computed + " FROM " +
                                StagingRows(source.contract, scan) + " WHERE filename NOT IN (" + retired_in +
                                ")");
  }
  if (!partitioned.empty()) {
    std::string hive = "hive_partitioning = true, hive_types = {";
    if (!source.partition_by.day.empty()) hive += "'day': DATE";
    if (!source.partition_by.tenant.empty()) {
      hive += std::string(source.partition_by.day.empty() ? "" : ", ") + "'tenant': VARCHAR";
    }
    selects.push_back("SELECT * FROM " + StagingRows(source.contract, "read_parquet([" + partitioned + "], " +
                                                                          hive + "}, union_by_name = true)"));
  }
  if (!mixed.empty()) {
    selects.push_back(
        "SELECT *" + StagingPartitionColumns(source) + " FROM " +
        StagingRows(source.contract,
                    "read_parquet([" + mixed + "], hive_partitioning = false, union_by_name = true)"));
  }
  std::string select;
  for (const auto& s : selects) select += (select.empty() ? "" : " UNION ALL BY NAME ") + s;
  if (select.empty()) select = EmptyStagingRows(source);
  // Rows of dropped batches stay in their files but not in the view.
  ASSIGN_OR_RETURN(duck::Rows dropped,
                   conn_->Query("SELECT batch_id FROM meta.batches WHERE status = 'dropped' "
                                "AND source = " +
                                src + " ORDER BY batch_id"));
  if (!dropped.rows.empty() && !selects.empty()) {
    std::string ids;
    for (size_t i = 0; i < dropped.rows.size(); ++i) ids += (i ? ", " : "") + Literal(dropped.At(i, 0));
    select = "SELECT * FROM (" + select + ") WHERE _batch_id NOT IN (" + ids + ")";
  }
  // The definition changes only when a contract version, a dropped batch or a listed file
  // appears: most batches leave it as it is, and their files show through the globs.
  staging_view_dirs_[source.name] = std::set<std::string>(dirs.begin(), dirs.end());
  std::string& current = staging_views_[source.name];
  if (current == select) return Status::OK();
  RETURN_IF_ERROR(
      conn_->Execute("CREATE OR REPLACE VIEW staging.main." + Ident(source.name) + " AS " + select));
  current = select;
  return Status::OK();
}

}  // namespace sluice
