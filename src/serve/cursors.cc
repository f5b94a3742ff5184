#include "serve/cursors.h"

#include <random>

namespace sluice {

std::string NewCursorToken() {
  static thread_local std::random_device device;  // the kernel's random source
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    uint32_t word = device();
    for (int j = 0; j < 8; ++j, word >>= 4) out += kHex[word & 0xf];
  }
  return out;
}

std::string CursorRegistry::Add(const CursorState& state, Clock::time_point now) {
  std::string token = NewCursorToken();
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now);
  while (cursors_.size() >= capacity_ && !cursors_.empty()) {
    auto oldest = cursors_.begin();
    for (auto it = cursors_.begin(); it != cursors_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    cursors_.erase(oldest);
  }
  cursors_[token] = Entry{state, now + ttl_};
  pins_->Pin(state.table, state.version, now + ttl_);
  return token;
}

Result<CursorState> CursorRegistry::Find(const std::string& token, Clock::time_point now) {
  if (token.size() != 32 || token.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::InvalidArgument("cursor '" + token.substr(0, 40) +
                                   "' is not a cursor of this server; start again without cursor=");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now);
  auto it = cursors_.find(token);
  if (it == cursors_.end()) {
    return Status::NotFound(
        "the cursor is unknown or expired (idle longer than its time to live, or the "
        "server restarted); start again without cursor=");
  }
  it->second.expires = now + ttl_;
  pins_->Pin(it->second.state.table, it->second.state.version, now + ttl_);
  return it->second.state;
}

size_t CursorRegistry::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return cursors_.size();
}

void CursorRegistry::Expire(Clock::time_point now) {
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    it = it->second.expires <= now ? cursors_.erase(it) : std::next(it);
  }
}

}  // namespace sluice
