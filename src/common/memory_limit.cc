#include "common/memory_limit.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

namespace sluice {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first line of a file as a number of bytes; nullopt when unreadable or "max".
std::optional<int64_t> ReadLimitFile(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty() || line == "max") return std::nullopt;
  char* end = nullptr;
  unsigned long long v = std::strtoull(line.c_str(), &end, 10);
  if (end == line.c_str() || v == 0 || v > static_cast<unsigned long long>(INT64_MAX)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

}  // namespace

std::optional<int64_t> ParseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  const std::string number = text.substr(0, i);
  if (number.empty() || number.size() > 15 || number.front() == '.' || number.back() == '.' ||
      std::count(number.begin(), number.end(), '.') > 1) {
    return std::nullopt;
  }
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string unit = Lower(text.substr(i));
  double scale = 0;
  if (unit == "b") {
    scale = 1;
  } else if (unit == "kb") {
    scale = 1e3;
  } else if (unit == "mb") {
    scale = 1e6;
  } else if (unit == "gb") {
    scale = 1e9;
  } else if (unit == "tb") {
    scale = 1e12;
  } else if (unit == "kib") {
    scale = 1024.0;
  } else if (unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  const double bytes = std::strtod(number.c_str(), nullptr) * scale;
  if (!(bytes >= 1) || bytes > 9.0e18) return std::nullopt;
  return static_cast<int64_t>(std::llround(bytes));
}

std::string FormatBytes(int64_t bytes) {
  char buf[64];
  if (bytes >= kGiB) {
    const double g = static_cast<double>(bytes) / static_cast<double>(kGiB);
    if (bytes % kGiB == 0) {
      std::snprintf(buf, sizeof buf, "%lld GiB", static_cast<long long>(bytes / kGiB));
    } else {
      std::snprintf(buf, sizeof buf, "%.1f GiB", g);
    }
  } else if (bytes >= kMiB) {
    std::snprintf(buf, sizeof buf, "%lld MiB", static_cast<long long>(bytes / kMiB));
  } else {
    std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(bytes));
  }
  return buf;
}

int64_t AvailableMemoryBytes() {
  std::optional<int64_t> ram;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) ram = static_cast<int64_t>(pages) * page;
  // cgroup v2, then v1: a container's limit is what the kernel enforces, not the host's RAM.
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    if (std::optional<int64_t> cg = ReadLimitFile(path)) {
      ram = ram ? std::min(*ram, *cg) : *cg;
      break;
    }
  }
  return ram.value_or(8 * kGiB);
}

int64_t DefaultMemoryLimit(MemoryUse use) {
  const int64_t avail = AvailableMemoryBytes();
  const int64_t limit = use == MemoryUse::kQuery ? std::min(avail / 4, kGiB) : std::min(avail / 2, 8 * kGiB);
  return std::max(limit, kMinMemoryLimit);
}

int64_t DefaultInflightBudget(int64_t limit) { return std::max(kMiB, limit / 8 / kMiB * kMiB); }

Result<MemoryPlan> PlanMemory(int64_t limit, int64_t inflight) {
  if (limit < kMinMemoryLimit) {
    return Status::InvalidArgument("memory limit " + FormatBytes(limit) + " is below the minimum of " +
                                   FormatBytes(kMinMemoryLimit));
  }
  MemoryPlan plan;
  plan.limit = limit;
  plan.inflight = inflight;
  plan.duckdb = limit - kProcessOverhead - kInflightCopies * inflight;
  if (plan.duckdb < kMinDuckDbMemory) {
    return Status::InvalidArgument(
        "an in-flight budget of " + FormatBytes(inflight) + " does not fit a memory limit of " +
        FormatBytes(limit) + ": " + std::to_string(kInflightCopies) + " x the budget + " +
        FormatBytes(kProcessOverhead) + " of fixed overhead + at least " + FormatBytes(kMinDuckDbMemory) +
        " for DuckDB must fit; raise memory_limit or lower "
        "--max-inflight-mb (at most " +
        std::to_string(
            std::max<int64_t>(0, (limit - kProcessOverhead - kMinDuckDbMemory) / kInflightCopies / kMiB)) +
        ")");
  }
  return plan;
}

}  // namespace sluice
