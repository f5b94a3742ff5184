// CSV -> RecordBatch: the header names the columns, every later record is a row or a dead letter.
#include <simdjson.h>

#include <unordered_set>

#include "ingest/csv_reader.h"
#include "ingest/decoder.h"
#include "ingest/decoder_impl.h"

namespace sluice {

Result<RecordBatch> ContractValidator::DecodeCsv(std::string_view data) const {
  RecordBatch batch = impl_->NewBatch();
  const char* const input = data.data();
  if (data.starts_with("\xEF\xBB\xBF")) data.remove_prefix(3);  // UTF-8 byte order mark
  CsvReader reader(data, impl_->options.csv_delimiter);
  CsvRecord record;
  if (!reader.Next(&record)) return batch;  // an empty file has no header and no rows

  // Header: map each field position to a contract column (-1: not in the contract).
  if (record.malformed) {
    return Status::InvalidArgument("CSV header (line 1): " + record.error);
  }
  if (record.raw.empty()) return Status::InvalidArgument("empty CSV file: no header");
  std::vector<int> column_of(record.size(), -1);
  {
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < record.size(); ++i) {
      std::string name(record.field(i));
      column_of[i] = impl_->Find(name, i);
      if (!seen.insert(std::move(name)).second) {
        return Status::InvalidArgument("CSV header: duplicate column '" +
                                       TruncateForMessage(record.field(i)) + "'");
      }
    }
  }
  const size_t field_count = record.size();
  batch.csv_header = std::string(record.raw);

  RowBuilder row(*impl_, &batch);
  while (reader.Next(&record)) {
    // A blank line between records carries no data: skipped and not counted, as in JSONL.
    if (record.raw.empty() && !record.malformed) continue;
    ++batch.rows_read;
    if (!simdjson::validate_utf8(record.raw.data(), record.raw.size())) {
      row.DeadRecord(record.line, reason::kBadEncoding, "invalid UTF-8", record.raw);
      continue;
    }
    if (record.malformed) {
      row.DeadRecord(record.line, reason::kMalformedRecord, record.error, record.raw);
      continue;
    }
    if (record.size() != field_count) {
      row.DeadRecord(
          record.line, reason::kMalformedRecord,
          "expected " + std::to_string(field_count) + " fields, got " + std::to_string(record.size()),
          record.raw);
      continue;
    }
    row.Reset();
    for (size_t i = 0; i < field_count; ++i) {
      const int col = column_of[i];
      if (col < 0) continue;
      const std::string_view text = record.field(i);
      if (text.empty() && !record.quoted(i)) {
        row.slot(col).state = Slot::State::kNull;
      } else if (row.rule(col).spec->type.kind == TypeKind::kString) {
        Slot& slot = row.slot(col);
        slot.state = Slot::State::kValue;
        slot.str = slot.text = text;
      } else {
        row.SetFromText(col, text, /*quoted=*/true, /*bool_digits=*/true);
      }
    }
    row.Finish(record.line, record.raw,
               RawSpan{static_cast<uint64_t>(record.raw.data() - input), record.raw.size()});
  }
  return batch;
}

}  // namespace sluice
