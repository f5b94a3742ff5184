// Micro-batches of stream sources: what `sluice serve` hands the engine and what it gets back.
//
// A micro-batch gathers parts -- the NDJSON body of an HTTP request, or a NATS batch's messages
// as one line each -- into one batch of the ledger, committed through the same protocol as a
// file (G1, G4, G5). Within it, rows are numbered in arrival order (part after part, line after
// line), so ties in curate go to the later event; each row keeps its part's correlation id, or
// the batch's when its part has none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

struct StreamPart {
  std::string data;             // NDJSON: zero or more events, one per line
  std::string correlation_id;   // carried into the rows, dead letters and ledger; empty: the batch's
  std::string idempotency_key;  // HTTP: a retry with this key is answered, not staged again
  // HTTP with a tenant-bound token: its tenants. Rows of other tenants are dead-lettered
  // (tenant_forbidden); the source partitions by tenant.
  std::optional<std::vector<std::string>> tenants;
};

// What became of one part.
struct PartResult {
  enum class Kind {
    kStaged,    // committed in this micro-batch
    kReplay,    // its Idempotency-Key was answered before: the earlier answer, nothing staged
    kConflict,  // its Idempotency-Key was used before for a different body: refused
  };
  Kind kind = Kind::kStaged;
  std::string batch_id;  // the batch that holds (or held) its rows
  std::string correlation_id;
  int64_t accepted = 0;  // rows staged
  int64_t dead_lettered = 0;
};

struct MicroBatchResult {
  std::string batch_id;        // empty when every part was a replay or conflict: nothing committed
  std::string correlation_id;  // the batch's in the ledger (its only part's when it has one)
  int64_t rows_read = 0;
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;
  int64_t rows_late = 0;
  std::vector<PartResult> parts;  // one per part, in order
};

}  // namespace sluice
