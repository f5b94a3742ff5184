// sluice_lookup_load: the load client of the lookup benchmark (bench/lookup.sh, bench/README.md
// "Mart lookups"). Not a test.
//
//   lookup    N client threads look up one (tenant, day) of a mart for a fixed time, each over
//             its own connection, against one target:
//               sluice    GET /v1/tables/marts.<mart>/rows?tenant=T&day_from=D&day_to=D over an
//                         HTTP keep-alive connection (the JSON answer, as a client gets it)
//               postgres  the same rows from <schema>.<mart> through libpq, a prepared statement
//                         (same columns, same order, same row limit as the rows endpoint)
//             Both targets draw the same sequence of keys per thread (a fixed seed). With
//             --vary-limit N each request's page size is limit + a draw below N (on both
//             targets): requests then rarely repeat, so sluice answers few from kept answers
//             (src/serve/rows_cache.h) and the figures are those of a read. Prints JSON
//             {requests, errors, req_per_s, p50_ms, p99_ms, ...}. A request that fails (an HTTP
//             status other than 200, a broken connection, a PostgreSQL error) is counted and
//             the thread goes on; its latency is not part of the quantiles.
//   compare   once sluice's published copy of the mart, its version in the lake and the version
//             PostgreSQL holds are the same (waits up to --wait-s for that), reads every key
//             from both and compares the rows as text (sluice's CSV answer against
//             PostgreSQL's text output); then checks that the versions did not move meanwhile.
//             Exits 1 on any difference, naming the first.
//
// Keys come from a file of "tenant day" lines (bench/lookup.sh writes it from PostgreSQL).
// Every subcommand prints one JSON object on stdout and exits 0, or prints why on stderr and
// exits 1. Talks to 127.0.0.1 and the DSN given only.
#include <httplib.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "load_args.h"

namespace {

using Json = nlohmann::json;
using sluice::bench::Args;
using sluice::bench::Clock;
using sluice::bench::Die;
using sluice::bench::kRequired;
using sluice::bench::Since;

struct Key {
  std::string tenant, day;
};

std::vector<Key> ReadKeys(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read keys file " + path);
  std::vector<Key> keys;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    Key k;
    if (!(words >> k.tenant >> k.day)) continue;
    keys.push_back(k);
  }
  if (keys.empty()) Die("no 'tenant day' line in " + path);
  return keys;
}

double Quantile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}

// "a b" -> "a%20b" and the like: keys are plain tenant ids and days, but encode anyway.
std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string RowsPath(const std::string& mart, const Key& k) {
  return "/v1/tables/marts." + mart + "/rows?tenant=" + UrlEncode(k.tenant) +
         "&day_from=" + UrlEncode(k.day) + "&day_to=" + UrlEncode(k.day);
}

std::string PgIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// ---- PostgreSQL -----------------------------------------------------------------------------

struct Pg {
  PGconn* conn = nullptr;
  explicit Pg(const std::string& dsn) {
    conn = PQconnectdb(dsn.c_str());
    if (PQstatus(conn) != CONNECTION_OK) Die(std::string("PostgreSQL: ") + PQerrorMessage(conn));
  }
  ~Pg() { PQfinish(conn); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;

  // Rows of `sql` as text (NULL as nullopt); dies on an error.
  std::vector<std::vector<std::optional<std::string>>> Query(const std::string& sql,
                                                             const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    PGresult* r = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string msg = PQresultErrorMessage(r);
      PQclear(r);
      Die("PostgreSQL: " + sql + ": " + msg);
    }
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < PQnfields(r); ++c) {
        row.push_back(PQgetisnull(r, i, c) ? std::nullopt : std::optional<std::string>(PQgetvalue(r, i, c)));
      }
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
};

// The lookup as PostgreSQL gets it: the mart's columns (as sluice serves them, in its order),
// the same filters, ordered by every column as the rows endpoint orders a mart, the same limit
// (0: a third parameter).
std::string PgLookupSql(const std::string& schema, const std::string& mart,
                        const std::vector<std::string>& columns, const std::string& tenant_col,
                        const std::string& day_col, int64_t limit) {
  std::string select, order;
  for (const auto& c : columns) {
    select += (select.empty() ? "" : ", ") + PgIdent(c);
    order += (order.empty() ? "" : ", ") + PgIdent(c) + " ASC NULLS LAST";
  }
  return "SELECT " + select + " FROM " + PgIdent(schema) + "." + PgIdent(mart) + " WHERE " +
         PgIdent(tenant_col) + " = $1 AND " + PgIdent(day_col) + " = $2::date ORDER BY " + order + " LIMIT " +
         (limit > 0 ? std::to_string(limit) : std::string("$3::bigint"));
}

// ---- sluice ---------------------------------------------------------------------------------

httplib::Client Client(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  c.set_connection_timeout(10, 0);
  c.set_read_timeout(60, 0);
  c.set_write_timeout(10, 0);
  return c;
}

struct TableFacts {
  std::vector<std::string> columns;
  std::string tenant_key, day_key;
  int64_t version = 0, published_version = 0;
};

TableFacts SluiceTable(httplib::Client& c, const std::string& mart) {
  auto r = c.Get("/v1/tables/marts." + mart);
  if (!r || r->status != 200) {
    Die("GET /v1/tables/marts." + mart + ": " +
        (r ? "HTTP " + std::to_string(r->status) + " " + r->body : httplib::to_string(r.error())));
  }
  Json j = Json::parse(r->body, nullptr, false);
  if (j.is_discarded()) Die("GET /v1/tables/marts." + mart + ": unreadable answer");
  TableFacts t;
  for (const auto& c : j["columns"]) t.columns.push_back(c["name"].get<std::string>());
  t.tenant_key = j["tenant_key"].is_string() ? j["tenant_key"].get<std::string>() : "";
  t.day_key = j["day_key"].is_string() ? j["day_key"].get<std::string>() : "";
  t.version = j["version"].is_number() ? j["version"].get<int64_t>() : 0;
  t.published_version = j["published_version"].is_number() ? j["published_version"].get<int64_t>() : 0;
  if (t.columns.empty() || t.tenant_key.empty() || t.day_key.empty()) {
    Die("marts." + mart + " has no columns, tenant key or day key: " + r->body);
  }
  return t;
}

// The value of `"name":<integer>` in a JSON text, without parsing all of it; -1 if absent.
int64_t JsonInt(const std::string& body, const std::string& name) {
  const std::string pat = "\"" + name + "\":";
  const size_t pos = body.find(pat);
  if (pos == std::string::npos) return -1;
  return std::strtoll(body.c_str() + pos + pat.size(), nullptr, 10);
}

// ---- lookup ---------------------------------------------------------------------------------

struct ThreadResult {
  std::vector<double> latencies;  // seconds, of successful requests
  int64_t errors = 0, rejected_429 = 0, rows = 0, empty = 0;
  std::string first_error;
};

int Lookup(const Args& args) {
  const std::string target = args.Str("target"), mart = args.Str("mart"), schema = args.Str("schema");
  if (target != "sluice" && target != "postgres") Die("--target is sluice or postgres, not '" + target + "'");
  const int port = static_cast<int>(args.Int("port"));
  const int clients = static_cast<int>(args.Int("clients"));
  const double seconds = static_cast<double>(args.Int("seconds"));
  const int64_t limit = args.Int("limit"), vary = args.Int("vary-limit");
  const std::vector<Key> keys = ReadKeys(args.Str("keys"));
  if (clients < 1 || seconds <= 0) Die("--clients and --seconds must be >= 1");

  // The columns and keys as sluice serves the mart, so that PostgreSQL returns the same rows.
  httplib::Client probe = Client(port);
  const TableFacts facts = SluiceTable(probe, mart);
  const std::string pg_sql =
      PgLookupSql(schema, mart, facts.columns, facts.tenant_key, facts.day_key, vary > 0 ? 0 : limit);

  std::vector<ThreadResult> results(static_cast<size_t>(clients));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start, deadline;
  auto worker = [&](int id) {
    ThreadResult& out = results[static_cast<size_t>(id)];
    std::mt19937_64 rng(static_cast<uint64_t>(id) * 7919 + 17);  // the same keys on both targets
    auto record_error = [&out](const std::string& what) {
      ++out.errors;
      if (out.first_error.empty()) out.first_error = what;
    };
    std::optional<httplib::Client> http;
    std::optional<Pg> pg;
    // Connect (and prepare) before the clock starts, with one untimed lookup each.
    if (target == "sluice") {
      http.emplace(Client(port));
      (void)http->Get(RowsPath(mart, keys[0]));
    } else {
      pg.emplace(args.Str("dsn"));
      PGresult* r = PQprepare(pg->conn, "lookup", pg_sql.c_str(), vary > 0 ? 3 : 2, nullptr);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) Die("prepare " + pg_sql + ": " + PQresultErrorMessage(r));
      PQclear(r);
    }
    ready.fetch_add(1);
    while (!go.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    out.latencies.reserve(1 << 16);
    while (Clock::now() < deadline) {
      const Key& k = keys[rng() % keys.size()];
      // --vary-limit: a page size drawn per request, so that requests rarely repeat.
      const std::string page = std::to_string(vary > 0 ? limit + static_cast<int64_t>(rng() % vary) : limit);
      const auto t0 = Clock::now();
      int64_t rows = -1;
      if (http) {
        auto r = http->Get(vary > 0 ? RowsPath(mart, k) + "&limit=" + page : RowsPath(mart, k));
        if (!r) {
          record_error("transport error " + httplib::to_string(r.error()));
          continue;
        }
        if (r->status != 200) {
          if (r->status == 429) ++out.rejected_429;
          record_error("HTTP " + std::to_string(r->status) + " " + r->body);
          continue;
        }
        rows = JsonInt(r->body, "rows_total");
        if (rows < 0) {
          record_error("no rows_total in " + r->body.substr(0, 200));
          continue;
        }
      } else {
        const char* values[3] = {k.tenant.c_str(), k.day.c_str(), page.c_str()};
        PGresult* r = PQexecPrepared(pg->conn, "lookup", vary > 0 ? 3 : 2, values, nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
          record_error(PQresultErrorMessage(r));
          PQclear(r);
          if (PQstatus(pg->conn) != CONNECTION_OK) Die("PostgreSQL connection lost: " + out.first_error);
          continue;
        }
        rows = PQntuples(r);
        PQclear(r);
      }
      out.latencies.push_back(Since(t0));
      out.rows += rows;
      if (rows == 0) ++out.empty;
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(worker, c);
  while (ready.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go = true;
  for (auto& t : threads) t.join();
  const double elapsed = Since(start);

  std::vector<double> all;
  ThreadResult sum;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies.begin(), r.latencies.end());
    sum.errors += r.errors;
    sum.rejected_429 += r.rejected_429;
    sum.rows += r.rows;
    sum.empty += r.empty;
    if (sum.first_error.empty()) sum.first_error = r.first_error;
  }
  std::sort(all.begin(), all.end());
  const auto n = static_cast<int64_t>(all.size());
  Json out = {{"target", target},
              {"clients", clients},
              {"vary_limit", vary},
              {"keys", keys.size()},
              {"seconds", elapsed},
              {"requests", n},
              {"req_per_s", static_cast<double>(n) / elapsed},
              {"p50_ms", Quantile(all, 0.5) * 1000},
              {"p90_ms", Quantile(all, 0.9) * 1000},
              {"p99_ms", Quantile(all, 0.99) * 1000},
              {"max_ms", all.empty() ? 0.0 : all.back() * 1000},
              {"rows", sum.rows},
              {"empty_answers", sum.empty},
              {"errors", sum.errors},
              {"rejected_429", sum.rejected_429},
              {"first_error", sum.first_error}};
  if (target == "postgres") out["sql"] = pg_sql;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// ---- compare --------------------------------------------------------------------------------

// Splits DuckDB's CSV answer (a header line, then one line per row; fields quoted only when
// they hold a comma, quote or line break) into rows of fields; an empty unquoted field is NULL.
std::vector<std::vector<std::optional<std::string>>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<std::optional<std::string>> row;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == ',' || c == '\n') {
      row.push_back(field.empty() && !was_quoted ? std::nullopt : std::optional<std::string>(field));
      field.clear();
      was_quoted = false;
      if (c == '\n') rows.push_back(std::move(row)), row.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  return rows;
}

std::string RowText(const std::vector<std::optional<std::string>>& row) {
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + (row[i] ? *row[i] : std::string("NULL"));
  return out;
}

int Compare(const Args& args) {
  const std::string mart = args.Str("mart"), schema = args.Str("schema");
  const int port = static_cast<int>(args.Int("port"));
  const double wait_s = static_cast<double>(args.Int("wait-s"));
  const std::vector<Key> keys = ReadKeys(args.Str("keys"));
  httplib::Client http = Client(port);
  Pg pg(args.Str("dsn"));
  const std::string version_sql =
      "SELECT version FROM " + PgIdent(schema) + "._sluice_publish WHERE table_name = $1";

  // Quiescent: the lake's version of the mart is published as Parquet and held by PostgreSQL.
  auto versions = [&]() {
    TableFacts t = SluiceTable(http, mart);
    auto rows = pg.Query(version_sql, {"marts." + mart});
    const int64_t pg_version = rows.empty() || !rows[0][0] ? 0 : std::atoll(rows[0][0]->c_str());
    return std::make_tuple(t, pg_version);
  };
  const auto t0 = Clock::now();
  auto [facts, pg_version] = versions();
  while (facts.published_version != facts.version || pg_version != facts.version) {
    if (Since(t0) > wait_s) {
      Die("compare: after " + std::to_string(static_cast<int>(wait_s)) + " s marts." + mart +
          " is at version " + std::to_string(facts.version) + ", published " +
          std::to_string(facts.published_version) + ", PostgreSQL " + std::to_string(pg_version));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::tie(facts, pg_version) = versions();
  }
  const double waited = Since(t0);
  const std::string pg_sql =
      PgLookupSql(schema, mart, facts.columns, facts.tenant_key, facts.day_key, 100000);
  int64_t rows = 0, served_version = -1;
  for (const Key& k : keys) {
    auto r = http.Get(RowsPath(mart, k) + "&limit=100000", httplib::Headers{{"Accept", "text/csv"}});
    if (!r || r->status != 200) {
      Die("compare: GET " + RowsPath(mart, k) + ": " +
          (r ? "HTTP " + std::to_string(r->status) + " " + r->body : httplib::to_string(r.error())));
    }
    served_version = std::atoll(r->get_header_value("X-Sluice-Version").c_str());
    auto sluice_rows = ParseCsv(r->body);
    if (sluice_rows.empty()) Die("compare: no CSV header from " + RowsPath(mart, k));
    sluice_rows.erase(sluice_rows.begin());
    auto pg_rows = pg.Query(pg_sql, {k.tenant, k.day});
    if (sluice_rows != pg_rows) {
      std::string first;
      for (size_t i = 0; i < std::max(sluice_rows.size(), pg_rows.size()); ++i) {
        const std::string a = i < sluice_rows.size() ? RowText(sluice_rows[i]) : "(none)";
        const std::string b = i < pg_rows.size() ? RowText(pg_rows[i]) : "(none)";
        if (a != b) {
          first = "row " + std::to_string(i) + ": sluice " + a + " | PostgreSQL " + b;
          break;
        }
      }
      Die("compare: " + k.tenant + " " + k.day + " at version " + std::to_string(facts.version) + ": " +
          std::to_string(sluice_rows.size()) + " rows from sluice, " + std::to_string(pg_rows.size()) +
          " from PostgreSQL; " + first);
    }
    rows += static_cast<int64_t>(pg_rows.size());
  }
  auto [after, pg_after] = versions();
  if (after.version != facts.version || pg_after != pg_version || served_version != facts.version) {
    Die("compare: the versions moved during the comparison (lake " + std::to_string(facts.version) + " -> " +
        std::to_string(after.version) + ", PostgreSQL " + std::to_string(pg_version) + " -> " +
        std::to_string(pg_after) + ", served " + std::to_string(served_version) + "); stop the writer first");
  }
  Json out = {{"mart", "marts." + mart}, {"version", facts.version},
              {"keys", keys.size()},     {"rows", rows},
              {"waited_s", waited},      {"equal", true}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

void Usage() {
  std::fprintf(stderr,
               "usage: sluice_lookup_load lookup --target sluice|postgres --port P --keys FILE\n"
               "                          [--dsn DSN] [--mart daily_revenue] [--schema analytics]\n"
               "                          [--clients 50] [--seconds 20] [--limit 1000] [--vary-limit 0]\n"
               "       sluice_lookup_load compare --port P --dsn DSN --keys FILE [--mart daily_revenue]\n"
               "                          [--schema analytics] [--wait-s 180]\n");
}

}  // namespace

int main(int argc, char** argv) {
  sluice::bench::ProgramName() = "sluice_lookup_load";
  if (argc < 2) {
    Usage();
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "lookup") {
    return Lookup(Args(argc, argv,
                       {{"target", kRequired},
                        {"port", kRequired},
                        {"keys", kRequired},
                        {"dsn", ""},
                        {"mart", "daily_revenue"},
                        {"schema", "analytics"},
                        {"clients", "50"},
                        {"seconds", "20"},
                        {"limit", "1000"},
                        {"vary-limit", "0"}}));
  }
  if (cmd == "compare") {
    return Compare(Args(argc, argv,
                        {{"port", kRequired},
                         {"dsn", kRequired},
                         {"keys", kRequired},
                         {"mart", "daily_revenue"},
                         {"schema", "analytics"},
                         {"wait-s", "180"}}));
  }
  Usage();
  return 2;
}
