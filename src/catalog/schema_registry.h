// The schema registry: every version of each source's contract, in meta.schemas.
//
//   meta.schemas(source, version, fingerprint, columns, checks, compatibility, registered_at)
//
// Versions count from 1 per source. `columns` and `checks` hold the contract as JSON (columns in
// contract order, every rule); `fingerprint` is the hash of its canonical form, so an unchanged
// contract is recognised whatever its column order, comments or line numbers. The engine
// compares the working copy with the latest version on every open (engine/schema_evolution.h).
//
// Functions run on the catalog's connection and do not open transactions of their own, so a
// caller can register a version in the same transaction as the table changes it implies.
// Not safe for concurrent use (like Catalog).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "spec/compatibility.h"
#include "spec/contract.h"

namespace sluice {

struct SchemaVersion {
  std::string source;
  int64_t version = 0;
  std::string fingerprint;
  Contract contract;          // name, compatibility, columns and checks as registered
  std::string registered_at;  // "2026-01-03 10:15:00.123456" (UTC)
};

// The hash (32 hex digits) of the contract's canonical form: columns sorted by name, each with
// its type and rules (enum values sorted), checks sorted by expression. Column order, file
// path, line numbers and the compatibility mode do not change it.
std::string SchemaFingerprint(const Contract& contract);

// The contract's columns and checks as the JSON stored in meta.schemas, and back.
// ContractFromJson: Corruption when the stored text is not what ContractToJson writes.
std::string ColumnsToJson(const Contract& contract);
std::string ChecksToJson(const Contract& contract);
Result<Contract> ContractFromJson(const std::string& name, const std::string& compatibility,
                                  const std::string& columns_json, const std::string& checks_json);

// The newest version of `source`, or nullopt when none is registered.
Result<std::optional<SchemaVersion>> LatestSchema(Catalog& catalog, const std::string& source);
// The number of that version, 0 when none is registered; reads no contract text (per batch).
Result<int64_t> LatestSchemaVersion(Catalog& catalog, const std::string& source);
// Every version of `source`, oldest first (empty when none).
Result<std::vector<SchemaVersion>> SchemaHistory(Catalog& catalog, const std::string& source);
// Registers `contract` as the next version of `source` and returns it; pending acceptances for
// its fingerprint get its version. Does not check compatibility (see CheckAgainstHistory); call
// inside the caller's transaction.
Result<SchemaVersion> RegisterSchema(Catalog& catalog, const std::string& source, const Contract& contract);

// The newest version of `source` that a committed batch was validated under (any batch in
// meta.batches, dropped or not), 0 when none was; INT64_MAX when some batch predates
// meta.batches.schema_version (then every version is taken to hold data). A version newer than
// this promises nothing to readers: no data was ever checked against it (its first batches
// may have failed, e.g. on a check that cannot evaluate), so a change is checked against the
// versions up to this one (engine/schema_evolution.h).
Result<int64_t> NewestVersionWithData(Catalog& catalog, const std::string& source);

// Retained staging data of `source` by the contract version it was written under: batches not
// dropped that have staging files in meta.files, counted per meta.batches.schema_version (0 for
// batches committed before sluice recorded it). Works on read-only opens of older lakes too.
Result<RetainedVersions> RetainedStagingVersions(Catalog& catalog, const std::string& source);

//   meta.schema_acceptances(source, column_name, rule, fingerprint, version, accepted_at)
// One row per `sluice schema accept`: the refusal `rule` of `column` is accepted for the
// working-copy contract whose fingerprint is `fingerprint`; `version` is NULL until that contract
// is registered (RegisterSchema fills it in the same transaction).
Status RecordAcceptance(Catalog& catalog, const std::string& source, const std::string& fingerprint,
                        const std::string& column, const std::string& rule);
// The acceptances that apply to `source` when its working copy has `fingerprint`: every
// registered one (with its version) and the pending ones for this fingerprint (version 0).
// Empty on a read-only lake from before acceptances existed.
Result<std::vector<Acceptance>> FindAcceptances(Catalog& catalog, const std::string& source,
                                                const std::string& fingerprint);

// The history as CheckAgainstHistory takes it.
std::vector<ContractVersion> ToContractVersions(const std::vector<SchemaVersion>& history);

}  // namespace sluice
