#include "engine/vacuum.h"

#include "duck/duck.h"

namespace sluice {

Result<VacuumOutcome> Vacuum(Engine& engine) {
  Catalog& catalog = engine.catalog();
  VacuumOutcome out;
  out.dlq_retention_seconds = engine.spec().dlq_retention_seconds;
  for (const auto& s : engine.spec().sources) out.dlq_rows_deleted[s.name] = 0;
  if (!out.dlq_retention_seconds) return out;
  const int64_t cutoff = catalog.env()->NowMicros() - *out.dlq_retention_seconds * 1000000;
  const std::string expired = " WHERE ingested_at < make_timestamp(" + std::to_string(cutoff) +
                              "::BIGINT)";
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    for (const auto& s : engine.spec().sources) {
      const std::string table = "dlq." + duck::Ident(s.name);
      ASSIGN_OR_RETURN(out.dlq_rows_deleted[s.name],
                       catalog.conn().QueryInt("SELECT count(*) FROM " + table + expired));
      RETURN_IF_ERROR(catalog.conn().Execute("DELETE FROM " + table + expired));
    }
    return Status::OK();
  };
  Status st = body();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st.WithContext("vacuum");
  }
  RETURN_IF_ERROR(catalog.Commit());
  RETURN_IF_ERROR(catalog.Checkpoint());
  return out;
}

}  // namespace sluice
