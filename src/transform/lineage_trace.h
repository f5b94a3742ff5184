// Impact analysis over a project's column lineage (column_lineage.h): what a column feeds
// (downstream) or where it comes from (upstream), and how, for `sluice lineage`.
//
// A trace walks the lineage edges breadth first from the target column (or from every column of
// the target dataset), so each column reached is reported once, with its shortest path.
// Downstream, a column reached only through column edges is in `columns`; a dataset-level edge
// (a join key, filter, group or sort column; a curated table's key and version) reaches the
// whole dataset, reported in `rows`, and so does everything read from a dataset in `rows`.
// Upstream, `columns` holds the inputs of the target's values and `rows` the columns that shaped
// which rows there are (each dataset's dataset-level edges, and their own upstream).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "transform/column_lineage.h"

namespace sluice {

enum class LineageDirection { kUpstream, kDownstream };

// One step of a path: the node reached and the edge between it and the step before.
struct LineageHop {
  std::string dataset;
  std::string column;  // "" when the step reaches a whole dataset (downstream `rows`)
  duck::Transformation how = duck::Transformation::kIdentity;
  bool masking = false;
};

struct LineageReach {
  std::string dataset;
  std::string column;  // "" for a whole dataset
  DatasetKind kind = DatasetKind::kSource;
  std::vector<LineageHop> path;  // from the target (excluded) to this node (its last hop)
};

struct LineageTrace {
  std::string dataset;  // the target
  std::string column;   // "" when the target is a whole dataset
  DatasetKind kind = DatasetKind::kSource;
  LineageDirection direction = LineageDirection::kDownstream;
  std::vector<LineageReach> columns;  // in dataset order (sources first), then column order
  std::vector<LineageReach> rows;
};

// Traces `target` ("curated.orders", "curated.orders.amount", "published.marts.m.day", ...).
// Without a direction: downstream for sources, staging and curated tables, upstream otherwise.
// InvalidArgument naming the target when it is no dataset or column of `lineage`.
Result<LineageTrace> TraceLineage(const ProjectLineage& lineage, const std::string& target,
                                  std::optional<LineageDirection> direction);

}  // namespace sluice
