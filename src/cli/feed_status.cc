#include "cli/feed_status.h"

#include <algorithm>
#include <ostream>

#include "catalog/feeds.h"

namespace sluice::cli {

nlohmann::json FeedStatus(Catalog& catalog) {
  nlohmann::json out = nlohmann::json::object();
  const ProjectSpec& spec = catalog.spec();
  for (const auto& c : spec.consumers) {
    nlohmann::json j = {{"table", "curated." + c.table}};
    Status st = [&]() -> Status {
      ASSIGN_OR_RETURN(FeedPosition pos, ReadFeedPosition(catalog.conn(), c.name));
      j["started"] = pos.started && pos.table == c.table;  // moved to another table: not yet
      j["position"] = pos.position;
      if (!j["started"].get<bool>()) return Status::OK();
      ASSIGN_OR_RETURN(FeedLag lag, MeasureFeedLag(catalog.conn(), c.table, pos.position, c.tenants));
      double seconds = 0;
      if (lag.oldest_uncommitted_us) {
        seconds =
            std::max(0.0, static_cast<double>(catalog.env()->NowMicros() - *lag.oldest_uncommitted_us) / 1e6);
      }
      j["lag_changes"] = lag.changes;
      j["lag_seconds"] = seconds;
      j["stale"] = seconds > static_cast<double>(spec.feeds_max_lag_seconds);
      return Status::OK();
    }();
    if (!st.ok()) j["error"] = st.message();
    out[c.name] = std::move(j);
  }
  return out;
}

void PrintFeedStatus(std::ostream& out, const nlohmann::json& feeds) {
  if (!feeds.is_object() || feeds.empty()) return;
  out << "\nfeeds\n";
  for (auto& [name, f] : feeds.items()) {
    out << "  " << name << " (" << f.value("table", "") << "): ";
    if (f.contains("error")) {
      out << "ERROR: " << f["error"].get<std::string>() << "\n";
    } else if (!f.value("started", false)) {
      out << "not started (its feed starts at the next curate of the table)\n";
    } else {
      out << "position " << f["position"] << ", lag " << f["lag_changes"] << " changes / "
          << f["lag_seconds"].get<double>() << " s"
          << (f.value("stale", false) ? "; STALE (past feeds.max_lag; see docs/FEEDS.md, reset)" : "")
          << "\n";
    }
  }
}

}  // namespace sluice::cli
