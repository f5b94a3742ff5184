// Contract compatibility: may a new version of a source's contract replace the registered ones?
//
// The modes are the Confluent Schema Registry's, applied to contract columns: `backward` (the
// new contract reads data written under the previous one), `forward` (the previous contract
// reads data written under the new one), `full` (both), `none`, and the `_transitive` variants
// (checked against every earlier version, not only the latest). Every rule is one row of the
// table in docs/CONTRACTS.md; compatibility_test.cc tests each row in each mode.
//
// Beyond the registry, lineage-aware compatibility refuses, whatever the mode, a change that
// removes or narrows a column a curated table or a mart model uses (ColumnUsers).
//
// Pure functions over plain data (no DuckDB); safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "spec/contract.h"
#include "spec/spec.h"

namespace sluice {

struct CompatibilityMode {
  bool backward = false;
  bool forward = false;
  bool transitive = false;
  std::string name;  // as written: "full_transitive"
};

// "backward", "forward", "full", "none", each optionally with "_transitive".
// InvalidArgument names the known modes.
Result<CompatibilityMode> ParseCompatibilityMode(const std::string& text);

// One reason a new contract may not replace an old one.
struct Violation {
  std::string column;           // the column (or check) the rule is about
  std::string old_def;          // "amount decimal(12,2) required"; "" when the column is new
  std::string new_def;          // "amount decimal(10,2)"; "" when the column was removed
  std::string rule;             // rule id from docs/CONTRACTS.md, e.g. "type_narrowed"
  std::string direction;        // "backward" | "forward" | "" (default_changed, lineage)
  std::string mode;             // "backward_transitive", or "lineage" for ColumnUsers refusals
  int64_t against_version = 0;  // the registered version it conflicts with; 0: not known
  std::string detail;           // the rule in words, and for lineage the users

  // One line: "column amount: amount decimal(12,2) required -> amount decimal(10,2):
  // type_narrowed (backward, against v2): ...".
  std::string Describe() const;
};

// Text form of a column for messages and `schema history`: "amount decimal(12,2) required
// min=0 default=0". Rules are listed in a fixed order so equal columns print equally.
std::string DescribeColumn(const ColumnSpec& column);

// Violations of `mode` when `next` replaces `prev` (one step, no history). `prev_version` is
// copied into each violation. `none` yields nothing. A changed `default` is not judged here: it
// depends on the lake's retained data (CheckDefaultChanges).
std::vector<Violation> CheckCompatibility(const Contract& prev, const Contract& next,
                                          const CompatibilityMode& mode, int64_t prev_version = 0);

// A registered contract with its version number.
struct ContractVersion {
  int64_t version = 0;
  Contract contract;
};

// Violations of `next`'s own compatibility mode against `history` (oldest first): the latest
// version only, or every version for *_transitive modes. Empty history: nothing to check.
// InvalidArgument when next.compatibility is not a known mode.
Result<std::vector<Violation>> CheckAgainstHistory(const std::vector<ContractVersion>& history,
                                                   const Contract& next);

// Staging data the lake retains for a source: contract version it was written under -> number
// of batches. Version 0 counts batches staged before sluice recorded their version.
using RetainedVersions = std::map<int64_t, int64_t>;

// default_changed, in every mode but none: a column of the latest version of `history` whose
// `default` `next` adds, removes or changes, while retained staging data reads that default
// (it was written under a version without the column). The violation names those versions;
// unrecorded batches (version 0) count as dependent when any registered version lacks the
// column. Nothing retained depends on the default: no violation.
std::vector<Violation> CheckDefaultChanges(const std::vector<ContractVersion>& history, const Contract& next,
                                           const RetainedVersions& retained);

// Who uses each column of `source`'s contract downstream, e.g. "amount" ->
// ["marts.daily_revenue (models/daily_revenue.sql)"], "order_id" -> ["curated.orders key"].
// Curated tables from the source contribute their key, version, partition and test columns;
// marts whose SQL reads such a curated table contribute every column name that appears as a
// word in their SQL outside comments and string literals (case-insensitive). `holders` lists
// the curated tables from the source: each holds (and publishes) every contract column, or the
// columns its `columns:` list declares.
struct ColumnUsers {
  struct Holder {
    std::string table;                 // "curated.orders"
    std::vector<std::string> columns;  // empty: every column
  };
  std::map<std::string, std::vector<std::string>> by_column;
  std::vector<Holder> holders;

  std::vector<std::string>& operator[](const std::string& column) { return by_column[column]; }
};
ColumnUsers FindColumnUsers(const ProjectSpec& spec, const std::string& source);

// Lineage-aware refusals, whatever the mode: each column of `prev` that `next` removes and that
// a user or holder of `users` has, or whose type it changes other than by a lossless widening
// and that appears in `users.by_column`.
std::vector<Violation> CheckLineage(const Contract& prev, const Contract& next, const ColumnUsers& users,
                                    int64_t prev_version = 0);

// A refusal the user accepted once with `sluice schema accept` (meta.schema_acceptances):
// `rule` of `column` is allowed for the contract version `version` (0: the working copy not
// registered yet), and stays allowed against every version older than it.
struct Acceptance {
  std::string column;
  std::string rule;
  int64_t version = 0;
};

// Removes from `violations` those an acceptance covers: a pending acceptance (version 0) covers
// its (column, rule) against any version; one registered as vN covers it against versions < N.
std::vector<Violation> WithoutAccepted(std::vector<Violation> violations,
                                       const std::vector<Acceptance>& accepted);

// How to proceed with a refusal of `source`'s contract whose latest registered version is
// `latest`: the compatibility modes that allow it (none for lineage), and the one-off
// acceptance command. One line, e.g. "to proceed: compatibility backward, ... or none allows
// it, or accept it once: sluice schema accept orders --column amount --rule range_widened".
std::string HowToProceed(const Violation& violation, const std::string& source, int64_t latest);

// The lossless widenings: int32 -> int64, int32 -> double, float -> double,
// decimal(p,s) -> decimal(p',s) with p' > p. Equal types are not a widening.
bool IsWidening(const ColumnType& from, const ColumnType& to);

}  // namespace sluice
