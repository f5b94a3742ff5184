#include "catalog/cold_files.h"

#include <set>

namespace sluice {

using duck::Literal;

namespace {

// "('a', 'b')" for an IN list; "(NULL)" when empty (matches nothing).
std::string InList(const std::vector<std::string>& values) {
  if (values.empty()) return "(NULL)";
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + Literal(values[i]);
  return out + ")";
}

std::string Micros(int64_t us) { return "make_timestamp(" + std::to_string(us) + "::BIGINT)"; }

}  // namespace

Status CreateColdTierTables(duck::Connection& conn) {
  return conn.Execute(
      "ALTER TABLE meta.files ADD COLUMN IF NOT EXISTS tier VARCHAR;"
      "CREATE TABLE IF NOT EXISTS meta.retired_files (path VARCHAR NOT NULL, retired_at TIMESTAMP NOT NULL)");
}

std::string LakePath(const std::string& lake, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : lake + "/" + path;
}

Result<std::vector<RetentionFile>> FilesCommittedBefore(Catalog& catalog, const SourceSpec& source,
                                                        const std::vector<std::string>& curated_tables,
                                                        int64_t before_us, int64_t replay_window_start_us,
                                                        bool check_feeds) {
  const std::string tables = InList(curated_tables);
  std::string held = "CASE WHEN b.status NOT IN ('committed', 'released') THEN b.status";
  for (const auto& t : curated_tables) {
    held += " WHEN NOT EXISTS (SELECT 1 FROM meta.applied a WHERE a.table_name = " + Literal(t) +
            " AND a.source = f.source AND a.batch_id = f.batch_id) THEN " + Literal("not curated by " + t);
  }
  held += " WHEN b.committed_at >= " + Micros(replay_window_start_us) + " THEN 'replay window'";
  if (check_feeds) {
    held +=
        " WHEN EXISTS (SELECT 1 FROM meta.feed_changes c JOIN meta.feed_positions p ON p.table_name ="
        " c.table_name WHERE c.table_name IN " +
        tables + " AND c.batch_id = f.batch_id AND c.seq > p.position) THEN 'feed position'";
  }
  held += " ELSE '' END";
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(
                       "SELECT f.batch_id, b.batch_seq, f.path, coalesce(f.tier = 'cold', false), "
                       "epoch_us(b.committed_at), coalesce(b.schema_version, 0), coalesce(f.rows, 0), " +
                       held +
                       ", (SELECT count(*) FROM meta.files g WHERE g.source = f.source AND g.path = f.path)"
                       " FROM meta.files f JOIN meta.batches b ON b.source = f.source AND b.batch_id = "
                       "f.batch_id WHERE f.source = " +
                       Literal(source.name) + " AND b.committed_at < " + Micros(before_us) +
                       " ORDER BY b.batch_seq, f.path"));
  std::vector<RetentionFile> out;
  out.reserve(rows.rows.size());
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    RetentionFile f;
    f.batch_id = rows.At(i, 0);
    f.batch_seq = rows.IntAt(i, 1);
    f.path = rows.At(i, 2);
    f.cold = rows.At(i, 3) == "true";
    f.committed_us = rows.IntAt(i, 4);
    f.schema_version = rows.IntAt(i, 5);
    f.rows = rows.IntAt(i, 6);
    f.held = rows.At(i, 7);
    f.path_batches = rows.IntAt(i, 8);
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

Status Retire(Catalog& catalog, const std::vector<std::string>& paths) {
  std::string values;
  const std::string now = Micros(catalog.env()->NowMicros());
  for (const auto& p : paths) values += (values.empty() ? "" : ", ") + ("(" + Literal(p) + ", " + now + ")");
  if (values.empty()) return Status::OK();
  return catalog.conn().Execute("INSERT INTO meta.retired_files VALUES " + values);
}

}  // namespace

Status SwapToCold(Catalog& catalog, const std::string& source, const std::vector<std::string>& hot,
                  const std::string& cold_path) {
  const std::string src = Literal(source), in = InList(hot), cold = Literal(cold_path);
  RETURN_IF_ERROR(catalog.conn().Execute(
      "INSERT INTO meta.files (source, batch_id, path, tmp_path, day, tenant, rows, tier) SELECT source, "
      "batch_id, " +
      cold + ", " + cold + ", NULL, NULL, sum(rows), 'cold' FROM meta.files WHERE source = " + src +
      " AND path IN " + in +
      " GROUP BY source, batch_id;"
      "INSERT INTO meta.file_partitions SELECT source, batch_id, " +
      cold + ", day, tenant, sum(rows) FROM meta.file_partitions WHERE source = " + src + " AND path IN " +
      in +
      " GROUP BY source, batch_id, day, tenant;"
      "DELETE FROM meta.file_partitions WHERE source = " +
      src + " AND path IN " + in +
      ";"
      "DELETE FROM meta.files WHERE source = " +
      src + " AND path IN " + in));
  return Retire(catalog, hot);
}

Status ForgetFiles(Catalog& catalog, const std::string& source, const std::vector<std::string>& paths) {
  const std::string src = Literal(source), in = InList(paths);
  RETURN_IF_ERROR(
      catalog.conn().Execute("DELETE FROM meta.file_partitions WHERE source = " + src + " AND path IN " + in +
                             "; DELETE FROM meta.files WHERE source = " + src + " AND path IN " + in));
  return Retire(catalog, paths);
}

Result<std::vector<std::string>> RetiredFiles(Catalog& catalog) {
  ASSIGN_OR_RETURN(int64_t have, catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE "
                                                         "database_name = 'lake' AND schema_name = 'meta' "
                                                         "AND table_name = 'retired_files'"));
  std::vector<std::string> out;
  if (have == 0) return out;
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT DISTINCT path FROM meta.retired_files ORDER BY path"));
  for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(rows.At(i, 0));
  return out;
}

Status ClearRetired(Catalog& catalog, const std::vector<std::string>& paths) {
  if (paths.empty()) return Status::OK();
  return catalog.conn().Execute("DELETE FROM meta.retired_files WHERE path IN " + InList(paths));
}

Result<std::vector<std::string>> ColdFiles(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(int64_t tiered,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_columns() WHERE "
                                           "database_name = 'lake' AND schema_name = 'meta' "
                                           "AND table_name = 'files' AND column_name = 'tier'"));
  std::vector<std::string> out;
  if (tiered == 0) return out;
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT DISTINCT path FROM meta.files WHERE tier = 'cold'" +
                           (source.empty() ? std::string() : " AND source = " + Literal(source)) +
                           " ORDER BY path"));
  for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(rows.At(i, 0));
  return out;
}

Status RecoverColdTier(Catalog& catalog) {
  Env* env = catalog.env();
  const std::string& lake = catalog.lake();
  ASSIGN_OR_RETURN(std::vector<std::string> retired, RetiredFiles(catalog));
  for (const auto& p : retired) RETURN_IF_ERROR(env->RemoveAll(LakePath(lake, p)));
  RETURN_IF_ERROR(ClearRetired(catalog, retired));
  // Cold files a move wrote but never committed: the catalog does not list them.
  ASSIGN_OR_RETURN(std::vector<std::string> listed, ColdFiles(catalog));
  std::set<std::string> known;
  for (const auto& p : listed) known.insert(LakePath(lake, p));
  const std::string& cold_root = catalog.spec().retention.cold_path;
  for (const auto& source : catalog.spec().sources) {
    ASSIGN_OR_RETURN(std::vector<std::string> files, env->ListFilesRecursive(cold_root + "/" + source.name));
    for (const auto& f : files) {
      if (!known.count(f)) RETURN_IF_ERROR(env->RemoveAll(f));
    }
  }
  return Status::OK();
}

}  // namespace sluice
