// The read commands while `sluice serve` holds the lake (cli/read_commands.h,
// serve/command_api.h): `sluice status`, `dlq list|show`, `batches list` and `schema
// check|history|diff` print exactly what they print on a free lake (status adds the server's own
// section), with one line on stderr naming the server that answered, and see what the server
// commits as it commits it. The commands that write refuse, naming the server. POST
// /v1/admin/command needs the admin scope and runs read commands only.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

struct Command {
  std::string name;  // "dlq"
  std::vector<std::string> args;

  // "dlq list --json", for messages.
  std::string Describe() const {
    std::string out = name;
    for (const auto& a : args) out += " " + a;
    return out;
  }
  // The words the "answered by" line names: "dlq list".
  std::string Words() const { return name == "status" ? name : name + " " + args.at(0); }
};

// Every read command, with and without --json, filters, and failures (unknown source, no such
// row or version) whose error lines must come back the same way too.
std::vector<Command> ReadCommands() {
  return {{"status", {}},
          {"status", {"--json"}},
          {"dlq", {"list"}},
          {"dlq", {"list", "--json"}},
          {"dlq", {"list", "orders", "--reason", "bad_type"}},
          {"dlq", {"list", "nosuch"}},
          {"dlq", {"show", "1"}},
          {"dlq", {"show", "2", "--json"}},
          {"dlq", {"show", "99999"}},
          {"batches", {"list"}},
          {"batches", {"list", "--json"}},
          {"batches", {"list", "--status", "committed"}},
          {"schema", {"check"}},
          {"schema", {"check", "orders", "--json"}},
          {"schema", {"history", "orders"}},
          {"schema", {"history", "orders", "--json"}},
          {"schema", {"history", "nosuch"}},
          {"schema", {"diff", "orders", "1", "1", "--json"}},
          {"schema", {"diff", "orders", "1", "7"}}};
}

// The commands that write, each refused while serve runs.
std::vector<Command> WriteCommands() {
  return {{"run", {}},
          {"ingest", {"orders", "landing/orders/batch-0001.jsonl"}},
          {"batches", {"release", "some-batch"}},
          {"batches", {"drop", "some-batch"}},
          {"dlq", {"redrive", "orders"}},
          {"vacuum", {}},
          {"schema", {"accept", "orders", "--column", "amount", "--rule", "type_changed"}},
          {"streams", {"reset", "orders", "--from-start"}}};
}

// `sluice status` output without what depends on the clock: the seconds since each table was
// updated ("N s ago"; freshness_seconds in JSON), the SLOs (a running serve evaluates them every
// slo.interval, docs/SLO.md), and without the server's section.
std::string StableStatus(const std::string& out, bool json) {
  if (!json) {
    std::string text = out.substr(0, out.find("\nsluice serve (pid "));  // its last section
    text = text.substr(0, text.find("\nslo\n"));                         // the section before it
    return std::regex_replace(text, std::regex(", [0-9]+ s ago"), ", N s ago");
  }
  Json j = Json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "not JSON: " + out;
  for (auto& [name, t] : j["tables"].items()) t["freshness_seconds"] = "N";
  // Freshness in the pipeline metrics is as of the moment they are read.
  for (auto& [name, t] : j["metrics"]["tables"].items()) t["freshness_seconds"] = "N";
  j.erase("serve");
  j.erase("slo");
  return j.dump(1);
}

const char* kEventsPath = "/v1/sources/orders/events";

std::string Event(const std::string& id, const std::string& amount) {
  return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"t01\",\"status\":\"created\",\"amount\":" + amount +
         ",\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
}

// A lake built by `sluice run` (with dead-lettered rows), whose source then becomes `type: http`
// for serve (`extra_top`: more top-level YAML).
Project ServedProject(const TempDir& tmp, const std::string& extra_top = "") {
  OrderGeneratorOptions o;
  o.orders = 60;
  o.batches = 2;
  o.invalid_rate = 0.05;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  p.RunJson();
  MakeStreamSource(p, "    type: http\n", "transform: {interval: 500ms}\n" + extra_top);
  return p;
}

TEST(ServeReadCommands, PrintWhatTheyPrintOnAFreeLake) {
  TempDir tmp;
  Project p = ServedProject(tmp);
  const std::vector<Command> commands = ReadCommands();
  std::vector<ProcessResult> free;
  for (const Command& c : commands) free.push_back(p.Sluice(c.name, c.args));
  // The failures fail, the rest succeed: the comparison below compares real outputs.
  for (size_t i = 0; i < free.size(); ++i) {
    const std::string d = commands[i].Describe();
    const bool fails = d.find("nosuch") != std::string::npos || d.find("99999") != std::string::npos ||
                       d.find(" 7") != std::string::npos;
    EXPECT_EQ(free[i].exit_code, fails ? 1 : 0) << d << ": " << free[i].Describe();
    if (!fails) {
      EXPECT_FALSE(free[i].out.empty()) << d;
    }
  }
  EXPECT_NE(free[2].out.find("bad_type"), std::string::npos) << free[2].out;  // DLQ rows to list

  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const std::string answered_by = ": answered by the running sluice serve (pid " +
                                  std::to_string(server->pid()) +
                                  ", http://127.0.0.1:" + std::to_string(server->port()) + ")\n";
  for (size_t i = 0; i < free.size(); ++i) {
    const Command& c = commands[i];
    ProcessResult served = p.Sluice(c.name, c.args);
    EXPECT_EQ(served.exit_code, free[i].exit_code) << c.Describe() << ": " << served.Describe();
    // The one line saying who answered, then the command's own stderr.
    EXPECT_EQ(served.err, "sluice " + c.Words() + answered_by + free[i].err) << c.Describe();
    if (c.name != "status") {
      EXPECT_EQ(served.out, free[i].out) << c.Describe();
      continue;
    }
    const bool json = !c.args.empty();
    EXPECT_EQ(StableStatus(served.out, json), StableStatus(free[i].out, json)) << c.Describe();
    // Status adds what the server reports of itself, never its local secret.
    const std::string serve_section = "\nsluice serve (pid " + std::to_string(server->pid()) + ")";
    if (json) {
      Json j = Json::parse(served.out, nullptr, false);
      EXPECT_EQ(j["serve"].value("pid", -1), server->pid()) << served.out;
      EXPECT_FALSE(j["serve"].contains("local_secret")) << served.out;
    } else {
      EXPECT_NE(served.out.find(serve_section), std::string::npos) << served.out;
    }
    EXPECT_EQ(free[i].out.find(serve_section), std::string::npos) << free[i].out;
    EXPECT_EQ(served.out.find("local_secret"), std::string::npos);
  }

  // What the server commits is what the next command sees: a push with a row of a bad type.
  ProcessResult before = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(before.ok()) << before.Describe();
  HttpClient client(server->port());
  HttpResponse push = client.Post(kEventsPath, Event("live-1", "12.5") + Event("live-2", "\"twelve\""));
  ASSERT_EQ(push.status, 200) << Describe(push);
  ASSERT_EQ(push.json().value("dead_lettered", -1), 1) << Describe(push);
  ProcessResult after = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(after.ok()) << after.Describe();
  ASSERT_EQ(Json::parse(after.out).size(), Json::parse(before.out).size() + 1) << after.out;
  EXPECT_NE(after.out.find("twelve"), std::string::npos) << after.out;
  ProcessResult batches_served = p.Sluice("batches", {"list", "--json"});
  ASSERT_TRUE(batches_served.ok()) << batches_served.Describe();

  // `schema check` reads the working copy of the contracts when it runs, in the server too: an
  // incompatible edit made while serve runs is reported as it is on a free lake.
  const std::string contract_path = p.Path("contracts/orders.yaml");
  std::string contract = ReadFileOrDie(contract_path);
  const std::string all_statuses = "enum: [created, paid, shipped, delivered, cancelled]";
  ASSERT_NE(contract.find(all_statuses), std::string::npos) << contract;
  contract.replace(contract.find(all_statuses), all_statuses.size(), "enum: [created, paid]");
  WriteFileOrDie(contract_path, contract);
  ProcessResult check_served = p.Sluice("schema", {"check"});
  EXPECT_EQ(check_served.exit_code, 1) << check_served.Describe();
  EXPECT_NE(check_served.out.find("orders: "), std::string::npos) << check_served.out;

  // Once the server stopped, the lake says the same without it.
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  ProcessResult after_free = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(after_free.ok()) << after_free.Describe();
  EXPECT_EQ(after_free.err, "");
  EXPECT_EQ(after_free.out, after.out);
  ProcessResult batches_free = p.Sluice("batches", {"list", "--json"});
  EXPECT_EQ(batches_free.out, batches_served.out);
  ProcessResult check_free = p.Sluice("schema", {"check"});
  EXPECT_EQ(check_free.exit_code, 1) << check_free.Describe();
  EXPECT_EQ(check_served.out, check_free.out);
  EXPECT_EQ(check_served.err, "sluice schema check" + answered_by + check_free.err);
}

TEST(ServeReadCommands, CommandsThatWriteRefuseNamingTheServer) {
  TempDir tmp;
  Project p = ServedProject(tmp);
  const std::string batches_before = p.Sluice("batches", {"list", "--json"}).out;
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const std::string held = "error: the lake " + p.Lake() + " is held by the running sluice serve (pid " +
                           std::to_string(server->pid()) +
                           ", http://127.0.0.1:" + std::to_string(server->port()) + "), and `sluice ";
  for (const Command& c : WriteCommands()) {
    ProcessResult r = p.Sluice(c.name, c.args);
    ExpectCleanFailure(r, c.Describe());
    EXPECT_EQ(r.err.rfind(held, 0), 0u) << c.Describe() << ": " << r.err;
    EXPECT_NE(r.err.find("` writes to it: "), std::string::npos) << c.Describe() << ": " << r.err;
    EXPECT_NE(r.err.find("stop sluice serve first"), std::string::npos) << c.Describe() << ": " << r.err;
  }
  // `ingest` into an http source names the endpoint that takes its rows while serve runs.
  ProcessResult ingest = p.Sluice("ingest", {"orders", "landing/orders/batch-0001.jsonl"});
  EXPECT_NE(ingest.err.find("push the rows to POST /v1/sources/orders/events instead"), std::string::npos)
      << ingest.err;
  // Nothing was written: the ledger is as it was.
  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Sluice("batches", {"list", "--json"}).out, batches_before);
}

// A server that holds the lake and cannot be asked (here: a live pid, and nothing listening at
// the address of its serve.json): `sluice status` shows what serve.json says, with a warning;
// the other read commands fail saying the server did not answer.
TEST(ServeReadCommands, StatusOfAServerThatDoesNotAnswerShowsItsStatusFile) {
  TempDir tmp;
  Project p = ServedProject(tmp);
  HeldLock held(p.Lake() + "/sluice.duckdb");
  ASSERT_TRUE(held.ok());
  const std::string pid = std::to_string(::getpid());
  WriteFileOrDie(p.Lake() + "/serve.json",
                 "{\"pid\": " + pid +
                     ", \"state\": \"serving\", \"listen\": \"http://127.0.0.1:1\", \"local_secret\": "
                     "\"s3cret-s3cret-s3cret\", \"inflight_bytes\": 0, \"inflight_limit_bytes\": 1048576, "
                     "\"sources\": {}}");
  ProcessResult text = p.Sluice("status");
  ASSERT_TRUE(text.ok()) << text.Describe();
  EXPECT_NE(
      text.out.find("(the lake is held by sluice serve; tables and batches are shown once it answers or "
                    "stops)"),
      std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("sluice serve (pid " + pid + ") serving on http://127.0.0.1:1"), std::string::npos)
      << text.out;
  EXPECT_EQ(text.err.rfind(
                "warning: the lake is held by sluice serve at http://127.0.0.1:1, which did not answer", 0),
            0u)
      << text.err;
  ProcessResult json = p.Sluice("status", {"--json"});
  ASSERT_TRUE(json.ok()) << json.Describe();
  EXPECT_EQ(Json::parse(json.out)["serve"].value("pid", -1), ::getpid()) << json.out;
  EXPECT_EQ(json.out.find("s3cret"), std::string::npos) << json.out;
  ProcessResult dlq = p.Sluice("dlq", {"list"});
  ExpectCleanFailure(dlq, "dlq list, the server not answering");
  EXPECT_NE(dlq.err.find("which did not answer"), std::string::npos) << dlq.err;
}

constexpr const char* kOpsSecret = "ops-secret-0123456789abcdef0123";
constexpr const char* kReaderSecret = "reader-secret-0123456789abcdef";

TEST(ServeReadCommands, TheEndpointNeedsTheAdminScopeAndRunsReadCommandsOnly) {
  TempDir tmp;
  Project p = ServedProject(tmp,
                            "serve:\n"
                            "  auth:\n"
                            "    tokens:\n"
                            "      - {name: ops, secret_env: OPS_TOKEN, scopes: [admin]}\n"
                            "      - {name: reader, secret_env: READER_TOKEN, scopes: [\"read:*\"]}\n");
  ProcessResult free = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(free.ok()) << free.Describe();
  auto server = ServeProcess::Start(p, {}, {{"OPS_TOKEN", kOpsSecret}, {"READER_TOKEN", kReaderSecret}});
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  const std::string path = "/v1/admin/command";
  const std::string dlq_list = R"({"argv": ["dlq", "list", "--json"]})";
  const std::map<std::string, std::string> ops = {{"Authorization", std::string("Bearer ") + kOpsSecret}};

  HttpResponse none = client.Post(path, dlq_list, {}, "application/json");
  EXPECT_EQ(none.status, 401) << Describe(none);
  HttpResponse reader = client.Post(
      path, dlq_list, {{"Authorization", std::string("Bearer ") + kReaderSecret}}, "application/json");
  EXPECT_EQ(reader.status, 403) << Describe(reader);
  EXPECT_NE(reader.json().value("error", "").find("admin"), std::string::npos) << Describe(reader);

  HttpResponse ok = client.Post(path, dlq_list, ops, "application/json");
  ASSERT_EQ(ok.status, 200) << Describe(ok);
  EXPECT_EQ(ok.json().value("exit_code", -1), 0) << Describe(ok);
  EXPECT_EQ(ok.json().value("stdout", ""), free.out);
  EXPECT_EQ(ok.json().value("stderr", "x"), "");
  // A command's own failure is its exit code and stderr, answered 200.
  HttpResponse no_row = client.Post(path, R"({"argv": ["dlq", "show", "99999"]})", ops, "application/json");
  ASSERT_EQ(no_row.status, 200) << Describe(no_row);
  EXPECT_EQ(no_row.json().value("exit_code", -1), 1);
  EXPECT_EQ(no_row.json().value("stderr", ""), "error: no DLQ row with id 99999\n");

  // Refused with a one-line reason: commands that write, what is not a command, arguments the
  // CLI would refuse, and arguments that belong to the server or the client.
  for (const std::string body :
       {R"({"argv": ["run"]})", R"({"argv": ["dlq", "redrive", "orders"]})", R"({"argv": ["vacuum"]})",
        R"({"argv": ["batches", "release", "x"]})", R"({"argv": ["schema", "accept", "orders"]})",
        R"({"argv": ["query", "SELECT 1"]})", R"({"argv": ["serve"]})", R"({"argv": []})",
        R"({"argv": "status"})", R"({"argv": ["status", 1]})", R"(not json)",
        R"({"argv": ["dlq", "list", "--reason", "nosuch"]})",
        R"({"argv": ["dlq", "list", "--project", "/tmp"]})",
        R"({"argv": ["status", "--memory-limit", "1GB"]})",
        R"({"argv": ["schema", "check", "--against", "/etc/passwd"]})",
        R"({"argv": ["status", "--help"]})"}) {
    HttpResponse r = client.Post(path, body, ops, "application/json");
    EXPECT_EQ(r.status, 400) << body << ": " << Describe(r);
    EXPECT_FALSE(r.json().value("error", "").empty()) << body << ": " << Describe(r);
    EXPECT_EQ(r.json().value("error", "").find('\n'), std::string::npos) << body;
  }

  // The CLI of this machine uses the local secret whatever tokens sluice.yaml declares.
  ProcessResult cli = p.Sluice("dlq", {"list", "--json"});
  ASSERT_TRUE(cli.ok()) << cli.Describe();
  EXPECT_EQ(cli.out, free.out);
  EXPECT_NE(cli.err.find("answered by the running sluice serve"), std::string::npos) << cli.err;
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

}  // namespace
}  // namespace sluice::e2e
