#include "sample/orders_generator.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "common/env.h"
#include "sample/rng.h"

namespace sluice {
namespace {

// ---------------------------------------------------------------------------------------------
// Randomness (sample/rng.h).

// A stream id mixed into the seed, so that each purpose draws from its own sequence and adding
// a draw in one place does not shift everything else.
uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  uint64_t s = seed ^ (stream * 0xd1342543de82ef95ULL);
  return SplitMix64(&s);
}

enum Stream : uint64_t {
  kOrdersStream = 1,
  kDuplicatesStream,
  kLateStream,
  kInvalidStream,
  kShuffleStream,
  kRenderStream,
};

// The seed of the cosmetic choices (number spelling, key order, ...) of the line at `index`.
uint64_t RenderSeed(uint64_t seed, size_t index) {
  return StreamSeed(StreamSeed(seed, kRenderStream), index + 1);
}

// ---------------------------------------------------------------------------------------------
// The model.

enum OrderStatus : uint8_t { kCreated, kPaid, kShipped, kDelivered, kCancelled };
constexpr std::array<const char*, 5> kStatusNames = {"created", "paid", "shipped", "delivered", "cancelled"};

// What a line is: a valid event, or an invalid line of one dead-letter reason.
enum class LineKind : uint8_t {
  kValid = 0,
  kMissingRequired,
  kBadType,
  kNotInEnum,
  kOutOfRange,
  kMalformedRecord,
  kBadEncoding,
};
constexpr int kNumInvalidKinds = 6;
constexpr std::array<const char*, 7> kReasonNames = {
    "", "missing_required", "bad_type", "not_in_enum", "out_of_range", "malformed_record", "bad_encoding"};

struct Order {
  int64_t created_utc = 0;  // seconds since the epoch
  int32_t tenant = 0;
  uint32_t first_event = 0;  // index of its first base event in `lines`
  uint32_t num_events = 0;
};

// One line of one landing file. Rendering is a pure function of the line (its render_seed
// decides the cosmetic choices), so an exact duplicate is a copy keeping its render_seed.
struct Line {
  uint64_t render_seed = 0;
  int64_t amount_cents = 0;
  uint32_t order = 0;
  int32_t seq = 0;
  uint16_t batch = 0;
  OrderStatus status = kCreated;
  LineKind kind = LineKind::kValid;
};

constexpr int64_t kJan2026 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kMaxCents = 500000;     // amounts in [0, 5000.00]

// ---------------------------------------------------------------------------------------------
// Formatting.

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yy + (*m <= 2));
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// "2026-01-03" + sep + "10:15:00" for seconds since the epoch.
std::string FormatDateTime(int64_t secs, char sep) {
  int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02d:%02d:%02d", y, m, d, sep, static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

std::string FormatDay(int64_t secs) { return FormatDateTime(secs, ' ').substr(0, 10); }

// Exact decimal with two places: 1234 -> "12.34".
std::string FormatCents(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%02d", cents < 0 ? "-" : "",
                (cents < 0 ? -cents : cents) / 100, static_cast<int>((cents < 0 ? -cents : cents) % 100));
  return buf;
}

// An amount as a JSON number / CSV field: "12.30" or, half the time, the shortest form
// ("12.3", "1200", "0"). Never exponent notation.
std::string FormatAmount(int64_t cents, Rng* rng) {
  std::string s = FormatCents(cents);
  if (rng->Chance(0.5)) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// created_at as the source writes it: UTC "2026-01-03T10:15:00Z", or 3% of the time the same
// instant in +02:00 ("2026-01-03T12:15:00+02:00").
std::string FormatCreatedAt(int64_t utc, Rng* rng) {
  if (rng->Chance(0.03)) return FormatDateTime(utc + 7200, 'T') + "+02:00";
  return FormatDateTime(utc, 'T') + "Z";
}

std::string OrderId(uint32_t order) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "o%07u", order + 1);
  return buf;
}

std::string TenantId(int32_t tenant) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "t%02d", tenant);
  return buf;
}

// Byte sequences that are not UTF-8: a lone 0xFF, a lead byte without its continuation, a
// lone continuation byte, a 3-byte lead followed by ASCII.
constexpr std::array<std::string_view, 4> kInvalidUtf8 = {"\xff", "\xc3\x28", "\x80", "\xe2\x28\xa1"};

// The six contract columns in contract order, as they will be written. `present` false means
// the key (JSON) is absent; for CSV an absent value is an empty field.
struct Fields {
  static constexpr int kCount = 6;
  static constexpr std::array<const char*, kCount> kNames = {"order_id", "tenant_id",  "status",
                                                             "amount",   "created_at", "seq"};
  // JSON: the value's JSON text (strings quoted); CSV: the field text.
  std::array<std::string, kCount> value;
  std::array<bool, kCount> present{true, true, true, true, true, true};
};
enum FieldIndex { kOrderIdF, kTenantF, kStatusF, kAmountF, kCreatedF, kSeqF };

// Builds the field values of a line (valid, or broken the way its kind says).
Fields BuildFields(const Line& line, const Order& order, bool json, Rng* rng) {
  auto str = [json](const std::string& s) { return json ? "\"" + s + "\"" : s; };
  Fields f;
  std::string order_id = OrderId(line.order);
  if (line.kind == LineKind::kBadEncoding) {
    // Invalid bytes in the middle of the first column's string: a validator that checks
    // encoding finds it first; one that does not would wrongly accept the line.
    order_id.insert(1 + rng->Below(order_id.size() - 1), kInvalidUtf8[rng->Below(kInvalidUtf8.size())]);
  }
  f.value[kOrderIdF] = str(order_id);
  f.value[kTenantF] = str(TenantId(order.tenant));
  f.value[kStatusF] = str(kStatusNames[line.status]);
  f.value[kAmountF] = FormatAmount(line.amount_cents, rng);
  f.value[kCreatedF] = str(FormatCreatedAt(order.created_utc, rng));
  f.value[kSeqF] = std::to_string(line.seq);
  switch (line.kind) {
    case LineKind::kMissingRequired: {
      int which = rng->Chance(0.5) ? kOrderIdF : kSeqF;
      if (json && rng->Chance(0.5)) {
        f.value[which] = "null";
      } else {
        f.present[which] = false;
        f.value[which].clear();
      }
      break;
    }
    case LineKind::kBadType:
      if (rng->Chance(0.5)) {
        f.value[kSeqF] = str("abc");
      } else {
        f.value[kAmountF] = "true";
      }
      break;
    case LineKind::kNotInEnum:
      f.value[kStatusF] = str("lost");
      break;
    case LineKind::kOutOfRange: {
      static constexpr std::array<const char*, 3> kNegative = {"-5.00", "-0.01", "-120.5"};
      f.value[kAmountF] = kNegative[rng->Below(kNegative.size())];
      break;
    }
    case LineKind::kValid:
    case LineKind::kMalformedRecord:  // broken after rendering
    case LineKind::kBadEncoding:      // done above
      break;
  }
  return f;
}

void RenderJsonLine(const Line& line, const Order& order, Rng* rng, std::string* out) {
  Fields f = BuildFields(line, order, /*json=*/true, rng);
  std::array<int, Fields::kCount> key_order = {0, 1, 2, 3, 4, 5};
  if (rng->Chance(0.08)) {  // JSON objects are unordered; make sure no reader relies on order
    for (int i = Fields::kCount - 1; i > 0; --i) {
      std::swap(key_order[i], key_order[rng->Below(static_cast<uint64_t>(i) + 1)]);
    }
  }
  const bool spaced = rng->Chance(0.3);
  std::string text = "{";
  bool first = true;
  for (int i : key_order) {
    if (!f.present[i]) continue;
    if (!first) text += spaced ? ", " : ",";
    first = false;
    text += '"';
    text += Fields::kNames[i];
    text += spaced ? "\": " : "\":";
    text += f.value[i];
  }
  text += '}';
  if (line.kind == LineKind::kMalformedRecord) {
    // A strict prefix of one JSON object is never valid JSON: the closing brace is missing.
    text.resize(2 + rng->Below(text.size() - 3));
  }
  *out += text;
  *out += '\n';
}

void AppendCsvField(std::string_view value, bool quote, std::string* out) {
  quote = quote || value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    *out += value;
    return;
  }
  *out += '"';
  for (char c : value) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

void RenderCsvRecord(const Line& line, const Order& order, Rng* rng, std::string* out) {
  Fields f = BuildFields(line, order, /*json=*/false, rng);
  int count = Fields::kCount;
  bool extra = false;
  if (line.kind == LineKind::kMalformedRecord) {
    // The wrong number of fields: too few or one too many.
    if (rng->Chance(0.5)) {
      count -= 1 + static_cast<int>(rng->Below(3));
    } else {
      extra = true;
    }
  }
  for (int i = 0; i < count; ++i) {
    if (i > 0) *out += ',';
    // A missing value is an unquoted empty field (NULL); others are quoted at random, which
    // RFC 4180 allows for any field.
    AppendCsvField(f.value[i], f.present[i] && rng->Chance(0.1), out);
  }
  if (extra) *out += ",extra";
  *out += '\n';
}

// ---------------------------------------------------------------------------------------------
// Generation.

Status CheckOptions(const OrderGeneratorOptions& o) {
  if (o.orders < 1 || o.orders > 99999999) {
    return Status::InvalidArgument("orders must be in 1..99999999, got " + std::to_string(o.orders));
  }
  if (o.batches < 1 || o.batches > 9999) {
    return Status::InvalidArgument("batches must be in 1..9999, got " + std::to_string(o.batches));
  }
  if (o.tenants < 1 || o.tenants > 100) {
    return Status::InvalidArgument("tenants must be in 1..100, got " + std::to_string(o.tenants));
  }
  if (o.days < 1 || o.days > 31) {
    return Status::InvalidArgument("days must be in 1..31, got " + std::to_string(o.days));
  }
  if (!(o.invalid_rate >= 0 && o.invalid_rate <= 1)) {
    return Status::InvalidArgument("invalid_rate must be in 0..1");
  }
  if (o.format != "jsonl" && o.format != "csv") {
    return Status::InvalidArgument("format must be jsonl or csv, got '" + o.format + "'");
  }
  return Status::OK();
}

// The lifecycles and their shares (percent): 20+25+15+20+10+10 = 100, ~2.45 events per order.
struct Lifecycle {
  int percent;
  std::vector<OrderStatus> steps;
};
const std::vector<Lifecycle>& Lifecycles() {
  static const std::vector<Lifecycle> kLifecycles = {
      {20, {kCreated}},
      {25, {kCreated, kPaid}},
      {15, {kCreated, kPaid, kShipped}},
      {20, {kCreated, kPaid, kShipped, kDelivered}},
      {10, {kCreated, kCancelled}},
      {10, {kCreated, kPaid, kCancelled}},
  };
  return kLifecycles;
}

void GenerateBaseEvents(const OrderGeneratorOptions& opt, std::vector<Order>* orders,
                        std::vector<Line>* lines) {
  Rng rng(StreamSeed(opt.seed, kOrdersStream));
  const auto batches = static_cast<uint64_t>(opt.batches);
  orders->resize(static_cast<size_t>(opt.orders));
  lines->reserve(static_cast<size_t>(opt.orders) * 27 / 10);
  for (uint32_t i = 0; i < orders->size(); ++i) {
    Order& o = (*orders)[i];
    o.tenant = (opt.tenants == 1 || rng.Chance(0.3))
                   ? 0
                   : 1 + static_cast<int32_t>(rng.Below(static_cast<uint64_t>(opt.tenants - 1)));
    o.created_utc = kJan2026 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(opt.days))) * 86400 +
                    static_cast<int64_t>(rng.Below(86400));
    uint64_t pick = rng.Below(100);
    const Lifecycle* life = nullptr;
    for (const Lifecycle& l : Lifecycles()) {
      if (pick < static_cast<uint64_t>(l.percent)) {
        life = &l;
        break;
      }
      pick -= static_cast<uint64_t>(l.percent);
    }
    o.first_event = static_cast<uint32_t>(lines->size());
    o.num_events = static_cast<uint32_t>(life->steps.size());
    int32_t seq = 1;
    int64_t amount = static_cast<int64_t>(rng.Below(kMaxCents + 1));
    uint64_t batch = rng.Below(batches);
    for (size_t k = 0; k < life->steps.size(); ++k) {
      if (k > 0) {
        seq += 1 + (rng.Chance(0.1) ? 1 : 0);
        if (rng.Chance(0.15)) amount = static_cast<int64_t>(rng.Below(kMaxCents + 1));
        if (rng.Chance(0.02)) {
          batch = rng.Below(batch + 1);  // arrives out of order: no later than the previous one
        } else if (rng.Chance(0.4)) {
          batch = std::min(batches - 1, batch + 1 + rng.Below(2));
        }
      }
      Line line;
      line.order = i;
      line.seq = seq;
      line.status = life->steps[k];
      line.amount_cents = amount;
      line.batch = static_cast<uint16_t>(batch);
      line.render_seed = RenderSeed(opt.seed, lines->size());
      lines->push_back(line);
    }
  }
}

// Exact duplicates (~2%): a copy of a base event, byte for byte, in the same or a later batch.
void AddDuplicates(const OrderGeneratorOptions& opt, size_t base, std::vector<Line>* lines) {
  Rng rng(StreamSeed(opt.seed, kDuplicatesStream));
  const auto n = static_cast<size_t>(std::llround(0.02 * static_cast<double>(base)));
  for (size_t i = 0; i < n; ++i) {
    Line copy = (*lines)[rng.Below(base)];
    copy.batch =
        static_cast<uint16_t>(copy.batch + rng.Below(static_cast<uint64_t>(opt.batches - copy.batch)));
    lines->push_back(copy);
  }
}

// Late older versions (~2%): an older seq of an order re-sent in a batch after the one holding
// a newer seq (the same batch when that is the last one).
void AddLateVersions(const OrderGeneratorOptions& opt, const std::vector<Order>& orders, size_t base,
                     std::vector<Line>* lines) {
  Rng rng(StreamSeed(opt.seed, kLateStream));
  const auto n = static_cast<size_t>(std::llround(0.02 * static_cast<double>(base)));
  for (size_t i = 0; i < n; ++i) {
    const Order* o = nullptr;
    for (int attempt = 0; attempt < 64 && o == nullptr; ++attempt) {
      const Order& cand = orders[rng.Below(orders.size())];
      if (cand.num_events >= 2) o = &cand;
    }
    if (o == nullptr) break;  // (almost) no order has two events
    uint32_t older = static_cast<uint32_t>(rng.Below(o->num_events - 1));
    uint16_t newest_batch = 0;
    for (uint32_t k = older + 1; k < o->num_events; ++k) {
      newest_batch = std::max(newest_batch, (*lines)[o->first_event + k].batch);
    }
    Line resend = (*lines)[o->first_event + older];
    const auto last = static_cast<uint16_t>(opt.batches - 1);
    resend.batch = newest_batch < last
                       ? static_cast<uint16_t>(newest_batch + 1 + rng.Below(last - newest_batch))
                       : newest_batch;
    // Rendered afresh: the same values, possibly spelled differently.
    resend.render_seed = RenderSeed(opt.seed, lines->size());
    lines->push_back(resend);
  }
}

// Invalid lines: ~invalid_rate of the base events per kind, each built on an existing order
// with a seq above its newest, so a validator that wrongly accepted one would change the result.
void AddInvalidLines(const OrderGeneratorOptions& opt, const std::vector<Order>& orders, size_t base,
                     std::vector<Line>* lines) {
  Rng rng(StreamSeed(opt.seed, kInvalidStream));
  const auto n = static_cast<size_t>(std::llround(opt.invalid_rate * static_cast<double>(base)));
  for (int kind = 1; kind <= kNumInvalidKinds; ++kind) {
    for (size_t i = 0; i < n; ++i) {
      const auto order_index = static_cast<uint32_t>(rng.Below(orders.size()));
      const Order& o = orders[order_index];
      const Line& newest = (*lines)[o.first_event + o.num_events - 1];
      Line bad;
      bad.order = order_index;
      bad.seq = newest.seq + 1 + static_cast<int32_t>(rng.Below(5));
      bad.status = static_cast<OrderStatus>(rng.Below(kStatusNames.size()));
      bad.amount_cents = static_cast<int64_t>(rng.Below(kMaxCents + 1));
      bad.batch = static_cast<uint16_t>(rng.Below(static_cast<uint64_t>(opt.batches)));
      bad.kind = static_cast<LineKind>(kind);
      bad.render_seed = RenderSeed(opt.seed, lines->size());
      lines->push_back(bad);
    }
  }
}

std::string BatchFileName(int batch, const std::string& format) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "batch-%04d.", batch + 1);
  return buf + format;
}

struct FinalOrder {
  int32_t seq = -1;
  OrderStatus status = kCreated;
  int64_t amount_cents = 0;
};

// The ground truth, from the valid lines alone.
nlohmann::ordered_json ExpectedResults(const OrderGeneratorOptions& opt, const std::vector<Order>& orders,
                                       const std::vector<Line>& lines) {
  using Json = nlohmann::ordered_json;
  std::vector<FinalOrder> final_state(orders.size());
  struct BatchCounts {
    int64_t read = 0, valid = 0;
    std::array<int64_t, kNumInvalidKinds + 1> dead{};
  };
  std::vector<BatchCounts> per_batch(static_cast<size_t>(opt.batches));
  int64_t valid_total = 0;
  for (const Line& line : lines) {
    BatchCounts& b = per_batch[line.batch];
    ++b.read;
    if (line.kind != LineKind::kValid) {
      ++b.dead[static_cast<int>(line.kind)];
      continue;
    }
    ++b.valid;
    ++valid_total;
    FinalOrder& f = final_state[line.order];
    if (line.seq > f.seq) {
      f = FinalOrder{line.seq, line.status, line.amount_cents};
    } else if (line.seq == f.seq) {
      // Ties on the version are exact duplicates by construction.
      assert(line.status == f.status && line.amount_cents == f.amount_cents);
    }
  }
  // CSV has no malformed JSON, but has malformed records; every kind applies to both formats.
  auto reasons = [](const std::array<int64_t, kNumInvalidKinds + 1>& dead) {
    Json j = Json::object();
    for (int k = 1; k <= kNumInvalidKinds; ++k) j[kReasonNames[k]] = dead[k];
    return j;
  };

  Json out = Json::object();
  int64_t distinct = 0;
  for (const FinalOrder& f : final_state) distinct += f.seq >= 0 ? 1 : 0;
  out["orders"] = distinct;
  out["events_valid"] = valid_total;
  out["lines_total"] = static_cast<int64_t>(lines.size());
  Json batches = Json::array();
  std::array<int64_t, kNumInvalidKinds + 1> dead_total{};
  for (size_t b = 0; b < per_batch.size(); ++b) {
    const BatchCounts& c = per_batch[b];
    int64_t dead = 0;
    for (int k = 1; k <= kNumInvalidKinds; ++k) {
      dead += c.dead[k];
      dead_total[k] += c.dead[k];
    }
    batches.push_back(Json{{"file", BatchFileName(static_cast<int>(b), opt.format)},
                           {"rows_read", c.read},
                           {"rows_valid", c.valid},
                           {"rows_dead", dead},
                           {"dead_by_reason", reasons(c.dead)}});
  }
  out["batches"] = std::move(batches);
  out["dead_by_reason"] = reasons(dead_total);

  std::array<int64_t, kStatusNames.size()> status_counts{};
  std::vector<int64_t> revenue(static_cast<size_t>(opt.tenants), 0);
  std::map<std::pair<int64_t, int32_t>, std::pair<int64_t, int64_t>> mart;  // (day, tenant)
  for (size_t i = 0; i < orders.size(); ++i) {
    const FinalOrder& f = final_state[i];
    if (f.seq < 0) continue;
    ++status_counts[f.status];
    if (f.status == kCancelled) continue;
    revenue[static_cast<size_t>(orders[i].tenant)] += f.amount_cents;
    auto& cell = mart[{FloorDiv(orders[i].created_utc, 86400), orders[i].tenant}];
    ++cell.first;
    cell.second += f.amount_cents;
  }
  Json statuses = Json::object();
  for (size_t s = 0; s < kStatusNames.size(); ++s) statuses[kStatusNames[s]] = status_counts[s];
  out["final_status_counts"] = std::move(statuses);
  // Tenants with no non-cancelled order have no revenue (as a GROUP BY would show).
  std::vector<bool> has_revenue(static_cast<size_t>(opt.tenants), false);
  for (const auto& [key, cell] : mart) has_revenue[static_cast<size_t>(key.second)] = true;
  Json by_tenant = Json::object();
  for (int t = 0; t < opt.tenants; ++t) {
    if (has_revenue[static_cast<size_t>(t)]) {
      by_tenant[TenantId(t)] = FormatCents(revenue[static_cast<size_t>(t)]);
    }
  }
  out["revenue_by_tenant"] = std::move(by_tenant);
  Json mart_rows = Json::array();
  for (const auto& [key, cell] : mart) {
    mart_rows.push_back(Json{{"day", FormatDay(key.first * 86400)},
                             {"tenant_id", TenantId(key.second)},
                             {"orders", cell.first},
                             {"revenue", FormatCents(cell.second)}});
  }
  out["mart_daily_revenue"] = std::move(mart_rows);
  if (opt.orders <= 50000) {
    Json state = Json::object();
    for (size_t i = 0; i < orders.size(); ++i) {
      const FinalOrder& f = final_state[i];
      if (f.seq < 0) continue;
      state[OrderId(static_cast<uint32_t>(i))] =
          Json{{"status", kStatusNames[f.status]},
               {"seq", f.seq},
               {"amount", FormatCents(f.amount_cents)},
               {"tenant_id", TenantId(orders[i].tenant)},
               {"created_at", FormatDateTime(orders[i].created_utc, ' ')}};
    }
    out["final_state"] = std::move(state);
  }
  return out;
}

}  // namespace

Status GenerateOrders(const OrderGeneratorOptions& options, const std::string& landing_dir,
                      const std::string& expected_path) {
  RETURN_IF_ERROR(CheckOptions(options));
  std::vector<Order> orders;
  std::vector<Line> lines;
  GenerateBaseEvents(options, &orders, &lines);
  const size_t base = lines.size();
  AddDuplicates(options, base, &lines);
  AddLateVersions(options, orders, base, &lines);
  AddInvalidLines(options, orders, base, &lines);

  std::vector<std::vector<uint32_t>> by_batch(static_cast<size_t>(options.batches));
  for (size_t i = 0; i < lines.size(); ++i) by_batch[lines[i].batch].push_back(static_cast<uint32_t>(i));
  Env* env = Env::Default();
  RETURN_IF_ERROR(env->CreateDirs(landing_dir));
  const bool json = options.format == "jsonl";
  Rng shuffle(StreamSeed(options.seed, kShuffleStream));
  std::string data;
  for (size_t b = 0; b < by_batch.size(); ++b) {
    std::vector<uint32_t>& ids = by_batch[b];
    for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[shuffle.Below(i)]);
    data.clear();
    if (!json) data = "order_id,tenant_id,status,amount,created_at,seq\n";
    for (uint32_t id : ids) {
      const Line& line = lines[id];
      Rng render(line.render_seed);
      if (json) {
        RenderJsonLine(line, orders[line.order], &render, &data);
      } else {
        RenderCsvRecord(line, orders[line.order], &render, &data);
      }
    }
    RETURN_IF_ERROR(
        env->WriteFile(landing_dir + "/" + BatchFileName(static_cast<int>(b), options.format), data));
  }
  nlohmann::ordered_json expected = ExpectedResults(options, orders, lines);
  return env->WriteFile(expected_path, expected.dump(1) + "\n");
}

bool IsGeneratedFileName(const std::string& name) {
  if (name == "expected.json") return true;
  const std::string prefix = "batch-";
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size();
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i - prefix.size() < 4) return false;
  const std::string ext = name.substr(i);
  return ext == ".jsonl" || ext == ".csv";
}

}  // namespace sluice
