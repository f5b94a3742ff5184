#include "common/cpu_time.h"

#include <sys/resource.h>
#include <sys/time.h>

namespace sluice {

int64_t ProcessCpuMicros() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto micros = [](const struct timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1000000 + static_cast<int64_t>(tv.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

}  // namespace sluice
