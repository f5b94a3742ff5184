#include "catalog/runs.h"

namespace sluice {

using duck::Literal;

Status RecordRun(Catalog& catalog, const RunRecord& run) {
  return catalog.conn().Execute("INSERT INTO meta.runs VALUES (make_timestamp(" +
                                std::to_string(run.started_us) + "::BIGINT), now()::TIMESTAMP, " +
                                Literal(run.status) + ", " + Literal(run.summary) + ")");
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
