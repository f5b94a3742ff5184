// Named failpoints for crash tests (cf. RocksDB TEST_SYNC_POINT).
//
// SLUICE_FAILPOINTS="commit.after_stage_write=crash,publish.before_swap=crash" makes the process
// die with SIGKILL (as `kill -9` would) when it reaches that point; "=error" makes Hit() return an
// IOError instead, for tests of error paths; "=powercut" simulates a power cut there: the
// process's Env is then a FaultInjectionEnv over its working directory from the start
// (common/fault_env.h), and at the failpoint everything below that directory that no sync made
// durable is dropped, the file "sluice-powercut" is written there with the failpoint's name,
// and the process dies by SIGKILL; "=stop" stops the whole process (SIGSTOP) the first time a
// failpoint armed so is reached, and it goes on from there once sent SIGCONT (for a test to act
// while the process is at that point, e.g. kill the PostgreSQL server in the middle of a COPY).
// Unset, a failpoint costs one branch on a bool.
// Every failpoint name is listed in kFailpoints (failpoint.cc) so tests can iterate them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

// All failpoint names compiled into the binary, in commit-protocol order.
const std::vector<std::string>& AllFailpoints();

// Crashes or returns an error if `name` is armed via SLUICE_FAILPOINTS; OK otherwise.
// Thread-safe (the environment is read once).
Status Failpoint(std::string_view name);

// True if SLUICE_FAILPOINTS arms some failpoint with `powercut` (read once).
bool PowerCutArmed();

// The marker a power cut leaves in the working directory, holding the failpoint's name.
inline constexpr const char* kPowerCutMarker = "sluice-powercut";

// SLUICE_FAIL_MUTATION=N: the process's Env is a FaultInjectionEnv over its working directory
// whose Nth mutating call returns an injected IOError (FaultInjectionEnv::FailNthMutation),
// leaving the file kInjectedErrorMarker there (the call and path) when it fires. 0 when unset.
int64_t InjectedMutationFailure();
inline constexpr const char* kInjectedErrorMarker = "sluice-injected-error";

}  // namespace sluice

#define SLUICE_FAILPOINT(name) RETURN_IF_ERROR(::sluice::Failpoint(name))
