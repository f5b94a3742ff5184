#include "catalog/ledger_reads.h"

namespace sluice {

using duck::Literal;

Result<SourceTotals> TotalsOf(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(
      duck::Rows r,
      catalog.conn().Query("SELECT count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_staged), 0), "
                           "coalesce(sum(rows_dead), 0), coalesce(sum(rows_late), 0), "
                           "CAST(max(committed_at) AS VARCHAR) FROM meta.batches WHERE source = " +
                           Literal(source)));
  return SourceTotals{r.IntAt(0, 0), r.IntAt(0, 1), r.IntAt(0, 2), r.IntAt(0, 3), r.IntAt(0, 4), r.At(0, 5)};
}

Result<std::map<std::string, std::string>> CsvHeaders(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows headers,
                   catalog.conn().Query("SELECT batch_id, csv_header FROM meta.batches WHERE source = " +
                                        Literal(source) + " AND csv_header IS NOT NULL"));
  std::map<std::string, std::string> out;
  for (size_t r = 0; r < headers.rows.size(); ++r) out[headers.At(r, 0)] = headers.At(r, 1);
  return out;
}

}  // namespace sluice
