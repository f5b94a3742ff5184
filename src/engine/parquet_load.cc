#include "engine/parquet_load.h"

#include <iterator>
#include <memory>
#include <utility>

#include "duck/errors.h"
#include "duck/result_stream.h"
#include "engine/row_checks.h"

namespace sluice {

namespace {

// What DuckDB refuses while reading the file is its content, unless DuckDB ran out of memory
// (Unavailable), which says nothing about the file.
Status Unreadable(const Status& st) {
  if (st.code() == StatusCode::kUnavailable) return st;
  return Status::InvalidArgument("not a readable Parquet file: " + duck::FirstLine(st.message()));
}

}  // namespace

Result<ParquetLoad> LoadParquetBatch(Catalog& catalog, const SourceSpec& source,
                                     const ContractValidator& validator, const std::string& path,
                                     const BatchStamp& stamp) {
  // The stream reads on its own connection while the catalog's appends the decoded chunks.
  ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> reader, catalog.conn().Connect());
  Result<std::unique_ptr<duck::ResultStream>> opened = duck::ResultStream::OpenStreaming(
      *reader, "SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet(" + duck::Literal(path) + ") t");
  if (!opened.ok()) return Unreadable(opened.status());
  std::unique_ptr<duck::ResultStream> stream = std::move(opened).value();
  RETURN_IF_ERROR(CreateBatchTables(catalog, source));

  ParquetLoad out;
  std::vector<std::string> records;  // the chunk's rows as JSON text, line first_line onwards
  size_t bytes = 0;
  int64_t first_line = 1;
  auto load_chunk = [&]() -> Status {
    ASSIGN_OR_RETURN(RecordBatch part, validator.DecodeJsonRecords(records, first_line));
    RETURN_IF_ERROR(AppendBatchRows(catalog, source, part, stamp));
    RETURN_IF_ERROR(AppendDeadLetters(catalog, part, 0, stamp));
    auto raw_text = [&](size_t row) { return records[part.raw_spans[row].offset]; };
    ASSIGN_OR_RETURN(int64_t failed,
                     ApplyContractChecks(catalog, source.contract, part, raw_text, stamp, first_line));
    out.rows_read += part.rows_read;
    out.rows_staged += static_cast<int64_t>(part.rows()) - failed;
    // Chunks come in line order, and each one's dead letters are in line order.
    out.dead.insert(out.dead.end(), std::make_move_iterator(part.dead.begin()),
                    std::make_move_iterator(part.dead.end()));
    first_line += static_cast<int64_t>(records.size());
    records.clear();
    bytes = 0;
    return Status::OK();
  };

  std::unique_ptr<duck::Chunk> chunk;
  while (stream->Next(&chunk)) {
    for (size_t r = 0; r < chunk->size(); ++r) {
      // to_json of a row is never NULL; were it, the empty record is malformed_record.
      records.emplace_back(chunk->StringAt(0, r).value_or(std::string_view()));
      bytes += records.back().size();
      if (records.size() >= kParquetChunkRows || bytes >= kParquetChunkBytes) RETURN_IF_ERROR(load_chunk());
    }
  }
  if (!stream->status().ok()) return Unreadable(stream->status());
  if (!records.empty()) RETURN_IF_ERROR(load_chunk());
  return out;
}

}  // namespace sluice
