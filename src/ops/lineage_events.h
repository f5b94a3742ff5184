// OpenLineage run events (spec 2-0-2, ../shared/specs/openlineage) of sluice's runs, as JSON.
//
// A run event names its job (namespace sluice://<project>, docs/LINEAGE.md) and run (a UUID),
// and its input and output datasets by the names of `sluice lineage` (transform/column_lineage.h)
// with these facets:
//   dataset  schema                the dataset's columns, with types where known
//   output   columnLineage         column lineage of the dataset (COMPLETE and FAIL)
//   dataset  dataQualityAssertions the table tests run on it in this run
//   input    dataQualityMetrics    rows read;  output outputStatistics: rows written
//   run      sluice_batches        the batches of the run with their correlation ids
//   run      errorMessage          FAIL: why
//   run      parent                a batch's run inside a larger one (not used yet)
// Plain functions of their arguments; RunEventBuilder is immutable once built (thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/trace_reads.h"
#include "spec/spec.h"
#include "transform/column_lineage.h"

namespace sluice {

enum class RunEventType { kStart, kComplete, kFail };
const char* RunEventTypeName(RunEventType type);  // "START", "COMPLETE", "FAIL"

// "urn:sluice": the producer of every event and facet.
extern const char* const kLineageProducer;

// A fresh random-looking UUID (version 4 layout) from `now_micros` and the process's counter.
std::string NewRunId(int64_t now_micros);

// One batch in the sluice_batches run facet.
struct LineageBatch {
  std::string source;
  std::string batch_id;
  std::string correlation_id;
  std::vector<std::string> request_ids;  // HTTP requests' own correlation ids, when they differ
  int64_t rows_read = 0, rows_staged = 0, rows_dead = 0;
};

// What one event says beyond the job and run.
struct RunEventContent {
  std::vector<std::string> inputs;              // dataset names ("sources.orders", "staging.orders", ...)
  std::vector<std::string> outputs;             // "curated.orders", "marts.m", "published.curated.orders"
  std::map<std::string, int64_t> rows_read;     // input dataset -> dataQualityMetrics.rowCount
  std::map<std::string, int64_t> rows_written;  // output dataset -> outputStatistics.rowCount
  std::vector<RunTestResult> tests;             // placed on "<layer>.<table>"
  // Column types as the lake holds them ("<layer>.<table>" -> (column, DuckDB type)); a dataset
  // not here takes its types from its contract, or none.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> lake_types;
  std::vector<LineageBatch> batches;
  std::string error;  // FAIL: the run's error
};

class RunEventBuilder {
 public:
  // Computes the project's column lineage once. A model whose lineage does not resolve leaves
  // every columnLineage facet out; lineage_error() says why (for a log line).
  explicit RunEventBuilder(const ProjectSpec& spec);

  // The event; `job` is "run", "transform" or "ingest.<source>".
  nlohmann::json Event(RunEventType type, const std::string& job, const std::string& run_id, int64_t event_us,
                       const RunEventContent& content) const;

  const std::string& lineage_error() const { return lineage_error_; }
  const std::string& ns() const { return namespace_; }

 private:
  nlohmann::json Dataset(const std::string& name, bool output, bool complete,
                         const RunEventContent& content) const;
  nlohmann::json SchemaFacet(const std::string& name, const RunEventContent& content) const;

  const ProjectSpec& spec_;
  std::string namespace_;
  std::optional<ProjectLineage> lineage_;
  std::string lineage_error_;
};

}  // namespace sluice
