#include "storage/version_pins.h"

namespace sluice {

void VersionPins::Pin(const std::string& table, int64_t version, Clock::time_point until) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& deadline = pins_[{table, version}];
  if (until > deadline) deadline = until;
}

bool VersionPins::PinIfPresent(const std::string& table, int64_t version, Clock::time_point until,
                               const std::function<bool()>& present) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!present()) return false;
  auto& deadline = pins_[{table, version}];
  if (until > deadline) deadline = until;
  return true;
}

Result<bool> VersionPins::RetireUnlessPinned(const std::string& table, int64_t version,
                                             const std::function<Status()>& retire) {
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(Clock::now());
  if (pins_.count({table, version}) > 0) return false;
  RETURN_IF_ERROR(retire());
  return true;
}

bool VersionPins::IsPinned(const std::string& table, int64_t version, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now);
  return pins_.count({table, version}) > 0;
}

size_t VersionPins::Count(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now);
  return pins_.size();
}

void VersionPins::DropExpired(Clock::time_point now) {
  for (auto it = pins_.begin(); it != pins_.end();) {
    it = it->second <= now ? pins_.erase(it) : std::next(it);
  }
}

VersionPins& PublishedVersionPins() {
  static VersionPins* pins = new VersionPins();  // never destroyed: readers may outlive statics
  return *pins;
}

}  // namespace sluice
