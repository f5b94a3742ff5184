// The tables the query API serves (docs/QUERY_API.md) and their published versions.
//
// Every curated table and mart is served, its rows from its published Parquet copy
// (storage/publish.h): a version directory is immutable once `current` points at it, so a
// reader of it needs no lock and sees whole batches only. Staging views are listed (and readable
// through the SQL endpoint) but have no published copy.
//
// Pure functions of the spec and the lake's files; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "spec/spec.h"

namespace sluice {

struct ServedTable {
  std::string layer;  // "curated" | "marts" | "staging"
  std::string name;
  // The partition columns of the published files ("" when not partitioned that way): the day
  // key names the version's directories (<day_key>=D), the tenant key orders each file's rows.
  std::string day_key, tenant_key;
  // Columns publishing adds to the table's own (a curated table's `day` and `tenant`): not
  // part of the rows served.
  std::vector<std::string> added_columns;
  // A total order of the rows ending with the table's key (curated); empty for a mart, whose
  // rows are then ordered by every column.
  std::vector<std::string> key;
  std::vector<std::string> upstream;  // "staging.orders", "curated.orders", ...
  // The column of the table in the lake's database that holds the tenant ("" when none): the
  // source's partition_by.tenant for a curated table, the mart's own for a mart. SQL reads
  // these tables, not the published copies.
  std::string lake_tenant_column;

  std::string qualified() const { return layer + "." + name; }
  bool published() const { return layer != "staging"; }
};

// Curated tables, then marts, then staging views, each in spec order.
std::vector<ServedTable> ServedTables(const ProjectSpec& spec);

// One published version of a table: its files by day ("" for a table without a day key).
struct PublishedVersion {
  int64_t version = 0;
  std::string dir;                                            // <lake>/published/<layer>/<table>/v<N>
  std::map<std::string, std::vector<std::string>> day_files;  // day -> absolute paths, sorted
};

// The directory under which `table`'s versions live.
std::string PublishedTableDir(const std::string& lake, const ServedTable& table);
// The version number `current` points at (a symbolic link read, no listing). NotFound when the
// table has no published version yet; Corruption when `current` names no version.
Result<int64_t> CurrentPublishedVersion(Env* env, const std::string& lake, const ServedTable& table);
// The version `current` points at (nullopt `version`) or version `version`, with its files.
// NotFound when the table has no published version yet, or that version is gone.
Result<PublishedVersion> ReadPublishedVersion(Env* env, const std::string& lake, const ServedTable& table,
                                              std::optional<int64_t> version = std::nullopt);

}  // namespace sluice
