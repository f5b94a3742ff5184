#include "catalog/applied.h"

namespace sluice {

using duck::Literal;

namespace {

// "(id, seq), ..." of the batches; "(NULL, 0)" for none.
std::string BatchValues(const std::vector<PendingBatch>& batches) {
  std::string seqs;
  for (size_t r = 0; r < batches.size(); ++r) {
    seqs += (r ? ", (" : "(") + Literal(batches[r].batch_id) + ", " + std::to_string(batches[r].seq) + ")";
  }
  return seqs.empty() ? "(NULL, 0)" : seqs;
}

}  // namespace

Result<std::vector<PendingBatch>> PendingBatches(Catalog& catalog, const std::string& table,
                                                 const std::string& source, bool all) {
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query("SELECT b.batch_id, b.batch_seq, b.status = 'released' FROM meta.batches b "
                           "WHERE b.source = " +
                           Literal(source) + " AND b.status IN ('committed', 'released')" +
                           (all ? std::string()
                                : " AND NOT EXISTS (SELECT 1 FROM meta.applied a WHERE "
                                  "a.table_name = " +
                                      Literal(table) + " AND a.batch_id = b.batch_id)") +
                           " ORDER BY b.batch_seq"));
  std::vector<PendingBatch> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back({rows.At(r, 0), rows.IntAt(r, 1), rows.At(r, 2) == "true"});
  }
  return out;
}

Result<std::vector<std::string>> StagingFilesOf(Catalog& catalog, const std::string& source,
                                                const std::vector<PendingBatch>& batches) {
  ASSIGN_OR_RETURN(
      duck::Rows files,
      catalog.conn().Query("SELECT DISTINCT f.path FROM meta.files f WHERE f.source = " + Literal(source) +
                           " AND f.batch_id IN (SELECT batch_id FROM (VALUES " + BatchValues(batches) +
                           ") v(batch_id, seq)) ORDER BY f.path"));
  std::vector<std::string> out;
  out.reserve(files.rows.size());
  for (size_t r = 0; r < files.rows.size(); ++r) out.push_back(files.At(r, 0));
  return out;
}

Status RecordApplied(Catalog& catalog, const std::string& table, const std::string& source,
                     const std::vector<PendingBatch>& batches) {
  if (batches.empty()) return Status::OK();
  return catalog.conn().Execute("INSERT INTO meta.applied SELECT " + Literal(table) + ", " + Literal(source) +
                                ", batch_id, seq, now()::TIMESTAMP FROM (VALUES " + BatchValues(batches) +
                                ") v(batch_id, seq) WHERE batch_id IS NOT NULL");
}

Status ForgetApplied(Catalog& catalog, const std::string& table) {
  return catalog.conn().Execute("DELETE FROM meta.applied WHERE table_name = " + Literal(table));
}

}  // namespace sluice
