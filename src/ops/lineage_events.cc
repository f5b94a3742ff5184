#include "ops/lineage_events.h"

#include <cstdio>

#include "common/env.h"
#include "common/hash.h"

namespace sluice {

using Json = nlohmann::json;

const char* const kLineageProducer = "urn:sluice";

namespace {

constexpr const char* kEventSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
constexpr const char* kSchemaFacet =
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
constexpr const char* kAssertionsFacet =
    "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json"
    "#/$defs/DataQualityAssertionsDatasetFacet";
constexpr const char* kMetricsFacet =
    "https://openlineage.io/spec/facets/1-0-2/DataQualityMetricsInputDatasetFacet.json"
    "#/$defs/DataQualityMetricsInputDatasetFacet";
constexpr const char* kStatisticsFacet =
    "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
    "#/$defs/OutputStatisticsOutputDatasetFacet";
constexpr const char* kErrorFacet =
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";
// sluice's own run facet, described in docs/LINEAGE.md.
constexpr const char* kBatchesFacet = "urn:sluice:facets:batches:1";

Json Facet(const char* schema_url) {
  return Json{{"_producer", kLineageProducer}, {"_schemaURL", schema_url}};
}

// The DuckDB types of the meta columns sluice adds to staging, curated and published rows.
const char* MetaColumnType(const std::string& column) {
  if (column == "_batch_id" || column == "_correlation_id") return "VARCHAR";
  if (column == "_ingested_at") return "TIMESTAMP";
  if (column == "_source_line" || column == "_batch_seq") return "BIGINT";
  return nullptr;
}

// "published.curated.orders" -> "curated.orders"; other names as they are.
std::string BaseOf(const std::string& name) {
  const std::string prefix = "published.";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

// The source whose contract describes `name`'s columns, or null.
const SourceSpec* SourceOf(const ProjectSpec& spec, const std::string& name) {
  const std::string base = BaseOf(name);
  const size_t dot = base.find('.');
  if (dot == std::string::npos) return nullptr;
  const std::string layer = base.substr(0, dot), rest = base.substr(dot + 1);
  if (layer == "sources" || layer == "staging") return spec.FindSource(rest);
  if (layer == "curated") {
    const TableSpec* t = spec.FindTable(rest);
    return t != nullptr ? spec.FindSource(t->from) : nullptr;
  }
  return nullptr;
}

// "not_null(order_id)" of a test of `table`: the TableTest that describes itself so.
const TableTest* FindTest(const ProjectSpec& spec, const std::string& table, const std::string& name) {
  const TableSpec* t = spec.FindTable(table);
  if (t == nullptr) return nullptr;
  for (const auto& test : t->tests) {
    if (test.Describe() == name) return &test;
  }
  return nullptr;
}

}  // namespace

const char* RunEventTypeName(RunEventType type) {
  switch (type) {
    case RunEventType::kStart:
      return "START";
    case RunEventType::kComplete:
      return "COMPLETE";
    case RunEventType::kFail:
      return "FAIL";
  }
  return "OTHER";
}

std::string NewRunId(int64_t now_micros) {
  std::string hex = NewCorrelationId(now_micros);                   // 32 hex digits
  hex[12] = '4';                                                    // version 4 layout
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

RunEventBuilder::RunEventBuilder(const ProjectSpec& spec) : spec_(spec), namespace_(LineageNamespace(spec)) {
  Result<ProjectLineage> lineage = ComputeProjectLineage(spec);
  if (lineage.ok()) {
    lineage_ = std::move(lineage).value();
  } else {
    lineage_error_ = lineage.status().message();
  }
}

Json RunEventBuilder::SchemaFacet(const std::string& name, const RunEventContent& content) const {
  std::vector<std::string> columns;
  const LineageDataset* dataset = lineage_ ? lineage_->Find(name) : nullptr;
  const SourceSpec* source = SourceOf(spec_, name);
  if (dataset != nullptr) {
    columns = dataset->columns;
  } else if (source != nullptr) {
    for (const auto& c : source->contract.columns) columns.push_back(c.name);
  }
  std::map<std::string, std::string> types;
  if (auto it = content.lake_types.find(BaseOf(name)); it != content.lake_types.end()) {
    for (const auto& [column, type] : it->second) types[column] = type;
  }
  Json fields = Json::array();
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string& c = columns[i];
    Json field{{"name", c}};
    std::string type;
    if (auto t = types.find(c); t != types.end()) {
      type = t->second;
    } else if (int k = source != nullptr ? source->contract.Find(c) : -1; k >= 0) {
      type = source->contract.columns[static_cast<size_t>(k)].type.DuckType();
    } else if (const char* meta = MetaColumnType(c)) {
      type = meta;
    }
    if (!type.empty()) field["type"] = type;
    field["ordinal_position"] = static_cast<int64_t>(i + 1);
    fields.push_back(std::move(field));
  }
  Json facet = Facet(kSchemaFacet);
  facet["fields"] = std::move(fields);
  return facet;
}

Json RunEventBuilder::Dataset(const std::string& name, bool output, bool complete,
                              const RunEventContent& content) const {
  Json facets{{"schema", SchemaFacet(name, content)}};
  if (output && complete && lineage_) {
    if (const LineageDataset* d = lineage_->Find(name)) {
      facets["columnLineage"] = Json::parse(ColumnLineageFacetJson(spec_, *d));
    }
  }
  if (complete) {
    Json assertions = Json::array();
    for (const RunTestResult& t : content.tests) {
      if (t.layer + "." + t.table != name) continue;
      const TableTest* test = FindTest(spec_, t.table, t.result.test);
      Json a{{"assertion", test != nullptr ? test->kind : t.result.test},
             {"success", t.result.status == "pass"},
             {"severity", t.result.severity},
             {"name", t.result.test},
             {"expected", "0"},
             {"actual", std::to_string(t.result.failing_rows)},
             {"params", Json{{"status", t.result.status}}}};
      if (test != nullptr && test->columns.size() == 1) a["column"] = test->columns.front();
      if (test != nullptr && !test->sql.empty()) {
        a["content"] = test->sql;
        a["contentType"] = "sql";
      }
      if (!t.batch_ids.empty()) a["params"]["batches"] = t.batch_ids;
      assertions.push_back(std::move(a));
    }
    if (!assertions.empty()) {
      facets["dataQualityAssertions"] = Facet(kAssertionsFacet);
      facets["dataQualityAssertions"]["assertions"] = std::move(assertions);
    }
  }
  Json dataset{{"namespace", namespace_}, {"name", name}, {"facets", std::move(facets)}};
  if (complete && !output) {
    if (auto it = content.rows_read.find(name); it != content.rows_read.end()) {
      Json metrics = Facet(kMetricsFacet);
      metrics["rowCount"] = it->second;
      metrics["columnMetrics"] = Json::object();
      dataset["inputFacets"] = Json{{"dataQualityMetrics", std::move(metrics)}};
    }
  }
  if (complete && output) {
    if (auto it = content.rows_written.find(name); it != content.rows_written.end()) {
      Json stats = Facet(kStatisticsFacet);
      stats["rowCount"] = it->second;
      dataset["outputFacets"] = Json{{"outputStatistics", std::move(stats)}};
    }
  }
  return dataset;
}

Json RunEventBuilder::Event(RunEventType type, const std::string& job, const std::string& run_id,
                            int64_t event_us, const RunEventContent& content) const {
  const bool complete = type != RunEventType::kStart;
  Json run_facets = Json::object();
  if (!content.batches.empty()) {
    Json batches = Json::array();
    for (const LineageBatch& b : content.batches) {
      Json j{{"source", b.source},      {"batchId", b.batch_id},       {"correlationId", b.correlation_id},
             {"rowsRead", b.rows_read}, {"rowsStaged", b.rows_staged}, {"rowsDeadLettered", b.rows_dead}};
      if (!b.request_ids.empty()) j["requestCorrelationIds"] = b.request_ids;
      batches.push_back(std::move(j));
    }
    run_facets["sluice_batches"] = Facet(kBatchesFacet);
    run_facets["sluice_batches"]["batches"] = std::move(batches);
  }
  if (type == RunEventType::kFail) {
    run_facets["errorMessage"] = Facet(kErrorFacet);
    run_facets["errorMessage"]["message"] = content.error.empty() ? "failed" : content.error;
    run_facets["errorMessage"]["programmingLanguage"] = "C++";
  }
  Json inputs = Json::array(), outputs = Json::array();
  for (const auto& name : content.inputs) inputs.push_back(Dataset(name, false, complete, content));
  for (const auto& name : content.outputs) outputs.push_back(Dataset(name, true, complete, content));
  return Json{{"eventType", RunEventTypeName(type)},
              {"eventTime", FormatTimestampMicros(event_us)},
              {"producer", kLineageProducer},
              {"schemaURL", kEventSchema},
              {"run", Json{{"runId", run_id}, {"facets", std::move(run_facets)}}},
              {"job", Json{{"namespace", namespace_}, {"name", job}}},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
}

}  // namespace sluice
