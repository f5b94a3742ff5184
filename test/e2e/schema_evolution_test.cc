// Schema evolution end to end (G7) through the real binary: v1 data; an additive v2 with a
// default (old rows read it in staging, curated and the published Parquet); a v3 that widens
// int32 -> int64 under a backward mode; queries over all the data; an incompatible v4 refused
// before anything changes (every table and file compared before and after); `sluice schema
// check` agreeing each time; `schema history` and `schema diff` showing the versions.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/hash.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

constexpr const char* kSpec = R"(name: shop
lake: lake
sources:
  orders:
    type: files
    path: landing/orders/*.jsonl
    format: jsonl
    contract: contracts/orders.yaml
    partition_by: {day: created_at, tenant: tenant_id}
tables:
  orders:
    from: orders
    key: [order_id]
    version: seq
  daily_revenue:
    sql: models/daily_revenue.sql
    partition_by: {day: day, tenant: tenant_id}
)";

constexpr const char* kModel =
    "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue\n"
    "FROM curated.orders GROUP BY ALL\n";

std::string Contract(const std::string& mode, const std::string& qty_type, const std::string& amount_type,
                     bool channel) {
  return "name: orders\ncompatibility: " + mode +
         "\ncolumns:\n"
         "  order_id:   {type: string, required: true}\n"
         "  tenant_id:  {type: string, required: true}\n"
         "  amount:     {type: \"" +
         amount_type +
         "\"}\n"
         "  created_at: {type: timestamp, required: true}\n"
         "  seq:        {type: int64, required: true}\n"
         "  qty:        {type: " +
         qty_type + "}\n" + (channel ? "  channel:    {type: string, default: web}\n" : "");
}

std::string Line(const std::string& id, const std::string& day, const std::string& qty,
                 const std::string& channel = "") {
  return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"t1\",\"amount\":12.5,\"created_at\":\"" + day +
         "T10:00:00Z\",\"seq\":1,\"qty\":" + qty +
         (channel.empty() ? "" : ",\"channel\":\"" + channel + "\"") + "}\n";
}

// Every file below the lake's staging/ and published/ with the hash of its content (symlinks
// by their target), so that "nothing changed" covers the files as well as the tables.
std::map<std::string, std::string> FileState(const Project& p) {
  std::map<std::string, std::string> out;
  for (const auto& rel : ListTree(p.Lake())) {
    if (rel.rfind("staging", 0) != 0 && rel.rfind("published", 0) != 0) continue;
    std::string full = p.Lake() + "/" + rel;
    std::error_code ec;
    if (std::filesystem::is_symlink(full, ec)) {
      out[rel] = "-> " + std::filesystem::read_symlink(full, ec).string();
    } else if (std::filesystem::is_regular_file(full, ec)) {
      out[rel] = ContentHash(ReadFileOrDie(full));
    } else {
      out[rel] = "dir";
    }
  }
  return out;
}

TEST(SchemaEvolution, AdditiveThenWideningThenIncompatibleRefused) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kSpec);
  WriteFileOrDie(p.Path("models/daily_revenue.sql"), kModel);
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("full_transitive", "int32", "decimal(12,2)", false));
  WriteFileOrDie(p.Landing() + "/b1.jsonl", Line("o1", "2026-01-03", "1") + Line("o2", "2026-01-03", "2"));

  // v1: nothing registered yet, then the first run registers it.
  ProcessResult check = p.Sluice("schema", {"check"});
  ASSERT_TRUE(check.ok()) << check.Describe();
  EXPECT_NE(check.out.find("nothing registered"), std::string::npos) << check.out;
  ASSERT_FALSE(p.RunJson().is_null());

  // v2: an added column with a default. check agrees, the run evolves every layer.
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("full_transitive", "int32", "decimal(12,2)", true));
  check = p.Sluice("schema", {"check"});
  EXPECT_TRUE(check.ok()) << check.Describe();
  EXPECT_NE(check.out.find("compatible"), std::string::npos) << check.out;
  WriteFileOrDie(p.Landing() + "/b2.jsonl", Line("o3", "2026-01-04", "3", "app"));
  ASSERT_FALSE(p.RunJson().is_null());
  const std::vector<std::vector<std::string>> channels = {{"o1", "web"}, {"o2", "web"}, {"o3", "app"}};
  EXPECT_EQ(p.Rows("SELECT order_id, channel FROM staging.orders ORDER BY 1"), channels);
  EXPECT_EQ(p.Rows("SELECT order_id, channel FROM curated.orders ORDER BY 1"), channels);
  DuckReader duck;
  EXPECT_EQ(ReadPublished(duck, p, "curated", "orders", "order_id, channel"), channels);

  // v3: qty widened int32 -> int64, under a backward mode that allows it.
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("backward_transitive", "int64", "decimal(12,2)", true));
  check = p.Sluice("schema", {"check"});
  EXPECT_TRUE(check.ok()) << check.Describe();
  // Under full_transitive the same widening is refused (old readers cannot read int64).
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("full_transitive", "int64", "decimal(12,2)", true));
  check = p.Sluice("schema", {"check"});
  EXPECT_FALSE(check.ok()) << check.Describe();
  EXPECT_NE(check.out.find("type_widened"), std::string::npos) << check.out;
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("backward_transitive", "int64", "decimal(12,2)", true));
  WriteFileOrDie(p.Landing() + "/b3.jsonl", Line("o4", "2026-01-04", "3000000000", "app"));
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Scalar("SELECT sum(qty) FROM curated.orders"), "3000000006");
  EXPECT_EQ(p.Scalar("SELECT sum(qty) FROM staging.orders"), "3000000006");
  EXPECT_EQ(p.Scalar("SELECT typeof(qty) FROM staging.orders LIMIT 1"), "BIGINT");
  EXPECT_EQ(p.Scalar("SELECT sum(orders) FROM marts.daily_revenue"), "4");
  EXPECT_EQ(p.Scalar("SELECT sum(revenue) FROM marts.daily_revenue"), "50.00");
  EXPECT_EQ(ReadPublished(duck, p, "curated", "orders", "sum(qty)::VARCHAR, count(*)::VARCHAR"),
            (std::vector<std::vector<std::string>>{{"3000000006", "4"}}));
  EXPECT_EQ(ReadPublished(duck, p, "marts", "daily_revenue", "sum(revenue)::VARCHAR"),
            (std::vector<std::vector<std::string>>{{"50.00"}}));

  // v4: amount narrowed, which the mart uses. Refused by check and by run; nothing changes.
  Snapshot before = TakeSnapshot(p);
  auto files_before = FileState(p);
  std::string versions_before = p.Scalar("SELECT count(*) FROM meta.schemas");
  EXPECT_EQ(versions_before, "3");
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("backward_transitive", "int64", "decimal(10,2)", true));
  WriteFileOrDie(p.Landing() + "/b4.jsonl", Line("o5", "2026-01-05", "5"));
  check = p.Sluice("schema", {"check"});
  ExpectCleanFailure(check, "schema check of v4");
  EXPECT_NE(check.out.find("column amount"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("type_narrowed"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("marts.daily_revenue (models/daily_revenue.sql)"), std::string::npos) << check.out;
  ProcessResult run = p.Sluice("run");
  ExpectCleanFailure(run, "run with v4");
  for (const char* part :
       {"contracts/orders.yaml", "column amount", "amount decimal(12,2)", "amount decimal(10,2)",
        "type_narrowed", "backward_transitive", "used_downstream", "marts.daily_revenue"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << " missing in: " << run.err;
  }
  ProcessResult ingest = p.Sluice("ingest", {"orders", p.Landing() + "/b4.jsonl"});
  ExpectCleanFailure(ingest, "ingest with v4");
  ExpectSameSnapshot(before, TakeSnapshot(p), "after the refused v4");
  EXPECT_EQ(FileState(p), files_before);
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.schemas"), versions_before);

  // History and diff.
  ProcessResult hist = p.Sluice("schema", {"history", "orders"});
  ASSERT_TRUE(hist.ok()) << hist.Describe();
  for (const char* part : {"v1", "v2", "v3", "channel string default=web", "qty int64"}) {
    EXPECT_NE(hist.out.find(part), std::string::npos) << part << " missing in: " << hist.out;
  }
  EXPECT_EQ(hist.out.find("v4"), std::string::npos) << hist.out;
  ProcessResult hist_json = p.Sluice("schema", {"history", "orders", "--json"});
  ASSERT_TRUE(hist_json.ok()) << hist_json.Describe();
  Json h = Json::parse(hist_json.out);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2]["compatibility"], "backward_transitive");
  ProcessResult diff = p.Sluice("schema", {"diff", "orders", "1", "3"});
  ASSERT_TRUE(diff.ok()) << diff.Describe();
  EXPECT_NE(diff.out.find("+ channel string default=web"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("~ qty int32 -> qty int64"), std::string::npos) << diff.out;
  ExpectCleanFailure(p.Sluice("schema", {"diff", "orders", "1", "9"}), "diff to a missing version");

  // Back to v3: the run goes on and loads b4.
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("backward_transitive", "int64", "decimal(12,2)", true));
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Scalar("SELECT channel FROM curated.orders WHERE order_id = 'o5'"), "web");
}

TEST(SchemaEvolution, CheckAgainstAFileOrAGitRevision) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kSpec);
  WriteFileOrDie(p.Path("models/daily_revenue.sql"), kModel);
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("full_transitive", "int32", "decimal(12,2)", false));
  WriteFileOrDie(p.Path("old.yaml"), Contract("full_transitive", "int32", "decimal(14,2)", false));
  // Against a file: decimal(14,2) -> decimal(12,2) is a narrowing, and no lake is needed.
  ProcessResult r = p.Sluice("schema", {"check", "--against", p.Path("old.yaml")});
  ExpectCleanFailure(r, "check against a file");
  EXPECT_NE(r.out.find("type_narrowed"), std::string::npos) << r.out;
  EXPECT_TRUE(TempLeftovers(p.dir()).empty());
  EXPECT_FALSE(std::filesystem::exists(p.Lake()));

  // Against a git revision of the project's repository.
  auto git = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"-C", p.dir(), "-c", "user.email=t@example.com", "-c", "user.name=t"};
    all.insert(all.end(), args.begin(), args.end());
    ProcessResult g = RunProcess("/usr/bin/git", all, {});
    EXPECT_TRUE(g.ok()) << g.Describe();
  };
  git({"init", "-q"});
  git({"add", "contracts/orders.yaml"});
  git({"commit", "-q", "-m", "v1"});
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("full_transitive", "int32", "decimal(12,2)", true));
  r = p.Sluice("schema", {"check", "orders", "--against", "HEAD"});
  EXPECT_TRUE(r.ok()) << r.Describe();
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 Contract("full_transitive", "string", "decimal(12,2)", false));
  r = p.Sluice("schema", {"check", "--against", "HEAD", "--json"});
  ExpectCleanFailure(r, "check against HEAD");
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["compatible"], false);
  EXPECT_EQ(j["sources"]["orders"]["violations"][0]["rule"], "type_changed");
  EXPECT_EQ(j["sources"]["orders"]["violations"][0]["column"], "qty");
  ExpectCleanFailure(p.Sluice("schema", {"check", "--against", "no-such-rev"}), "unknown revision");
}

}  // namespace
}  // namespace sluice::e2e
