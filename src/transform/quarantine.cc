#include "transform/quarantine.h"

namespace sluice {

using duck::Literal;

Status QuarantineBatch(Catalog& catalog, const std::string& table, const std::string& source,
                       const std::string& batch_id, int64_t run_started_us,
                       const std::vector<TestOutcome>& failures) {
  std::string tests, samples;
  for (const auto& f : failures) {
    tests += (tests.empty() ? "" : ", ") + f.test;
    if (!f.sample.empty()) samples += (samples.empty() ? "" : "; ") + f.test + ": " + f.sample;
  }
  const std::string run = run_started_us > 0
                              ? "make_timestamp(" + std::to_string(run_started_us) + "::BIGINT)"
                              : "now()::TIMESTAMP";
  const std::string where = " WHERE source = " + Literal(source) + " AND batch_id = " + Literal(batch_id);
  return catalog.conn().Execute(
      "UPDATE meta.batches SET status = 'quarantined'" + where + ";"
      "INSERT INTO meta.quarantine (source, batch_id, table_name, tests, failures, sample, "
      "run_started_at, quarantined_at) VALUES (" + Literal(source) + ", " + Literal(batch_id) + ", " +
      Literal(table) + ", " + Literal(tests) + ", " +
      Literal(DescribeFailures("curated", table, failures)) + ", " +
      (samples.empty() ? std::string("NULL") : Literal(samples)) + ", " + run + ", now()::TIMESTAMP)");
}

Result<BatchRef> ResolveBatch(Catalog& catalog, const std::string& id) {
  std::string where = "batch_id = " + Literal(id);
  // Batch ids never contain '/', so SOURCE/ID is unambiguous.
  if (size_t slash = id.find('/'); slash != std::string::npos) {
    where = "source = " + Literal(id.substr(0, slash)) + " AND batch_id = " + Literal(id.substr(slash + 1));
  }
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(
                                        "SELECT source, batch_id, status FROM meta.batches WHERE " +
                                        where + " ORDER BY source"));
  if (rows.rows.empty()) return Status::NotFound("no batch '" + id + "' in the ledger (see `sluice batches list`)");
  if (rows.rows.size() > 1) {
    std::string sources;
    for (size_t r = 0; r < rows.rows.size(); ++r) sources += (r ? ", " : "") + rows.At(r, 0);
    return Status::InvalidArgument("batch id '" + id + "' exists in several sources (" + sources +
                                   "); write SOURCE/" + id);
  }
  return BatchRef{rows.At(0, 0), rows.At(0, 1), rows.At(0, 2)};
}

namespace {

// quarantined -> `to` (released | dropped), stamping `<to>_at` in meta.quarantine.
Result<BatchAction> Transition(Catalog& catalog, const std::string& id, const std::string& to,
                               const std::string& verb) {
  ASSIGN_OR_RETURN(BatchRef b, ResolveBatch(catalog, id));
  BatchAction action;
  const std::string name = b.source + "/" + b.batch_id;
  if (b.status == to) {
    action.batch = b;
    action.message = "batch " + name + " is already " + to + "; nothing done";
    return action;
  }
  if (b.status != "quarantined") {
    return Status::InvalidArgument("batch " + name + " is " + b.status +
                                   ", not quarantined; only quarantined batches can be " + to);
  }
  const std::string where = " WHERE source = " + Literal(b.source) + " AND batch_id = " + Literal(b.batch_id);
  RETURN_IF_ERROR(catalog.Begin());
  Status st = catalog.conn().Execute("UPDATE meta.batches SET status = " + Literal(to) + where + ";"
                                     "UPDATE meta.quarantine SET " + to + "_at = now()::TIMESTAMP" +
                                     where + " AND released_at IS NULL AND dropped_at IS NULL");
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());
  b.status = to;
  action.batch = b;
  action.changed = true;
  action.message = "batch " + name + " " + verb;
  return action;
}

}  // namespace

Result<BatchAction> ReleaseBatch(Catalog& catalog, const std::string& id) {
  return Transition(catalog, id, "released",
                    "released: the next `sluice run` applies it, bypassing the gates that quarantined it");
}

Result<BatchAction> DropBatch(Catalog& catalog, const std::string& id) {
  ASSIGN_OR_RETURN(BatchAction a, Transition(catalog, id, "dropped", "dropped: its rows will never be applied"));
  if (a.changed) {
    if (const SourceSpec* s = catalog.spec().FindSource(a.batch.source)) {
      RETURN_IF_ERROR(catalog.RefreshStagingView(*s));
    }
  }
  return a;
}

}  // namespace sluice
