// The catalog side of staging retention (docs/LIFECYCLE.md, "Retention and the cold tier"):
// which staged files are due to move to the cold tier or to be deleted, and the one transaction
// that swaps a batch's hot files for a cold file (or forgets deleted files) in meta.files and
// meta.file_partitions.
//
//   meta.files.tier     NULL for a hot file under <lake>/staging, 'cold' for a cold-tier file;
//                       a cold file holds many batches and has one meta.files row per batch
//   meta.retired_files  files the catalog no longer lists whose bytes may still be on disk:
//                       written in the transaction that retires them, removed from the table
//                       once the files are gone. The staging view leaves them out while listed;
//                       a writer's open (RecoverColdTier) removes what a crash left.
//
// Paths are lake-relative, or absolute for a cold tier outside the lake (LakePath resolves
// both). The retention clock is the batch's commit time in the ledger (meta.batches.committed_at).
// Functions run on the catalog's connection inside the caller's transaction (or auto-commit).
// Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// Adds meta.files.tier and meta.retired_files when missing (Catalog::Open).
Status CreateColdTierTables(duck::Connection& conn);

// `path` as stored in meta.files: absolute when it starts with '/', else under the lake.
std::string LakePath(const std::string& lake, const std::string& path);

// One staged file of one batch, with what retention decides by.
struct RetentionFile {
  std::string batch_id;
  int64_t batch_seq = 0;
  std::string path;            // as in meta.files
  bool cold = false;           // meta.files.tier = 'cold'
  int64_t committed_us = 0;    // the batch's commit time (UTC micros): the retention clock
  int64_t schema_version = 0;  // the contract version the batch was staged under (0: unknown)
  int64_t rows = 0;            // the batch's rows in this file
  int64_t path_batches = 0;    // batches meta.files lists in this path (1 for a hot file)
  // Why it may not leave (move or delete), "" when it may: "quarantined", "not curated by
  // <table>", "replay window", "feed <consumer>".
  std::string held;
};

// Every staged file of `source`'s batches committed before `before_us` (UTC micros), in
// (batch_seq, path) order, with `held` set: a batch that is quarantined (or dropped: its rows
// stay where they are), that a curated table of the source has not merged, that is younger than
// `replay_window_start_us`, or (`check_feeds`) whose changes a feed consumer has not read yet.
Result<std::vector<RetentionFile>> FilesCommittedBefore(Catalog& catalog, const SourceSpec& source,
                                                        const std::vector<std::string>& curated_tables,
                                                        int64_t before_us, int64_t replay_window_start_us,
                                                        bool check_feeds);

// In one transaction of the caller's: replaces the meta.files and meta.file_partitions rows of
// `hot` (lake-relative paths of `source`'s batches) with rows for `cold_path`, one per batch
// with the rows it had, and retires the hot paths (meta.retired_files).
Status SwapToCold(Catalog& catalog, const std::string& source, const std::vector<std::string>& hot,
                  const std::string& cold_path);

// Forgets `paths` of `source` (meta.files, meta.file_partitions) and retires them.
Status ForgetFiles(Catalog& catalog, const std::string& source, const std::vector<std::string>& paths);

// The retired paths, as stored (in-transaction reads see the caller's retirements).
Result<std::vector<std::string>> RetiredFiles(Catalog& catalog);
// Removes `paths` from meta.retired_files (their bytes are gone).
Status ClearRetired(Catalog& catalog, const std::vector<std::string>& paths);

// Every path meta.files lists under the cold tier (tier = 'cold'), distinct, sorted: of `source`
// only when not empty. A lake written before the cold tier (opened read-only) has none.
Result<std::vector<std::string>> ColdFiles(Catalog& catalog, const std::string& source = "");

// A writer's open, after RecoverStaging: removes the files of meta.retired_files (a move or a
// delete that crashed after its commit) and clears it, and removes files under the cold tier's
// directory that meta.files does not list (a cold file written by a move that crashed before
// its commit).
Status RecoverColdTier(Catalog& catalog);

}  // namespace sluice
