// Command output and value parsing a new user hit (issue 10, items 13 and 14), through the real
// binary:
//  - `dlq list` prints batch ids whole, so that one pastes into `--batch`;
//  - `status` of sources and tables with nothing in them says so instead of blank fields;
//  - `schema history` shows enums and checks and what changed between versions;
//  - `--project DIR` is accepted before the command as well as after it;
//  - `init DIR` names the project after DIR (or `--name`);
//  - `generate DIR` refuses a non-empty DIR, and `--force` replaces only its own files;
//  - `vacuum` without a lake refuses and creates nothing;
//  - a decimal with too many places is bad_type naming the places; nanosecond timestamps are
//    truncated to microseconds; a timestamp without an offset is UTC.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `sluice args...` run from `cwd`, without the --project the Project helper appends.
ProcessResult SluiceIn(const std::string& cwd, const std::vector<std::string>& args) {
  ProcessOptions options;
  options.cwd = cwd;
  return RunProcess(SluiceBinary(), args, options);
}

OrderGeneratorOptions Small(double invalid_rate) {
  OrderGeneratorOptions o;
  o.orders = 30;
  o.batches = 2;
  o.invalid_rate = invalid_rate;
  return o;
}

TEST(OutputValues, DlqListPrintsWholeBatchIdsThatPasteIntoBatch) {
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", Small(0.05));
  ASSERT_FALSE(p.RunJson().is_null());
  ProcessResult json = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(json.ok()) << json.Describe();
  const Json rows = Json::parse(json.out);
  ASSERT_FALSE(rows.empty());
  ProcessResult table = p.Sluice("dlq", {"list"});
  ASSERT_TRUE(table.ok()) << table.Describe();
  std::set<std::string> batches;
  for (const Json& row : rows) batches.insert(row["batch_id"].get<std::string>());
  for (const std::string& batch : batches) {
    EXPECT_TRUE(Contains(table.out, " " + batch + " ")) << batch << " not whole in:\n" << table.out;
  }
  // Every id in the table's batch column selects that batch's rows.
  std::vector<std::string> printed;
  size_t line_start = table.out.find('\n', table.out.find("-+-")) + 1;
  while (line_start < table.out.size() && table.out[line_start] != '(') {
    const size_t end = table.out.find('\n', line_start);
    std::string line = table.out.substr(line_start, end - line_start);
    size_t a = line.find(" | ");
    a = line.find(" | ", a + 3);  // id | source | batch
    const size_t b = line.find(" | ", a + 3);
    std::string batch = line.substr(a + 3, b - a - 3);
    batch.erase(batch.find_last_not_of(' ') + 1);
    printed.push_back(batch);
    line_start = end + 1;
  }
  ASSERT_EQ(printed.size(), rows.size()) << table.out;
  ProcessResult one = p.Sluice("dlq", {"list", "--batch", printed.front(), "--json"});
  ASSERT_TRUE(one.ok()) << one.Describe();
  const Json selected = Json::parse(one.out);
  EXPECT_FALSE(selected.empty()) << "--batch " << printed.front() << " selects nothing";
  for (const Json& row : selected) EXPECT_EQ(row["batch_id"], printed.front());
}

TEST(OutputValues, StatusSaysNoBatchesYetForEmptySourcesAndTables) {
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", Small(0));
  fs::remove_all(p.Landing());
  fs::create_directories(p.Landing());
  ASSERT_FALSE(p.RunJson().is_null());
  ProcessResult st = p.Sluice("status");
  ASSERT_TRUE(st.ok()) << st.Describe();
  EXPECT_TRUE(Contains(st.out, "orders: no batches yet")) << st.out;
  EXPECT_FALSE(Contains(st.out, "last batch \n")) << st.out;
  EXPECT_FALSE(Contains(st.out, "updated , ")) << st.out;
  ProcessResult js = p.Sluice("status", {"--json"});
  ASSERT_TRUE(js.ok()) << js.Describe();
  const Json status = Json::parse(js.out);
  EXPECT_TRUE(status["sources"]["orders"]["last_batch_at"].is_null()) << js.out;
  for (const auto& [name, table] : status["tables"].items()) {
    if (table["version"] == 0) {
      EXPECT_TRUE(table["updated_at"].is_null()) << name << ": " << js.out;
      EXPECT_TRUE(Contains(st.out, "." + name + ": not built yet")) << name << ": " << st.out;
    }
  }
}

std::string HistoryContract(const std::string& extra_status, const std::string& checks) {
  return "name: orders\ncompatibility: none\ncolumns:\n"
         "  order_id:   {type: string, required: true}\n"
         "  tenant_id:  {type: string, required: true}\n"
         "  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled" +
         extra_status +
         "]}\n"
         "  amount:     {type: decimal(12,2), min: 0}\n"
         "  created_at: {type: timestamp, required: true}\n"
         "  seq:        {type: int64, required: true}\n" +
         checks;
}

TEST(OutputValues, SchemaHistoryShowsEnumsChecksAndChanges) {
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", Small(0));
  WriteFileOrDie(p.Path("contracts/orders.yaml"), HistoryContract("", ""));
  ASSERT_FALSE(p.RunJson().is_null());
  WriteFileOrDie(
      p.Path("contracts/orders.yaml"),
      HistoryContract(", refunded", "checks:\n  - {name: not_huge, expr: \"amount <= 100000\"}\n"));
  ASSERT_FALSE(p.RunJson().is_null());
  ProcessResult hist = p.Sluice("schema", {"history", "orders"});
  ASSERT_TRUE(hist.ok()) << hist.Describe();
  for (const char* part : {"status string enum=[created,paid,shipped,delivered,cancelled]",
                           "status string enum=[created,paid,shipped,delivered,cancelled,refunded]",
                           "amount decimal(12,2) min=0", "not_huge: amount <= 100000", "changes from v1",
                           "+ check not_huge: amount <= 100000"}) {
    EXPECT_TRUE(Contains(hist.out, part)) << part << " missing in:\n" << hist.out;
  }
  ProcessResult hist_json = p.Sluice("schema", {"history", "orders", "--json"});
  ASSERT_TRUE(hist_json.ok()) << hist_json.Describe();
  const Json h = Json::parse(hist_json.out);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_TRUE(h[0]["checks"].empty()) << h.dump();
  ASSERT_EQ(h[1]["checks"].size(), 1u) << h.dump();
  EXPECT_EQ(h[1]["changes"]["changed"].size(), 1u) << h.dump();
  ProcessResult diff = p.Sluice("schema", {"diff", "orders", "1", "2"});
  ASSERT_TRUE(diff.ok()) << diff.Describe();
  EXPECT_TRUE(Contains(diff.out, "+ check not_huge: amount <= 100000")) << diff.out;
}

TEST(OutputValues, ProjectIsAcceptedBeforeTheCommand) {
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", Small(0.05));
  const std::string elsewhere = tmp.path();  // not the project: --project must be honoured
  ProcessResult run = SluiceIn(elsewhere, {"--project", p.dir(), "run", "--json"});
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_TRUE(fs::exists(p.Lake() + "/sluice.duckdb"));
  EXPECT_FALSE(fs::exists(elsewhere + "/lake"));
  for (const std::vector<std::string>& command : {std::vector<std::string>{"status"},
                                                  {"dlq", "list"},
                                                  {"schema", "history", "orders"},
                                                  {"batches", "list"}}) {
    std::vector<std::string> args = {"--project", p.dir()};
    args.insert(args.end(), command.begin(), command.end());
    ProcessResult r = SluiceIn(elsewhere, args);
    EXPECT_TRUE(r.ok()) << command.front() << ": " << r.Describe();
  }
  // After the command still works, and both places agreeing is fine.
  EXPECT_TRUE(SluiceIn(elsewhere, {"status", "--project", p.dir()}).ok());
  EXPECT_TRUE(SluiceIn(elsewhere, {"--project", p.dir(), "status", "--project", p.dir()}).ok());
  ExpectCleanFailure(SluiceIn(elsewhere, {"--project", p.dir(), "status", "--project", elsewhere}),
                     "two different --project");
  ExpectCleanFailure(SluiceIn(elsewhere, {"--project", p.dir(), "init", tmp.path() + "/other"}),
                     "--project with init");
  EXPECT_FALSE(fs::exists(tmp.path() + "/other"));
}

TEST(OutputValues, InitNamesTheProjectAfterItsDirectory) {
  TempDir tmp;
  ProcessResult r = SluiceIn(tmp.path(), {"init", tmp.path() + "/My-Shop 2"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_TRUE(Contains(ReadFileOrDie(tmp.path() + "/My-Shop 2/sluice.yaml"), "name: my_shop_2\n"));
  // The project loads (the name is valid).
  EXPECT_TRUE(SluiceIn(tmp.path(), {"schema", "check", "--project", tmp.path() + "/My-Shop 2"}).ok());

  r = SluiceIn(tmp.path(), {"init", tmp.path() + "/x", "--name", "acme"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_TRUE(Contains(ReadFileOrDie(tmp.path() + "/x/sluice.yaml"), "name: acme\n"));

  ExpectCleanFailure(SluiceIn(tmp.path(), {"init", tmp.path() + "/y", "--name", "Bad-Name"}),
                     "invalid --name");
  EXPECT_FALSE(fs::exists(tmp.path() + "/y/sluice.yaml"));
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OutputValues, GenerateRefusesANonEmptyDirUnlessForced) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  ProcessResult r = SluiceIn(tmp.path(), {"generate", dir, "--orders", "20", "--batches", "3"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  WriteFileOrDie(dir + "/notes.txt", "mine\n");
  const std::string expected_before = ReadFileOrDie(dir + "/expected.json");
  const std::vector<std::string> before = Entries(dir);

  ExpectCleanFailure(SluiceIn(tmp.path(), {"generate", dir, "--orders", "20", "--batches", "2"}),
                     "generate into a non-empty dir");
  EXPECT_EQ(Entries(dir), before);
  EXPECT_EQ(ReadFileOrDie(dir + "/expected.json"), expected_before);

  r = SluiceIn(tmp.path(), {"generate", dir, "--orders", "20", "--batches", "2", "--force"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(Entries(dir),
            (std::vector<std::string>{"batch-0001.jsonl", "batch-0002.jsonl", "expected.json", "notes.txt"}));
  EXPECT_EQ(ReadFileOrDie(dir + "/notes.txt"), "mine\n");
  EXPECT_EQ(Json::parse(ReadFileOrDie(dir + "/expected.json"))["batches"].size(), 2u);
}

TEST(OutputValues, VacuumWithoutALakeRefusesAndCreatesNothing) {
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", Small(0));
  const std::vector<std::string> before = ListTree(p.dir());
  ProcessResult r = p.Sluice("vacuum");
  ExpectCleanFailure(r, "vacuum without a lake");
  EXPECT_TRUE(Contains(r.err, "no lake at " + p.Lake())) << r.err;
  EXPECT_FALSE(fs::exists(p.Lake()));
  EXPECT_EQ(ListTree(p.dir()), before);
}

std::string Order(const std::string& id, const std::string& amount, const std::string& created_at) {
  return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":" + amount +
         ",\"created_at\":\"" + created_at + "\",\"seq\":1}\n";
}

TEST(OutputValues, DecimalPlacesAreBadTypeAndNanosecondsTruncate) {
  TempDir tmp;
  Project p = MakeExampleProject(tmp.path() + "/shop", Small(0));
  WriteFileOrDie(p.Landing() + "/values.jsonl", Order("p1", "12.345", "2026-01-02T10:00:00Z") +
                                                    Order("p2", "\"0.001\"", "2026-01-02T10:00:00Z") +
                                                    Order("n1", "1.5", "2026-01-02T10:00:00.123456789Z") +
                                                    Order("n2", "1.5", "2025-12-31T23:59:59.999999999Z") +
                                                    Order("n3", "1.5", "2026-01-02T12:00:00.1234567+02:00") +
                                                    Order("u1", "1.50", "2026-01-02 10:00:00"));
  ASSERT_FALSE(p.RunJson().is_null());
  ProcessResult dlq = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(dlq.ok()) << dlq.Describe();
  std::map<std::string, Json> dead;
  for (const Json& row : Json::parse(dlq.out)) {
    const std::string raw = row["raw"].get<std::string>();
    for (const char* id : {"p1", "p2", "n1", "n2", "n3", "u1"}) {
      if (Contains(raw, std::string("\"") + id + "\"")) dead[id] = row;
    }
  }
  ASSERT_EQ(dead.size(), 2u) << dlq.out;
  EXPECT_EQ(dead["p1"]["reason"], "bad_type");
  EXPECT_EQ(dead["p1"]["column_name"], "amount");
  EXPECT_EQ(dead["p1"]["message"], "12.345 has 3 decimal places, decimal(12,2) allows 2");
  EXPECT_EQ(dead["p2"]["reason"], "bad_type");
  EXPECT_EQ(dead["p2"]["message"], "\"0.001\" has 3 decimal places, decimal(12,2) allows 2");

  auto created = [&](const std::string& id) {
    return p.Scalar("SELECT CAST(created_at AS VARCHAR) FROM curated.orders WHERE order_id = '" + id + "'");
  };
  EXPECT_EQ(created("n1"), "2026-01-02 10:00:00.123456");
  EXPECT_EQ(created("n2"), "2025-12-31 23:59:59.999999");  // truncated: never the next day
  EXPECT_EQ(created("n3"), "2026-01-02 10:00:00.123456");
  EXPECT_EQ(created("u1"), "2026-01-02 10:00:00");  // no offset: UTC
}

}  // namespace
}  // namespace sluice::e2e
