#include "transform/lineage_trace.h"

#include <algorithm>
#include <deque>
#include <map>

namespace sluice {

namespace {

using duck::LineageEdge;

// (dataset, column); column "" is the whole dataset.
using Node = std::pair<std::string, std::string>;

struct Step {
  Node node;
  bool rows = false;  // reached through a dataset-level edge (or from a dataset in `rows`)
  std::vector<LineageHop> path;
};

// An edge of the graph seen from one end: the node at the other end, and how.
struct Neighbour {
  Node node;
  const LineageEdge* edge;
  bool dataset_level;
};

class Tracer {
 public:
  Tracer(const ProjectLineage& lineage, LineageDirection direction)
      : lineage_(lineage), direction_(direction) {
    for (size_t i = 0; i < lineage.datasets.size(); ++i) order_[lineage.datasets[i].name] = i;
    if (direction != LineageDirection::kDownstream) return;
    for (const LineageDataset& d : lineage.datasets) {
      for (const auto& [column, edges] : d.inputs) {
        for (const LineageEdge& e : edges)
          readers_[{e.table, e.column}].push_back({{d.name, column}, &e, false});
      }
      for (const LineageEdge& e : d.dataset)
        readers_[{e.table, e.column}].push_back({{d.name, ""}, &e, true});
    }
  }

  void Run(const std::vector<Node>& starts, LineageTrace& out) {
    std::deque<Step> queue;
    for (const Node& n : starts) {
      seen_columns_.insert(n);
      queue.push_back(Step{n, false, {}});
    }
    while (!queue.empty()) {
      Step step = std::move(queue.front());
      queue.pop_front();
      for (const Neighbour& next : Neighbours(step.node)) {
        const bool rows = step.rows || next.dataset_level;
        Node node = next.node;
        if (direction_ == LineageDirection::kDownstream && rows) node.second = "";  // a whole dataset
        if (!Visit(node, rows)) continue;
        std::vector<LineageHop> path = step.path;
        path.push_back(LineageHop{node.first, node.second, next.edge->how, next.edge->masking});
        Record(node, rows, path, out);
        queue.push_back(Step{node, rows, std::move(path)});
      }
    }
    auto by_order = [&](const LineageReach& a, const LineageReach& b) {
      return std::make_tuple(order_[a.dataset], ColumnIndex(a), a.path.size()) <
             std::make_tuple(order_[b.dataset], ColumnIndex(b), b.path.size());
    };
    std::stable_sort(out.columns.begin(), out.columns.end(), by_order);
    std::stable_sort(out.rows.begin(), out.rows.end(), by_order);
  }

 private:
  std::vector<Neighbour> Neighbours(const Node& node) {
    std::vector<Neighbour> out;
    if (direction_ == LineageDirection::kDownstream) {
      if (!node.second.empty()) {
        auto it = readers_.find(node);
        if (it != readers_.end()) out = it->second;
        return out;
      }
      // A whole dataset: everything that reads any of its columns.
      const LineageDataset* d = lineage_.Find(node.first);
      if (d == nullptr) return out;
      for (const std::string& c : d->columns) {
        auto it = readers_.find({node.first, c});
        if (it != readers_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
      }
      return out;
    }
    const LineageDataset* d = lineage_.Find(node.first);
    if (d == nullptr) return out;
    auto it = d->inputs.find(node.second);
    if (it != d->inputs.end()) {
      for (const LineageEdge& e : it->second) out.push_back({{e.table, e.column}, &e, false});
    }
    for (const LineageEdge& e : d->dataset) out.push_back({{e.table, e.column}, &e, true});
    return out;
  }

  // False when `node` was reached before (a column reached through column edges is not
  // reported again among the rows).
  bool Visit(const Node& node, bool rows) {
    if (seen_columns_.count(node)) return false;
    if (!rows) return seen_columns_.insert(node).second;
    return seen_rows_.insert(node).second;
  }

  void Record(const Node& node, bool rows, const std::vector<LineageHop>& path, LineageTrace& out) {
    const LineageDataset* d = lineage_.Find(node.first);
    LineageReach reach{node.first, node.second, d ? d->kind : DatasetKind::kSource, path};
    (rows ? out.rows : out.columns).push_back(std::move(reach));
  }

  size_t ColumnIndex(const LineageReach& r) const {
    const LineageDataset* d = lineage_.Find(r.dataset);
    if (d == nullptr || r.column.empty()) return 0;
    return static_cast<size_t>(std::find(d->columns.begin(), d->columns.end(), r.column) -
                               d->columns.begin());
  }

  const ProjectLineage& lineage_;
  LineageDirection direction_;
  std::map<std::string, size_t> order_;
  std::map<Node, std::vector<Neighbour>> readers_;  // downstream: who reads a column
  std::set<Node> seen_columns_, seen_rows_;
};

}  // namespace

Result<LineageTrace> TraceLineage(const ProjectLineage& lineage, const std::string& target,
                                  std::optional<LineageDirection> direction) {
  LineageTrace out;
  const LineageDataset* dataset = nullptr;
  for (const LineageDataset& d : lineage.datasets) {
    if (target == d.name) {
      dataset = &d;
      break;
    }
    if (target.size() > d.name.size() + 1 && target.compare(0, d.name.size(), d.name) == 0 &&
        target[d.name.size()] == '.') {
      const std::string column = target.substr(d.name.size() + 1);
      if (std::find(d.columns.begin(), d.columns.end(), column) == d.columns.end()) {
        std::string known;
        for (const auto& c : d.columns) known += (known.empty() ? "" : ", ") + c;
        return Status::InvalidArgument("lineage: " + d.name + " has no column '" + column +
                                       "' (columns: " + known + ")");
      }
      dataset = &d;
      out.column = column;
      break;
    }
  }
  if (dataset == nullptr) {
    std::string known;
    for (const auto& d : lineage.datasets) known += (known.empty() ? "" : ", ") + d.name;
    return Status::InvalidArgument("lineage: no dataset or column '" + target + "' (datasets: " + known +
                                   ")");
  }
  out.dataset = dataset->name;
  out.kind = dataset->kind;
  const bool feeds = dataset->kind == DatasetKind::kSource || dataset->kind == DatasetKind::kStaging ||
                     dataset->kind == DatasetKind::kCurated;
  out.direction = direction.value_or(feeds ? LineageDirection::kDownstream : LineageDirection::kUpstream);
  std::vector<Node> starts;
  if (!out.column.empty()) {
    starts.push_back({dataset->name, out.column});
  } else {
    for (const std::string& c : dataset->columns) starts.push_back({dataset->name, c});
  }
  Tracer(lineage, out.direction).Run(starts, out);
  return out;
}

}  // namespace sluice
