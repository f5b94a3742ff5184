#include "serve/feeds_api.h"

#include <algorithm>
#include <cmath>
#include <variant>

#include "catalog/feeds.h"
#include "serve/server_impl.h"

namespace sluice {

namespace {

constexpr int64_t kDefaultLimit = 1000;
constexpr int64_t kMaxLimit = 10000;

std::string Quote(const std::string& s) { return nlohmann::json(s).dump(); }

std::string ConsumerNames(const ProjectSpec& spec) {
  std::string out;
  for (const auto& c : spec.consumers) out += (out.empty() ? "" : ", ") + c.name;
  return out.empty() ? "none" : out;
}

// Whether every tenant of `inner` is in `outer`.
bool Within(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
  return std::all_of(inner.begin(), inner.end(), [&](const std::string& t) {
    return std::find(outer.begin(), outer.end(), t) != outer.end();
  });
}

// A request's transaction on a pooled connection: rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(duck::Connection& conn) : conn_(conn) {}
  ~Transaction() {
    if (open_) (void)conn_.Execute("ROLLBACK");
  }
  Status Begin() {
    RETURN_IF_ERROR(conn_.Execute("BEGIN TRANSACTION"));
    open_ = true;
    return Status::OK();
  }
  Status Commit() {
    open_ = false;
    return conn_.Execute("COMMIT");
  }

 private:
  duck::Connection& conn_;
  bool open_ = false;
};

}  // namespace

struct FeedService::Lease {
  FeedService* service = nullptr;
  std::unique_ptr<duck::Connection> conn;
  Lease(FeedService* s, std::unique_ptr<duck::Connection> c) : service(s), conn(std::move(c)) {}
  Lease(Lease&& o) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (service == nullptr || conn == nullptr) return;
    std::lock_guard<std::mutex> lock(service->pool_mu_);
    service->pool_.push_back(std::move(conn));
  }
};

FeedService::FeedService(const ProjectSpec& spec, duck::Connection& lake_conn, Env* env,
                         MetricsRegistry& metrics)
    : spec_(spec), env_(env), metrics_(metrics), lake_conn_(lake_conn) {}

Result<FeedService::Lease> FeedService::Take() {
  std::unique_ptr<duck::Connection> conn;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      conn = std::move(pool_.back());
      pool_.pop_back();
    } else {
      ASSIGN_OR_RETURN(conn, lake_conn_.Connect());
    }
  }
  // A new connection's default database is the in-memory one: the lake's tables are `lake.*`.
  RETURN_IF_ERROR(conn->Execute("USE lake"));
  return Lease(this, std::move(conn));
}

Result<FeedService::Standing> FeedService::Measure(duck::Connection& conn, const ConsumerSpec& consumer) {
  Standing s;
  ASSIGN_OR_RETURN(FeedPosition pos, ReadFeedPosition(conn, consumer.name));
  // A position of another table is forgotten when a writer opens the lake (the consumer was
  // moved in sluice.yaml): until then, not started.
  if (!pos.started || pos.table != consumer.table) return s;
  s.started = true;
  s.position = pos.position;
  ASSIGN_OR_RETURN(FeedLag lag, MeasureFeedLag(conn, consumer.table, pos.position, consumer.tenants));
  s.lag_changes = lag.changes;
  s.newest_seq = lag.newest_seq;
  s.head_seq = lag.head_seq;
  if (lag.oldest_uncommitted_us) {
    s.lag_seconds = std::max(0.0, static_cast<double>(env_->NowMicros() - *lag.oldest_uncommitted_us) / 1e6);
    s.stale = s.lag_seconds > static_cast<double>(spec_.feeds_max_lag_seconds);
  }
  return s;
}

std::string FeedService::StaleMessage(const ConsumerSpec& consumer, const Standing& s) const {
  return "consumer " + consumer.name + " is stale: its oldest uncommitted change is " +
         std::to_string(static_cast<int64_t>(s.lag_seconds)) + "s old, beyond feeds.max_lag (" +
         std::to_string(spec_.feeds_max_lag_seconds) + "s); its " + std::to_string(s.lag_changes) +
         " uncommitted changes are kept, but reading resumes only after an admin moves it with POST "
         "/v1/feeds/" +
         consumer.name + "/reset {\"to\": \"latest\"} (or {\"to\": <position>}), skipping the changes before";
}

const ConsumerSpec* FeedService::Authorize(const http::Request& req, const http::Principal& who,
                                           http::Response& res) {
  const std::string& name = req.captures.at(0);
  const ConsumerSpec* consumer = spec_.FindConsumer(name);
  if (consumer == nullptr) {
    res.SetError(404, "no consumer '" + name + "' (consumers: " + ConsumerNames(spec_) + ")");
    return nullptr;
  }
  const std::string scope = "read:curated." + consumer->table;
  if (!who.Can(scope)) {
    res.SetError(403, "token " + who.name + " lacks scope " + scope + " to read consumer " + name);
    return nullptr;
  }
  // A tenant-bound token reads only consumers confined to its own tenants: a consumer of
  // every tenant, or of another tenant, would hand it rows that are not its own.
  if (who.tenants && (!consumer->tenants || !Within(*consumer->tenants, *who.tenants))) {
    res.SetError(403, "consumer " + name + " reads tenants outside those of token " + who.name);
    return nullptr;
  }
  return consumer;
}

void FeedService::Read(const http::Request& req, const http::Principal& who, http::Response& res) {
  const ConsumerSpec* consumer = Authorize(req, who, res);
  if (consumer == nullptr) return;
  int64_t limit = kDefaultLimit;
  if (std::optional<std::string> text = req.Param("limit")) {
    char* end = nullptr;
    long long n = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || n < 1 || n > kMaxLimit) {
      return res.SetError(
          400, "limit must be a number from 1 to " + std::to_string(kMaxLimit) + ", found '" + *text + "'");
    }
    limit = n;
  }
  Result<Lease> lease = Take();
  if (!lease.ok()) return res.SetError(503, "feeds unavailable: " + lease.status().message());
  duck::Connection& conn = *lease->conn;
  Transaction tx(conn);
  std::string body;
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Standing s, Measure(conn, *consumer));
    if (!s.started) {
      body = "{\"consumer\":" + Quote(consumer->name) + ",\"table\":" + Quote("curated." + consumer->table) +
             ",\"started\":false,\"position\":null,\"next_position\":null,\"changes\":[]}";
      return Status::OK();
    }
    if (s.stale) {
      res.SetError(410, StaleMessage(*consumer, s));
      return Status::OK();
    }
    ASSIGN_OR_RETURN(std::vector<FeedChange> changes,
                     ReadFeedChanges(conn, consumer->table, s.position, consumer->tenants, limit));
    RETURN_IF_ERROR(tx.Commit());
    const int64_t next = changes.empty() ? s.position : changes.back().seq;
    body = "{\"consumer\":" + Quote(consumer->name) + ",\"table\":" + Quote("curated." + consumer->table) +
           ",\"started\":true,\"position\":" + std::to_string(s.position) +
           ",\"next_position\":" + std::to_string(next) +
           ",\"lag_changes\":" + std::to_string(s.lag_changes) + ",\"changes\":[";
    for (size_t i = 0; i < changes.size(); ++i) {
      const FeedChange& c = changes[i];
      // row_json and prev_json are DuckDB's JSON text, passed through unparsed (a decimal keeps
      // its digits).
      body += std::string(i ? "," : "") + "{\"seq\":" + std::to_string(c.seq) + ",\"op\":" + Quote(c.op) +
              ",\"batch_id\":" + Quote(c.batch_id) + ",\"version\":" + std::to_string(c.version) +
              ",\"row\":" + c.row_json + ",\"previous\":" + c.prev_json.value_or("null") + "}";
    }
    body += "]}";
    return Status::OK();
  }();
  if (!st.ok())
    return res.SetError(503, "reading the feed of " + consumer->name + " failed: " + st.message());
  if (!body.empty()) {
    res.status = 200;
    res.content_type = "application/json";
    res.body = std::move(body);
  }
}

namespace {

// The integer field `field` of a JSON body, or an error message.
std::variant<int64_t, std::string> PositionField(const std::string& body, const char* field,
                                                 bool allow_latest, bool* latest) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains(field)) {
    return std::string("the body must be a JSON object with \"") + field + "\"";
  }
  const nlohmann::json& v = j[field];
  if (allow_latest && v.is_string() && v.get<std::string>() == "latest") {
    *latest = true;
    return int64_t{0};
  }
  if (!v.is_number_integer() || v.get<int64_t>() < 0) {
    return std::string("\"") + field + "\" must be a non-negative integer" +
           (allow_latest ? " or \"latest\"" : "") + ", found " + v.dump();
  }
  return v.get<int64_t>();
}

}  // namespace

void FeedService::Commit(const http::Request& req, const http::Principal& who, http::Response& res) {
  const ConsumerSpec* consumer = Authorize(req, who, res);
  if (consumer == nullptr) return;
  bool latest = false;
  auto field = PositionField(req.body, "position", false, &latest);
  if (std::holds_alternative<std::string>(field)) return res.SetError(400, std::get<std::string>(field));
  const int64_t position = std::get<int64_t>(field);
  std::lock_guard<std::mutex> lock(commit_mu_);
  Result<Lease> lease = Take();
  if (!lease.ok()) return res.SetError(503, "feeds unavailable: " + lease.status().message());
  duck::Connection& conn = *lease->conn;
  Transaction tx(conn);
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Standing s, Measure(conn, *consumer));
    if (!s.started) {
      res.SetError(409, "consumer " + consumer->name +
                            " has no position yet: its feed starts at the next curate of curated." +
                            consumer->table);
      return Status::OK();
    }
    if (position < s.position) {
      res.SetError(409, "position " + std::to_string(position) + " is behind the committed position " +
                            std::to_string(s.position) + " of " + consumer->name +
                            ": positions only move forward");
      return Status::OK();
    }
    if (position > std::max(s.position, s.newest_seq)) {
      res.SetError(409, "position " + std::to_string(position) + " is beyond the newest change of " +
                            consumer->name + "'s feed (" +
                            std::to_string(std::max(s.position, s.newest_seq)) +
                            "); commit the next_position a read returned");
      return Status::OK();
    }
    if (position > s.position)
      RETURN_IF_ERROR(WriteFeedPosition(conn, consumer->name, position, env_->NowMicros()));
    RETURN_IF_ERROR(tx.Commit());
    res.SetJson(200,
                {{"consumer", consumer->name}, {"position", position}, {"changed", position != s.position}});
    return Status::OK();
  }();
  if (!st.ok()) {
    res.SetError(503, "committing the position of " + consumer->name + " failed (retry): " + st.message());
  }
}

void FeedService::Reset(const http::Request& req, const http::Principal& who, http::Response& res) {
  if (!who.Can("admin"))
    return res.SetError(403, "token " + who.name + " lacks scope admin to reset a consumer");
  const ConsumerSpec* consumer = Authorize(req, who, res);
  if (consumer == nullptr) return;
  bool latest = false;
  auto field = PositionField(req.body, "to", true, &latest);
  if (std::holds_alternative<std::string>(field)) return res.SetError(400, std::get<std::string>(field));
  std::lock_guard<std::mutex> lock(commit_mu_);
  Result<Lease> lease = Take();
  if (!lease.ok()) return res.SetError(503, "feeds unavailable: " + lease.status().message());
  duck::Connection& conn = *lease->conn;
  Transaction tx(conn);
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Standing s, Measure(conn, *consumer));
    if (!s.started) {
      res.SetError(409, "consumer " + consumer->name + " has no position yet");
      return Status::OK();
    }
    const int64_t to = latest ? std::max(s.position, s.head_seq) : std::get<int64_t>(field);
    if (to < s.position || to > std::max(s.position, s.head_seq)) {
      res.SetError(409, "reset of " + consumer->name + " to " + std::to_string(to) + " is outside " +
                            std::to_string(s.position) + ".." +
                            std::to_string(std::max(s.position, s.head_seq)));
      return Status::OK();
    }
    RETURN_IF_ERROR(WriteFeedPosition(conn, consumer->name, to, env_->NowMicros()));
    RETURN_IF_ERROR(tx.Commit());
    res.SetJson(200, {{"consumer", consumer->name}, {"position", to}, {"skipped_from", s.position}});
    return Status::OK();
  }();
  if (!st.ok()) res.SetError(503, "resetting " + consumer->name + " failed (retry): " + st.message());
}

std::vector<http::Route> FeedService::Routes() {
  using http::Principal;
  using http::Request;
  using http::Response;
  return {
      {"GET", "/v1/feeds/([a-z_][a-z0-9_]*)", true,
       [this](const Request& q, const Principal& p, Response& r) { Read(q, p, r); }},
      {"POST", "/v1/feeds/([a-z_][a-z0-9_]*)/commit", true,
       [this](const Request& q, const Principal& p, Response& r) { Commit(q, p, r); }},
      {"POST", "/v1/feeds/([a-z_][a-z0-9_]*)/reset", true,
       [this](const Request& q, const Principal& p, Response& r) { Reset(q, p, r); }},
  };
}

nlohmann::json FeedService::StatusJson() {
  nlohmann::json out = nlohmann::json::object();
  if (spec_.consumers.empty()) return out;
  Result<Lease> lease = Take();
  if (!lease.ok()) return out;
  for (const auto& c : spec_.consumers) {
    nlohmann::json j;
    j["table"] = "curated." + c.table;
    Transaction tx(*lease->conn);
    Result<Standing> s = [&]() -> Result<Standing> {
      RETURN_IF_ERROR(tx.Begin());
      return Measure(*lease->conn, c);
    }();
    if (!s.ok()) {
      j["error"] = s.status().message();
    } else {
      j["started"] = s->started;
      j["position"] = s->position;
      j["lag_changes"] = s->lag_changes;
      j["lag_seconds"] = s->lag_seconds;
      j["stale"] = s->stale;
    }
    out[c.name] = std::move(j);
  }
  return out;
}

void FeedService::RefreshGauges() {
  nlohmann::json status = StatusJson();
  for (const auto& c : spec_.consumers) {
    const MetricLabels labels = {{"consumer", c.name}, {"table", "curated." + c.table}};
    const nlohmann::json& j = status.contains(c.name) ? status[c.name] : nlohmann::json::object();
    auto num = [&](const char* key) { return j.contains(key) ? j[key].get<double>() : 0.0; };
    metrics_.GetGauge("sluice_feed_position", "The last change sequence a consumer committed.", labels)
        .Set(num("position"));
    metrics_.GetGauge("sluice_feed_lag_changes", "Changes of a consumer's feed not yet committed.", labels)
        .Set(num("lag_changes"));
    metrics_
        .GetGauge("sluice_feed_lag_seconds", "Age of the oldest change a consumer has not committed.", labels)
        .Set(num("lag_seconds"));
    metrics_
        .GetGauge("sluice_feed_stale", "1 while a consumer is past feeds.max_lag (reads answer 410).", labels)
        .Set(j.contains("stale") && j["stale"].get<bool>() ? 1 : 0);
  }
}

Status FeedService::Prune(Catalog& catalog, int64_t max_rows) {
  std::vector<std::string> tables;
  for (const auto& c : spec_.consumers) {
    if (std::find(tables.begin(), tables.end(), c.table) == tables.end()) tables.push_back(c.table);
  }
  for (const auto& table : tables) {
    std::vector<std::string> consumers;
    for (const auto& c : spec_.consumers) {
      if (c.table == table) consumers.push_back(c.name);
    }
    RETURN_IF_ERROR(catalog.Begin());
    Result<int64_t> n = PruneFeedChanges(catalog.conn(), table, consumers, max_rows);
    if (!n.ok()) {
      (void)catalog.Rollback();
      return n.status();
    }
    RETURN_IF_ERROR(catalog.Commit());
  }
  return Status::OK();
}

std::vector<http::Route> FeedRoutes(Server::Impl& m) {
  m.feeds = std::make_shared<FeedService>(m.engine->spec(), m.engine->catalog().conn(), m.env(), m.metrics);
  return m.feeds->Routes();
}

}  // namespace sluice
