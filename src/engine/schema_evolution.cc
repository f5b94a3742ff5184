#include "engine/schema_evolution.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "catalog/tables.h"
#include "common/failpoint.h"
#include "spec/compatibility.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

namespace {

std::string Relative(const ProjectSpec& spec, const std::string& path) {
  std::string rel = std::filesystem::path(path).lexically_relative(spec.root).string();
  return rel.empty() || rel.rfind("..", 0) == 0 ? path : rel;
}

// Adds missing contract columns to curated.<table> and widens changed types. Returns whether
// the table changed. Columns the contract no longer has stay (their new rows read NULL).
Result<bool> EvolveCurated(Catalog& catalog, const std::string& table, const Contract& contract) {
  auto& conn = catalog.conn();
  ASSIGN_OR_RETURN(duck::Rows cols,
                   conn.Query("SELECT column_name, data_type FROM duckdb_columns() WHERE "
                              "database_name = 'lake' AND schema_name = 'curated' AND table_name = " +
                              Literal(table)));
  if (cols.rows.empty()) return false;  // not created yet: curate creates it with every column
  std::map<std::string, std::string> have;
  for (size_t r = 0; r < cols.rows.size(); ++r) have[cols.At(r, 0)] = cols.At(r, 1);
  const std::string target = "curated." + Ident(table);
  bool changed = false;
  for (const auto& c : contract.columns) {
    auto it = have.find(c.name);
    if (it == have.end()) {
      // DuckDB fills existing rows with the default without rewriting them.
      std::string sql = "ALTER TABLE " + target + " ADD COLUMN " + Ident(c.name) + " " + c.type.DuckType();
      if (c.default_value) {
        sql += " DEFAULT CAST(" + Literal(*c.default_value) + " AS " + c.type.DuckType() + ")";
      }
      RETURN_IF_ERROR(conn.Execute(sql).WithContext("evolving " + target));
      changed = true;
    } else if (it->second != c.type.DuckType()) {
      RETURN_IF_ERROR(conn.Execute("ALTER TABLE " + target + " ALTER COLUMN " + Ident(c.name) + " TYPE " +
                                   c.type.DuckType())
                          .WithContext("evolving " + target));
      changed = true;
    }
  }
  return changed;
}

// Marts whose SQL reads curated.<table>; they are rebuilt whole on the next run.
std::vector<std::string> MartsReading(const ProjectSpec& spec, const std::string& table) {
  std::vector<std::string> out;
  for (const auto& t : spec.tables) {
    if (t.kind != TableKind::kMart) continue;
    if (std::find(t.reads_curated.begin(), t.reads_curated.end(), table) != t.reads_curated.end()) {
      out.push_back(t.name);
    }
  }
  return out;
}

}  // namespace

Status ValidateDefaults(duck::Connection& conn, const Contract& contract) {
  for (const auto& c : contract.columns) {
    if (!c.default_value) continue;
    ASSIGN_OR_RETURN(int64_t bad, conn.QueryInt("SELECT (TRY_CAST(" + Literal(*c.default_value) + " AS " +
                                                c.type.DuckType() + ") IS NULL)::BIGINT"));
    if (bad != 0) {
      const std::string at =
          c.default_line > 0 ? ":" + std::to_string(c.default_line) + ":" + std::to_string(c.default_column)
                             : "";
      return Status::InvalidArgument(contract.path + at + ": columns." + c.name + ".default: '" +
                                     *c.default_value + "' is not a valid " + c.type.Name());
    }
  }
  return Status::OK();
}

Result<std::vector<Violation>> CheckContractChange(Catalog& catalog, const SourceSpec& source,
                                                   const std::vector<SchemaVersion>& all_history,
                                                   bool keep_accepted) {
  std::vector<Violation> out;
  // Versions no batch was ever validated under promise nothing (NewestVersionWithData): a
  // contract whose checks failed on its first batch can still be fixed.
  ASSIGN_OR_RETURN(int64_t with_data, NewestVersionWithData(catalog, source.name));
  std::vector<SchemaVersion> held;
  for (const auto& v : all_history) {
    if (v.version <= with_data) held.push_back(v);
  }
  const std::vector<SchemaVersion>& history = held;
  if (history.empty()) return out;
  const std::vector<ContractVersion> versions = ToContractVersions(history);
  ASSIGN_OR_RETURN(out, CheckAgainstHistory(versions, source.contract));
  for (auto& v : CheckLineage(history.back().contract, source.contract,
                              FindColumnUsers(catalog.spec(), source.name), history.back().version)) {
    out.push_back(std::move(v));
  }
  ASSIGN_OR_RETURN(RetainedVersions retained, RetainedStagingVersions(catalog, source.name));
  for (auto& v : CheckDefaultChanges(versions, source.contract, retained)) out.push_back(std::move(v));
  if (keep_accepted) return out;
  ASSIGN_OR_RETURN(auto accepted, FindAcceptances(catalog, source.name, SchemaFingerprint(source.contract)));
  return WithoutAccepted(std::move(out), accepted);
}

Result<std::vector<SchemaChange>> EvolveSchemas(Catalog& catalog) {
  const ProjectSpec& spec = catalog.spec();
  struct Pending {
    const SourceSpec* source;
    bool first;
  };
  std::vector<Pending> pending;
  std::string refusals;
  // Phase 1: check every source; nothing changes yet.
  for (const auto& source : spec.sources) {
    ASSIGN_OR_RETURN(auto history, SchemaHistory(catalog, source.name));
    if (!history.empty() && history.back().fingerprint == SchemaFingerprint(source.contract)) continue;
    RETURN_IF_ERROR(ValidateDefaults(catalog.conn(), source.contract));
    if (history.empty()) {
      pending.push_back({&source, true});
      continue;
    }
    ASSIGN_OR_RETURN(auto violations, CheckContractChange(catalog, source, history));
    if (violations.empty()) {
      pending.push_back({&source, false});
      continue;
    }
    if (!refusals.empty()) refusals += "; ";
    refusals += Relative(spec, source.contract_path) + ": incompatible change to the contract of source " +
                source.name + " (registered v" + std::to_string(history.back().version) + ", " +
                source.contract.compatibility + ")";
    for (const auto& v : violations) {
      refusals += "; " + v.Describe() + " (" + HowToProceed(v, source.name, history.back().version) + ")";
    }
  }
  if (!refusals.empty()) {
    return Status::InvalidArgument(refusals + "; nothing was changed (G7)");
  }
  std::vector<SchemaChange> changes;
  if (pending.empty()) return changes;

  // Phase 2: register and evolve, in one transaction.
  RETURN_IF_ERROR(catalog.Begin());
  auto body = [&]() -> Status {
    for (const auto& p : pending) {
      SchemaChange change;
      change.source = p.source->name;
      change.first = p.first;
      ASSIGN_OR_RETURN(SchemaVersion v, RegisterSchema(catalog, p.source->name, p.source->contract));
      change.version = v.version;
      if (!p.first) {
        for (const auto& t : spec.tables) {
          if (t.kind != TableKind::kCurated || t.from != p.source->name) continue;
          ASSIGN_OR_RETURN(bool changed, EvolveCurated(catalog, t.name, HeldColumns(t, p.source->contract)));
          if (!changed) continue;
          change.evolved_tables.push_back(t.name);
          // The published copy gets the new columns: a new version, every partition rewritten.
          RETURN_IF_ERROR(RecordRewritten(catalog, t.name));
          for (const auto& m : MartsReading(spec, t.name)) {
            RETURN_IF_ERROR(ForgetModelHash(catalog, m));
          }
        }
      }
      changes.push_back(std::move(change));
    }
    SLUICE_FAILPOINT("schema.before_commit");
    return Status::OK();
  };
  Status st = body();
  if (!st.ok()) {
    (void)catalog.Rollback();
    return st;
  }
  RETURN_IF_ERROR(catalog.Commit());
  return changes;
}

}  // namespace sluice
