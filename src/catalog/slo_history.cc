#include "catalog/slo_history.h"

namespace sluice {

namespace {

using duck::Literal;

std::string Timestamp(int64_t micros) { return "make_timestamp(" + std::to_string(micros) + "::BIGINT)"; }

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf) + "::DOUBLE";
}

}  // namespace

Status CreateSloTables(duck::Connection& conn) {
  return conn.Execute(
      "CREATE TABLE IF NOT EXISTS meta.slo_samples (slo VARCHAR NOT NULL, sampled_at TIMESTAMP NOT NULL,"
      " good DOUBLE NOT NULL, total DOUBLE NOT NULL, value DOUBLE);"
      "CREATE TABLE IF NOT EXISTS meta.slo_states (slo VARCHAR PRIMARY KEY, state VARCHAR NOT NULL,"
      " since TIMESTAMP NOT NULL, evaluated_at TIMESTAMP NOT NULL, evaluation VARCHAR)");
}

Status AppendSloSamples(Catalog& catalog, const std::vector<SloSampleRow>& samples) {
  if (samples.empty()) return Status::OK();
  std::string sql = "INSERT INTO meta.slo_samples VALUES ";
  for (size_t i = 0; i < samples.size(); ++i) {
    const SloSampleRow& s = samples[i];
    sql += (i ? ", (" : "(") + Literal(s.slo) + ", " + Timestamp(s.at_us) + ", " + Number(s.good) + ", " +
           Number(s.total) + ", " + Number(s.value) + ")";
  }
  return catalog.conn().Execute(sql);
}

Result<std::map<std::string, std::vector<SloSums>>> AllSloWindowSums(Catalog& catalog, int64_t now_us,
                                                                     const std::vector<int64_t>& spans) {
  std::string select = "slo";
  for (int64_t span : spans) {
    const std::string in = "epoch_us(sampled_at) > " + std::to_string(now_us - span * 1000000);
    select += ", coalesce(sum(good) FILTER (WHERE " + in +
              "), 0)::VARCHAR, coalesce(sum(total) FILTER (WHERE " + in + "), 0)::VARCHAR";
  }
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT " + select + " FROM meta.slo_samples WHERE epoch_us(sampled_at) <= " +
                           std::to_string(now_us) + " GROUP BY slo"));
  std::map<std::string, std::vector<SloSums>> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    std::vector<SloSums>& sums = out[rows.At(r, 0)];
    sums.resize(spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      sums[i].good = std::stod(rows.At(r, 1 + 2 * i, "0"));
      sums[i].total = std::stod(rows.At(r, 2 + 2 * i, "0"));
    }
  }
  return out;
}

Result<std::vector<SloSums>> SloWindowSums(Catalog& catalog, const std::string& slo, int64_t now_us,
                                           const std::vector<int64_t>& spans) {
  ASSIGN_OR_RETURN(auto all, AllSloWindowSums(catalog, now_us, spans));
  auto it = all.find(slo);
  return it == all.end() ? std::vector<SloSums>(spans.size()) : it->second;
}

Status PruneSloSamples(Catalog& catalog, int64_t before_us) {
  return catalog.conn().Execute("DELETE FROM meta.slo_samples WHERE epoch_us(sampled_at) <= " +
                                std::to_string(before_us));
}

Result<std::map<std::string, int64_t>> LastSloSampleTimes(Catalog& catalog) {
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT slo, max(epoch_us(sampled_at)) FROM meta.slo_samples GROUP BY slo"));
  std::map<std::string, int64_t> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) out[rows.At(r, 0)] = rows.IntAt(r, 1);
  return out;
}

Result<std::vector<SloStateRow>> LoadSloStates(Catalog& catalog) {
  ASSIGN_OR_RETURN(int64_t exists, catalog.conn().QueryInt("SELECT count(*) FROM duckdb_tables() WHERE "
                                                           "database_name = 'lake' AND schema_name = 'meta' "
                                                           "AND table_name = 'slo_states'"));
  std::vector<SloStateRow> out;
  if (exists == 0) return out;
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query("SELECT slo, state, epoch_us(since), "
                                                         "epoch_us(evaluated_at), evaluation FROM "
                                                         "meta.slo_states ORDER BY slo"));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back({rows.At(r, 0), rows.At(r, 1), rows.IntAt(r, 2), rows.IntAt(r, 3), rows.At(r, 4)});
  }
  return out;
}

Status SaveSloState(Catalog& catalog, const SloStateRow& row) {
  return catalog.conn().Execute("INSERT OR REPLACE INTO meta.slo_states VALUES (" + Literal(row.slo) + ", " +
                                Literal(row.state) + ", " + Timestamp(row.since_us) + ", " +
                                Timestamp(row.evaluated_at_us) + ", " + Literal(row.evaluation) + ")");
}

Result<BatchRows> BatchRowsBetween(Catalog& catalog, const std::string& source, int64_t from_us,
                                   int64_t to_us) {
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_dead), 0) FROM "
                           "meta.batches WHERE source = " +
                           Literal(source) + " AND epoch_us(committed_at) > " + std::to_string(from_us) +
                           " AND epoch_us(committed_at) <= " + std::to_string(to_us)));
  BatchRows out;
  if (!rows.rows.empty()) out = {rows.IntAt(0, 0), rows.IntAt(0, 1)};
  return out;
}

Result<std::map<std::string, int64_t>> TableCommitTimes(Catalog& catalog) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT layer || '.' || table_name, epoch_us(updated_at) "
                                        "FROM meta.tables WHERE updated_at IS NOT NULL"));
  std::map<std::string, int64_t> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) out[rows.At(r, 0)] = rows.IntAt(r, 1);
  return out;
}

}  // namespace sluice
