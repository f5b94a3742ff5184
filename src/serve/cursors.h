// Cursors of the rows endpoint: a page's `next_cursor` names the published version of the
// first page, the request and the position of the next page, so that every page of one
// pagination comes from one snapshot, however many versions are published meanwhile.
//
// A cursor is an opaque random token (128 bits) for a state kept here, not a value the client
// could edit: a token that is unknown, expired or altered is simply not found. Each cursor pins
// its version (storage/version_pins.h) for `ttl`; using the cursor renews the pin and the cursor.
// Cursors live in this process only: a restarted server answers that they are gone.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "serve/rows_query.h"
#include "storage/version_pins.h"

namespace sluice {

struct CursorState {
  std::string table;  // "curated.orders"
  int64_t version = 0;
  RowsQuery query;
  std::vector<std::string> tenants;  // the tenant filter the first page applied (empty: all)
  std::string principal;             // the token name that may continue it
  int64_t offset = 0;                // rows before the next page
  int64_t total = 0;                 // rows of the whole result, counted by the first page
};

class CursorRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  // At most `capacity` cursors: beyond it the one closest to expiry is forgotten first.
  CursorRegistry(VersionPins* pins, Clock::duration ttl, size_t capacity = 100000)
      : pins_(pins), ttl_(ttl), capacity_(capacity) {}

  // A new cursor for `state`; pins its version until now + ttl.
  std::string Add(const CursorState& state, Clock::time_point now = Clock::now());
  // The state of `token`, its cursor and pin renewed. InvalidArgument when the token is not of
  // the cursors' form; NotFound when it is unknown or expired.
  Result<CursorState> Find(const std::string& token, Clock::time_point now = Clock::now());
  size_t size();

 private:
  struct Entry {
    CursorState state;
    Clock::time_point expires;
  };
  void Expire(Clock::time_point now);  // with mu_ held
  VersionPins* pins_;
  Clock::duration ttl_;
  size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Entry> cursors_;
};

// A fresh random token: 32 lowercase hex digits.
std::string NewCursorToken();

}  // namespace sluice
