// POST /v1/query {"sql": "..."}: one read-only query through the statement gate of `sluice
// query` (catalog/user_query.h), on a connection of the query service's pool, with a row limit,
// a time limit (Connection::Interrupt from a timer) and the service's concurrency limit.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "catalog/user_query.h"
#include "duck/errors.h"
#include "duck/json_encoder.h"
#include "duck/result_stream.h"
#include "serve/query_api.h"
#include "serve/query_service.h"
#include "serve/tenant_views.h"
#include "storage/time_travel.h"
#include "storage/version_pins.h"

namespace sluice {

namespace {

using Clock = std::chrono::steady_clock;

// Interrupts the query on `conn` unless Done() is called within `timeout`.
class Deadline {
 public:
  Deadline(duck::Connection& conn, std::chrono::milliseconds timeout) {
    thread_ = std::thread([this, &conn, timeout] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, timeout, [this] { return done_; })) {
        expired_ = true;
        conn.Interrupt();
      }
    });
  }
  ~Deadline() { Done(); }
  // Stops the timer; whether it had fired.
  bool Done() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return expired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool expired_ = false;
  std::thread thread_;
};

// The SQL of the request body, or a one-line reason it has none; `as_of` gets the body's
// "as_of" (a snapshot number or a timestamp string), "" without one.
Result<std::string> SqlOf(const http::Request& req, std::string* as_of) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object {\"sql\": \"SELECT ...\"}");
  }
  if (!body.contains("sql") || !body["sql"].is_string()) {
    return Status::InvalidArgument("the body needs \"sql\": a string holding one query");
  }
  if (body.contains("as_of")) {
    const auto& v = body["as_of"];
    if (v.is_number_integer()) {
      *as_of = v.dump();
    } else if (v.is_string() && !v.get<std::string>().empty()) {
      *as_of = v.get<std::string>();
    } else {
      return Status::InvalidArgument("\"as_of\" must be a snapshot number or a timestamp string");
    }
  }
  std::string sql = body["sql"].get<std::string>();
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
    sql.pop_back();
  }
  return sql;
}

// Whether `who` may read every table `parsed` names; otherwise sets the refusal on `res`. For a
// tenant-bound token, each must be a served table with a tenant column, collected in `tables`.
bool AdmitTables(QueryService& s, const duck::ParsedSql& parsed, const http::Principal& who,
                 http::Response& res, std::vector<const ServedTable*>* tables) {
  for (const duck::SqlTableRef& t : parsed.tables) {
    if (t.schema.empty()) continue;  // a CTE name (the gate admits no other unqualified table)
    const std::string scope = "read:" + t.schema + "." + t.name;
    if (!who.Can(scope)) {
      res.SetError(403,
                   "token '" + who.name + "' lacks the scope " + scope + " (" + t.position.ToString() + ")");
      return false;
    }
    if (!who.tenants) continue;
    const ServedTable* table = s.Find(t.schema + "." + t.name);
    if (table == nullptr) {
      std::string readable;
      for (const ServedTable& r : s.tables()) {
        if (r.lake_tenant_column.empty() || !who.Can("read:" + r.qualified())) continue;
        readable += (readable.empty() ? "" : ", ") + r.qualified();
      }
      res.SetError(400, "query refused: " + t.position.ToString() + ": no table " + t.schema + "." + t.name +
                            " (readable by token '" + who.name +
                            "': " + (readable.empty() ? "none" : readable) + ")");
      return false;
    }
    if (table->lake_tenant_column.empty()) {
      res.SetError(403, table->qualified() + " has no tenant column; token '" + who.name +
                            "' is bound to tenants and cannot read it (" + t.position.ToString() + ")");
      return false;
    }
    if (std::find(tables->begin(), tables->end(), table) == tables->end()) tables->push_back(table);
  }
  return true;
}

void ServeSql(QueryService& s, const http::Request& req, const http::Principal& who, http::Response& res) {
  const auto started = Clock::now();
  std::string as_of;
  Result<std::string> sql = SqlOf(req, &as_of);
  if (!sql.ok()) return res.SetError(400, sql.status().message());
  if (who.tenants && who.tenants->empty()) {
    return res.SetError(403, "token '" + who.name + "' is bound to no tenant");
  }
  std::optional<QueryService::Slot> slot = s.TryAcquire();
  if (!slot) return s.Busy(res);
  Result<QueryService::Lease> lease = s.Connect();
  if (!lease.ok()) return res.SetError(503, lease.status().message());
  duck::Connection& conn = lease->conn();

  // The gate: one query over the lake's schemas, the allowed table functions only; for a
  // tenant-bound token the stricter rules of its views (serve/tenant_views.h).
  const duck::ReadOnlyRules& rules = who.tenants ? TenantQueryRules() : UserQueryRules();
  auto check = [&](const std::string& text) -> Result<duck::ParsedSql> {
    ASSIGN_OR_RETURN(duck::ParsedSql parsed, duck::ParseSql(conn, text));
    RETURN_IF_ERROR(duck::CheckReadOnlySelect(parsed, rules));
    return parsed;
  };
  const std::string bound =
      who.tenants
          ? " (token '" + who.name + "' is bound to tenants: its SQL reads curated and marts tables only)"
          : "";
  Result<duck::ParsedSql> admitted = check(*sql);
  if (!admitted.ok()) return res.SetError(400, "query refused: " + admitted.status().message() + bound);
  std::vector<const ServedTable*> tenant_tables;
  if (!AdmitTables(s, *admitted, who, res, &tenant_tables)) return;
  const int64_t max_rows = s.limits().max_rows;
  std::string run = *sql;
  if (admitted->kind == duck::SqlStatementKind::kSelect) {
    // One row more than the limit tells a result that is too large from one that fits.
    run = "SELECT * FROM (" + *sql + "\n) LIMIT " + std::to_string(max_rows + 1);
    Result<duck::ParsedSql> wrapped = check(run);
    if (!wrapped.ok()) return res.SetError(400, "query refused: " + wrapped.status().message() + bound);
  }
  // as_of (docs/QUERY_API.md): the tables of that snapshot, pinned for the request, read through
  // views of a database of this request's own (storage/time_travel.h); a tenant-bound token's
  // views filter those instead of the lake's tables.
  std::string travel_db;
  if (!as_of.empty()) {
    Result<TimeTravel> travel = ResolveTimeTravel(conn, as_of);
    std::vector<std::string> reads;
    for (const duck::SqlTableRef& t : admitted->tables) {
      if (t.catalog.empty() && !t.schema.empty()) reads.push_back(t.schema + "." + t.name);
    }
    Status st = travel.ok() ? CheckTimeTravelReads(*travel, reads) : travel.status();
    if (st.ok()) {
      for (const SnapshotRecord& r : travel->tables) {
        const std::string dir = s.lake() + "/" + r.path;
        if (!PublishedVersionPins().PinIfPresent(
                r.layer + "." + r.table, r.version,
                started + std::chrono::milliseconds(s.limits().timeout_ms) + std::chrono::minutes(1),
                [&] { return s.env()->Exists(dir); })) {
          st = Status::NotFound("snapshot " + std::to_string(r.snapshot) + " of " + r.layer + "." + r.table +
                                " has expired");
          break;
        }
      }
    }
    if (!st.ok()) {
      return res.SetError(st.code() == StatusCode::kNotFound ? 404 : 400, "as_of: " + st.message());
    }
    static std::atomic<int64_t> next{0};
    travel_db = "as_of_" + std::to_string(next.fetch_add(1));
    Status attached = AttachTimeTravel(conn, s.spec(), *travel, travel_db, /*search_path=*/!who.tenants);
    if (!attached.ok()) {
      (void)DetachTimeTravel(conn, travel_db);
      lease->Discard();
      return res.SetError(500, "query failed: " + duck::FirstLine(attached.message()));
    }
  }
  std::unique_ptr<TenantViews> views;
  if (who.tenants) {
    Result<std::unique_ptr<TenantViews>> bound_views =
        TenantViews::Bind(conn, tenant_tables, *who.tenants, travel_db.empty() ? "lake" : travel_db);
    if (!bound_views.ok()) {
      lease->Discard();  // whatever state the binding left it in
      return res.SetError(500, "query failed: " + duck::FirstLine(bound_views.status().message()));
    }
    views = std::move(*bound_views);
  }
  const std::string accept = req.Header("Accept").value_or("");
  const bool csv = accept.find("text/csv") != std::string::npos;
  const bool lines = accept.find("application/x-ndjson") != std::string::npos;
  std::string out;
  int64_t rows = 0;
  Status st;
  bool timed_out = false;
  if (csv) {
    // DuckDB's text of every value, as `sluice query --format csv` prints it.
    Deadline deadline(conn, std::chrono::milliseconds(s.limits().timeout_ms));
    Result<duck::Rows> text = conn.Query(admitted->kind == duck::SqlStatementKind::kSelect
                                             ? "SELECT COLUMNS(*)::VARCHAR FROM (" + run + ")"
                                             : run);
    if (text.ok()) {
      rows = static_cast<int64_t>(text->rows.size());
      out = CsvText(*text);
    } else {
      st = text.status();
    }
    timed_out = deadline.Done();
  } else {
    Deadline deadline(conn, std::chrono::milliseconds(s.limits().timeout_ms));
    Result<std::unique_ptr<duck::ResultStream>> result = duck::ResultStream::Open(conn, run);
    if (result.ok()) {
      Result<std::unique_ptr<duck::JsonRowWriter>> writer = duck::JsonRowWriter::Create(
          (*result)->names(), (*result)->types(),
          lines ? duck::JsonRowWriter::Layout::kLines : duck::JsonRowWriter::Layout::kArray);
      if (writer.ok()) {
        (*writer)->Begin(&out);
        std::unique_ptr<duck::Chunk> chunk;
        while ((*result)->Next(&chunk)) {
          (*writer)->WriteChunk(*chunk, &out);
          if (static_cast<int64_t>((*writer)->rows()) > max_rows) break;
        }
        st = (*result)->status();
        (*writer)->End(&out);
        rows = static_cast<int64_t>((*writer)->rows());
      } else {
        st = writer.status();
      }
    } else {
      st = result.status();
    }
    timed_out = deadline.Done();
  }
  if (views && !views->Unbind().ok()) lease->Discard();
  if (!travel_db.empty() && !DetachTimeTravel(conn, travel_db).ok()) lease->Discard();
  s.sql_seconds->Observe(std::chrono::duration<double>(Clock::now() - started).count());
  if (timed_out && !st.ok()) {
    s.sql_timeouts->Add();
    return res.SetError(408, "the query ran longer than serve.query.timeout (" +
                                 std::to_string(s.limits().timeout_ms) + " ms) and was stopped");
  }
  if (!st.ok()) {
    return res.SetError(
        st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ? 400 : 500,
        "query failed: " + duck::FirstLine(st.message()));
  }
  if (rows > max_rows) {
    return res.SetError(413, "the result has more than " + std::to_string(max_rows) +
                                 " rows (serve.query.max_rows); add a LIMIT or filters");
  }
  res.status = 200;
  res.AddHeader("X-Sluice-Row-Count", std::to_string(rows));
  if (csv || lines) {
    res.content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
    res.body = std::move(out);
    return;
  }
  res.content_type = "application/json";
  res.body = "{\"rows\":" + out + ",\"row_count\":" + std::to_string(rows) + "}\n";
}

}  // namespace

http::Route SqlQueryRoute(std::shared_ptr<QueryService> service) {
  return {"POST", "/v1/query", true,
          [service = std::move(service)](const http::Request& req, const http::Principal& who,
                                         http::Response& res) { ServeSql(*service, req, who, res); }};
}

}  // namespace sluice
