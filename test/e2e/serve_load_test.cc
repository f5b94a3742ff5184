// Load on the query API (issue 12, "Tests and proof"), bounded and on loopback: 50 concurrent
// clients read marts.daily_revenue through `sluice serve` -- rows with tenant and day filters,
// and SQL -- for about 30 s while a writer pushes batches over HTTP. Every answer is 200, and
// every answer is a consistent snapshot:
//  - each pushed request puts a known number of orders of known amounts into every (day,
//    tenant) cell, and the writer waits for each answer before the next, so the batches visible
//    at any moment are a prefix 0..k of the requests: an answer's every cell must hold exactly
//    the orders and revenue of the first k requests, for one k (half a batch, or two snapshots
//    mixed, matches no k);
//  - a rows answer names its published version: all answers of one query on one version are the
//    same, and equal the same query computed by another reader (DuckDB in the test) over that
//    version's Parquet files, kept on disk by the cursors of the answers (each answer has a next
//    page, whose cursor pins the version).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTenants = 4;
constexpr int kDays = 4;
constexpr int kCells = kTenants * kDays;
constexpr int kMaxRequests = 3000;  // the writer stops here at the latest
constexpr int kClients = 50;
constexpr int kMaxReads = 6000;                   // reads of all clients together, then the load may stop
constexpr auto kLoad = std::chrono::seconds(30);  // or after this long, whichever comes first,
// once the writer pushed kMinPushes requests and kMinVersions versions were read meanwhile (on a
// slow machine the load goes on for those, up to kMaxLoad: then the test fails).
constexpr int kMinPushes = 10;
constexpr size_t kMinVersions = 5;
constexpr auto kMaxLoad = std::chrono::seconds(120);

std::string Tenant(int t) { return "t0" + std::to_string(t); }
std::string Day(int d) { return "2026-01-0" + std::to_string(d + 1); }
int Cell(int day, int tenant) { return day * kTenants + tenant; }

// Request i: 1..4 orders in every cell, each of a known amount in cents.
int OrdersOf(int i, int c) { return 1 + (i * 7 + c * 3) % 4; }
int64_t CentsOf(int i, int c, int j) { return 100 + (i * 31 + c * 17 + j * 13) % 5000; }

std::string RequestBody(int i) {
  std::string body;
  for (int d = 0; d < kDays; ++d) {
    for (int t = 0; t < kTenants; ++t) {
      const int c = Cell(d, t);
      for (int j = 0; j < OrdersOf(i, c); ++j) {
        const int64_t cents = CentsOf(i, c, j);
        char amount[32];
        std::snprintf(amount, sizeof amount, "%lld.%02lld", static_cast<long long>(cents / 100),
                      static_cast<long long>(cents % 100));
        body += "{\"order_id\":\"L" + std::to_string(i) + "-" + std::to_string(c) + "-" + std::to_string(j) +
                "\",\"tenant_id\":\"" + Tenant(t) + "\",\"status\":\"paid\",\"amount\":" + amount +
                ",\"created_at\":\"" + Day(d) + "T12:00:00Z\",\"seq\":1}\n";
      }
    }
  }
  return body;
}

// Orders and revenue (cents) of each cell after the first k requests, k = 0..kMaxRequests.
struct Prefixes {
  std::vector<std::vector<int64_t>> orders, cents;  // [cell][k]
  Prefixes() : orders(kCells, std::vector<int64_t>(kMaxRequests + 1)), cents(orders) {
    for (int c = 0; c < kCells; ++c) {
      for (int i = 0; i < kMaxRequests; ++i) {
        int64_t sum = 0;
        for (int j = 0; j < OrdersOf(i, c); ++j) sum += CentsOf(i, c, j);
        orders[c][i + 1] = orders[c][i] + OrdersOf(i, c);
        cents[c][i + 1] = cents[c][i] + sum;
      }
    }
  }
};

struct CellValue {
  int cell = -1;
  int64_t orders = 0;
  int64_t cents = 0;
};

int64_t Cents(const Json& v) { return std::llround(v.get<double>() * 100); }

// The cells of a mart answer ({"day","tenant_id","orders","revenue"} objects); cell -1 for a row
// of a day or tenant never pushed.
std::vector<CellValue> Cells(const Json& rows) {
  std::vector<CellValue> out;
  for (const auto& r : rows) {
    CellValue v;
    const std::string day = r.value("day", ""), tenant = r.value("tenant_id", "");
    for (int d = 0; d < kDays; ++d) {
      for (int t = 0; t < kTenants; ++t) {
        if (day == Day(d) && tenant == Tenant(t)) v.cell = Cell(d, t);
      }
    }
    v.orders = r["orders"].get<int64_t>();
    v.cents = Cents(r["revenue"]);
    out.push_back(v);
  }
  return out;
}

// The k (requests committed) every cell agrees on; -1 when there is none: not whole batches,
// or cells of different snapshots.
int PrefixOf(const Prefixes& p, const std::vector<CellValue>& cells) {
  if (cells.empty()) return -1;
  int k = -1;
  for (const CellValue& v : cells) {
    if (v.cell < 0) return -1;
    const auto& o = p.orders[v.cell];
    const auto it = std::lower_bound(o.begin(), o.end(), v.orders);
    if (it == o.end() || *it != v.orders) return -1;
    const int kc = static_cast<int>(it - o.begin());  // orders strictly increase with k
    if (p.cents[v.cell][kc] != v.cents || (k >= 0 && kc != k)) return -1;
    k = kc;
  }
  return k;
}

// One rows query of the load, and the same query in SQL over a version's Parquet files.
struct RowsQuery {
  std::string path;   // the URL
  std::string where;  // its filter in SQL
  int limit;
  int64_t total;  // rows it matches once every cell has rows
};
std::vector<RowsQuery> RowsQueries() {
  std::vector<RowsQuery> out;
  const std::string base = "/v1/tables/marts.daily_revenue/rows?";
  for (int t = 0; t < kTenants; ++t) {
    out.push_back(
        {base + "tenant=" + Tenant(t) + "&day_from=" + Day(0) + "&day_to=" + Day(kDays - 1) + "&limit=2",
         "tenant_id = '" + Tenant(t) + "' AND day BETWEEN '" + Day(0) + "' AND '" + Day(kDays - 1) + "'", 2,
         kDays});
  }
  for (int d = 0; d < kDays; ++d) {
    out.push_back({base + "day_from=" + Day(d) + "&day_to=" + Day(d) + "&limit=3", "day = '" + Day(d) + "'",
                   3, kTenants});
  }
  out.push_back({base + "tenant=" + Tenant(1) + "&day_from=" + Day(1) + "&day_to=" + Day(2) + "&limit=1",
                 "tenant_id = '" + Tenant(1) + "' AND day BETWEEN '" + Day(1) + "' AND '" + Day(2) + "'", 1,
                 2});
  return out;
}

const char kSqlMart[] =
    R"j({"sql": "SELECT day, tenant_id, orders, revenue FROM marts.daily_revenue ORDER BY ALL"})j";
const char kSqlCurated[] = R"j({"sql": "SELECT count(*) AS n, sum(amount) AS revenue FROM curated.orders"})j";

// A page's rows as text, for comparing answers and the independent reading.
std::string RowsText(const Json& rows) {
  std::string out;
  for (const auto& r : rows) {
    char revenue[64];
    std::snprintf(revenue, sizeof revenue, "%.2f", r["revenue"].get<double>());
    out += r["day"].get<std::string>() + " " + r["tenant_id"].get<std::string>() + " " + r["orders"].dump() +
           " " + revenue + "\n";
  }
  return out;
}

struct Observations {
  std::mutex mu;
  // (version, query index) -> the first answer: "rows_total\n" + rows text.
  std::map<std::pair<int64_t, size_t>, std::string> answers;
  std::map<int64_t, int> version_prefix;  // version -> k of its answers
  std::vector<std::string> failures;      // at most a few kept
  int64_t failure_count = 0;
  std::map<std::string, int64_t> counts;  // answers by kind
  Clock::time_point started = Clock::now();

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    ++failure_count;
    const double at = std::chrono::duration<double>(Clock::now() - started).count();
    if (failures.size() < 10) failures.push_back("at " + std::to_string(at) + " s: " + what);
  }
};

TEST(ServeLoad, FiftyClientsReadConsistentSnapshotsWhileAWriterPushes) {
  TempDir tmp("sluice-load");
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project project = MakeExampleProject(tmp.path() + "/p", o);
  // 50 reads fit at once: none is refused (429). Publishing often makes many versions.
  MakeStreamSource(project, "    type: http\n",
                   "transform: {interval: 100ms, publish_interval: 200ms}\n"
                   "serve:\n  query:\n    max_concurrent: 64\n");
  auto server = ServeProcess::Start(project);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const Prefixes prefixes;
  const std::vector<RowsQuery> queries = RowsQueries();

  // Two requests first, and wait until the mart is published with every cell.
  HttpClient setup(port);
  std::atomic<int> pushed{0};
  for (; pushed < 2; ++pushed) {
    HttpResponse r = setup.Post("/v1/sources/orders/events", RequestBody(pushed),
                                {{"Idempotency-Key", "load-" + std::to_string(pushed.load())}});
    ASSERT_EQ(r.status, 200) << Describe(r);
  }
  const auto ready_by = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < ready_by) {
    HttpResponse r = setup.Get("/v1/tables/marts.daily_revenue");
    if (r.status == 200 && r.json()["published_version"].is_number() && r.json()["published_version"] > 0 &&
        r.json()["rows"] == kCells) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(setup.Get("/v1/tables/marts.daily_revenue").json()["published_version"], 0);

  // The writer: one request at a time, each with its Idempotency-Key, until the readers stop.
  std::atomic<bool> stop{false};
  std::atomic<int> writer_errors{0};
  std::string writer_error;
  std::thread writer([&] {
    HttpClient c(port);
    while (!stop && pushed < kMaxRequests) {
      const int i = pushed;
      HttpResponse r = c.Post("/v1/sources/orders/events", RequestBody(i),
                              {{"Idempotency-Key", "load-" + std::to_string(i)}});
      if (r.status != 200) {
        if (writer_errors++ == 0) writer_error = "push " + std::to_string(i) + ": " + Describe(r);
        break;
      }
      ++pushed;
    }
  });

  Observations obs;
  std::atomic<int> reads{0};
  const auto start = Clock::now();
  const int pushed_before = pushed;
  std::atomic<size_t> versions{0};
  auto load_done = [&] {
    const auto elapsed = Clock::now() - start;
    if (elapsed > kMaxLoad) return true;
    return (elapsed > kLoad || reads >= kMaxReads) && pushed - pushed_before >= kMinPushes &&
           versions >= kMinVersions;
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < kClients; ++t) {
    readers.emplace_back([&, t] {
      HttpClient c(port, 60);
      for (int n = t; !load_done(); ++n) {
        ++reads;
        const size_t kind = static_cast<size_t>(n) % (queries.size() + 2);
        if (kind < queries.size()) {
          const RowsQuery& q = queries[kind];
          HttpResponse r = c.Get(q.path);
          if (r.status != 200) {
            obs.Fail(q.path + ": " + Describe(r));
            continue;
          }
          const Json j = r.json();
          const int64_t version = j["version"].get<int64_t>();
          if (Header(r, "X-Sluice-Version") != std::to_string(version)) {
            obs.Fail(q.path + ": X-Sluice-Version " + Header(r, "X-Sluice-Version") + " for version " +
                     std::to_string(version));
          }
          const int k = PrefixOf(prefixes, Cells(j["rows"]));
          if (k < 1 || j["rows_total"] != q.total || static_cast<int>(j["rows"].size()) != q.limit ||
              !j["next_cursor"].is_string()) {
            obs.Fail(q.path + ": not whole batches of one snapshot (k " + std::to_string(k) + "): " + r.body);
            continue;
          }
          const std::string text = j["rows_total"].dump() + "\n" + RowsText(j["rows"]);
          std::lock_guard<std::mutex> lock(obs.mu);
          ++obs.counts["rows"];
          auto [it, first] = obs.answers.emplace(std::make_pair(version, kind), text);
          if (!first && it->second != text) {
            obs.failures.push_back(q.path + " on version " + std::to_string(version) + ": two answers:\n" +
                                   it->second + "and\n" + text);
            ++obs.failure_count;
          }
          auto [vk, new_version] = obs.version_prefix.emplace(version, k);
          versions = obs.version_prefix.size();
          if (!new_version && vk->second != k) {
            obs.failures.push_back("version " + std::to_string(version) + " answered as " +
                                   std::to_string(vk->second) + " and as " + std::to_string(k) + " batches");
            ++obs.failure_count;
          }
        } else if (kind == queries.size()) {
          HttpResponse r = c.Post("/v1/query", kSqlMart, {}, "application/json");
          const Json j = r.json();
          const int k = r.status == 200 ? PrefixOf(prefixes, Cells(j["rows"])) : -1;
          if (r.status != 200 || k < 1 || j["rows"].size() != static_cast<size_t>(kCells)) {
            obs.Fail(std::string("SQL on the mart: k ") + std::to_string(k) + ": " + Describe(r));
            continue;
          }
          std::lock_guard<std::mutex> lock(obs.mu);
          ++obs.counts["sql_mart"];
        } else {
          // curated.orders as a whole: the orders and revenue of k whole requests.
          HttpResponse r = c.Post("/v1/query", kSqlCurated, {}, "application/json");
          bool whole = false;
          if (r.status == 200) {
            const Json row = r.json()["rows"][0];
            const int64_t n = row["n"].get<int64_t>(), cents = Cents(row["revenue"]);
            for (int k = 1; k <= kMaxRequests && !whole; ++k) {
              int64_t on = 0, oc = 0;
              for (int c2 = 0; c2 < kCells; ++c2) {
                on += prefixes.orders[c2][k];
                oc += prefixes.cents[c2][k];
              }
              whole = on == n && oc == cents;
              if (on > n) break;
            }
          }
          if (!whole) {
            obs.Fail("SQL on curated.orders: not whole batches: " + Describe(r));
            continue;
          }
          std::lock_guard<std::mutex> lock(obs.mu);
          ++obs.counts["sql_curated"];
        }
      }
    });
  }
  for (auto& t : readers) t.join();
  stop = true;
  writer.join();
  EXPECT_EQ(writer_errors.load(), 0) << writer_error;

  EXPECT_EQ(obs.failure_count, 0) << obs.failures.size() << " of the failures, e.g.:\n"
                                  << (obs.failures.empty() ? "" : obs.failures.front());
  for (size_t i = 1; i < obs.failures.size(); ++i) ADD_FAILURE() << obs.failures[i];

  // Versions later in time hold more batches (publishing never goes back).
  int last_k = 0;
  for (const auto& [version, k] : obs.version_prefix) {
    EXPECT_GE(k, last_k) << "version " << version;
    last_k = k;
  }
  // The load did what it was for: many reads of many versions while many batches came in.
  std::printf(
      "[ Load ] %.1f s: %d reads (%lld rows, %lld SQL mart, %lld SQL curated), %d requests pushed, %zu "
      "versions read\n",
      std::chrono::duration<double>(Clock::now() - start).count(), reads.load(),
      static_cast<long long>(obs.counts["rows"]), static_cast<long long>(obs.counts["sql_mart"]),
      static_cast<long long>(obs.counts["sql_curated"]), pushed.load(), obs.version_prefix.size());
  EXPECT_GE(obs.version_prefix.size(), kMinVersions) << "versions read during the load";
  EXPECT_GE(pushed.load() - pushed_before, kMinPushes) << "requests pushed during the load";
  EXPECT_GT(obs.counts["sql_mart"], 0);
  EXPECT_GT(obs.counts["sql_curated"], 0);

  // Another reader: each version's Parquet files (pinned by the answers' cursors) give the same
  // first page and the same total for every query answered on it.
  DuckReader duck;
  int checked = 0;
  for (const auto& [key, text] : obs.answers) {
    const auto& [version, kind] = key;
    const RowsQuery& q = queries[kind];
    const std::string files =
        project.Lake() + "/published/marts/daily_revenue/v" + std::to_string(version) + "/*/*.parquet";
    const std::string from =
        " FROM read_parquet(" + Quote(files) + ", hive_partitioning = false) WHERE " + q.where;
    auto total = duck.Rows("SELECT count(*)" + from);
    auto rows = duck.Rows("SELECT CAST(day AS VARCHAR), tenant_id, orders, CAST(revenue AS VARCHAR)" + from +
                          " ORDER BY day, tenant_id LIMIT " + std::to_string(q.limit));
    ASSERT_EQ(total.size(), 1u) << "version " << version << " is not on disk any more";
    std::string want = total[0][0] + "\n";
    for (const auto& r : rows) want += r[0] + " " + r[1] + " " + r[2] + " " + r[3] + "\n";
    EXPECT_EQ(text, want) << q.path << " on version " << version;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(obs.answers.size()));

  ProcessResult stopped = server->Terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.Describe();
}

}  // namespace
}  // namespace sluice::e2e
