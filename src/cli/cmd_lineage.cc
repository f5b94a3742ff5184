// `sluice lineage <table>[.<column>] [--upstream|--downstream] [--json]`: impact analysis over
// the column lineage of the project's spec (transform/column_lineage.h, lineage_trace.h); no
// lake is opened. The output is documented in docs/LINEAGE.md.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "spec/spec.h"
#include "transform/column_lineage.h"
#include "transform/lineage_trace.h"

namespace sluice::cli {

namespace {

using Json = nlohmann::ordered_json;

std::string NodeName(const std::string& dataset, const std::string& column) {
  return column.empty() ? dataset : dataset + "." + column;
}

// "AGGREGATION > IDENTITY": the transformations along a path, from the target outwards.
std::string How(const std::vector<LineageHop>& path, LineageDirection direction) {
  std::string out;
  for (const LineageHop& hop : path) {
    if (!out.empty()) out += direction == LineageDirection::kDownstream ? " > " : " < ";
    out += duck::TransformationSubtype(hop.how);
    if (hop.masking) out += " (masked)";
  }
  return out;
}

void PrintSection(const char* title, const std::vector<LineageReach>& reach, LineageDirection direction) {
  std::cout << title << "\n";
  if (reach.empty()) std::cout << "  (none)\n";
  size_t width = 0;
  for (const auto& r : reach) width = std::max(width, NodeName(r.dataset, r.column).size());
  for (const auto& r : reach) {
    std::string kind = DatasetKindName(r.kind);
    std::string name = NodeName(r.dataset, r.column);
    std::string via;
    for (size_t i = 0; i + 1 < r.path.size(); ++i) {
      via += (via.empty() ? "  via " : ", ") + NodeName(r.path[i].dataset, r.path[i].column);
    }
    std::cout << "  " << kind << std::string(10 - kind.size(), ' ') << name
              << std::string(width + 2 - name.size(), ' ') << How(r.path, direction) << via << "\n";
  }
}

Json ReachJson(const LineageReach& r) {
  Json path = Json::array();
  for (const LineageHop& hop : r.path) {
    path.push_back(Json{{"dataset", hop.dataset},
                        {"column", hop.column.empty() ? Json() : Json(hop.column)},
                        {"type", duck::TransformationType(hop.how)},
                        {"subtype", duck::TransformationSubtype(hop.how)},
                        {"masking", hop.masking}});
  }
  return Json{{"dataset", r.dataset},
              {"column", r.column.empty() ? Json() : Json(r.column)},
              {"kind", DatasetKindName(r.kind)},
              {"path", std::move(path)}};
}

}  // namespace

int Lineage(const LineageArgs& args) {
  auto spec = LoadProject(args.project);
  if (!spec.ok()) return Fail(spec.status().message());
  auto lineage = ComputeProjectLineage(*spec);
  if (!lineage.ok()) return Fail(lineage.status().message());
  std::optional<LineageDirection> direction;
  if (args.upstream) direction = LineageDirection::kUpstream;
  if (args.downstream) direction = LineageDirection::kDownstream;
  auto trace = TraceLineage(*lineage, args.target, direction);
  if (!trace.ok()) return Fail(trace.status().message());
  const bool down = trace->direction == LineageDirection::kDownstream;
  if (args.json) {
    Json doc{{"target", NodeName(trace->dataset, trace->column)},
             {"dataset", trace->dataset},
             {"column", trace->column.empty() ? Json() : Json(trace->column)},
             {"kind", DatasetKindName(trace->kind)},
             {"direction", down ? "downstream" : "upstream"},
             {"columns", Json::array()},
             {"rows", Json::array()}};
    for (const auto& r : trace->columns) doc["columns"].push_back(ReachJson(r));
    for (const auto& r : trace->rows) doc["rows"].push_back(ReachJson(r));
    doc["namespace"] = LineageNamespace(*spec);
    doc["columnLineage"] = Json::parse(ColumnLineageFacetJson(*spec, *lineage->Find(trace->dataset)));
    std::cout << doc.dump(2) << std::endl;
    return 0;
  }
  std::cout << (down ? "downstream of " : "upstream of ") << NodeName(trace->dataset, trace->column) << " ("
            << DatasetKindName(trace->kind) << ")\n";
  if (down) {
    PrintSection("columns computed from it:", trace->columns, trace->direction);
    PrintSection("datasets whose rows depend on it (join, filter, group, sort):", trace->rows,
                 trace->direction);
  } else {
    PrintSection("computed from:", trace->columns, trace->direction);
    PrintSection("rows shaped by (join, filter, group, sort):", trace->rows, trace->direction);
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace sluice::cli
