// The dashboard's files (src/serve/dashboard/: index.html, dashboard.css, dashboard.js,
// favicon.svg), compiled into the binary by serve/dashboard/embed_assets.cmake at build time.
// Immutable data; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace sluice {

struct DashboardAsset {
  const char* name;  // the file's name: "index.html", "dashboard.js", ...
  const unsigned char* data;
  size_t size;

  std::string_view bytes() const { return {reinterpret_cast<const char*>(data), size}; }
};

// Every asset, in the order CMake lists them.
const std::vector<DashboardAsset>& DashboardAssets();

}  // namespace sluice
