// Column-level lineage of a whole project, from sluice.yaml alone (no lake is opened).
//
// Every dataset sluice writes or reads is a node with its columns, and each column lists its
// input columns with their OpenLineage transformation (duck/sql_lineage.h); edges that shape
// every row of a dataset are its `dataset` edges. The datasets, by kind:
//   source     sources.<s>                 the source's contract columns
//   staging    staging.<s>                 contract columns (IDENTITY) + _batch_id, _ingested_at,
//                                          _correlation_id, _source_line
//   curated    curated.<t>                 the held contract columns from staging.<s>
//                                          (IDENTITY), the meta columns curate adds; rows
//                                          merged by key (GROUP_BY) keeping the highest version
//                                          (SORT)
//   mart       marts.<m>                   the model's output, from DuckDB's parse tree,
//                                          computed in dependency order
//   parquet    published.<layer>.<t>       the table's columns (IDENTITY), and for a curated
//                                          table `day` (TRANSFORMATION of partition_by.day) and
//                                          `tenant` (IDENTITY of partition_by.tenant)
//   postgres   postgres.<schema>.<t>       as parquet, for each table of serve.postgres.publish
//   consumer   consumers.<name>            the change feed of its curated table (IDENTITY)
// Plain data once computed; safe to share read-only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "duck/sql_lineage.h"
#include "spec/spec.h"

namespace sluice {

enum class DatasetKind { kSource, kStaging, kCurated, kMart, kParquet, kPostgres, kConsumer };
const char* DatasetKindName(DatasetKind kind);  // "source", ..., "consumer"

struct LineageDataset {
  std::string name;  // "curated.orders", "published.marts.daily_revenue", ...
  DatasetKind kind = DatasetKind::kSource;
  std::vector<std::string> columns;                           // in order
  std::map<std::string, std::set<duck::LineageEdge>> inputs;  // column -> its inputs
  std::set<duck::LineageEdge> dataset;                        // edges that shape every row
};

struct ProjectLineage {
  std::vector<LineageDataset> datasets;  // in the order above; each after its inputs

  const LineageDataset* Find(const std::string& name) const;
};

// The lineage of every dataset of `spec`. InvalidArgument naming the mart and its model file
// when a model's lineage does not resolve ("marts.m (models/m.sql): unknown column 'x'").
// Opens an in-memory DuckDB to parse (and bind, for the names of unaliased output columns).
Result<ProjectLineage> ComputeProjectLineage(const ProjectSpec& spec);

// The OpenLineage namespace of the project's datasets: "sluice://<project name>".
std::string LineageNamespace(const ProjectSpec& spec);

// The `columnLineage` facet (ColumnLineageDatasetFacet 1-2-0) of `dataset`, as JSON text:
// {"_producer", "_schemaURL", "fields": {column: {"inputFields": [{namespace, name, field,
// transformations: [{type, subtype, masking}]}]}}, "dataset": [...]}.
std::string ColumnLineageFacetJson(const ProjectSpec& spec, const LineageDataset& dataset);

}  // namespace sluice
