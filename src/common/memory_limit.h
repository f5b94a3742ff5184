// The memory setting of a sluice process (`memory_limit` in sluice.yaml, `--memory-limit` on the
// command line) and how it is shared out: DuckDB's own limit, serve's in-flight budget, and a
// fixed overhead for everything else in the process (code, thread stacks, allocator slack).
//
//   limit = DuckDB + kInflightCopies * in-flight budget + kProcessOverhead
//
// DuckDB's `memory_limit` bounds its buffer manager (tables, intermediate results) and it spills
// beyond it; the in-flight budget bounds the stream data sluice itself holds (each accepted byte
// lives in up to kInflightCopies forms at once: the body, the joined micro-batch, the decoded
// columns). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace sluice {

inline constexpr int64_t kMiB = int64_t{1} << 20;
inline constexpr int64_t kGiB = int64_t{1} << 30;

// The smallest memory_limit accepted: below it DuckDB and the process itself do not fit.
inline constexpr int64_t kMinMemoryLimit = 384 * kMiB;
// What the process uses outside DuckDB's limit and the in-flight data: the binary and DuckDB's
// code, thread stacks, HTTP connection buffers, allocator slack. An idle `sluice serve` is
// ~45 MB resident; the rest is headroom for allocations DuckDB does not account to its limit.
inline constexpr int64_t kProcessOverhead = 96 * kMiB;
// The smallest DuckDB limit left after the other shares (it spills beyond it).
inline constexpr int64_t kMinDuckDbMemory = 128 * kMiB;
// Forms an accepted byte of stream data takes at once in serve (see above).
inline constexpr int64_t kInflightCopies = 3;

// "2GB", "512MB", "1.5GiB", "300 MiB" as bytes; nullopt for anything else. Units follow DuckDB:
// KB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB powers of 1024 (case-insensitive); a
// number without a unit is not accepted (a bare 2 would mean bytes to one reader, GB to another).
std::optional<int64_t> ParseByteSize(const std::string& text);

// 268435456 -> "256 MiB", 1610612736 -> "1.5 GiB": for messages and logs.
std::string FormatBytes(int64_t bytes);

// The memory this process may use: the smaller of the machine's RAM (/proc/meminfo) and the
// cgroup's memory limit (containers), in bytes; 8 GiB when neither can be read.
int64_t AvailableMemoryBytes();

// Which default a command gets when neither the command line nor sluice.yaml sets a limit.
enum class MemoryUse {
  kQuery,     // read-only inspection: `sluice query`, `status`, listings
  kPipeline,  // `sluice run`, `serve`, `ingest`, `dlq redrive`, ...: ingest and transform
};
// kQuery: a quarter of AvailableMemoryBytes(), at most 1 GiB. kPipeline: half of it, at most
// 8 GiB. Never below kMinMemoryLimit. See docs/PROJECT.md ("memory_limit") for why.
int64_t DefaultMemoryLimit(MemoryUse use);

// The shares of one limit.
struct MemoryPlan {
  int64_t limit = 0;     // the whole setting
  int64_t duckdb = 0;    // DuckDB's memory_limit
  int64_t inflight = 0;  // serve's in-flight budget (0 for other commands)
  int64_t overhead = kProcessOverhead;
};
// Shares `limit` out. `inflight` > 0 is serve's budget (an explicit --max-inflight-mb, or
// DefaultInflightBudget(limit)); 0 for commands without one. InvalidArgument, saying what to
// change, when the limit is below kMinMemoryLimit or leaves DuckDB less than kMinDuckDbMemory.
Result<MemoryPlan> PlanMemory(int64_t limit, int64_t inflight);

// Serve's default in-flight budget for a limit: an eighth of it in whole MiB (at least 1 MiB).
int64_t DefaultInflightBudget(int64_t limit);

}  // namespace sluice
