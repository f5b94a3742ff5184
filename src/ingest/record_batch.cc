#include "ingest/record_batch.h"

namespace sluice {

namespace {

template <typename T>
void Compact(std::vector<T>& v, const std::vector<uint8_t>& keep) {
  if (v.empty()) return;
  size_t out = 0;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) v[out++] = v[i];
  }
  v.resize(out);
}

}  // namespace

void KeepRows(RecordBatch& batch, const std::vector<uint8_t>& keep) {
  for (ColumnData& c : batch.columns) {
    if (c.type.kind == TypeKind::kString) {
      std::string data;
      std::vector<uint64_t> offsets{0};
      for (size_t i = 0; i < keep.size(); ++i) {
        if (!keep[i]) continue;
        data += c.StringAt(i);
        offsets.push_back(data.size());
      }
      c.str_data = std::move(data);
      c.str_offsets = std::move(offsets);
    }
    Compact(c.i64, keep);
    Compact(c.i32, keep);
    Compact(c.f64, keep);
    Compact(c.u8, keep);
    Compact(c.valid, keep);
  }
  Compact(batch.source_line, keep);
  Compact(batch.raw_spans, keep);
}

}  // namespace sluice
