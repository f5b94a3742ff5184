// What the PostgreSQL warehouse recorded about the batches it published (docs/WAREHOUSE.md):
// <schema>._sluice_publish_batches, read back for `sluice trace` (cli/cmd_trace.cc).
//
// PostgreSQL holds the record of truth: the publisher writes it in the transaction that makes
// the batch's rows visible there, so it is exactly as durable as those rows. Each call opens a
// connection of its own (the DSN from serve.postgres.dsn_env, never in a message) and closes it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "spec/spec.h"

namespace sluice {

// One table version that brought a batch's rows into PostgreSQL.
struct BatchPublish {
  std::string table;            // "curated.orders"
  std::string pg_table;         // "analytics.orders"
  int64_t version = 0;          // the lake's table version
  int64_t publish_seq = 0;      // the publish's place in the order of publishes (increasing, gaps)
  std::string published_at;     // just before COMMIT in PostgreSQL: "2026-01-03T10:15:00.123Z"
  double visible_seconds = -1;  // from its version's commit in the lake to published_at; -1 unknown
};

using BatchKey = std::pair<std::string, std::string>;  // (source, batch_id)

// The publishes of each of `batches`, by publish_seq; a batch PostgreSQL has not received yet
// has no entry. InvalidArgument when serve.postgres or its DSN variable is not set;
// Unavailable when the server cannot be reached; an empty map when nothing was published yet.
Result<std::map<BatchKey, std::vector<BatchPublish>>> ReadBatchPublishes(
    const ProjectSpec& spec, const std::vector<BatchKey>& batches);

}  // namespace sluice
