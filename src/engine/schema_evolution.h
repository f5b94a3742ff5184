// Schema evolution on open: each source's working-copy contract against the schema registry.
//
// The first open of a source registers its contract as v1. An unchanged contract (same
// fingerprint) does nothing. A changed one is checked against the registered history in its
// own compatibility mode and against its downstream users (lineage-aware compatibility); an
// incompatible change is refused before anything changes (G7). A compatible one is registered
// and evolves the tables without rewriting staged data: curated tables gain the added columns
// (old rows read the default) and widened types; their published copies and the marts that
// read them are rebuilt on the next run. All of it commits in one catalog transaction.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/schema_registry.h"
#include "common/status.h"

namespace sluice {

struct SchemaChange {
  std::string source;
  int64_t version = 0;                      // the version registered now
  bool first = false;                       // v1 of a source never registered before
  std::vector<std::string> evolved_tables;  // curated tables altered
};

// Registers and evolves as described above. Every source is checked before anything changes:
// InvalidArgument (one line, naming the contract file, each column, its old and new definition
// and the rule) when any change is incompatible, and then nothing is changed at all.
Result<std::vector<SchemaChange>> EvolveSchemas(Catalog& catalog);

// The refusals of `source`'s working-copy contract against its registered `history` (oldest
// first; empty history: none) up to the newest version a committed batch was validated under
// (NewestVersionWithData; later versions held no data and bind nothing): its compatibility mode
// (CheckAgainstHistory), lineage (CheckLineage), and default changes that retained staging data depends on
// (CheckDefaultChanges), minus those accepted with `sluice schema accept` unless
// `keep_accepted`. Reads the catalog only; works on read-only opens.
Result<std::vector<Violation>> CheckContractChange(Catalog& catalog, const SourceSpec& source,
                                                   const std::vector<SchemaVersion>& history,
                                                   bool keep_accepted = false);

// Checks that each declared default of `contract` converts to its column's type; the error
// names the column, the default and the type. Uses `conn` only to cast.
Status ValidateDefaults(duck::Connection& conn, const Contract& contract);

}  // namespace sluice
