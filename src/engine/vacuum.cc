#include "engine/vacuum.h"

#include "catalog/dlq.h"

namespace sluice {

Result<VacuumOutcome> Vacuum(Engine& engine) {
  Catalog& catalog = engine.catalog();
  VacuumOutcome out;
  out.dlq_retention_seconds = engine.spec().retention.dlq_seconds;
  for (const auto& s : engine.spec().sources) out.dlq_rows_deleted[s.name] = 0;
  if (!out.dlq_retention_seconds) return out;
  const int64_t cutoff = catalog.env()->NowMicros() - *out.dlq_retention_seconds * 1000000;
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    for (const auto& s : engine.spec().sources) {
      ASSIGN_OR_RETURN(out.dlq_rows_deleted[s.name], DeleteDeadLettersBefore(catalog, s.name, cutoff));
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
