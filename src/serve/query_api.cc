// GET /v1/tables, /v1/tables/<layer>.<name> and its /rows (query_api.h), and the QueryService
// they share with the SQL endpoint.
#include "serve/query_api.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "catalog/tables.h"
#include "duck/errors.h"
#include "duck/json_encoder.h"
#include "duck/result_stream.h"
#include "serve/query_service.h"
#include "serve/rows_query.h"
#include "storage/time_travel.h"
#include "storage/version_pins.h"

namespace sluice {

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// A version being read by a request is pinned this long from the request's start: longer than
// any read, so that two publishes meanwhile do not delete it under the reader.
constexpr auto kRequestPin = std::chrono::minutes(5);

int HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// Columns of every lake table and staging view, by "<layer>.<name>", in table order.
Result<std::map<std::string, std::vector<ColumnInfo>>> LakeColumns(duck::Connection& conn) {
  ASSIGN_OR_RETURN(duck::Rows rows,
                   conn.Query("SELECT table_catalog, table_schema, table_name, column_name, data_type "
                              "FROM information_schema.columns WHERE (table_catalog = 'lake' AND "
                              "table_schema IN ('curated', 'marts')) OR table_catalog = 'staging' "
                              "ORDER BY table_catalog, table_schema, table_name, ordinal_position"));
  std::map<std::string, std::vector<ColumnInfo>> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    const std::string layer = rows.At(r, 0) == "staging" ? "staging" : rows.At(r, 1);
    out[layer + "." + rows.At(r, 2)].push_back({rows.At(r, 3), rows.At(r, 4)});
  }
  return out;
}

// The columns of a published version's files, without those publishing adds.
Result<std::vector<ColumnInfo>> VersionColumns(duck::Connection& conn, const ServedTable& t,
                                               const std::string& file) {
  ASSIGN_OR_RETURN(duck::Rows rows, conn.Query("DESCRIBE SELECT * FROM read_parquet(" + duck::Literal(file) +
                                               ", hive_partitioning = false)"));
  std::vector<ColumnInfo> out;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    const std::string name = rows.At(r, 0);
    if (std::find(t.added_columns.begin(), t.added_columns.end(), name) != t.added_columns.end()) continue;
    out.push_back({name, rows.At(r, 1)});
  }
  return out;
}

Json ColumnsJson(const std::vector<ColumnInfo>& columns) {
  Json out = Json::array();
  for (const auto& c : columns) out.push_back({{"name", c.name}, {"type", c.type}});
  return out;
}

// What /v1/tables says of one table; `detail` adds partitions and upstream tables.
Json TableJson(QueryService& s, const ServedTable& t, const std::map<std::string, TableState>& states,
               const std::map<std::string, std::vector<ColumnInfo>>& columns, const http::Principal& who,
               bool detail) {
  Json j = {{"name", t.qualified()}, {"layer", t.layer}};
  auto cols = columns.find(t.qualified());
  j["columns"] = ColumnsJson(cols == columns.end() ? std::vector<ColumnInfo>{} : cols->second);
  auto state = states.find(t.name);
  const bool has_state = t.published() && state != states.end();
  // A tenant-bound principal is not told how many rows every tenant has together.
  j["rows"] = has_state && !who.tenants ? Json(state->second.rows) : Json(nullptr);
  j["version"] = has_state ? Json(state->second.version) : Json(nullptr);
  j["published_version"] = has_state ? Json(state->second.published_version) : Json(nullptr);
  j["updated_at"] = has_state && state->second.updated_at ? Json(*state->second.updated_at) : Json(nullptr);
  j["day_key"] = t.day_key.empty() ? Json(nullptr) : Json(t.day_key);
  j["tenant_key"] = t.tenant_key.empty() ? Json(nullptr) : Json(t.tenant_key);
  Result<PublishedVersion> v = t.published() ? ReadPublishedVersion(s.env(), s.lake(), t)
                                             : Result<PublishedVersion>(Status::NotFound("staging"));
  j["max_day"] = v.ok() && !t.day_key.empty() && !v->day_files.empty() ? Json(v->day_files.rbegin()->first)
                                                                       : Json(nullptr);
  if (!detail) return j;
  j["key"] = t.key;
  j["upstream"] = t.upstream;
  Json parts = Json::object();
  if (v.ok()) {
    parts["version"] = v->version;
    parts["count"] = v->day_files.size();
    Json days = Json::array();
    if (!t.day_key.empty()) {
      for (const auto& [day, files] : v->day_files) days.push_back(day);
    }
    parts["days"] = days;
  } else {
    parts = nullptr;
  }
  j["partitions"] = parts;
  return j;
}

void ServeTables(QueryService& s, const http::Request& req, const http::Principal& who, http::Response& res) {
  const bool one = !req.captures.empty();
  const ServedTable* only = nullptr;
  if (one) {
    only = s.Find(req.captures[0]);
    if (only == nullptr || !who.Can("read:" + only->qualified())) {
      if (only != nullptr) {
        return res.SetError(403, "token '" + who.name + "' lacks the scope read:" + only->qualified());
      }
      return res.SetError(404, "no table '" + req.captures[0] + "' (tables: " + s.Readable(who) + ")");
    }
  }
  Result<QueryService::Lease> lease = s.Connect();
  if (!lease.ok()) return res.SetError(503, lease.status().message());
  Result<std::vector<TableState>> states = ListTables(lease->conn());
  if (!states.ok()) return res.SetError(500, states.status().message());
  std::map<std::string, TableState> by_name;
  for (auto& st : *states) by_name[st.name] = st;
  Result<std::map<std::string, std::vector<ColumnInfo>>> columns = LakeColumns(lease->conn());
  if (!columns.ok()) return res.SetError(500, columns.status().message());
  if (one) return res.SetJson(200, TableJson(s, *only, by_name, *columns, who, /*detail=*/true));
  Json list = Json::array();
  for (const ServedTable& t : s.tables()) {
    if (!who.Can("read:" + t.qualified())) continue;
    list.push_back(TableJson(s, t, by_name, *columns, who, /*detail=*/false));
  }
  res.SetJson(200, Json{{"tables", list}});
}

enum class Format { kJson, kCsv, kParquet };

Format FormatOf(const http::Request& req) {
  const std::string accept = req.Header("Accept").value_or("");
  if (accept.find("application/vnd.apache.parquet") != std::string::npos) return Format::kParquet;
  if (accept.find("text/csv") != std::string::npos) return Format::kCsv;
  return Format::kJson;
}

const char* FormatName(Format format) {
  switch (format) {
    case Format::kCsv:
      return "csv";
    case Format::kParquet:
      return "parquet";
    case Format::kJson:
      break;
  }
  return "json";
}

// The rows of `sql` rendered as `format` into `body` (JSON: the array of rows only): returns
// how many rows it holds, or -1 when not counted (Parquet).
Result<int64_t> RenderRows(QueryService& s, duck::Connection& conn, const std::string& sql, Format format,
                           std::string* body, std::string* content_type) {
  if (format == Format::kCsv) {
    ASSIGN_OR_RETURN(duck::Rows rows, conn.Query("SELECT COLUMNS(*)::VARCHAR FROM (" + sql + ")"));
    *content_type = "text/csv; charset=utf-8";
    *body = CsvText(rows);
    return static_cast<int64_t>(rows.rows.size());
  }
  if (format == Format::kParquet) {
    const std::string dir = s.lake() + "/" + kSpillDir;
    RETURN_IF_ERROR(s.env()->CreateDirs(dir));
    const std::string path = dir + "/serve-rows-" + NewCursorToken() + ".parquet";
    Status st = conn.Execute("COPY (" + sql + ") TO " + duck::Literal(path) + " (FORMAT parquet)");
    Result<std::string> data = st.ok() ? s.env()->ReadFile(path) : Result<std::string>(st);
    (void)s.env()->RemoveAll(path);
    if (!data.ok()) return data.status();
    *content_type = "application/vnd.apache.parquet";
    *body = std::move(*data);
    return -1;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<duck::ResultStream> result, duck::ResultStream::Open(conn, sql));
  ASSIGN_OR_RETURN(
      std::unique_ptr<duck::JsonRowWriter> writer,
      duck::JsonRowWriter::Create(result->names(), result->types(), duck::JsonRowWriter::Layout::kArray));
  int64_t n = 0;
  body->clear();
  writer->Begin(body);
  std::unique_ptr<duck::Chunk> chunk;
  while (result->Next(&chunk)) {
    writer->WriteChunk(*chunk, body);
    n += static_cast<int64_t>(chunk->size());
  }
  RETURN_IF_ERROR(result->status());
  writer->End(body);
  *content_type = "application/json";
  return n;
}

// The tenants a rows request of `who` reads: the one `tenant=` names, else all of the token's
// (empty: every tenant, for a token not bound to tenants). nullopt when `tenant=` names one the
// token is not bound to. The one place the rows endpoint decides this, kept answers included.
std::optional<std::vector<std::string>> TenantsToRead(const http::Principal& who, const RowsQuery& q) {
  if (!who.tenants) return q.tenant ? std::vector<std::string>{*q.tenant} : std::vector<std::string>{};
  if (!q.tenant) return *who.tenants;
  if (std::find(who.tenants->begin(), who.tenants->end(), *q.tenant) == who.tenants->end())
    return std::nullopt;
  return std::vector<std::string>{*q.tenant};
}

// The facts of `t`'s version `version`: kept ones, or its files listed and its columns read
// (then kept). NotFound when the version is gone.
Result<std::shared_ptr<const VersionFacts>> FactsOf(QueryService& s, duck::Connection& conn,
                                                    const ServedTable& t, int64_t version) {
  if (auto kept = s.version_facts.Find(t.qualified(), version)) return kept;
  auto facts = std::make_shared<VersionFacts>();
  ASSIGN_OR_RETURN(facts->version, ReadPublishedVersion(s.env(), s.lake(), t, version));
  if (!facts->version.day_files.empty()) {
    ASSIGN_OR_RETURN(facts->columns,
                     VersionColumns(conn, t, facts->version.day_files.begin()->second.front()));
  }
  s.version_facts.Insert(t.qualified(), facts);
  return std::shared_ptr<const VersionFacts>(std::move(facts));
}

// A first-page rows request whose answer is kept for the current version (rows_cache.h),
// answered without a DuckDB connection, a pin or a slot: the kept answer reads no file. Reads
// one symbolic link (`current`) and takes two short locks. nullopt for anything else (a
// cursor, an error to report, a version or answer not kept): ServeRows answers those.
std::optional<http::Response> KeptRowsAnswer(QueryService& s, const http::Request& req,
                                             const http::Principal& who) {
  const auto started = Clock::now();
  if (req.captures.empty() || req.Param("cursor") || req.Param("as_of")) return std::nullopt;
  const std::string& name = req.captures[0];
  const ServedTable* t = s.Find(name);
  if (t == nullptr || !t->published() || !who.Can("read:" + name)) return std::nullopt;
  if (who.tenants && (t->tenant_key.empty() || who.tenants->empty())) return std::nullopt;
  Result<int64_t> limit = ParseLimit(req.Param("limit"), s.limits().default_rows, s.limits().max_rows);
  if (!limit.ok()) return std::nullopt;
  Result<int64_t> version = CurrentPublishedVersion(s.env(), s.lake(), *t);
  if (!version.ok()) return std::nullopt;
  std::shared_ptr<const VersionFacts> facts = s.version_facts.Find(name, *version);
  if (facts == nullptr || facts->version.day_files.empty()) return std::nullopt;
  Result<RowsQuery> q = ParseRowsQuery(req.query, *t, facts->columns);
  if (!q.ok()) return std::nullopt;
  const std::optional<std::vector<std::string>> tenants = TenantsToRead(who, *q);
  if (!tenants) return std::nullopt;
  std::shared_ptr<const CachedAnswer> kept =
      s.answers.Find(RowsAnswerKey(name, *version, FormatName(FormatOf(req)), *q, *tenants, *limit));
  if (kept == nullptr) return std::nullopt;
  s.CountPartitions(*t, kept->partitions_read, kept->partitions_total);
  s.rows_answered_from_cache->Add();
  http::Response res;
  for (const auto& [k, val] : kept->headers) res.AddHeader(k, val);
  res.status = 200;
  res.content_type = kept->content_type;
  res.body = kept->body;
  s.rows_seconds->Observe(std::chrono::duration<double>(Clock::now() - started).count());
  return res;
}

void ServeRows(QueryService& s, const http::Request& req, const http::Principal& who, http::Response& res) {
  const auto started = Clock::now();
  const std::string name = req.captures[0];
  const ServedTable* t = s.Find(name);
  if (t == nullptr) return res.SetError(404, "no table '" + name + "' (tables: " + s.Readable(who) + ")");
  if (!who.Can("read:" + name))
    return res.SetError(403, "token '" + who.name + "' lacks the scope read:" + name);
  if (!t->published()) {
    return res.SetError(400, name + " has no published copy; read it with POST /v1/query");
  }
  if (who.tenants && t->tenant_key.empty()) {
    return res.SetError(403, name + " has no tenant partition; token '" + who.name +
                                 "' is bound to tenants and cannot read it");
  }
  if (who.tenants && who.tenants->empty()) {
    return res.SetError(403, "token '" + who.name + "' is bound to no tenant");
  }
  std::optional<QueryService::Slot> slot = s.TryAcquire();
  if (!slot) return s.Busy(res);
  Result<int64_t> limit = ParseLimit(req.Param("limit"), s.limits().default_rows, s.limits().max_rows);
  if (!limit.ok()) return res.SetError(400, limit.status().message());

  CursorState state;
  const std::optional<std::string> cursor = req.Param("cursor");
  if (cursor) {
    for (const auto& [k, v] : req.query) {
      if (k != "cursor" && k != "limit") {
        return res.SetError(400,
                            "a cursor carries its request's filters and order; send only cursor= "
                            "(and limit=), not " +
                                k + "=");
      }
    }
    Result<CursorState> found = s.cursors().Find(*cursor);
    if (!found.ok())
      return res.SetError(found.status().code() == StatusCode::kNotFound ? 410 : 400,
                          found.status().message());
    if (found->table != name) {
      return res.SetError(
          400, "the cursor pages " + found->table + ", not " + name + "; start again without cursor=");
    }
    if (found->principal != who.name) return res.SetError(403, "the cursor belongs to another token");
    state = *found;
  }
  Result<QueryService::Lease> lease = s.Connect();
  if (!lease.ok()) return res.SetError(503, lease.status().message());
  duck::Connection& conn = lease->conn();

  // as_of= (docs/QUERY_API.md): this table's version in that snapshot; a cursor carries it on.
  std::optional<int64_t> as_of_version;
  if (const std::optional<std::string> as_of = req.Param("as_of"); as_of && !cursor) {
    Result<TimeTravel> travel = ResolveTimeTravel(conn, *as_of);
    Status st = travel.ok() ? CheckTimeTravelReads(*travel, {name}) : travel.status();
    if (!st.ok())
      return res.SetError(st.code() == StatusCode::kNotFound ? 404 : 400, "as_of: " + st.message());
    for (const SnapshotRecord& r : travel->tables) {
      if (r.layer + "." + r.table == name) as_of_version = r.version;
    }
  }

  // The version: the cursor's, as_of's, or the one `current` names now, pinned while its files
  // are in place before they are read (publishing moves a version away only while it is not pinned).
  Result<std::shared_ptr<const VersionFacts>> facts = Status::NotFound("");
  const std::string table_dir = PublishedTableDir(s.lake(), *t);
  for (int attempt = 0; attempt < 10; ++attempt) {
    Result<int64_t> n = cursor          ? Result<int64_t>(state.version)
                        : as_of_version ? Result<int64_t>(*as_of_version)
                                        : CurrentPublishedVersion(s.env(), s.lake(), *t);
    if (!n.ok()) {
      facts = n.status();
      break;
    }
    const std::string dir = table_dir + "/v" + std::to_string(*n);
    if (PublishedVersionPins().PinIfPresent(name, *n, started + kRequestPin,
                                            [&] { return s.env()->Exists(dir); })) {
      facts = FactsOf(s, conn, *t, *n);
      break;
    }
    facts = Status::NotFound("version " + std::to_string(*n) + " of " + name + " is no longer published");
    // Without a cursor: removed between reading `current` and the pin, so `current` names a
    // newer version now.
    if (cursor || as_of_version) break;
  }
  if (!facts.ok()) {
    if (as_of_version && facts.status().code() == StatusCode::kNotFound) {
      return res.SetError(404, "as_of: version " + std::to_string(*as_of_version) + " of " + name +
                                   " has expired (retention.snapshots)");
    }
    if (cursor && facts.status().code() == StatusCode::kNotFound) {
      return res.SetError(410, "version " + std::to_string(state.version) + " of " + name +
                                   " the cursor reads is no longer kept; start again without cursor=");
    }
    if (facts.status().code() == StatusCode::kNotFound) {
      return res.SetError(404, name +
                                   " has no published version yet (serve publishes every "
                                   "transform.publish_interval); try again shortly");
    }
    return res.SetError(500, facts.status().message());
  }
  const PublishedVersion* v = &(*facts)->version;
  const std::vector<ColumnInfo>& columns = (*facts)->columns;
  if (v->day_files.empty()) {
    // Nothing published in this version (an empty table): no rows, whatever the filters.
    res.AddHeader("X-Sluice-Version", std::to_string(v->version));
    res.AddHeader("X-Sluice-Partitions", "read=0 total=0");
    s.CountPartitions(*t, 0, 0);
    return res.SetJson(200, Json{{"table", name},
                                 {"version", v->version},
                                 {"partitions", {{"read", 0}, {"total", 0}}},
                                 {"rows_total", 0},
                                 {"offset", 0},
                                 {"rows", Json::array()},
                                 {"next_cursor", nullptr}});
  }
  if (!cursor) {
    Result<RowsQuery> q = ParseRowsQuery(req.query, *t, columns);
    if (!q.ok()) return res.SetError(400, q.status().message());
    const std::optional<std::vector<std::string>> tenants = TenantsToRead(who, *q);
    if (!tenants)
      return res.SetError(403, "token '" + who.name + "' may not read tenant '" + *q->tenant + "'");
    state = CursorState{name, v->version, *q, *tenants, who.name, 0, 0};
  }
  const Format format = FormatOf(req);
  // A first page that was the whole answer is kept: the same request on the same version gets it
  // again without a read (rows_cache.h).
  const std::string answer_key =
      cursor ? std::string()
             : RowsAnswerKey(name, v->version, FormatName(format), state.query, state.tenants, *limit);
  if (!cursor) {
    if (std::shared_ptr<const CachedAnswer> kept = s.answers.Find(answer_key)) {
      s.CountPartitions(*t, kept->partitions_read, kept->partitions_total);
      s.rows_answered_from_cache->Add();
      for (const auto& [k, val] : kept->headers) res.AddHeader(k, val);
      res.status = 200;
      res.content_type = kept->content_type;
      res.body = kept->body;
      s.rows_seconds->Observe(std::chrono::duration<double>(Clock::now() - started).count());
      return;
    }
  }
  std::vector<std::string> days;
  for (const auto& [day, files] : v->day_files) days.push_back(day);
  if (!t->day_key.empty()) days = SelectDays(days, state.query);
  std::vector<std::string> files;
  for (const std::string& d : days) {
    const auto& f = v->day_files.at(d);
    files.insert(files.end(), f.begin(), f.end());
  }
  const int64_t read = static_cast<int64_t>(days.size()), total = static_cast<int64_t>(v->day_files.size());
  s.CountPartitions(*t, read, total);

  std::string sql;
  if (files.empty()) {
    // No day in range: the version's columns, no rows.
    sql =
        "SELECT * FROM (" +
        BuildRowsSql({v->day_files.begin()->second.front()}, *t, columns, state.query, state.tenants, 1, 0) +
        ") WHERE false";
    state.total = 0;
  } else {
    sql = BuildRowsSql(files, *t, columns, state.query, state.tenants, *limit, state.offset);
  }
  std::string rows_body, content_type;
  Result<int64_t> rendered = RenderRows(s, conn, sql, format, &rows_body, &content_type);
  if (!rendered.ok())
    return res.SetError(HttpStatusFor(rendered.status()), duck::FirstLine(rendered.status().message()));
  if (!cursor && !files.empty()) {
    if (*rendered >= 0 && *rendered < *limit) {
      state.total = *rendered;  // a first page short of the limit holds every matching row
    } else {
      Result<int64_t> n =
          conn.QueryInt("SELECT count(*) FROM (" +
                        BuildRowsSql(files, *t, columns, state.query, state.tenants, 0, 0) + ")");
      if (!n.ok()) return res.SetError(HttpStatusFor(n.status()), duck::FirstLine(n.status().message()));
      state.total = *n;
    }
  }
  const int64_t returned = std::max<int64_t>(0, std::min(*limit, state.total - state.offset));
  std::string next;
  if (state.offset + returned < state.total) {
    CursorState following = state;
    following.offset += returned;
    next = s.cursors().Add(following);
  }
  auto answer = std::make_shared<CachedAnswer>();
  answer->partitions_read = read;
  answer->partitions_total = total;
  answer->headers = {
      {"X-Sluice-Version", std::to_string(v->version)},
      {"X-Sluice-Partitions", "read=" + std::to_string(read) + " total=" + std::to_string(total)}};
  if (!next.empty()) answer->headers.emplace_back("X-Sluice-Next-Cursor", next);
  answer->headers.emplace_back("X-Sluice-Rows-Total", std::to_string(state.total));
  answer->content_type = content_type;
  if (format == Format::kJson) {
    const Json head = {{"table", name},
                       {"version", v->version},
                       {"partitions", {{"read", read}, {"total", total}}},
                       {"rows_total", state.total},
                       {"offset", state.offset}};
    std::string body = head.dump();
    body.pop_back();  // the closing brace: the rows follow
    body += ",\"rows\":";
    body += rows_body;
    body += ",\"next_cursor\":" + (next.empty() ? std::string("null") : Json(next).dump()) + "}\n";
    answer->body = std::move(body);
  } else {
    answer->body = std::move(rows_body);
  }
  for (const auto& [k, val] : answer->headers) res.AddHeader(k, val);
  res.status = 200;
  res.content_type = answer->content_type;
  res.body = answer->body;
  if (!cursor && next.empty()) s.answers.Insert(answer_key, std::move(answer));
  s.rows_seconds->Observe(std::chrono::duration<double>(Clock::now() - started).count());
}

}  // namespace

std::string CsvText(const duck::Rows& rows) {
  auto field = [](const std::string& v) {
    if (!v.empty() && v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  std::string out;
  for (size_t c = 0; c < rows.names.size(); ++c) out += (c ? "," : "") + field(rows.names[c]);
  out += "\n";
  for (const auto& r : rows.rows) {
    for (size_t c = 0; c < r.size(); ++c) out += (c ? "," : "") + (r[c] ? field(*r[c]) : "");
    out += "\n";
  }
  return out;
}

// ---- QueryService ---------------------------------------------------------------------------

QueryService::QueryService(Server::Impl& impl)
    : impl_(impl),
      limits_(impl.engine->spec().serve.query),
      tables_(ServedTables(impl.engine->spec())),
      cursors_(&PublishedVersionPins(), std::chrono::milliseconds(limits_.cursor_ttl_ms)) {
  MetricsRegistry& m = impl.metrics;
  for (const ServedTable& t : tables_) {
    const MetricLabels labels = {{"table", t.qualified()}};
    TableMetrics tm;
    if (t.published()) {
      tm.read = &m.GetCounter("sluice_query_partitions_read_total",
                              "Partitions (published day files) read by rows requests.", labels);
      tm.total =
          &m.GetCounter("sluice_query_partitions_total",
                        "Partitions of the versions rows requests read from (read + skipped).", labels);
      tm.per_request = &m.GetHistogram("sluice_query_partitions_read", "Partitions read per rows request.",
                                       {0, 1, 2, 5, 10, 30, 100, 366, 1000}, labels);
    }
    table_metrics_.push_back(tm);
  }
  rows_seconds = &m.GetHistogram("sluice_query_seconds", "Duration of a read request of the query API.",
                                 LatencyBuckets(), {{"endpoint", "rows"}});
  sql_seconds = &m.GetHistogram("sluice_query_seconds", "Duration of a read request of the query API.",
                                LatencyBuckets(), {{"endpoint", "sql"}});
  refused_busy = &m.GetCounter("sluice_query_refused_total",
                               "Read requests refused with 429: serve.query.max_concurrent were running.");
  rows_answered_from_cache = &m.GetCounter(
      "sluice_query_rows_cache_hits_total",
      "Rows requests answered from a kept answer of the same request on the same published version.");
  sql_timeouts =
      &m.GetCounter("sluice_query_timeouts_total", "SQL queries interrupted after serve.query.timeout.");
}

QueryService::Lease::~Lease() {
  if (!conn_) return;
  std::lock_guard<std::mutex> lock(owner_->pool_mu_);
  owner_->pool_.push_back(std::move(conn_));
}

Result<QueryService::Lease> QueryService::Connect() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      Lease lease(this, std::move(pool_.back()));
      pool_.pop_back();
      return lease;
    }
  }
  // A connection of our own on the engine's database (never the engine thread's connection).
  ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> conn, impl_.engine->catalog().conn().Connect());
  RETURN_IF_ERROR(conn->Execute("USE lake"));
  return Lease(this, std::move(conn));
}

std::optional<QueryService::Slot> QueryService::TryAcquire() {
  if (running_.fetch_add(1) >= limits_.max_concurrent) {
    running_.fetch_sub(1);
    refused_busy->Add();
    return std::nullopt;
  }
  return Slot(&running_);
}

void QueryService::Busy(http::Response& res) {
  res.AddHeader("Retry-After", "1");
  res.SetError(429, std::to_string(limits_.max_concurrent) +
                        " reads are running (serve.query.max_concurrent); retry after 1 s");
}

const ServedTable* QueryService::Find(const std::string& qualified) const {
  for (const ServedTable& t : tables_) {
    if (t.qualified() == qualified) return &t;
  }
  return nullptr;
}

std::string QueryService::Readable(const http::Principal& who) const {
  std::string out;
  for (const ServedTable& t : tables_) {
    if (who.Can("read:" + t.qualified())) out += (out.empty() ? "" : ", ") + t.qualified();
  }
  return out.empty() ? "none readable with this token" : out;
}

void QueryService::CountPartitions(const ServedTable& table, int64_t read, int64_t total) {
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (&tables_[i] != &table || table_metrics_[i].read == nullptr) continue;
    table_metrics_[i].read->Add(static_cast<double>(read));
    table_metrics_[i].total->Add(static_cast<double>(total));
    table_metrics_[i].per_request->Observe(static_cast<double>(read));
  }
}

// ---- Routes ---------------------------------------------------------------------------------

std::vector<http::Route> QueryRoutes(Server::Impl& impl) {
  auto service = std::make_shared<QueryService>(impl);
  std::vector<http::Route> routes;
  routes.push_back({"GET", "/v1/tables", true,
                    [service](const http::Request& req, const http::Principal& who, http::Response& res) {
                      ServeTables(*service, req, who, res);
                    }});
  routes.push_back({"GET", "/v1/tables/([^/]+)", true,
                    [service](const http::Request& req, const http::Principal& who, http::Response& res) {
                      ServeTables(*service, req, who, res);
                    }});
  http::Route rows{"GET", "/v1/tables/([^/]+)/rows", true,
                   [service](const http::Request& req, const http::Principal& who, http::Response& res) {
                     ServeRows(*service, req, who, res);
                   }};
  // A kept answer goes out from the I/O thread, without the hand-over to a worker and back.
  rows.admit = [service](const http::Request& req, const http::Principal& who) {
    return http::Admission{KeptRowsAnswer(*service, req, who), nullptr, nullptr};
  };
  routes.push_back(std::move(rows));
  routes.push_back(SqlQueryRoute(service));
  return routes;
}

}  // namespace sluice
