// Who holds DuckDB's lock on a database file, asked explicitly instead of read from an error
// message. DuckDB locks a database file with a POSIX record lock (fcntl) for as long as it is
// attached: a write lock when read-write, a read lock when READ_ONLY.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::duck {

// The pid of another process holding a lock on `path` that conflicts with attaching it
// read-write (`for_write`) or READ_ONLY; nullopt when none does or `path` cannot be opened.
// Asks the kernel (F_GETLK) without taking the lock. The caller must not have `path` attached
// itself: POSIX releases a process's record locks on a file when it closes any descriptor of
// it, as this probe does. Thread-safe.
std::optional<int64_t> DatabaseLockHolder(const std::string& path, bool for_write);

}  // namespace sluice::duck
