#include "transform/column_lineage.h"

#include <nlohmann/json.hpp>

#include "duck/duck.h"

namespace sluice {

namespace {

using duck::LineageEdge;
using duck::Transformation;

// The columns sluice adds to every staged row (storage/staging.h) and curated row (curate.cc).
const std::vector<std::string> kStagingMeta = {"_batch_id", "_ingested_at", "_correlation_id",
                                               "_source_line"};
const std::vector<std::string> kCuratedMeta = {"_batch_id", "_batch_seq", "_source_line", "_ingested_at",
                                               "_correlation_id"};

LineageEdge Edge(const std::string& table, const std::string& column, Transformation how) {
  return LineageEdge{table, column, how, false};
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A copy of `table` (a curated table or a mart) as published: its columns, and for a curated
// table the `day` and `tenant` keys storage/publish.cc adds from its source's partition_by.
LineageDataset Published(const ProjectSpec& spec, const LineageDataset& table, const TableSpec& t,
                         const std::string& name, DatasetKind kind) {
  LineageDataset out{name, kind, table.columns, {}, {}};
  for (const std::string& c : table.columns) out.inputs[c] = {Edge(table.name, c, Transformation::kIdentity)};
  if (t.kind != TableKind::kCurated) return out;
  const SourceSpec* source = spec.FindSource(t.from);
  if (source == nullptr) return out;
  auto add = [&](const std::string& key, const std::string& from, Transformation how) {
    if (from.empty() || Has(out.columns, key)) return;
    out.columns.push_back(key);
    out.inputs[key] = {Edge(table.name, from, how)};
  };
  add("day", source->partition_by.day, Transformation::kTransformation);
  add("tenant", source->partition_by.tenant, Transformation::kIdentity);
  return out;
}

// The columns DuckDB names for `model` over the tables created so far; nullopt when it does
// not bind here (a model reading files: external access is off in this database).
std::optional<std::vector<std::string>> BoundNames(duck::Connection& conn, const TableSpec& mart) {
  Result<duck::Rows> rows = conn.Query("DESCRIBE SELECT * FROM (" + mart.sql + "\n)");
  if (!rows.ok()) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& row : rows->rows) names.push_back(row[0] ? *row[0] : std::string());
  (void)conn.Execute("CREATE VIEW marts." + duck::Ident(mart.name) + " AS " + mart.sql + "\n");
  return names;
}

Status CreateTable(duck::Connection& conn, const std::string& name, const std::vector<std::string>& columns,
                   const Contract* contract) {
  std::string defs;
  for (const std::string& c : columns) {
    const int i = contract ? contract->Find(c) : -1;
    const std::string type = i >= 0 ? contract->columns[static_cast<size_t>(i)].type.DuckType()
                             : c == "_batch_seq" || c == "_source_line" ? "BIGINT"
                             : c == "_ingested_at"                      ? "TIMESTAMP"
                                                                        : "VARCHAR";
    defs += (defs.empty() ? "" : ", ") + duck::Ident(c) + " " + type;
  }
  const size_t dot = name.find('.');
  return conn.Execute("CREATE TABLE " + name.substr(0, dot) + "." + duck::Ident(name.substr(dot + 1)) + " (" +
                      defs + ")");
}

}  // namespace

const char* DatasetKindName(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::kSource:
      return "source";
    case DatasetKind::kStaging:
      return "staging";
    case DatasetKind::kCurated:
      return "curated";
    case DatasetKind::kMart:
      return "mart";
    case DatasetKind::kParquet:
      return "parquet";
    case DatasetKind::kPostgres:
      return "postgres";
    case DatasetKind::kConsumer:
      return "consumer";
  }
  return "unknown";
}

const LineageDataset* ProjectLineage::Find(const std::string& name) const {
  for (const auto& d : datasets)
    if (d.name == name) return &d;
  return nullptr;
}

std::string LineageNamespace(const ProjectSpec& spec) { return "sluice://" + spec.name; }

Result<ProjectLineage> ComputeProjectLineage(const ProjectSpec& spec) {
  ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> conn, duck::Connection::Open());
  RETURN_IF_ERROR(
      conn->Execute("SET enable_external_access = false; CREATE SCHEMA staging; "
                    "CREATE SCHEMA curated; CREATE SCHEMA marts"));
  ProjectLineage out;
  duck::TableColumns tables;
  for (const SourceSpec& s : spec.sources) {
    LineageDataset source{"sources." + s.name, DatasetKind::kSource, {}, {}, {}};
    LineageDataset staging{"staging." + s.name, DatasetKind::kStaging, {}, {}, {}};
    for (const ColumnSpec& c : s.contract.columns) {
      source.columns.push_back(c.name);
      staging.columns.push_back(c.name);
      staging.inputs[c.name] = {Edge(source.name, c.name, Transformation::kIdentity)};
    }
    for (const std::string& m : kStagingMeta) staging.columns.push_back(m);
    RETURN_IF_ERROR(CreateTable(*conn, staging.name, staging.columns, &s.contract));
    tables[staging.name] = staging.columns;
    out.datasets.push_back(std::move(source));
    out.datasets.push_back(std::move(staging));
  }
  for (const TableSpec& t : spec.tables) {
    const std::string name = (t.kind == TableKind::kCurated ? "curated." : "marts.") + t.name;
    LineageDataset d{
        name, t.kind == TableKind::kCurated ? DatasetKind::kCurated : DatasetKind::kMart, {}, {}, {}};
    if (t.kind == TableKind::kCurated) {
      const SourceSpec* source = spec.FindSource(t.from);
      if (source == nullptr) return Status::InvalidArgument(name + ": unknown source " + t.from);
      const std::string staging = "staging." + source->name;
      for (const ColumnSpec& c : HeldColumns(t, source->contract).columns) {
        d.columns.push_back(c.name);
        d.inputs[c.name] = {Edge(staging, c.name, Transformation::kIdentity)};
      }
      for (const std::string& m : kCuratedMeta) {
        d.columns.push_back(m);
        if (Has(kStagingMeta, m)) d.inputs[m] = {Edge(staging, m, Transformation::kIdentity)};
      }
      for (const std::string& k : t.key) d.dataset.insert(Edge(staging, k, Transformation::kGroupBy));
      if (!t.version.empty()) d.dataset.insert(Edge(staging, t.version, Transformation::kSort));
      RETURN_IF_ERROR(CreateTable(*conn, name, d.columns, &source->contract));
    } else {
      Result<duck::QueryLineage> q = duck::LineageOfQuery(*conn, t.sql, tables);
      if (!q.ok()) return Status::InvalidArgument(name + " (" + t.sql_path + "): " + q.status().message());
      std::optional<std::vector<std::string>> bound = BoundNames(*conn, t);
      if (bound && bound->size() != q->columns.size()) {
        return Status::InvalidArgument(name + " (" + t.sql_path + "): its lineage resolves " +
                                       std::to_string(q->columns.size()) + " columns where DuckDB binds " +
                                       std::to_string(bound->size()));
      }
      for (size_t i = 0; i < q->columns.size(); ++i) {
        const std::string& col = bound ? (*bound)[i] : q->columns[i].name;
        if (!d.inputs.count(col)) d.columns.push_back(col);
        d.inputs[col].insert(q->columns[i].inputs.begin(), q->columns[i].inputs.end());
      }
      d.dataset = q->dataset;
    }
    tables[name] = d.columns;
    out.datasets.push_back(std::move(d));
  }
  // Copies of the tables: published Parquet, PostgreSQL, change feeds.
  for (const TableSpec& t : spec.tables) {
    const std::string layer = t.kind == TableKind::kCurated ? "curated" : "marts";
    const LineageDataset table = *out.Find(layer + "." + t.name);
    out.datasets.push_back(Published(spec, table, t, "published." + table.name, DatasetKind::kParquet));
  }
  if (spec.serve.postgres) {
    for (const std::string& published : spec.serve.postgres->publish) {
      const LineageDataset* table = out.Find(published);
      const size_t dot = published.find('.');
      const TableSpec* t = spec.FindTable(published.substr(dot + 1));
      if (table == nullptr || t == nullptr) continue;
      out.datasets.push_back(Published(
          spec, *table, *t, "postgres." + spec.serve.postgres->schema + "." + published.substr(dot + 1),
          DatasetKind::kPostgres));
    }
  }
  for (const ConsumerSpec& c : spec.consumers) {
    const LineageDataset* table = out.Find("curated." + c.table);
    if (table == nullptr) continue;
    LineageDataset feed{"consumers." + c.name, DatasetKind::kConsumer, table->columns, {}, {}};
    for (const std::string& col : table->columns)
      feed.inputs[col] = {Edge(table->name, col, Transformation::kIdentity)};
    out.datasets.push_back(std::move(feed));
  }
  return out;
}

std::string ColumnLineageFacetJson(const ProjectSpec& spec, const LineageDataset& dataset) {
  using Json = nlohmann::ordered_json;
  const std::string ns = LineageNamespace(spec);
  // Edges grouped by input column, in the order of the edge set (table, column, kind).
  auto input_fields = [&](const std::set<LineageEdge>& edges) {
    Json fields = Json::array();
    for (const LineageEdge& e : edges) {
      if (fields.empty() || fields.back()["name"] != e.table || fields.back()["field"] != e.column) {
        fields.push_back(Json{
            {"namespace", ns}, {"name", e.table}, {"field", e.column}, {"transformations", Json::array()}});
      }
      fields.back()["transformations"].push_back(Json{{"type", duck::TransformationType(e.how)},
                                                      {"subtype", duck::TransformationSubtype(e.how)},
                                                      {"masking", e.masking}});
    }
    return fields;
  };
  Json facet{{"_producer", "urn:sluice"},
             {"_schemaURL",
              "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
              "#/$defs/ColumnLineageDatasetFacet"},
             {"fields", Json::object()}};
  for (const std::string& c : dataset.columns) {
    auto it = dataset.inputs.find(c);
    facet["fields"][c] = Json{
        {"inputFields", input_fields(it == dataset.inputs.end() ? std::set<LineageEdge>{} : it->second)}};
  }
  facet["dataset"] = input_fields(dataset.dataset);
  return facet.dump();
}

}  // namespace sluice
