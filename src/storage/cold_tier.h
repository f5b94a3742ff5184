// The cold tier's files (docs/LIFECYCLE.md, "Retention and the cold tier"): staged batches older
// than their source's `hot` retention, compacted into few large zstd Parquet files, one per
// (source, contract version, ingestion day, vacuum) under the cold path:
//   <cold_path>/<source>/v<contract version>/ingested=2026-01-03/batches-<first seq>-<last seq>.parquet
// A cold file holds whole batches of one ingestion day (the retention clock's day), so a later
// delete removes whole files. Rows keep every column of the hot files (contract and meta
// columns), sorted by partition day, tenant, batch and line, in row groups of
// kStagingRowGroupRows: a day or tenant filter skips row groups by their statistics.
// The catalog side (which files, the swap in meta.files) is catalog/cold_files.h; the order of
// the steps is engine/vacuum.cc's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// The cold file for batches `first_seq`..`last_seq` of `source` staged under contract version
// `version` and committed on UTC day `ingest_day` ("2026-01-03"), absolute.
std::string ColdFilePath(const ProjectSpec& spec, const std::string& source, int64_t version,
                         const std::string& ingest_day, int64_t first_seq, int64_t last_seq);

// `abs_path` as meta.files stores it: lake-relative when under the lake, else absolute.
std::string CatalogPathOf(const ProjectSpec& spec, const std::string& abs_path);

// Writes the rows of `hot` (absolute paths of staging files of `source`) into one zstd Parquet
// file at `to`: first under "<to>.tmp", fsynced, then renamed and its directory fsynced, so `to`
// is whole or absent. Nothing reads `to` until the catalog lists it. Returns its size in bytes.
Result<int64_t> WriteColdFile(Catalog& catalog, const SourceSpec& source, const std::vector<std::string>& hot,
                              const std::string& to);

}  // namespace sluice
