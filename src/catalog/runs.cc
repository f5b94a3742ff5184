#include "catalog/runs.h"

namespace sluice {

using duck::Literal;

Status RecordRun(Catalog& catalog, const RunRecord& run) {
  return catalog.conn().Execute("INSERT INTO meta.runs VALUES (make_timestamp(" +
                                std::to_string(run.started_us) + "::BIGINT), now()::TIMESTAMP, " +
                                Literal(run.status) + ", " + Literal(run.summary) + ")");
}

namespace {

constexpr char kRunColumns[] =
    "SELECT epoch_us(started_at), epoch_us(finished_at), status, summary FROM meta.runs ";

RunRecord RunAtRow(const duck::Rows& rows, size_t i) {
  return RunRecord{rows.IntAt(i, 0), rows.IntAt(i, 1), rows.At(i, 2), rows.At(i, 3)};
}

}  // namespace

Result<std::vector<RunRecord>> RunsAfter(Catalog& catalog, int64_t after_us) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(std::string(kRunColumns) + "WHERE epoch_us(started_at) > " +
                                        std::to_string(after_us) + " ORDER BY started_at"));
  std::vector<RunRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(RunAtRow(rows, i));
  return out;
}

Result<std::optional<RunRecord>> RunAt(Catalog& catalog, int64_t at_us) {
  const std::string at = std::to_string(at_us);
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query(std::string(kRunColumns) + "WHERE epoch_us(started_at) <= " + at +
                           " AND epoch_us(finished_at) >= " + at + " ORDER BY started_at DESC LIMIT 1"));
  if (rows.rows.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(RunAtRow(rows, 0));
}

Result<std::optional<RunInfo>> LastRun(Catalog& catalog) {
  ASSIGN_OR_RETURN(duck::Rows run,
                   catalog.conn().Query("SELECT CAST(started_at AS VARCHAR), CAST(finished_at AS "
                                        "VARCHAR), status FROM meta.runs ORDER BY started_at DESC "
                                        "LIMIT 1"));
  if (run.rows.empty()) return std::optional<RunInfo>();
  return std::optional<RunInfo>(RunInfo{run.At(0, 0), run.At(0, 1), run.At(0, 2)});
}

}  // namespace sluice
