// POSTs OpenLineage events to the endpoint of `lineage: {endpoint: ...}` without ever blocking
// the pipeline: Send only queues (a bounded queue; when full, the event is dropped and counted),
// one thread POSTs them in order, retrying a failed POST (no answer, or a status other than 2xx)
// with exponential backoff (200 ms, 400 ms, ... at most 5 s) up to `retries` times, then drops
// it, counts it and logs one line. lake/lineage/*.jsonl is the record; the endpoint a copy.
//
// Safe for concurrent use. The destructor calls Close.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace sluice {

struct LineageSenderOptions {
  std::string endpoint;  // http://host[:port][/path]
  int64_t timeout_ms = 5000;
  int retries = 5;
  size_t max_queued = 1000;
  std::function<void(const std::string&)> log;  // one line per dropped event; may be empty
};

class LineageSender {
 public:
  // InvalidArgument when the endpoint is not an http:// URL. Starts the thread.
  static Result<std::unique_ptr<LineageSender>> Start(LineageSenderOptions options);
  ~LineageSender();

  // Queues one event (JSON text) for POSTing; false when the queue was full (dropped, counted).
  bool Send(std::string event);

  // Waits at most `wait_ms` for the queue to empty (a `sluice run` about to exit), then stops
  // the thread; what is still queued is dropped and counted.
  void Close(int64_t wait_ms = 0);

  struct Counts {
    int64_t posted = 0;
    int64_t retried = 0;  // failed attempts that were tried again
    int64_t dropped = 0;  // queue full, retries exhausted, or left at Close
  };
  Counts counts();

 private:
  explicit LineageSender(LineageSenderOptions options);
  void Loop();
  bool Post(const std::string& body, std::string* why);

  LineageSenderOptions options_;
  std::string host_, path_;
  int port_ = 80;
  std::mutex mu_;
  std::condition_variable cv_;       // queue non-empty, or stopping
  std::condition_variable drained_;  // queue empty and nothing in flight
  std::deque<std::string> queue_;
  bool in_flight_ = false;
  bool stop_ = false;
  Counts counts_;
  std::thread thread_;
};

}  // namespace sluice
