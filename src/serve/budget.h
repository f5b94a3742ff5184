// InflightBudget: the bytes of stream data accepted into memory and not yet committed, bounded
// by `sluice serve --max-inflight-mb`. HTTP requests reserve their body size before reading
// it and get 429 when it does not fit; the NATS consumers stop pulling while it is exhausted.
// Released when the micro-batch holding the data is committed (or dropped). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice {

class InflightBudget {
 public:
  explicit InflightBudget(int64_t limit_bytes) : limit_(limit_bytes) {}

  // Reserves `bytes` if they fit under the limit; false (nothing reserved) otherwise.
  bool TryAcquire(int64_t bytes) {
    int64_t used = used_.load(std::memory_order_relaxed);
    while (used + bytes <= limit_) {
      if (used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  // Reserves `bytes` whatever the limit (data already in memory that must not be dropped).
  void Force(int64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void Release(int64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_; }
  bool exhausted() const { return used() >= limit_; }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

}  // namespace sluice
