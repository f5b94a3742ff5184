// How the `sluice` binary fails, as README.md promises: every failure is one line `error: ...`
// on stderr with a non-zero exit, and a command line that cannot be read exits 2. Covers parse
// errors (CLI11's own codes 104-109 before), `generate --orders 0`, a contract default that is
// not of its column's type (file:line:col), a contract named after another source, and filter
// values (`--reason`, `--status`) that match nothing because they do not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

ProcessResult Sluice(const std::vector<std::string>& args, const std::string& cwd = "") {
  ProcessOptions options;
  options.cwd = cwd;
  options.timeout_seconds = 120;
  return RunProcess(SluiceBinary(), args, options);
}

std::string Join(const std::vector<std::string>& args) {
  std::string out = "sluice";
  for (const auto& a : args) out += " " + a;
  return out;
}

// Exit 2 and one `error:` line that points at the command's --help and mentions `mentions`.
void ExpectUsageError(const ProcessResult& r, const std::string& mentions, const std::string& what) {
  ExpectCleanFailure(r, what);
  EXPECT_EQ(r.exit_code, 2) << what << ": " << r.Describe();
  EXPECT_NE(r.err.find(mentions), std::string::npos)
      << what << ": should mention '" << mentions << "': " << r.err;
  EXPECT_NE(r.err.find("--help"), std::string::npos) << what << ": should point at --help: " << r.err;
  EXPECT_LT(r.err.size(), 400u) << what << ": " << r.err;
}

// A project with data in its lake (some of it dead-lettered) for the commands that read one.
Project MakeRunProject(const std::string& dir) {
  OrderGeneratorOptions o;
  o.orders = 200;
  o.batches = 2;
  o.seed = 81;
  Project p = MakeExampleProject(dir, o);
  p.RunJson();
  return p;
}

TEST(CliErrors, ParseErrorsExitTwoWithOneErrorLine) {
  TempDir tmp;
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{}, "subcommand"},
      {{"nosuch"}, "nosuch"},
      {{"dlq", "nosuch"}, "nosuch"},
      {{"run", "--nope"}, "--nope"},
      {{"run", "extra"}, "extra"},
      {{"generate"}, "dir"},
      {{"generate", tmp.path() + "/g", "--batches", "0"}, "--batches"},
      {{"query", "SELECT 1", "--format", "xml"}, "--format"},
      {{"run", "--memory-limit", "lots"}, "--memory-limit"},
      {{"run", "--project"}, "--project"},
      {{"schema", "diff", "orders", "one", "2"}, "v1"},
      {{"batches"}, "subcommand"},
  };
  for (const Case& c : cases) {
    ExpectUsageError(Sluice(c.args, tmp.path()), c.mentions, Join(c.args));
  }
  // Help and version are not errors.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"--version"}, {"run", "--help"}, {"dlq", "list", "--help"}}) {
    ProcessResult r = Sluice(args, tmp.path());
    EXPECT_TRUE(r.ok()) << Join(args) << ": " << r.Describe();
    EXPECT_FALSE(r.out.empty()) << Join(args);
    EXPECT_EQ(r.err, "") << Join(args);
  }
}

TEST(CliErrors, GenerateRefusesZeroOrNegativeOrders) {
  TempDir tmp;
  for (const std::string n : {"0", "-5", "2.5", "many"}) {
    const std::string dir = tmp.path() + "/g" + n;
    ProcessResult r = Sluice({"generate", dir, "--orders", n});
    ExpectUsageError(r, "--orders", "generate --orders " + n);
    EXPECT_NE(r.err.find("'" + n + "'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("0000000000"), std::string::npos) << "no 300-digit range: " << r.err;
    EXPECT_TRUE(ListTree(dir).empty()) << "nothing written for --orders " << n;
  }
  ProcessResult one = Sluice({"generate", tmp.path() + "/one", "--orders", "1", "--batches", "1"});
  EXPECT_TRUE(one.ok()) << one.Describe();
}

// --tenants (1..100) and --days (1..31) out of range or not whole numbers: exit 2, one line naming
// the option, the value and the range, nothing written; the bounds themselves are accepted.
TEST(CliErrors, GenerateRefusesTenantsAndDaysOutOfRange) {
  TempDir tmp;
  struct Case {
    std::string option;
    std::string value;
    std::string range;
  };
  const std::vector<Case> cases = {
      {"--tenants", "0", "1 to 100"},   {"--tenants", "101", "1 to 100"}, {"--tenants", "-3", "1 to 100"},
      {"--tenants", "2.5", "1 to 100"}, {"--days", "0", "1 to 31"},       {"--days", "32", "1 to 31"},
      {"--days", "week", "1 to 31"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string dir = tmp.path() + "/g" + std::to_string(i++);
    const std::string what = "generate " + c.option + " " + c.value;
    ProcessResult r = Sluice({"generate", dir, c.option, c.value});
    ExpectUsageError(r, c.option, what);
    EXPECT_NE(r.err.find("'" + c.value + "'"), std::string::npos) << what << ": " << r.err;
    EXPECT_NE(r.err.find(c.range), std::string::npos) << what << ": " << r.err;
    EXPECT_TRUE(ListTree(dir).empty()) << "nothing written for " << what;
  }
  ProcessResult bounds = Sluice({"generate", tmp.path() + "/bounds", "--orders", "20", "--batches", "1",
                                 "--tenants", "100", "--days", "31"});
  EXPECT_TRUE(bounds.ok()) << bounds.Describe();
}

// `default: 'abc'` for an int64 column: refused before anything runs, naming the contract file,
// the line and column of the value, and the field.
TEST(CliErrors, ContractDefaultOfTheWrongTypeNamesFileLineColumn) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 50;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  std::string contract = ReadFileOrDie(p.Path("contracts/orders.yaml"));
  while (!contract.empty() && contract.back() == '\n') contract.pop_back();
  contract += "\n";
  const int line = static_cast<int>(std::count(contract.begin(), contract.end(), '\n')) + 1;
  const std::string added = "  discount: {type: int64, default: 'abc'}\n";
  contract += added;
  WriteFileOrDie(p.Path("contracts/orders.yaml"), contract);
  const std::string at = "contracts/orders.yaml:" + std::to_string(line) + ":" +
                         std::to_string(added.find("'abc'") + 1) + ": columns.discount.default";

  ProcessResult run = p.Sluice("run");
  ExpectCleanFailure(run, "run with a bad default");
  EXPECT_NE(run.err.find(at), std::string::npos) << "should name " << at << ": " << run.err;
  if (!ListTree(p.Lake()).empty()) {
    EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches"), "0") << "nothing may be committed";
  }

  ProcessResult check = p.Sluice("schema", {"check"});
  EXPECT_NE(check.exit_code, 0) << check.Describe();
  EXPECT_NE((check.out + check.err).find(at), std::string::npos)
      << "schema check should name " << at << ": " << check.out << check.err;
}

// A contract whose `name:` is not its source's name is refused at the name, file:line:col.
TEST(CliErrors, ContractNamedAfterAnotherSourceIsRefused) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 50;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  std::string contract = ReadFileOrDie(p.Path("contracts/orders.yaml"));
  ASSERT_EQ(contract.rfind("name: orders\n", 0), 0u) << contract;
  contract.replace(0, 12, "name: order");
  WriteFileOrDie(p.Path("contracts/orders.yaml"), contract);

  for (const std::string command : {"run", "status"}) {
    ProcessResult r = p.Sluice(command);
    ExpectCleanFailure(r, command + " with a misnamed contract");
    EXPECT_NE(r.err.find("contracts/orders.yaml:1:7: name"), std::string::npos) << command << ": " << r.err;
    EXPECT_NE(r.err.find("'orders'"), std::string::npos) << command << ": should name the source: " << r.err;
  }
  EXPECT_TRUE(ListTree(p.Lake()).empty()) << "no lake is created for a project that does not load";
}

// An unknown --reason or --status is refused (exit 2) naming the allowed values, instead of
// matching 0 rows; a known one still filters.
TEST(CliErrors, UnknownFilterValuesAreRefusedNamingTheAllowedOnes) {
  TempDir tmp;
  Project p = MakeRunProject(tmp.path() + "/shop");
  const std::string open_before = p.Scalar("SELECT count(*) FROM dlq.orders WHERE status = 'open'");
  ASSERT_NE(open_before, "0") << "the generator's data has dead letters";

  ExpectUsageError(p.Sluice("dlq", {"list", "--reason", "bad-type"}), "bad_type",
                   "dlq list --reason bad-type");
  ExpectUsageError(p.Sluice("dlq", {"list", "orders", "--reason", "typo"}), "not_in_enum",
                   "dlq list orders --reason typo");
  ExpectUsageError(p.Sluice("dlq", {"redrive", "orders", "--reason", "typo"}), "missing_required",
                   "dlq redrive --reason typo");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders WHERE status = 'open'"), open_before)
      << "a refused redrive changes nothing";
  ExpectUsageError(p.Sluice("batches", {"list", "--status", "comitted"}), "quarantined",
                   "batches list --status comitted");

  // Known values still filter.
  ProcessResult dlq = p.Sluice("dlq", {"list", "--reason", "bad_type", "--json"});
  ASSERT_TRUE(dlq.ok()) << dlq.Describe();
  Json rows = Json::parse(dlq.out);
  ASSERT_TRUE(rows.is_array() && !rows.empty()) << dlq.out;
  for (const Json& r : rows) EXPECT_EQ(r.value("reason", ""), "bad_type") << r.dump();
  EXPECT_EQ(std::to_string(rows.size()),
            p.Scalar("SELECT count(*) FROM dlq.orders WHERE reason = 'bad_type'"));

  ProcessResult batches = p.Sluice("batches", {"list", "--status", "committed", "--json"});
  ASSERT_TRUE(batches.ok()) << batches.Describe();
  EXPECT_EQ(std::to_string(Json::parse(batches.out).size()), p.Scalar("SELECT count(*) FROM meta.batches"));
  ProcessResult none = p.Sluice("batches", {"list", "--status", "quarantined", "--json"});
  ASSERT_TRUE(none.ok()) << none.Describe();
  EXPECT_EQ(Json::parse(none.out).size(), 0u) << "a known status that matches nothing is 0 rows, exit 0";
}

}  // namespace
}  // namespace sluice::e2e
