// Tests of the order generator: determinism, the internal consistency of expected.json, and an
// independent re-derivation of the ground truth from the generated files (parsed here with
// nlohmann-json and a small CSV reader, classified by a validator written only for this test).
#include "sample/orders_generator.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"
#include "sample/example_project.h"
#include "support/csv.h"
#include "support/test_project.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using testing::TempDir;

std::string Read(const std::string& path) {
  auto r = Env::Default()->ReadFile(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

std::map<std::string, std::string> ReadAll(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    files[e.path().filename().string()] = Read(e.path().string());
  }
  return files;
}

Json Generate(const OrderGeneratorOptions& o, const std::string& dir) {
  Status s = GenerateOrders(o, dir, dir + "/expected.json");
  EXPECT_TRUE(s.ok()) << s.ToString();
  return Json::parse(Read(dir + "/expected.json"));
}

// ---- An independent classifier of one record, in contract column order. -------------------

// Structural UTF-8 check (lead and continuation bytes; no overlong 2-byte forms).
bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

// "2026-01-03T10:15:00Z" / "...+02:00" -> "2026-01-03 10:15:00" in UTC; nullopt if not that form.
std::optional<std::string> ToUtc(const std::string& ts) {
  static const std::regex kTs(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|([+-])(\d{2}):(\d{2})))");
  std::smatch m;
  if (!std::regex_match(ts, m, kTs)) return std::nullopt;
  struct tm tm {};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  time_t t = ::timegm(&tm);
  if (m[7] != "Z") {
    int off = std::stoi(m[9]) * 3600 + std::stoi(m[10]) * 60;
    t -= m[8] == "+" ? off : -off;
  }
  struct tm out {};
  ::gmtime_r(&t, &out);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &out);
  return std::string(buf);
}

// Decimal text with at most two places -> cents; nullopt otherwise.
std::optional<int64_t> Cents(const std::string& text) {
  static const std::regex kDec(R"((-?)(\d+)(?:\.(\d{1,2}))?)");
  std::smatch m;
  if (!std::regex_match(text, m, kDec)) return std::nullopt;
  std::string frac = m[3].str();
  while (frac.size() < 2) frac += '0';
  int64_t v = std::stoll(m[2]) * 100 + std::stoll(frac);
  return m[1] == "-" ? -v : v;
}

struct Event {
  std::string order_id, tenant_id, status, created_at;
  int64_t cents = 0, seq = 0;
};

// A record as column -> text (nullopt: absent or null), with whether each value was a string.
struct Record {
  std::map<std::string, std::optional<std::string>> text;
  std::map<std::string, bool> is_string;
};

const std::set<std::string> kStatuses = {"created", "paid", "shipped", "delivered", "cancelled"};

// Returns "" for a valid record (filling *e), else the reason code.
std::string Classify(const Record& r, bool csv, Event* e) {
  auto get = [&](const std::string& c) -> std::optional<std::string> {
    auto it = r.text.find(c);
    return it == r.text.end() ? std::nullopt : it->second;
  };
  auto is_str = [&](const std::string& c) { return csv || r.is_string.at(c); };
  for (const char* c : {"order_id", "tenant_id"}) {
    auto v = get(c);
    if (!v) return "missing_required";
    if (!is_str(c)) return "bad_type";
  }
  e->order_id = *get("order_id");
  e->tenant_id = *get("tenant_id");
  auto status = get("status");
  if (!status) return "unexpected_null_status";  // the generator never writes one
  if (!is_str("status")) return "bad_type";
  if (!kStatuses.count(*status)) return "not_in_enum";
  e->status = *status;
  auto amount = get("amount");
  if (!amount) return "unexpected_null_amount";
  if (!csv && r.is_string.at("amount")) return "bad_type";
  auto cents = Cents(*amount);
  if (!cents) return "bad_type";
  if (*cents < 0) return "out_of_range";
  e->cents = *cents;
  auto created = get("created_at");
  if (!created) return "missing_required";
  auto utc = ToUtc(*created);
  if (!is_str("created_at") || !utc) return "bad_type";
  e->created_at = *utc;
  auto seq = get("seq");
  if (!seq) return "missing_required";
  static const std::regex kInt(R"(-?\d+)");
  if (!std::regex_match(*seq, kInt) || (!csv && r.is_string.at("seq"))) {
    return "bad_type";
  }
  e->seq = std::stoll(*seq);
  return "";
}

std::string ClassifyJsonLine(const std::string& line, Event* e) {
  if (!ValidUtf8(line)) return "bad_encoding";
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception&) {
    return "malformed_record";
  }
  if (!j.is_object()) return "malformed_record";
  // Amounts must be plain decimals in the text, never exponent notation.
  static const std::regex kAmount(R"("amount": ?(-?\d+(\.\d{1,2})?|true)[,}])");
  Record r;
  for (auto& [k, v] : j.items()) {
    r.is_string[k] = v.is_string();
    if (v.is_null()) {
      r.text[k] = std::nullopt;
    } else if (v.is_string()) {
      r.text[k] = v.get<std::string>();
    } else if (k == "amount") {
      std::smatch m;
      EXPECT_TRUE(std::regex_search(line, m, kAmount)) << line;
      r.text[k] = m[1].str() == "true" ? std::string("true") : m[1].str();
      if (m[1].str() == "true") r.is_string[k] = false;
    } else {
      r.text[k] = v.dump();
    }
  }
  if (r.text.count("amount") && r.text["amount"] == "true") return "bad_type";
  return Classify(r, /*csv=*/false, e);
}

struct Derived {
  std::map<std::string, Event> final_state;
  std::map<std::string, int64_t> dead_by_reason;
  std::vector<std::map<std::string, int64_t>> batch_dead;
  std::vector<int64_t> batch_read, batch_valid;
  int64_t valid = 0;
};

Derived Rederive(const std::string& dir, const Json& expected, bool csv) {
  Derived d;
  for (const Json& b : expected["batches"]) {
    std::string data = Read(dir + "/" + b["file"].get<std::string>());
    std::map<std::string, int64_t> dead;
    int64_t read = 0, valid = 0;
    auto take = [&](const std::string& reason, const Event& e) {
      ++read;
      if (!reason.empty()) {
        ++dead[reason];
        ++d.dead_by_reason[reason];
        return;
      }
      ++valid;
      auto [it, inserted] = d.final_state.emplace(e.order_id, e);
      if (!inserted && e.seq >= it->second.seq) {
        if (e.seq == it->second.seq) {  // ties must be the same event
          EXPECT_EQ(e.status, it->second.status) << e.order_id;
          EXPECT_EQ(e.cents, it->second.cents) << e.order_id;
        }
        it->second = e;
      }
    };
    if (!csv) {
      size_t pos = 0;
      while (pos < data.size()) {
        size_t nl = data.find('\n', pos);
        std::string line = data.substr(pos, nl - pos);
        pos = nl == std::string::npos ? data.size() : nl + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        Event e;
        std::string reason = ClassifyJsonLine(line, &e);
        take(reason, e);
      }
    } else {
      auto records = testing::ParseCsv(data);
      EXPECT_FALSE(records.empty());
      std::vector<std::string> header;
      for (auto& f : records[0]) header.push_back(f.value_or(""));
      EXPECT_EQ(header,
                (std::vector<std::string>{"order_id", "tenant_id", "status", "amount", "created_at", "seq"}));
      for (size_t i = 1; i < records.size(); ++i) {
        Event e;
        std::string reason;
        std::string joined;
        for (auto& f : records[i]) joined += f.value_or("");
        if (!ValidUtf8(joined)) {
          reason = "bad_encoding";
        } else if (records[i].size() != header.size()) {
          reason = "malformed_record";
        } else {
          Record r;
          for (size_t c = 0; c < header.size(); ++c) r.text[header[c]] = records[i][c];
          reason = Classify(r, /*csv=*/true, &e);
        }
        take(reason, e);
      }
    }
    d.batch_read.push_back(read);
    d.batch_valid.push_back(valid);
    d.batch_dead.push_back(dead);
    d.valid += valid;
  }
  return d;
}

void ExpectMatchesRederivation(const std::string& dir, const Json& ex, bool csv) {
  Derived d = Rederive(dir, ex, csv);
  // Per batch: counts and reasons.
  ASSERT_EQ(d.batch_read.size(), ex["batches"].size());
  for (size_t b = 0; b < d.batch_read.size(); ++b) {
    const Json& eb = ex["batches"][b];
    EXPECT_EQ(d.batch_read[b], eb["rows_read"].get<int64_t>()) << eb["file"];
    EXPECT_EQ(d.batch_valid[b], eb["rows_valid"].get<int64_t>()) << eb["file"];
    for (auto& [reason, n] : eb["dead_by_reason"].items()) {
      int64_t got = d.batch_dead[b].count(reason) ? d.batch_dead[b].at(reason) : 0;
      EXPECT_EQ(got, n.get<int64_t>()) << eb["file"] << " " << reason;
    }
    for (auto& [reason, n] : d.batch_dead[b]) {
      EXPECT_TRUE(eb["dead_by_reason"].contains(reason)) << "unexpected reason " << reason;
    }
  }
  EXPECT_EQ(d.valid, ex["events_valid"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(d.final_state.size()), ex["orders"].get<int64_t>());
  for (auto& [reason, n] : ex["dead_by_reason"].items()) {
    EXPECT_EQ(d.dead_by_reason[reason], n.get<int64_t>()) << reason;
  }

  // Final state per key, then the aggregates over it.
  ASSERT_TRUE(ex.contains("final_state"));
  EXPECT_EQ(ex["final_state"].size(), d.final_state.size());
  std::map<std::string, int64_t> statuses;
  std::map<std::string, int64_t> revenue;
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> mart;
  for (auto& [id, e] : d.final_state) {
    ASSERT_TRUE(ex["final_state"].contains(id)) << id;
    const Json& f = ex["final_state"][id];
    EXPECT_EQ(f["status"], e.status) << id;
    EXPECT_EQ(f["seq"].get<int64_t>(), e.seq) << id;
    EXPECT_EQ(Cents(f["amount"].get<std::string>()).value_or(-1), e.cents) << id;
    EXPECT_EQ(f["tenant_id"], e.tenant_id) << id;
    EXPECT_EQ(f["created_at"], e.created_at) << id;
    ++statuses[e.status];
    if (e.status == "cancelled") continue;
    revenue[e.tenant_id] += e.cents;
    auto& cell = mart[{e.created_at.substr(0, 10), e.tenant_id}];
    ++cell.first;
    cell.second += e.cents;
  }
  for (auto& [s, n] : ex["final_status_counts"].items()) EXPECT_EQ(statuses[s], n.get<int64_t>()) << s;
  EXPECT_EQ(ex["revenue_by_tenant"].size(), revenue.size());
  for (auto& [t, cents] : revenue) {
    ASSERT_TRUE(ex["revenue_by_tenant"].contains(t)) << t;
    EXPECT_EQ(Cents(ex["revenue_by_tenant"][t].get<std::string>()).value_or(-1), cents) << t;
  }
  ASSERT_EQ(ex["mart_daily_revenue"].size(), mart.size());
  size_t i = 0;
  for (auto& [key, cell] : mart) {  // std::map order = (day, tenant) order
    const Json& row = ex["mart_daily_revenue"][i++];
    EXPECT_EQ(row["day"], key.first);
    EXPECT_EQ(row["tenant_id"], key.second);
    EXPECT_EQ(row["orders"].get<int64_t>(), cell.first);
    EXPECT_EQ(Cents(row["revenue"].get<std::string>()).value_or(-1), cell.second);
  }
}

// ---- Tests ----------------------------------------------------------------------------------

TEST(OrdersGenerator, SameSeedGivesIdenticalBytes) {
  for (std::string format : {"jsonl", "csv"}) {
    TempDir a, b, c;
    OrderGeneratorOptions o;
    o.orders = 3000;
    o.batches = 4;
    o.seed = 7;
    o.format = format;
    Generate(o, a.path());
    Generate(o, b.path());
    auto fa = ReadAll(a.path());
    EXPECT_EQ(fa.size(), 5u);
    EXPECT_EQ(fa, ReadAll(b.path())) << format;
    o.seed = 8;
    Generate(o, c.path());
    EXPECT_NE(fa, ReadAll(c.path())) << format;
  }
}

TEST(OrdersGenerator, ExpectedIsInternallyConsistent) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.orders = 5000;
  o.batches = 6;
  Json ex = Generate(o, dir.path());
  EXPECT_EQ(ex["orders"].get<int64_t>(), 5000);
  ASSERT_EQ(ex["batches"].size(), 6u);
  int64_t read = 0, valid = 0, dead = 0;
  std::map<std::string, int64_t> reasons;
  for (const Json& b : ex["batches"]) {
    EXPECT_EQ(b["rows_read"].get<int64_t>(), b["rows_valid"].get<int64_t>() + b["rows_dead"].get<int64_t>());
    int64_t batch_dead = 0;
    for (auto& [r, n] : b["dead_by_reason"].items()) {
      batch_dead += n.get<int64_t>();
      reasons[r] += n.get<int64_t>();
    }
    EXPECT_EQ(batch_dead, b["rows_dead"].get<int64_t>());
    read += b["rows_read"].get<int64_t>();
    valid += b["rows_valid"].get<int64_t>();
    dead += b["rows_dead"].get<int64_t>();
  }
  EXPECT_EQ(read, ex["lines_total"].get<int64_t>());
  EXPECT_EQ(valid, ex["events_valid"].get<int64_t>());
  EXPECT_EQ(ex["lines_total"].get<int64_t>(), ex["events_valid"].get<int64_t>() + dead);
  int64_t dead_total = 0;
  for (auto& [r, n] : ex["dead_by_reason"].items()) {
    EXPECT_EQ(reasons[r], n.get<int64_t>()) << r;
    dead_total += n.get<int64_t>();
    // ~1% of ~2.45 events per order, per kind.
    EXPECT_GT(n.get<int64_t>(), 80) << r;
    EXPECT_LT(n.get<int64_t>(), 160) << r;
  }
  EXPECT_EQ(dead_total, dead);
  EXPECT_EQ(ex["dead_by_reason"].size(), 6u);
  // ~2.5 events per order, plus ~4% duplicates and late versions.
  EXPECT_GT(ex["events_valid"].get<int64_t>(), 5000 * 24 / 10);
  EXPECT_LT(ex["events_valid"].get<int64_t>(), 5000 * 27 / 10);

  int64_t statuses = 0;
  for (auto& [s, n] : ex["final_status_counts"].items()) statuses += n.get<int64_t>();
  EXPECT_EQ(statuses, 5000);
  // Revenue per tenant = the mart summed over days; mart orders = non-cancelled orders.
  std::map<std::string, int64_t> by_tenant;
  int64_t mart_orders = 0;
  std::string prev;
  for (const Json& row : ex["mart_daily_revenue"]) {
    std::string key = row["day"].get<std::string>() + "|" + row["tenant_id"].get<std::string>();
    EXPECT_LT(prev, key) << "mart rows sorted by day, tenant";
    prev = key;
    by_tenant[row["tenant_id"]] += Cents(row["revenue"].get<std::string>()).value();
    mart_orders += row["orders"].get<int64_t>();
  }
  EXPECT_EQ(mart_orders, 5000 - ex["final_status_counts"]["cancelled"].get<int64_t>());
  for (auto& [t, cents] : by_tenant) {
    EXPECT_EQ(Cents(ex["revenue_by_tenant"][t].get<std::string>()).value(), cents) << t;
  }
  // The skewed tenant holds ~30% of the orders.
  int64_t t00 = 0;
  for (auto& [id, f] : ex["final_state"].items()) t00 += f["tenant_id"] == "t00" ? 1 : 0;
  EXPECT_GT(t00, 5000 * 25 / 100);
  EXPECT_LT(t00, 5000 * 35 / 100);
}

TEST(OrdersGenerator, JsonlRederivedIndependently) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.orders = 4000;
  o.batches = 5;
  o.seed = 1234;
  Json ex = Generate(o, dir.path());
  ExpectMatchesRederivation(dir.path(), ex, /*csv=*/false);
}

TEST(OrdersGenerator, CsvRederivedIndependently) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.orders = 4000;
  o.batches = 3;
  o.seed = 99;
  o.format = "csv";
  Json ex = Generate(o, dir.path());
  EXPECT_EQ(ex["batches"][0]["file"], "batch-0001.csv");
  ExpectMatchesRederivation(dir.path(), ex, /*csv=*/true);
}

// The data has the hazards it is meant to have: exact duplicate lines, late older versions,
// offsets in timestamps, both spellings of amounts.
TEST(OrdersGenerator, ContainsDuplicatesLateVersionsAndVariants) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.orders = 3000;
  o.batches = 4;
  Json ex = Generate(o, dir.path());
  std::map<std::string, int> line_count;
  std::map<std::pair<std::string, int64_t>, int> batch_of;  // (order, seq) -> first batch seen
  std::map<std::string, std::pair<int64_t, int>> newest;    // order -> (seq, batch)
  int late = 0, offsets = 0, short_amounts = 0, full_amounts = 0;
  struct Seen {
    std::string order;
    int64_t seq;
    int batch;
  };
  std::vector<Seen> seen;
  for (size_t b = 0; b < ex["batches"].size(); ++b) {
    std::string data = Read(dir.path() + "/" + ex["batches"][b]["file"].get<std::string>());
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      std::string line = data.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_count[line];
      Event e;
      if (!ClassifyJsonLine(line, &e).empty()) continue;
      seen.push_back({e.order_id, e.seq, static_cast<int>(b)});
      if (line.find("+02:00") != std::string::npos) ++offsets;
      static const std::regex kFull(R"("amount": ?\d+\.\d\d[,}])");
      static const std::regex kShort(R"("amount": ?\d+(\.\d)?[,}])");
      if (std::regex_search(line, kFull)) ++full_amounts;
      if (std::regex_search(line, kShort)) ++short_amounts;
    }
  }
  int duplicates = 0;
  for (auto& [line, n] : line_count) duplicates += n - 1;
  // A line is late when an event of the same order with a higher seq is in an earlier batch.
  std::map<std::string, std::vector<std::pair<int64_t, int>>> by_order;
  for (auto& s : seen) by_order[s.order].push_back({s.seq, s.batch});
  for (auto& [id, evs] : by_order) {
    for (auto& [seq, batch] : evs) {
      for (auto& [seq2, batch2] : evs) {
        if (seq2 > seq && batch2 < batch) {
          ++late;
          break;
        }
      }
    }
  }
  int64_t events = ex["events_valid"].get<int64_t>();
  EXPECT_GT(duplicates, events / 100);
  EXPECT_GT(late, events / 100);
  EXPECT_GT(offsets, events / 100);
  EXPECT_GT(full_amounts, events / 4);
  // Only amounts with a trailing zero (~10%) have a shorter spelling, taken half the time.
  EXPECT_GT(short_amounts, events / 40);
}

TEST(OrdersGenerator, NoFinalStateForLargeRuns) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.orders = 60000;
  o.batches = 2;
  o.invalid_rate = 0;
  Json ex = Generate(o, dir.path());
  EXPECT_FALSE(ex.contains("final_state"));
  EXPECT_EQ(ex["orders"].get<int64_t>(), 60000);
  for (auto& [r, n] : ex["dead_by_reason"].items()) EXPECT_EQ(n.get<int64_t>(), 0) << r;
}

TEST(OrdersGenerator, RejectsBadOptions) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.format = "xml";
  EXPECT_EQ(GenerateOrders(o, dir.path(), dir.path() + "/e.json").code(), StatusCode::kInvalidArgument);
  o = {};
  o.batches = 0;
  EXPECT_EQ(GenerateOrders(o, dir.path(), dir.path() + "/e.json").code(), StatusCode::kInvalidArgument);
  o = {};
  o.orders = 0;
  EXPECT_EQ(GenerateOrders(o, dir.path(), dir.path() + "/e.json").code(), StatusCode::kInvalidArgument);
}

TEST(ExampleProject, WritesARunnableLayoutAndNeverOverwrites) {
  TempDir dir;
  OrderGeneratorOptions o;
  o.orders = 200;
  o.batches = 3;
  ASSERT_TRUE(WriteExampleProject(dir.path(), o).ok());
  for (const char* f :
       {"sluice.yaml", "contracts/orders.yaml", "models/daily_revenue.sql", "landing/orders/batch-0001.jsonl",
        "landing/orders/batch-0003.jsonl", "landing/orders/expected.json"}) {
    EXPECT_TRUE(fs::exists(dir.path() + "/" + f)) << f;
  }
  std::string yaml = Read(dir.path() + "/sluice.yaml");
  EXPECT_NE(yaml.find("path: landing/orders/*.jsonl"), std::string::npos);
  EXPECT_NE(yaml.find("format: jsonl"), std::string::npos);
  EXPECT_NE(Read(dir.path() + "/models/daily_revenue.sql").find("FROM curated.orders"), std::string::npos);
  EXPECT_EQ(WriteExampleProject(dir.path(), o).code(), StatusCode::kAlreadyExists);

  TempDir csv;
  o.format = "csv";
  ASSERT_TRUE(WriteExampleProject(csv.path(), o).ok());
  EXPECT_NE(Read(csv.path() + "/sluice.yaml").find("path: landing/orders/*.csv"), std::string::npos);
  EXPECT_TRUE(fs::exists(csv.path() + "/landing/orders/batch-0002.csv"));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(IsGeneratedFileName, OnlyTheFilesGenerateWrites) {
  for (const char* name : {"batch-0001.jsonl", "batch-0042.csv", "batch-12345.jsonl", "expected.json"}) {
    EXPECT_TRUE(IsGeneratedFileName(name)) << name;
  }
  for (const char* name : {"batch-001.jsonl", "batch-0001.json", "batch-0001.jsonl.bak", "batch-x001.csv",
                           "notes.txt", "expected.json.old", "my-batch-0001.csv", ""}) {
    EXPECT_FALSE(IsGeneratedFileName(name)) << name;
  }
}

TEST(ProjectNameFor, MakesAValidProjectNameOfTheDirectory) {
  EXPECT_EQ(ProjectNameFor("shop"), "shop");
  EXPECT_EQ(ProjectNameFor("/tmp/My-Shop 2/"), "my_shop_2");
  EXPECT_EQ(ProjectNameFor("work/2026-demo"), "_2026_demo");
  EXPECT_EQ(ProjectNameFor("---"), "project");
  EXPECT_EQ(ProjectNameFor("/"), "project");
  EXPECT_EQ(ProjectNameFor(std::string(100, 'a')).size(), 63u);
}

}  // namespace
}  // namespace sluice
