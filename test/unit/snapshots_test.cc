// catalog/snapshots.h: which snapshots retention lets go, and how --as-of / as_of text is read.
#include "catalog/snapshots.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

constexpr int64_t kHour = 3600LL * 1000000;

std::vector<SnapshotRecord> Hourly(int n, int64_t first_us) {
  std::vector<SnapshotRecord> out;
  for (int i = 1; i <= n; ++i) {
    SnapshotRecord s;
    s.snapshot = i;
    s.version = 10 * i;
    s.committed_at_us = first_us + (i - 1) * kHour;
    out.push_back(s);
  }
  return out;
}

TEST(SnapshotRetention, KeepLastKeepsTheNewest) {
  auto s = Hourly(5, 0);
  EXPECT_EQ(SnapshotsToExpire(s, {2, std::nullopt}, 10 * kHour, nullptr), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(SnapshotsToExpire(s, {10, std::nullopt}, 10 * kHour, nullptr), (std::vector<int64_t>{}));
  // keep_last below 1 still keeps the current one.
  EXPECT_EQ(SnapshotsToExpire(s, {0, std::nullopt}, 10 * kHour, nullptr), (std::vector<int64_t>{4, 3, 2, 1}));
}

TEST(SnapshotRetention, KeepWithinKeepsYoungOnesAndPinsKeepTheirs) {
  auto s = Hourly(5, 0);  // committed at 0h..4h
  // At 5h with keep_within 2h: 3h and 4h are within, plus the newest; 0h..2h go (keep_last 1).
  EXPECT_EQ(SnapshotsToExpire(s, {1, 2 * 3600}, 5 * kHour, nullptr), (std::vector<int64_t>{3, 2, 1}));
  // A pinned version stays.
  EXPECT_EQ(SnapshotsToExpire(s, {1, 2 * 3600}, 5 * kHour, [](int64_t v) { return v == 20; }),
            (std::vector<int64_t>{3, 1}));
  // Expired ones are not expired again and do not count towards keep_last.
  s[4].expired_at_us = 0;
  s[3].expired_at_us = 0;
  EXPECT_EQ(SnapshotsToExpire(s, {2, std::nullopt}, 5 * kHour, nullptr), (std::vector<int64_t>{1}));
}

TEST(SnapshotAsOf, NumbersTimesAndAnythingElse) {
  auto conn = duck::Connection::Open();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto n = ParseAsOf(**conn, "12");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->snapshot, 12);
  auto t = ParseAsOf(**conn, "2026-12-01 09:45:00");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->at_us, 1796118300LL * 1000000);
  auto iso = ParseAsOf(**conn, "2026-12-01T09:45:00Z");
  ASSERT_TRUE(iso.ok()) << iso.status().ToString();
  EXPECT_EQ(iso->at_us, t->at_us);
  for (const std::string& bad :
       std::vector<std::string>{"0", "", "abc", "-1", "1.5", "1; DROP TABLE x", "' OR 1=1 --", "2026-13-45",
                                std::string(500, '9')}) {
    auto r = ParseAsOf(**conn, bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace sluice
