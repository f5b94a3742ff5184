// Pins on published versions: a reader that must keep reading one version of a table for a while
// (a paginated query of `sluice serve`, whose pages all come from its first page's version) pins
// it, and publishing (publish.h) does not delete a pinned version when it cleans up old ones.
//
// A pin lasts until its deadline (a steady-clock time); pinning the same version again with a
// later deadline renews it. An expired pin is forgotten the next time anyone asks. Pins live in
// the process's memory only: they protect readers of this process, which is the one that
// publishes (`sluice serve`); a restart forgets them, as it forgets the readers.
//
// Thread-safe: readers pin from HTTP threads while the engine thread publishes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/status.h"

namespace sluice {

class VersionPins {
 public:
  using Clock = std::chrono::steady_clock;

  // Keeps version `version` of `table` ("curated.orders") until at least `until`.
  void Pin(const std::string& table, int64_t version, Clock::time_point until);
  // Pins as Pin does if `present()` -- called with the pins' lock held -- says the version's
  // files are in place; false (nothing pinned) otherwise. With RetireUnlessPinned, a version is
  // either pinned while in place, or moved away and never pinned: never both.
  bool PinIfPresent(const std::string& table, int64_t version, Clock::time_point until,
                    const std::function<bool()>& present);
  // Unless (table, version) is pinned, runs `retire` (which moves its files away) with the pins'
  // lock held, so that no reader pins it meanwhile: true when it ran and succeeded, false when
  // the version is pinned, its error otherwise.
  Result<bool> RetireUnlessPinned(const std::string& table, int64_t version,
                                  const std::function<Status()>& retire);
  // Whether a pin on (table, version) lasts past `now`.
  bool IsPinned(const std::string& table, int64_t version, Clock::time_point now = Clock::now());
  // Pins lasting past `now`, over every table (for tests and metrics).
  size_t Count(Clock::time_point now = Clock::now());

 private:
  void DropExpired(Clock::time_point now);  // with mu_ held
  std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, Clock::time_point> pins_;
};

// The pins of this process, consulted by PublishTable.
VersionPins& PublishedVersionPins();

}  // namespace sluice
