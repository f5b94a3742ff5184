// CPU time and storage writes of the whole process, for the run summary's per-stage `cpu_seconds`
// and `bytes_written`; and the CPU time of one thread, for the micro-batches `sluice serve`
// commits while other threads work.
#pragma once

#include <cstdint>

namespace sluice {

// CPU time the process has used so far, user + system, in microseconds, as
// getrusage(RUSAGE_SELF) reports it: every thread counts, DuckDB's worker threads included. The
// difference of two readings is the CPU time of everything the process ran between them (other
// threads working at the same time included). 0 if the system cannot say. Thread-safe.
int64_t ProcessCpuMicros();

// Bytes the process has caused to be written to storage so far: `write_bytes` of
// /proc/self/io (every thread; files written through the page cache count when dirtied, a hard
// link or a rename costs nothing). Like ProcessCpuMicros, the difference of two readings is what
// the process wrote between them. 0 if the system cannot say. Thread-safe.
int64_t ProcessWriteBytes();

// CPU time the calling thread has used so far, user + system, in microseconds
// (CLOCK_THREAD_CPUTIME_ID): what this thread ran, none of the process's other threads (DuckDB's
// workers included). 0 if the system cannot say.
int64_t ThreadCpuMicros();

}  // namespace sluice
