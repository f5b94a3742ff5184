#include "transform/quarantine.h"

namespace sluice {

Status QuarantineBatch(Catalog& catalog, const std::string& table, const std::string& source,
                       const std::string& batch_id, int64_t run_started_us,
                       const std::vector<TestOutcome>& failures) {
  std::string tests, samples;
  for (const auto& f : failures) {
    tests += (tests.empty() ? "" : ", ") + f.test;
    if (!f.sample.empty()) samples += (samples.empty() ? "" : "; ") + f.test + ": " + f.sample;
  }
  return RecordQuarantine(catalog, {source, batch_id, table, tests,
                                    DescribeFailures("curated", table, failures), samples, run_started_us});
}

Result<BatchRef> ResolveBatch(Catalog& catalog, const std::string& id) {
  std::optional<std::string> source;
  std::string batch_id = id;
  // Batch ids never contain '/', so SOURCE/ID is unambiguous.
  if (size_t slash = id.find('/'); slash != std::string::npos) {
    source = id.substr(0, slash);
    batch_id = id.substr(slash + 1);
  }
  ASSIGN_OR_RETURN(std::vector<BatchRef> found, FindBatchesNamed(catalog, source, batch_id));
  if (found.empty())
    return Status::NotFound("no batch '" + id + "' in the ledger (see `sluice batches list`)");
  if (found.size() > 1) {
    std::string sources;
    for (size_t r = 0; r < found.size(); ++r) sources += (r ? ", " : "") + found[r].source;
    return Status::InvalidArgument("batch id '" + id + "' exists in several sources (" + sources +
                                   "); write SOURCE/" + id);
  }
  return found[0];
}

namespace {

// quarantined -> `to` (released | dropped), stamping `<to>_at` in the quarantine record.
Result<BatchAction> Transition(Catalog& catalog, const std::string& id, QuarantineExit exit,
                               const std::string& verb) {
  const std::string to = exit == QuarantineExit::kReleased ? "released" : "dropped";
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
  RETURN_IF_ERROR(catalog.Begin());
  Status st = RecordQuarantineExit(catalog, b.source, b.batch_id, exit);
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
  return Transition(catalog, id, QuarantineExit::kReleased,
                    "released: the next `sluice run` applies it, bypassing the gates that quarantined it");
}

Result<BatchAction> DropBatch(Catalog& catalog, const std::string& id) {
  ASSIGN_OR_RETURN(BatchAction a, Transition(catalog, id, QuarantineExit::kDropped,
                                             "dropped: its rows will never be applied"));
  if (a.changed) {
    if (const SourceSpec* s = catalog.spec().FindSource(a.batch.source)) {
      RETURN_IF_ERROR(catalog.RefreshStagingView(*s));
    }
  }
  return a;
}

}  // namespace sluice
