#include "ops/lineage_sender.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace sluice {

Result<std::unique_ptr<LineageSender>> LineageSender::Start(LineageSenderOptions options) {
  const std::string url = options.endpoint;  // a copy: options moves below
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0 || url.size() <= scheme.size()) {
    return Status::InvalidArgument("lineage endpoint '" + url + "' is not an http:// URL");
  }
  std::unique_ptr<LineageSender> s(new LineageSender(std::move(options)));
  const std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  s->path_ = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  s->host_ = authority.substr(0, colon);
  if (colon != std::string::npos) {
    char* end = nullptr;
    long port = std::strtol(authority.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) {
      return Status::InvalidArgument("lineage endpoint '" + url + "' has no valid port");
    }
    s->port_ = static_cast<int>(port);
  }
  if (s->host_.empty()) return Status::InvalidArgument("lineage endpoint '" + url + "' names no host");
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

LineageSender::LineageSender(LineageSenderOptions options) : options_(std::move(options)) {}

LineageSender::~LineageSender() { Close(); }

bool LineageSender::Send(std::string event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_ || queue_.size() >= options_.max_queued) {
    ++counts_.dropped;
    return false;
  }
  queue_.push_back(std::move(event));
  cv_.notify_one();
  return true;
}

void LineageSender::Close(int64_t wait_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable()) return;
  if (wait_ms > 0) {
    drained_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                      [&] { return queue_.empty() && !in_flight_; });
  }
  stop_ = true;
  // The event being POSTed is the loop's to count; the rest are dropped here.
  const size_t keep = in_flight_ && !queue_.empty() ? 1 : 0;
  counts_.dropped += static_cast<int64_t>(queue_.size() - keep);
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(keep), queue_.end());
  cv_.notify_all();
  lock.unlock();
  thread_.join();
}

LineageSender::Counts LineageSender::counts() {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

bool LineageSender::Post(const std::string& body, std::string* why) {
  httplib::ClientImpl client(host_, port_);
  const time_t sec = static_cast<time_t>(options_.timeout_ms / 1000);
  const time_t usec = static_cast<time_t>((options_.timeout_ms % 1000) * 1000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  httplib::Result r = client.Post(path_, body, "application/json");
  if (!r) {
    *why = httplib::to_string(r.error());
    return false;
  }
  if (r->status < 200 || r->status >= 300) {
    *why = "HTTP " + std::to_string(r->status);
    return false;
  }
  return true;
}

void LineageSender::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::string body = queue_.front();
    in_flight_ = true;
    std::string why;
    bool ok = false;
    for (int attempt = 0; !stop_; ++attempt) {
      lock.unlock();
      ok = Post(body, &why);
      lock.lock();
      if (ok || attempt >= options_.retries || stop_) break;
      ++counts_.retried;
      const int64_t backoff_ms = std::min<int64_t>(int64_t{200} << std::min(attempt, 5), 5000);
      cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stop_; });
    }
    if (!queue_.empty()) queue_.pop_front();
    in_flight_ = false;
    if (ok) {
      ++counts_.posted;
    } else {
      ++counts_.dropped;
      if (options_.log) {
        const int64_t dropped = counts_.dropped;
        lock.unlock();
        options_.log("lineage: an event was not delivered to " + options_.endpoint + " after " +
                     std::to_string(options_.retries + 1) + " attempts (" + why + "); dropped (" +
                     std::to_string(dropped) + " so far); lake/lineage/*.jsonl has it");
        lock.lock();
      }
    }
    if (queue_.empty()) drained_.notify_all();
  }
}

}  // namespace sluice
