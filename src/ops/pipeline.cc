#include "ops/pipeline.h"

#include <algorithm>
#include <cstdio>

#include "common/env.h"

namespace sluice {

namespace {

using Json = nlohmann::ordered_json;

const char* KindOfTable(const TableSpec& t) { return t.kind == TableKind::kMart ? "mart" : "curated"; }
std::string Qualified(const TableSpec& t) {
  return (t.kind == TableKind::kMart ? "marts." : "curated.") + t.name;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Seconds from `at_us` to `now_us` (never negative); null without a time.
Json Age(std::optional<int64_t> at_us, int64_t now_us) {
  if (!at_us) return nullptr;
  return static_cast<double>(std::max<int64_t>(0, now_us - *at_us)) / 1e6;
}

Json TimeJson(std::optional<int64_t> at_us) {
  return at_us ? Json(FormatTimestampMicros(*at_us)) : Json(nullptr);
}

const nlohmann::json& Member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

double Number(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = Member(j, key);
  return v.is_number() ? v.get<double>() : 0.0;
}

}  // namespace

const char* PipelineStageName(PipelineStage stage) {
  switch (stage) {
    case PipelineStage::kSource:
      return "sources";
    case PipelineStage::kStaging:
      return "staging";
    case PipelineStage::kCurated:
      return "curated";
    case PipelineStage::kMart:
      return "marts";
    case PipelineStage::kConsumer:
      break;
  }
  return "consumers";
}

PipelineShape ShapeOf(const ProjectSpec& spec) {
  PipelineShape out;
  for (const auto& s : spec.sources) {
    out.nodes.push_back({"sources." + s.name, "source", s.name, PipelineStage::kSource, "staging." + s.name});
  }
  for (const auto& s : spec.sources) {
    out.nodes.push_back(
        {"staging." + s.name, "staging", "staging." + s.name, PipelineStage::kStaging, "staging." + s.name});
    out.edges.push_back({"sources." + s.name, "staging." + s.name});
  }
  for (const auto& t : spec.tables) {
    const std::string q = Qualified(t);
    out.nodes.push_back({q, KindOfTable(t), q,
                         t.kind == TableKind::kMart ? PipelineStage::kMart : PipelineStage::kCurated, q});
    if (t.kind == TableKind::kCurated) {
      out.edges.push_back({"staging." + t.from, q});
      continue;
    }
    // The spec names them without their layer: marts (depends_on), curated tables, staging.
    for (const auto& in : t.reads_staging) out.edges.push_back({"staging." + in, q});
    for (const auto& in : t.reads_curated) out.edges.push_back({"curated." + in, q});
    for (const auto& in : t.depends_on) out.edges.push_back({"marts." + in, q});
  }
  // Consumers of the data: published Parquet copies, PostgreSQL tables, feed consumers.
  for (const auto& t : spec.tables) {
    const std::string q = Qualified(t);
    out.nodes.push_back({"published." + q, "parquet", q + " (Parquet)", PipelineStage::kConsumer, q});
    out.edges.push_back({q, "published." + q});
  }
  if (spec.serve.postgres) {
    for (const auto& q : spec.serve.postgres->publish) {
      const std::string table = q.substr(q.find('.') + 1);
      const std::string id = "postgres." + spec.serve.postgres->schema + "." + table;
      out.nodes.push_back({id, "postgres", spec.serve.postgres->schema + "." + table + " (PostgreSQL)",
                           PipelineStage::kConsumer, q});
      out.edges.push_back({q, id});
    }
  }
  for (const auto& c : spec.consumers) {
    const std::string q = "curated." + c.table;
    out.nodes.push_back({"consumers." + c.name, "consumer", c.name + " (feed)", PipelineStage::kConsumer, q});
    out.edges.push_back({q, "consumers." + c.name});
  }
  return out;
}

Result<PipelineFacts> ReadPipelineFacts(Catalog& catalog, const ProjectSpec& spec, int64_t recent_batches) {
  PipelineFacts out;
  for (const auto& s : spec.sources) {
    ASSIGN_OR_RETURN(out.sources[s.name], TotalsOf(catalog, s.name));
    ASSIGN_OR_RETURN(out.dlq[s.name], CountDeadLettersByReason(catalog, s.name));
  }
  ASSIGN_OR_RETURN(std::vector<TableState> tables, ListTables(catalog));
  for (auto& t : tables) out.tables[t.name] = std::move(t);
  ASSIGN_OR_RETURN(out.recent_batches, RecentBatches(catalog, recent_batches));
  return out;
}

std::optional<int64_t> ParseCatalogTimestamp(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char frac[8] = {0};
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d.%6[0-9]", &y, &mo, &d, &h, &mi, &s, frac);
  if (n < 6 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t micros = 0;
  if (n == 7) {
    std::string f(frac);
    f.resize(6, '0');
    micros = std::stoll(f);
  }
  const int64_t seconds = DaysFromCivil(y, mo, d) * 86400 + int64_t{h} * 3600 + int64_t{mi} * 60 + int64_t{s};
  return seconds * 1000000 + micros;
}

Json PipelineJson(const ProjectSpec& spec, const PipelineFacts& facts, const nlohmann::json& status,
                  int64_t now_us, const std::function<bool(const std::string&)>& can_read) {
  const PipelineShape shape = ShapeOf(spec);
  const nlohmann::json& transform_error = Member(status, "transform_error");
  const nlohmann::json& warehouse = Member(status, "warehouse");
  Json nodes = Json::array();
  for (const PipelineNode& n : shape.nodes) {
    const bool visible = can_read(n.dataset);
    Json j = {{"id", n.id}, {"kind", n.kind}, {"stage", PipelineStageName(n.stage)}, {"label", n.label}};
    std::string state = "ok";
    std::optional<int64_t> rows, updated_us;
    Json detail = Json::object();
    const std::string name = n.id.substr(n.id.find('.') + 1);
    if (n.kind == "source" || n.kind == "staging") {
      const SourceSpec* s = spec.FindSource(name);
      auto totals = facts.sources.find(name);
      const SourceTotals t = totals == facts.sources.end() ? SourceTotals{} : totals->second;
      updated_us = ParseCatalogTimestamp(t.last_batch_at);
      if (t.batches == 0) state = "idle";
      if (n.kind == "source") {
        const nlohmann::json& live = Member(Member(status, "sources"), name.c_str());
        j["type"] = SourceTypeName(s->type);
        rows = t.rows_read;
        detail["dead_lettered"] = t.rows_dead;
        if (live.is_object()) {
          detail["lag_messages"] = Number(live, "lag_messages");
          detail["lag_seconds"] = Number(live, "lag_seconds");
          // A NATS source: the stream position its consumer has committed (docs/JETSTREAM.md).
          if (live.contains("committed_seq")) {
            detail["stream"] = live["stream"];
            detail["committed_seq"] = live["committed_seq"];
          }
          if (Member(live, "paused").is_boolean() && live["paused"].get<bool>()) state = "warning";
          if (live.contains("error")) {
            state = "error";
            j["error"] = live["error"];
          }
        }
      } else {
        rows = t.rows_staged;
        detail["batches"] = t.batches;
        detail["late"] = t.rows_late;
      }
    } else if (n.kind == "curated" || n.kind == "mart" || n.kind == "parquet" || n.kind == "postgres") {
      const std::string table = n.dataset.substr(n.dataset.find('.') + 1);
      auto it = facts.tables.find(table);
      const bool built = it != facts.tables.end() && it->second.version > 0;
      if (!built) state = "idle";
      if (n.kind == "curated" || n.kind == "mart") {
        if (built) {
          rows = it->second.rows;
          updated_us = ParseCatalogTimestamp(it->second.updated_at.value_or(""));
          detail["version"] = it->second.version;
        }
        if (transform_error.is_string()) {
          state = "error";
          j["error"] = transform_error;
        }
      } else if (n.kind == "parquet") {
        if (built) {
          detail["version"] = it->second.version;
          detail["published_version"] = it->second.published_version;
          updated_us = ParseCatalogTimestamp(it->second.updated_at.value_or(""));
          // The published copy holds the table's rows once it holds its latest version.
          if (it->second.published_version == it->second.version) {
            rows = it->second.rows;
          } else {
            state = "warning";  // behind: publishing runs every transform.publish_interval
          }
        }
      } else {
        const nlohmann::json& pg = Member(Member(warehouse, "tables"), n.dataset.c_str());
        if (pg.is_object()) {
          detail["version"] = pg["lake_version"];
          detail["published_version"] = pg["published_version"];
          if (built && pg["published_version"] == pg["lake_version"] &&
              pg["lake_version"].get<int64_t>() == it->second.version) {
            rows = it->second.rows;
          } else if (built) {
            state = "warning";
          }
        }
        detail["lag_seconds"] = Number(warehouse, "lag_seconds");
        if (Member(warehouse, "error").is_string()) {
          state = "error";
          j["error"] = warehouse["error"];
        }
      }
    } else {  // consumer
      const nlohmann::json& feed = Member(Member(status, "feeds"), name.c_str());
      if (feed.is_object()) {
        detail["lag_changes"] = Number(feed, "lag_changes");
        detail["lag_seconds"] = Number(feed, "lag_seconds");
        detail["position"] = Number(feed, "position");
        if (Member(feed, "started").is_boolean() && !feed["started"].get<bool>()) state = "idle";
        if (Member(feed, "stale").is_boolean() && feed["stale"].get<bool>()) state = "warning";
        if (feed.contains("error")) {
          state = "error";
          j["error"] = feed["error"];
        }
      }
    }
    j["state"] = state;
    j["rows"] = visible && rows ? Json(*rows) : Json(nullptr);
    j["updated_at"] = TimeJson(updated_us);
    j["freshness_seconds"] = Age(updated_us, now_us);
    j["detail"] = visible ? detail : Json::object();
    nodes.push_back(std::move(j));
  }
  Json edges = Json::array();
  for (const auto& e : shape.edges) edges.push_back({{"from", e.from}, {"to", e.to}});

  Json batches = Json::array();
  for (const BatchRecord& b : facts.recent_batches) {
    if (!can_read("staging." + b.source)) continue;
    batches.push_back(
        {{"source", b.source},
         {"batch_id", b.batch_id},
         {"status", b.status},
         {"rows_read", b.rows_read},
         {"rows_staged", b.rows_staged},
         {"rows_dead", b.rows_dead},
         {"committed_at", FormatTimestampMicros(b.committed_at)},
         {"seconds", static_cast<double>(std::max<int64_t>(0, b.committed_at - b.started_at)) / 1e6},
         {"correlation_id", b.correlation_id}});
  }
  Json dlq = Json::array();
  for (const auto& s : spec.sources) {
    auto it = facts.dlq.find(s.name);
    if (it == facts.dlq.end() || !can_read("staging." + s.name)) continue;
    for (const auto& r : it->second) {
      dlq.push_back({{"source", s.name}, {"reason", r.reason}, {"rows", r.rows}, {"open", r.open}});
    }
  }
  return Json{{"project", spec.name}, {"generated_at", FormatTimestampMicros(now_us)},
              {"nodes", nodes},       {"edges", edges},
              {"batches", batches},   {"dlq", dlq}};
}

}  // namespace sluice
