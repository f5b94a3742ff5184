// Engine::IngestMicroBatch: the commit of one micro-batch of a stream source.
#include <algorithm>
#include <set>

#include "catalog/ledger.h"
#include "common/cpu_time.h"
#include "common/hash.h"
#include "engine/engine.h"
#include "engine/row_checks.h"
#include "storage/staging.h"

namespace sluice {

namespace {

// The part a line of the micro-batch belongs to, given each part's first line (ascending).
size_t PartOf(const std::vector<int64_t>& first_lines, int64_t line) {
  auto it = std::upper_bound(first_lines.begin(), first_lines.end(), line);
  return static_cast<size_t>(it - first_lines.begin()) - 1;
}

// The tenant of valid row `r` as the staging layout writes it (CAST AS VARCHAR); "" for NULL.
std::string TenantText(const ColumnData& c, size_t r) {
  if (!c.valid[r]) return "";
  switch (c.type.kind) {
    case TypeKind::kString:
      return std::string(c.StringAt(r));
    case TypeKind::kInt64:
      return std::to_string(c.i64[r]);
    case TypeKind::kInt32:
      return std::to_string(c.i32[r]);
    default:
      return "";  // a tenant column of another type matches no token's tenant
  }
}

// Rows of a part pushed with a tenant-bound token (StreamPart::tenants) whose tenant is not one
// of the token's become dead letters (tenant_forbidden), in line order with the others.
void ForbidOtherTenants(const SourceSpec& source, const std::vector<StreamPart>& parts,
                        const std::vector<size_t>& staged, const std::vector<int64_t>& first_lines,
                        RecordBatch& batch, std::string_view data) {
  const int col = source.contract.Find(source.partition_by.tenant);
  if (col < 0) return;  // the HTTP layer takes no tenant-bound push for such a source
  const ColumnData& tenant = batch.columns[static_cast<size_t>(col)];
  std::vector<uint8_t> keep(batch.rows(), 1);
  bool dropped = false;
  for (size_t r = 0; r < batch.rows(); ++r) {
    const StreamPart& part = parts[staged[PartOf(first_lines, batch.source_line[r])]];
    if (!part.tenants) continue;
    const std::string value = TenantText(tenant, r);
    if (std::find(part.tenants->begin(), part.tenants->end(), value) != part.tenants->end()) continue;
    keep[r] = 0;
    dropped = true;
    const RawSpan& span = batch.raw_spans[r];
    batch.dead.push_back(DeadLetter{batch.source_line[r], reason::kTenantForbidden,
                                    source.partition_by.tenant,
                                    "tenant '" + value + "' is not one of the pushing token's tenants",
                                    std::string(data.substr(span.offset, span.length))});
  }
  if (!dropped) return;
  KeepRows(batch, keep);
  std::stable_sort(batch.dead.begin(), batch.dead.end(),
                   [](const DeadLetter& a, const DeadLetter& b) { return a.line < b.line; });
}

}  // namespace

Result<const ContractValidator*> Engine::StreamValidator(const SourceSpec& source) {
  auto it = validators_.find(source.name);
  if (it == validators_.end()) {
    DecodeOptions options;
    if (!source.partition_by.tenant.empty()) options.path_columns.push_back(source.partition_by.tenant);
    ASSIGN_OR_RETURN(ContractValidator v, ContractValidator::Create(source.contract, options));
    it = validators_.emplace(source.name, std::move(v)).first;
  }
  return &it->second;
}

Result<MicroBatchResult> Engine::IngestMicroBatch(const std::string& source_name,
                                                  const std::vector<StreamPart>& parts,
                                                  const StreamRange* range) {
  Catalog& catalog = *catalog_;
  Env* env = catalog.env();
  const SourceSpec* source = spec().FindSource(source_name);
  if (source == nullptr || !source->streaming()) {
    return Status::InvalidArgument("'" + source_name + "' is not a stream source");
  }
  const int64_t start = env->MonotonicMicros();
  const int64_t cpu_start = ThreadCpuMicros();
  MicroBatchResult out;
  out.parts.resize(parts.size());

  // G2 per request: an Idempotency-Key answered before gets that answer again.
  std::vector<std::string> keys;
  std::vector<std::string> hashes(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].idempotency_key.empty()) continue;
    keys.push_back(parts[i].idempotency_key);
    hashes[i] = ContentHash(parts[i].data);
  }
  ASSIGN_OR_RETURN(auto answered, FindIdempotentAnswers(catalog, source_name, keys));
  std::map<std::string, size_t> first_with_key;  // key -> the part of this batch that stages it
  std::vector<size_t> staged;                    // parts staged here, in order
  for (size_t i = 0; i < parts.size(); ++i) {
    PartResult& r = out.parts[i];
    r.correlation_id = parts[i].correlation_id;
    const std::string& key = parts[i].idempotency_key;
    if (!key.empty()) {
      if (auto a = answered.find(key); a != answered.end()) {
        r.kind =
            a->second.content_hash == hashes[i] ? PartResult::Kind::kReplay : PartResult::Kind::kConflict;
        r.batch_id = a->second.batch_id;
        r.correlation_id = a->second.correlation_id;
        r.accepted = a->second.accepted;
        r.dead_lettered = a->second.dead_lettered;
        continue;
      }
      if (auto f = first_with_key.find(key); f != first_with_key.end()) {
        // A retry arriving while its first attempt is in this same batch: answered below.
        r.kind = hashes[f->second] == hashes[i] ? PartResult::Kind::kReplay : PartResult::Kind::kConflict;
        continue;
      }
      first_with_key[key] = i;
    }
    staged.push_back(i);
  }
  if (staged.empty()) return out;

  // One input: the parts' lines, each part starting on a new line.
  std::string data;
  {
    size_t bytes = 0;
    for (size_t i : staged) bytes += parts[i].data.size() + 1;
    data.reserve(bytes);
  }
  std::vector<int64_t> first_lines;  // per staged part
  BatchStamp stamp;
  int64_t lines = 0;
  for (size_t i : staged) {
    first_lines.push_back(lines + 1);
    stamp.parts.emplace_back(lines + 1, parts[i].correlation_id);
    data += parts[i].data;
    if (!parts[i].data.empty() && parts[i].data.back() != '\n') data += '\n';
    lines += std::count(parts[i].data.begin(), parts[i].data.end(), '\n') +
             (!parts[i].data.empty() && parts[i].data.back() != '\n' ? 1 : 0);
  }

  BatchRecord record;
  record.source = source_name;
  record.content_hash = ContentHash(data);
  record.started_at = env->NowMicros();
  if (range != nullptr) {
    // Unique per stream and per reset of it: each reads sequences from 1 again.
    record.batch_id = "nats-" + range->stream +
                      (range->resets > 0 ? ".r" + std::to_string(range->resets) : std::string()) + "-" +
                      std::to_string(range->first_seq) + "-" + std::to_string(range->last_seq);
    record.file = "nats:" + range->stream + "/" + std::to_string(range->first_seq) + "-" +
                  std::to_string(range->last_seq);
  } else {
    record.batch_id = "http-" + NewCorrelationId(record.started_at).substr(0, 20);
    record.file = "http:" + std::to_string(staged.size()) + (staged.size() == 1 ? " request" : " requests");
  }
  record.correlation_id = stamp.parts.size() == 1 && !stamp.parts[0].second.empty()
                              ? stamp.parts[0].second
                              : NewCorrelationId(record.started_at);
  for (auto& part : stamp.parts) {
    if (part.second.empty()) part.second = record.correlation_id;  // NATS parts carry none
  }
  stamp.batch_id = record.batch_id;
  stamp.correlation_id = record.correlation_id;
  stamp.ingested_at = record.started_at;
  out.batch_id = record.batch_id;
  out.correlation_id = record.correlation_id;

  ASSIGN_OR_RETURN(const ContractValidator* validator, StreamValidator(*source));
  ASSIGN_OR_RETURN(RecordBatch batch, validator->DecodeJsonl(data));
  ForbidOtherTenants(*source, parts, staged, first_lines, batch, data);
  record.decode_ms = (env->MonotonicMicros() - start) / 1000;
  const size_t decoder_dead = batch.dead.size();
  const int64_t stage_start = env->MonotonicMicros();
  auto raw_text = [&](size_t row) -> std::string {
    const RawSpan& span = batch.raw_spans[row];
    return data.substr(span.offset, span.length);
  };
  RETURN_IF_ERROR(LoadAndCheckBatch(catalog, *source, batch, raw_text, stamp, record));

  // Per part: rows read = its valid rows + its decoder dead letters; dead = all its dead letters.
  std::vector<int64_t> read(staged.size(), 0), dead(staged.size(), 0);
  for (int64_t line : batch.source_line) ++read[PartOf(first_lines, line)];
  for (size_t d = 0; d < batch.dead.size(); ++d) {
    size_t p = PartOf(first_lines, batch.dead[d].line);
    if (d < decoder_dead) ++read[p];
    ++dead[p];
  }
  std::vector<IdempotentAnswer> answers;
  for (size_t k = 0; k < staged.size(); ++k) {
    PartResult& r = out.parts[staged[k]];
    r.batch_id = record.batch_id;
    r.accepted = read[k] - dead[k];
    r.dead_lettered = dead[k];
    const StreamPart& part = parts[staged[k]];
    if (!part.idempotency_key.empty()) {
      answers.push_back({part.idempotency_key, record.batch_id, hashes[staged[k]], part.correlation_id,
                         r.accepted, r.dead_lettered});
    }
  }
  for (size_t i = 0; i < parts.size(); ++i) {  // retries of a part staged in this batch
    if (out.parts[i].kind == PartResult::Kind::kStaged || !out.parts[i].batch_id.empty()) continue;
    const PartResult& first = out.parts[first_with_key[parts[i].idempotency_key]];
    out.parts[i].batch_id = first.batch_id;
    out.parts[i].correlation_id = first.correlation_id;
    out.parts[i].accepted = first.accepted;
    out.parts[i].dead_lettered = first.dead_lettered;
  }

  ASSIGN_OR_RETURN(EventTimeStats event_time, MeasureEventTime(catalog, *source));
  for (const auto& [partition, s] : event_time) record.rows_late += s.late_rows;
  ASSIGN_OR_RETURN(StagedBatch written, WriteStagingFiles(catalog, *source, stamp));
  record.stage_ms = (env->MonotonicMicros() - stage_start) / 1000;
  // The cost (docs/METRICS.md): this thread's CPU so far -- other threads of serve work at the
  // same time, so the process's figures would not be this batch's -- and the staged files' bytes.
  record.cpu_us = ThreadCpuMicros() - cpu_start;
  record.bytes_written = 0;
  for (const StagedFile& f : written.files) {
    ASSIGN_OR_RETURN(uint64_t size, env->FileSize(catalog.lake() + "/" + f.tmp_path));
    record.bytes_written += static_cast<int64_t>(size);
  }
  const int64_t now = env->NowMicros();
  RETURN_IF_ERROR(
      CommitBatch(catalog, record, written, batch.dead.empty() ? "" : "batch_dlq", [&]() -> Status {
        RETURN_IF_ERROR(RecordIdempotentAnswers(catalog, source_name, answers, now));
        if (range != nullptr) {
          RETURN_IF_ERROR(RecordStreamRange(catalog, source_name, record.batch_id, *range));
        }
        return AdvanceWatermarks(catalog, *source, event_time, now);
      }));
  // The SQL of `sluice serve` reads staging.<source> while the stream commits: the view must
  // cover the directories this batch staged into (its first batch, a new contract version).
  std::vector<std::string> paths;
  for (const StagedFile& f : written.files) paths.push_back(f.path);
  RETURN_IF_ERROR(catalog.RefreshStagingViewFor(*source, paths));
  out.rows_read = record.rows_read;
  out.rows_staged = record.rows_staged;
  out.rows_dead = record.rows_dead;
  out.rows_late = record.rows_late;
  return out;
}

}  // namespace sluice
