// CPU time of the whole process, for the run summary's per-stage `cpu_seconds`.
#pragma once

#include <cstdint>

namespace sluice {

// CPU time the process has used so far, user + system, in microseconds, as
// getrusage(RUSAGE_SELF) reports it: every thread counts, DuckDB's worker threads included. The
// difference of two readings is the CPU time of everything the process ran between them (other
// threads working at the same time included). 0 if the system cannot say. Thread-safe.
int64_t ProcessCpuMicros();

}  // namespace sluice
