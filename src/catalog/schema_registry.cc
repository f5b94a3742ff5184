#include "catalog/schema_registry.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/hash.h"

namespace sluice {

using duck::Literal;
using Json = nlohmann::json;

namespace {

Json ColumnJson(const ColumnSpec& c, bool sort_enum) {
  Json j = {{"name", c.name}, {"type", c.type.Name()}, {"required", c.required}};
  if (!c.enum_values.empty()) {
    std::vector<std::string> values = c.enum_values;
    if (sort_enum) std::sort(values.begin(), values.end());
    j["enum"] = values;
  }
  if (c.min) j["min"] = *c.min;
  if (c.max) j["max"] = *c.max;
  if (c.pattern) j["pattern"] = *c.pattern;
  if (c.max_length) j["max_length"] = *c.max_length;
  if (c.default_value) j["default"] = *c.default_value;
  if (c.allow_empty) j["allow_empty"] = true;  // only when set: older fingerprints stay valid
  return j;
}

Result<SchemaVersion> ToVersion(const duck::Rows& rows, size_t r) {
  SchemaVersion v;
  v.source = rows.At(r, 0);
  v.version = rows.IntAt(r, 1);
  v.fingerprint = rows.At(r, 2);
  Result<Contract> contract = ContractFromJson(v.source, rows.At(r, 5), rows.At(r, 3), rows.At(r, 4));
  if (!contract.ok()) return contract.status().WithContext("version " + rows.At(r, 1));
  v.contract = std::move(contract).value();
  v.registered_at = rows.At(r, 6);
  return v;
}

constexpr const char* kSelect =
    "SELECT source, version, fingerprint, columns, checks, compatibility, "
    "CAST(registered_at AS VARCHAR) FROM meta.schemas WHERE source = ";

}  // namespace

std::string SchemaFingerprint(const Contract& contract) {
  std::vector<ColumnSpec> columns = contract.columns;
  std::sort(columns.begin(), columns.end(),
            [](const ColumnSpec& a, const ColumnSpec& b) { return a.name < b.name; });
  Json cols = Json::array();
  for (const auto& c : columns) cols.push_back(ColumnJson(c, /*sort_enum=*/true));
  std::vector<std::string> checks;
  for (const auto& k : contract.checks) checks.push_back(k.expr);
  std::sort(checks.begin(), checks.end());
  // nlohmann's objects keep keys sorted, so dump() is canonical.
  return ContentHash(Json{{"columns", cols}, {"checks", checks}}.dump());
}

std::string ColumnsToJson(const Contract& contract) {
  Json cols = Json::array();
  for (const auto& c : contract.columns) cols.push_back(ColumnJson(c, /*sort_enum=*/false));
  return cols.dump();
}

std::string ChecksToJson(const Contract& contract) {
  Json checks = Json::array();
  for (const auto& k : contract.checks) checks.push_back({{"name", k.name}, {"expr", k.expr}});
  return checks.dump();
}

Result<Contract> ContractFromJson(const std::string& name, const std::string& compatibility,
                                  const std::string& columns_json, const std::string& checks_json) {
  Contract c;
  c.name = name;
  c.compatibility = compatibility;
  try {
    for (const auto& j : Json::parse(columns_json)) {
      ColumnSpec col;
      col.name = j.at("name").get<std::string>();
      ASSIGN_OR_RETURN(col.type, ParseColumnType(j.at("type").get<std::string>()));
      col.required = j.value("required", false);
      if (j.contains("enum")) col.enum_values = j["enum"].get<std::vector<std::string>>();
      if (j.contains("min")) col.min = j["min"].get<double>();
      if (j.contains("max")) col.max = j["max"].get<double>();
      if (j.contains("pattern")) col.pattern = j["pattern"].get<std::string>();
      if (j.contains("max_length")) col.max_length = j["max_length"].get<int64_t>();
      if (j.contains("default")) col.default_value = j["default"].get<std::string>();
      col.allow_empty = j.value("allow_empty", false);
      c.columns.push_back(std::move(col));
    }
    if (!checks_json.empty()) {
      for (const auto& j : Json::parse(checks_json)) {
        c.checks.push_back(
            ContractCheck{j.at("name").get<std::string>(), j.at("expr").get<std::string>(), 0});
      }
    }
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("meta.schemas: bad contract JSON for ") + name + ": " + e.what());
  }
  return c;
}

Result<std::optional<SchemaVersion>> LatestSchema(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query(std::string(kSelect) + Literal(source) +
                                                         " ORDER BY version DESC LIMIT 1"));
  if (rows.rows.empty()) return std::optional<SchemaVersion>();
  ASSIGN_OR_RETURN(SchemaVersion v, ToVersion(rows, 0));
  return std::optional<SchemaVersion>(std::move(v));
}

Result<int64_t> LatestSchemaVersion(Catalog& catalog, const std::string& source) {
  return catalog.conn().QueryInt("SELECT coalesce(max(version), 0) FROM meta.schemas WHERE source = " +
                                 Literal(source));
}

Result<std::vector<SchemaVersion>> SchemaHistory(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query(std::string(kSelect) + Literal(source) + " ORDER BY version"));
  std::vector<SchemaVersion> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    ASSIGN_OR_RETURN(SchemaVersion v, ToVersion(rows, r));
    out.push_back(std::move(v));
  }
  return out;
}

Result<SchemaVersion> RegisterSchema(Catalog& catalog, const std::string& source, const Contract& contract) {
  auto& conn = catalog.conn();
  ASSIGN_OR_RETURN(int64_t latest, conn.QueryInt("SELECT coalesce(max(version), 0) FROM meta.schemas "
                                                 "WHERE source = " +
                                                 Literal(source)));
  const std::string fingerprint = SchemaFingerprint(contract);
  RETURN_IF_ERROR(conn.Execute("INSERT INTO meta.schemas VALUES (" + Literal(source) + ", " +
                               std::to_string(latest + 1) + ", " + Literal(fingerprint) + ", " +
                               Literal(ColumnsToJson(contract)) + ", " + Literal(ChecksToJson(contract)) +
                               ", " + Literal(contract.compatibility) + ", now()::TIMESTAMP)"));
  RETURN_IF_ERROR(conn.Execute("UPDATE meta.schema_acceptances SET version = " + std::to_string(latest + 1) +
                               " WHERE version IS NULL AND source = " + Literal(source) +
                               " AND fingerprint = " + Literal(fingerprint)));
  ASSIGN_OR_RETURN(auto v, LatestSchema(catalog, source));
  if (!v) return Status::Corruption("meta.schemas: the version just registered is missing");
  return *v;
}

namespace {

// Whether meta.<table> (and `column` of it, when given) exists: a read-only open of a lake
// written by an older sluice has not been migrated.
Result<bool> MetaHas(Catalog& catalog, const std::string& table, const std::string& column) {
  ASSIGN_OR_RETURN(int64_t n,
                   catalog.conn().QueryInt("SELECT count(*) FROM duckdb_columns() WHERE database_name = "
                                           "'lake' AND schema_name = 'meta' AND table_name = " +
                                           Literal(table) +
                                           (column.empty() ? "" : " AND column_name = " + Literal(column))));
  return n > 0;
}

}  // namespace

Result<int64_t> NewestVersionWithData(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(bool recorded, MetaHas(catalog, "batches", "schema_version"));
  if (!recorded) return INT64_MAX;
  ASSIGN_OR_RETURN(duck::Rows rows, catalog.conn().Query("SELECT count(*) FILTER (schema_version IS NULL), "
                                                         "coalesce(max(schema_version), 0) FROM meta.batches "
                                                         "WHERE source = " +
                                                         Literal(source)));
  if (rows.IntAt(0, 0) > 0) return INT64_MAX;
  return rows.IntAt(0, 1);
}

Result<RetainedVersions> RetainedStagingVersions(Catalog& catalog, const std::string& source) {
  ASSIGN_OR_RETURN(bool recorded, MetaHas(catalog, "batches", "schema_version"));
  ASSIGN_OR_RETURN(
      duck::Rows rows,
      catalog.conn().Query(
          std::string("SELECT ") + (recorded ? "coalesce(b.schema_version, 0)" : "0") +
          ", count(*) FROM meta.batches b WHERE b.status <> 'dropped' AND b.source = " + Literal(source) +
          " AND EXISTS (SELECT 1 FROM meta.files f WHERE f.source = b.source AND "
          "f.batch_id = b.batch_id) GROUP BY ALL"));
  RetainedVersions out;
  for (size_t r = 0; r < rows.rows.size(); ++r) out[rows.IntAt(r, 0)] += rows.IntAt(r, 1);
  return out;
}

Status RecordAcceptance(Catalog& catalog, const std::string& source, const std::string& fingerprint,
                        const std::string& column, const std::string& rule) {
  return catalog.conn().Execute("INSERT INTO meta.schema_acceptances VALUES (" + Literal(source) + ", " +
                                Literal(column) + ", " + Literal(rule) + ", " + Literal(fingerprint) +
                                ", NULL, now()::TIMESTAMP)");
}

Result<std::vector<Acceptance>> FindAcceptances(Catalog& catalog, const std::string& source,
                                                const std::string& fingerprint) {
  std::vector<Acceptance> out;
  ASSIGN_OR_RETURN(bool exists, MetaHas(catalog, "schema_acceptances", ""));
  if (!exists) return out;
  ASSIGN_OR_RETURN(duck::Rows rows,
                   catalog.conn().Query("SELECT column_name, rule, coalesce(version, 0) FROM "
                                        "meta.schema_acceptances WHERE source = " +
                                        Literal(source) + " AND (version IS NOT NULL OR fingerprint = " +
                                        Literal(fingerprint) + ") ORDER BY accepted_at"));
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    out.push_back(Acceptance{rows.At(r, 0), rows.At(r, 1), rows.IntAt(r, 2)});
  }
  return out;
}

std::vector<ContractVersion> ToContractVersions(const std::vector<SchemaVersion>& history) {
  std::vector<ContractVersion> out;
  out.reserve(history.size());
  for (const auto& v : history) out.push_back(ContractVersion{v.version, v.contract});
  return out;
}

}  // namespace sluice
