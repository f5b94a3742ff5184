#include "common/cpu_time.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include <cstdio>
#include <string_view>

namespace sluice {

int64_t ProcessCpuMicros() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto micros = [](const struct timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1000000 + static_cast<int64_t>(tv.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

int64_t ThreadCpuMicros() {
  struct timespec ts {};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + static_cast<int64_t>(ts.tv_nsec) / 1000;
}

int64_t ProcessWriteBytes() {
  // A counter of the kernel's, like getrusage's: read from procfs, not through Env (no file).
  std::FILE* f = std::fopen("/proc/self/io", "re");
  if (f == nullptr) return 0;
  char key[64];
  long long value = 0;
  int64_t out = 0;
  while (std::fscanf(f, "%63s %lld", key, &value) == 2) {
    if (std::string_view(key) == "write_bytes:") out = value;
  }
  std::fclose(f);
  return out;
}

}  // namespace sluice
