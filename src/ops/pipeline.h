// The pipeline as the dashboard draws it (GET /v1/pipeline, docs/DASHBOARD.md): every node from
// sources to consumers with its state, freshness and rows, the edges between them, the recent
// batches of the ledger and the DLQ by reason.
//
// The shape comes from sluice.yaml alone (PipelineShape); the numbers from the catalog
// (ReadPipelineFacts, through catalog/'s functions) and from what the running server knows
// (its status JSON: lag and errors of sources, feeds and the warehouse). PipelineJson puts them
// together; it reads no clock and no file, so it is tested with made-up facts.
// Plain functions and values; safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/dlq.h"
#include "catalog/ledger.h"
#include "catalog/ledger_reads.h"
#include "catalog/tables.h"
#include "common/status.h"
#include "spec/spec.h"

namespace sluice {

// Stages of the graph, left to right: the column the dashboard draws a node in.
enum class PipelineStage { kSource, kStaging, kCurated, kMart, kConsumer };
const char* PipelineStageName(PipelineStage stage);  // "sources", ..., "consumers"

struct PipelineNode {
  std::string id;     // "sources.orders", "staging.orders", "curated.orders", "marts.daily_revenue",
                      // "published.curated.orders", "postgres.analytics.daily_revenue",
                      // "consumers.ml_features"
  std::string kind;   // source | staging | curated | mart | parquet | postgres | consumer
  std::string label;  // what the node shows as its name
  PipelineStage stage = PipelineStage::kSource;
  // The dataset whose read scope shows this node's numbers ("staging.orders", "curated.orders").
  std::string dataset;
};

struct PipelineEdge {
  std::string from, to;  // node ids
};

struct PipelineShape {
  std::vector<PipelineNode> nodes;  // by stage, then in sluice.yaml's order
  std::vector<PipelineEdge> edges;  // each from a node to one of a later stage
};

// The nodes and edges of `spec`: each source feeds its staging view; a curated table reads its
// source's staging; a mart reads what its model reads (reads_staging, reads_curated, depends_on);
// every curated table and mart has a published Parquet copy, those of serve.postgres.publish a
// PostgreSQL table, and each consumer reads its curated table's change feed.
PipelineShape ShapeOf(const ProjectSpec& spec);

// What the catalog says, read through `catalog` (a reader: Catalog::OpenReader) in its one
// snapshot. `recent_batches`: how many of the latest batches to list.
struct PipelineFacts {
  std::map<std::string, SourceTotals> sources;                    // by source name
  std::map<std::string, TableState> tables;                       // by table name (no layer)
  std::map<std::string, std::vector<DeadLetterReasonCount>> dlq;  // by source name
  std::vector<BatchRecord> recent_batches;                        // newest first
};
Result<PipelineFacts> ReadPipelineFacts(Catalog& catalog, const ProjectSpec& spec, int64_t recent_batches);

// The body of GET /v1/pipeline (docs/DASHBOARD.md): {"project", "generated_at", "nodes",
// "edges", "batches", "dlq"}. `status` is the server's status JSON (Server::Impl::StatusJson;
// null for none); `now_us` the time freshness is measured at; `can_read(dataset)` whether the
// asker may see a dataset's numbers: a node it may not read keeps its shape and state, its
// numbers are null, and its source's batches and DLQ rows are left out.
nlohmann::ordered_json PipelineJson(const ProjectSpec& spec, const PipelineFacts& facts,
                                    const nlohmann::json& status, int64_t now_us,
                                    const std::function<bool(const std::string&)>& can_read);

// "2026-01-03 10:15:00.123456" (UTC, as the catalog prints a TIMESTAMP) as Unix micros;
// nullopt when it is not one.
std::optional<int64_t> ParseCatalogTimestamp(const std::string& text);

}  // namespace sluice
