#include "warehouse/publish_records.h"

#include <cstdlib>

#include "warehouse/pg_connection.h"

namespace sluice {

Result<std::map<BatchKey, std::vector<BatchPublish>>> ReadBatchPublishes(
    const ProjectSpec& spec, const std::vector<BatchKey>& batches) {
  if (!spec.serve.postgres) return Status::InvalidArgument("serve.postgres is not set in sluice.yaml");
  const PostgresServeSpec& pg_spec = *spec.serve.postgres;
  const char* dsn = std::getenv(pg_spec.dsn_env.c_str());
  if (dsn == nullptr || *dsn == '\0') {
    return Status::InvalidArgument("the environment variable " + pg_spec.dsn_env +
                                   " (serve.postgres.dsn_env) is not set");
  }
  std::map<BatchKey, std::vector<BatchPublish>> out;
  if (batches.empty()) return out;
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> pg, PgConnection::Connect(dsn, "$" + pg_spec.dsn_env));
  const std::string table = pg->Ident(pg_spec.schema) + "._sluice_publish_batches";
  ASSIGN_OR_RETURN(auto exists, pg->Query("SELECT to_regclass(" + pg->Literal(table) + ") IS NOT NULL"));
  if (exists.empty() || *exists[0][0] != "t") return out;
  std::string values;
  for (const auto& [source, batch_id] : batches) {
    values += (values.empty() ? "(" : ", (") + pg->Literal(source) + ", " + pg->Literal(batch_id) + ")";
  }
  ASSIGN_OR_RETURN(
      auto rows,
      pg->Query(
          "SELECT p.source, p.batch_id, p.table_name, p.version, p.publish_seq, "
          "to_char(p.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
          "extract(epoch FROM p.published_at - p.lake_committed_at) FROM " +
          table + " p JOIN (VALUES " + values +
          ") v(source, batch_id) ON p.source = v.source AND p.batch_id = v.batch_id ORDER BY p.publish_seq, "
          "p.table_name"));
  for (const auto& row : rows) {
    BatchPublish p;
    p.table = row[2].value_or("");
    const size_t dot = p.table.find('.');
    p.pg_table = pg_spec.schema + "." + (dot == std::string::npos ? p.table : p.table.substr(dot + 1));
    p.version = std::strtoll(row[3].value_or("0").c_str(), nullptr, 10);
    p.publish_seq = std::strtoll(row[4].value_or("0").c_str(), nullptr, 10);
    p.published_at = row[5].value_or("");
    if (row[6]) p.visible_seconds = std::strtod(row[6]->c_str(), nullptr);
    out[{row[0].value_or(""), row[1].value_or("")}].push_back(std::move(p));
  }
  return out;
}

}  // namespace sluice
