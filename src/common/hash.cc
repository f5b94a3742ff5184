#include "common/hash.h"

#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cstdio>

namespace sluice {

std::string ContentHash(std::string_view data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

std::string NewCorrelationId(int64_t now_micros) {
  static std::atomic<int64_t> counter{0};
  return ContentHash(std::to_string(now_micros) + "/" + std::to_string(::getpid()) + "/" +
                     std::to_string(++counter));
}

}  // namespace sluice
