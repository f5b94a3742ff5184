// `sluice schema check|history|diff|accept`: the schema registry from the command line.
//
// `check` is a data contract test for CI: it compares each working-copy contract with the
// registered versions (or with the contract at a git revision, or in a given file) under the
// contract's compatibility mode plus lineage-aware compatibility, prints one line per violation
// and exits 1 if there is any. It only reads: the lake is opened read-only, and a project
// without a lake has nothing registered to compare with. `accept` records a one-off acceptance
// of one refusal of the working copy (meta.schema_acceptances), honoured by the next run.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catalog/catalog.h"
#include "catalog/schema_registry.h"
#include "cli/commands.h"
#include "cli/read_commands.h"
#include "engine/schema_evolution.h"
#include "spec/compatibility.h"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct GitOutput {
  int exit_code = -1;
  std::string out;
};

// Runs `git args...` (fork/exec, no shell) and captures its stdout; stderr is discarded.
GitOutput RunGit(const std::vector<std::string>& args) {
  GitOutput result;
  int fds[2];
  if (::pipe(fds) != 0) return result;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    if (FILE* null = std::fopen("/dev/null", "w")) ::dup2(::fileno(null), STDERR_FILENO);
    std::vector<char*> argv;
    static char git[] = "git";
    argv.push_back(git);
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp("git", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) result.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The contract of `source` at git revision `rev` of the project's repository; nullopt when the
// file does not exist there (a source added since). InvalidArgument for an unknown revision.
Result<std::optional<Contract>> ContractAtRevision(const ProjectSpec& spec, const SourceSpec& source,
                                                   const std::string& rev) {
  GitOutput top = RunGit({"-C", spec.root, "rev-parse", "--show-toplevel"});
  if (top.exit_code != 0) {
    return Status::InvalidArgument("--against " + rev + ": not a file, and " + spec.root +
                                   " is not in a git repository");
  }
  if (RunGit({"-C", spec.root, "rev-parse", "--verify", "--quiet", rev + "^{commit}"}).exit_code != 0) {
    return Status::InvalidArgument("--against " + rev + ": neither a file nor a git revision");
  }
  std::string rel = fs::path(source.contract_path).lexically_relative(TrimNewline(top.out)).string();
  GitOutput show = RunGit({"-C", spec.root, "show", rev + ":" + rel});
  if (show.exit_code != 0) return std::optional<Contract>();
  ASSIGN_OR_RETURN(Contract c, ParseContract(show.out, rev + ":" + rel));
  return std::optional<Contract>(std::move(c));
}

Json ViolationJson(const Violation& v) {
  return Json{{"column", v.column},
              {"old", v.old_def},
              {"new", v.new_def},
              {"rule", v.rule},
              {"direction", v.direction},
              {"mode", v.mode},
              {"against_version", v.against_version},
              {"detail", v.detail}};
}

// "name: expr", as `schema history` and `schema diff` print a check.
std::string DescribeCheck(const ContractCheck& c) { return c.name + ": " + c.expr; }

// What changed from contract `a` to `b`: columns (by name, every rule), checks (by name) and the
// compatibility mode, as JSON {added, removed, changed[, checks_added, checks_removed,
// checks_changed][, compatibility]} and as lines "+ ...", "- ...", "~ old -> new".
struct ContractChanges {
  Json json = {{"added", Json::array()}, {"removed", Json::array()}, {"changed", Json::array()}};
  std::vector<std::string> lines;
};

ContractChanges Compare(const Contract& a, const Contract& b) {
  ContractChanges out;
  for (const auto& c : b.columns) {
    if (a.Find(c.name) < 0) {
      out.json["added"].push_back(DescribeColumn(c));
      out.lines.push_back("+ " + DescribeColumn(c));
    }
  }
  for (const auto& c : a.columns) {
    int j = b.Find(c.name);
    if (j < 0) {
      out.json["removed"].push_back(DescribeColumn(c));
      out.lines.push_back("- " + DescribeColumn(c));
      continue;
    }
    std::string before = DescribeColumn(c), after = DescribeColumn(b.columns[static_cast<size_t>(j)]);
    if (before != after) {
      out.json["changed"].push_back({{"old", before}, {"new", after}});
      out.lines.push_back("~ " + before + " -> " + after);
    }
  }
  auto find_check = [](const Contract& c, const std::string& name) -> const ContractCheck* {
    for (const auto& k : c.checks) {
      if (k.name == name) return &k;
    }
    return nullptr;
  };
  for (const auto& k : b.checks) {
    if (find_check(a, k.name) == nullptr) {
      out.json["checks_added"].push_back(DescribeCheck(k));
      out.lines.push_back("+ check " + DescribeCheck(k));
    }
  }
  for (const auto& k : a.checks) {
    const ContractCheck* now = find_check(b, k.name);
    if (now == nullptr) {
      out.json["checks_removed"].push_back(DescribeCheck(k));
      out.lines.push_back("- check " + DescribeCheck(k));
    } else if (now->expr != k.expr) {
      out.json["checks_changed"].push_back({{"old", DescribeCheck(k)}, {"new", DescribeCheck(*now)}});
      out.lines.push_back("~ check " + DescribeCheck(k) + " -> " + now->expr);
    }
  }
  if (a.compatibility != b.compatibility) {
    out.json["compatibility"] = {{"old", a.compatibility}, {"new", b.compatibility}};
    out.lines.push_back("~ compatibility " + a.compatibility + " -> " + b.compatibility);
  }
  return out;
}

int Check(ReadContext& ctx, const SchemaArgs& args) {
  const ProjectSpec& spec = ctx.spec;
  std::vector<const SourceSpec*> sources;
  for (const auto& s : spec.sources) {
    if (args.source.empty() || s.name == args.source) sources.push_back(&s);
  }
  if (sources.empty()) return ctx.Fail("unknown source '" + args.source + "'");

  // What to compare with: a contract file, a git revision, or the registry.
  std::optional<Contract> file_contract;
  std::error_code ec;
  if (!args.against.empty() && fs::is_regular_file(args.against, ec)) {
    auto c = LoadContract(args.against);
    if (!c.ok()) return ctx.Fail(c.status().message());
    file_contract = *c;
    if (sources.size() > 1) {
      // A file names one contract: compare it with the source whose contract has its name.
      std::vector<const SourceSpec*> match;
      for (const auto* s : sources) {
        if (s->contract.name == file_contract->name) match.push_back(s);
      }
      if (match.size() != 1) {
        return ctx.Fail("--against " + args.against + ": give the source to compare it with");
      }
      sources = match;
    }
  }
  std::unique_ptr<Catalog> catalog;
  bool no_lake = false;
  if (args.against.empty()) {
    auto cat = ctx.open();
    if (!cat.ok() && cat.status().code() == StatusCode::kNotFound) {
      no_lake = true;
    } else if (!cat.ok()) {
      return ctx.Fail(cat.status().message());
    } else {
      catalog = std::move(cat).value();
    }
  }
  auto scratch = duck::Connection::Open();
  if (!scratch.ok()) return ctx.Fail(scratch.status().message());

  // With --json, only the JSON report goes to stdout.
  std::ostringstream discard;
  std::ostream& text = args.json ? discard : ctx.out;
  Json report = {{"sources", Json::object()}};
  int incompatible = 0;
  for (const SourceSpec* source : sources) {
    std::vector<ContractVersion> history;
    std::string against;
    if (file_contract) {
      history.push_back({0, *file_contract});
      against = args.against;
    } else if (!args.against.empty()) {
      auto c = ContractAtRevision(spec, *source, args.against);
      if (!c.ok()) return ctx.Fail(c.status().message());
      if (*c) history.push_back({0, **c});
      against = args.against;
    } else if (catalog) {
      auto h = SchemaHistory(*catalog, source->name);
      // A lake from before the registry has no meta.schemas yet: nothing registered.
      if (h.ok()) history = ToContractVersions(*h);
      if (!history.empty()) against = "v" + std::to_string(history.back().version);
    }
    Json entry = {{"compatibility", source->contract.compatibility}, {"against", against}};
    std::vector<Violation> violations;
    Status defaults = ValidateDefaults(**scratch, source->contract);
    if (history.empty()) {
      entry["status"] = "nothing_registered";
      text << source->name << ": nothing registered to compare with"
           << (no_lake                ? " (no lake yet)"
               : args.against.empty() ? ""
                                      : " in " + args.against)
           << "\n";
    } else if (catalog && args.against.empty()) {
      // The registry: the same verdict `sluice run` reaches, retained data and acceptances included.
      auto h = SchemaHistory(*catalog, source->name);
      if (!h.ok()) return ctx.Fail(h.status().message());
      auto v = CheckContractChange(*catalog, *source, *h);
      if (!v.ok()) return ctx.Fail(v.status().message());
      violations = std::move(v).value();
    } else {
      // A file or revision: the rules and lineage; defaults depend on the lake's data.
      auto v = CheckAgainstHistory(history, source->contract);
      if (!v.ok()) return ctx.Fail(v.status().message());
      violations = std::move(v).value();
      for (auto& l : CheckLineage(history.back().contract, source->contract,
                                  FindColumnUsers(spec, source->name), history.back().version)) {
        violations.push_back(std::move(l));
      }
    }
    if (!defaults.ok()) {
      ++incompatible;
      entry["status"] = "invalid";
      entry["error"] = defaults.message();
      text << source->name << ": " << defaults.message() << "\n";
    } else if (!violations.empty()) {
      ++incompatible;
      entry["status"] = "incompatible";
      const int64_t latest = history.back().version;
      for (const auto& v : violations) {
        text << source->name << ": " << v.Describe() << " (" << HowToProceed(v, source->name, latest)
             << ")\n";
      }
    } else if (!history.empty()) {
      bool same = SchemaFingerprint(history.back().contract) == SchemaFingerprint(source->contract);
      entry["status"] = same ? "unchanged" : "compatible";
      text << source->name << ": " << (same ? "unchanged, " : "") << "compatible with " << against << " ("
           << source->contract.compatibility << ")\n";
    }
    entry["violations"] = Json::array();
    for (const auto& v : violations) {
      Json j = ViolationJson(v);
      j["to_proceed"] = HowToProceed(v, source->name, history.empty() ? 0 : history.back().version);
      entry["violations"].push_back(std::move(j));
    }
    report["sources"][source->name] = entry;
  }
  report["compatible"] = incompatible == 0;
  if (args.json) ctx.out << report.dump(2) << "\n";
  if (incompatible > 0) {
    return ctx.Fail(std::to_string(incompatible) + " contract(s) with incompatible changes");
  }
  if (!args.json) ctx.out << "compatible" << std::endl;
  return 0;
}

Result<std::vector<SchemaVersion>> LoadHistory(ReadContext& ctx, const std::string& source) {
  if (ctx.spec.FindSource(source) == nullptr) return Status::NotFound("unknown source '" + source + "'");
  ASSIGN_OR_RETURN(auto catalog, ctx.open());
  ASSIGN_OR_RETURN(auto history, SchemaHistory(*catalog, source));
  if (history.empty()) {
    return Status::NotFound("no version of " + source + " is registered yet (run `sluice run`)");
  }
  return history;
}

// Every registered version: its columns with every rule, its checks and what changed from the
// version before it (the lines `schema diff` prints).
int History(ReadContext& ctx, const SchemaArgs& args) {
  auto history = LoadHistory(ctx, args.source);
  if (!history.ok()) return ctx.Fail(history.status().message());
  if (args.json) {
    Json out = Json::array();
    for (size_t i = 0; i < history->size(); ++i) {
      const SchemaVersion& v = (*history)[i];
      Json entry = {{"version", v.version},
                    {"fingerprint", v.fingerprint},
                    {"registered_at", v.registered_at},
                    {"compatibility", v.contract.compatibility},
                    {"columns", Json::parse(ColumnsToJson(v.contract))},
                    {"checks", Json::parse(ChecksToJson(v.contract))}};
      if (i > 0) entry["changes"] = Compare((*history)[i - 1].contract, v.contract).json;
      out.push_back(std::move(entry));
    }
    ctx.out << out.dump(2) << std::endl;
    return 0;
  }
  for (size_t i = 0; i < history->size(); ++i) {
    const SchemaVersion& v = (*history)[i];
    ctx.out << (i ? "\n" : "") << "v" << v.version << "  registered " << v.registered_at << "  "
            << v.contract.compatibility << "  fingerprint " << v.fingerprint.substr(0, 12) << "\n";
    for (const auto& c : v.contract.columns) ctx.out << "  column " << DescribeColumn(c) << "\n";
    for (const auto& k : v.contract.checks) ctx.out << "  check  " << DescribeCheck(k) << "\n";
    if (i == 0) continue;
    const auto changes = Compare((*history)[i - 1].contract, v.contract);
    ctx.out << "  changes from v" << (*history)[i - 1].version << ":"
            << (changes.lines.empty() ? " none (same schema)" : "") << "\n";
    for (const auto& l : changes.lines) ctx.out << "    " << l << "\n";
  }
  ctx.out << std::flush;
  return 0;
}

int Diff(ReadContext& ctx, const SchemaArgs& args) {
  auto history = LoadHistory(ctx, args.source);
  if (!history.ok()) return ctx.Fail(history.status().message());
  const SchemaVersion* a = nullptr;
  const SchemaVersion* b = nullptr;
  for (const auto& v : *history) {
    if (v.version == args.v1) a = &v;
    if (v.version == args.v2) b = &v;
  }
  for (auto [p, n] : {std::pair{a, args.v1}, std::pair{b, args.v2}}) {
    if (p == nullptr) {
      return ctx.Fail("no version " + std::to_string(n) + " of " + args.source + " (registered: v1..v" +
                      std::to_string(history->back().version) + ")");
    }
  }
  ContractChanges changes = Compare(a->contract, b->contract);
  Json out = {{"source", args.source}, {"from", args.v1}, {"to", args.v2}};
  out.update(changes.json);
  const std::vector<std::string>& lines = changes.lines;
  if (args.json) {
    ctx.out << out.dump(2) << std::endl;
    return 0;
  }
  ctx.out << args.source << " v" << args.v1 << " -> v" << args.v2 << "\n";
  if (lines.empty()) ctx.out << "(no changes)\n";
  for (const auto& l : lines) ctx.out << l << "\n";
  ctx.out << std::flush;
  return 0;
}

// `schema accept SOURCE --column C --rule R`: records that the working copy's refusal R of
// column C is accepted once. Only a refusal the working copy has now can be accepted.
int Accept(const ProjectSpec& spec, const SchemaArgs& args) {
  const SourceSpec* source = spec.FindSource(args.source);
  if (source == nullptr) return Fail("unknown source '" + args.source + "'");
  auto catalog = Catalog::Open(spec, CatalogOptions{});
  if (!catalog.ok()) {
    return FailWhileServing(spec.root, catalog.status(), "schema accept", "stop sluice serve first");
  }
  auto history = SchemaHistory(**catalog, source->name);
  if (!history.ok()) return Fail(history.status().message());
  if (history->empty()) {
    return Fail("no version of " + source->name + " is registered yet: nothing to accept");
  }
  auto all = CheckContractChange(**catalog, *source, *history, /*keep_accepted=*/true);
  if (!all.ok()) return Fail(all.status().message());
  auto open = CheckContractChange(**catalog, *source, *history);
  if (!open.ok()) return Fail(open.status().message());
  auto matches = [&](const Violation& v) {
    return (v.column == args.column || v.column == "check " + args.column) && v.rule == args.rule;
  };
  const Violation* found = nullptr;
  for (const auto& v : *all) {
    if (matches(v)) found = &v;
  }
  if (found == nullptr) {
    std::string refused;
    for (const auto& v : *all) refused += (refused.empty() ? "" : ", ") + v.column + " " + v.rule;
    return Fail(source->contract.path + ": the working copy of " + source->name + " has no refusal " +
                args.rule + " of column " + args.column + " to accept (" +
                (refused.empty() ? "it has none" : "refused: " + refused) + ")");
  }
  bool pending = false;
  for (const auto& v : *open) pending = pending || matches(v);
  if (pending) {
    Status st = RecordAcceptance(**catalog, source->name, SchemaFingerprint(source->contract), found->column,
                                 args.rule);
    if (!st.ok()) return Fail(st.message());
  }
  std::cout << source->name << ": accepted " << args.rule << " of column " << args.column
            << " once, for this contract (fingerprint " << SchemaFingerprint(source->contract).substr(0, 12)
            << "); the next run registers it as v" << history->back().version + 1 << std::endl;
  return 0;
}

// `schema check|history|diff` as the server parses it (cli/read_commands.h).
std::vector<std::string> ReadArgv(const SchemaArgs& args) {
  std::vector<std::string> argv = {"schema", args.action};
  if (args.json) argv.push_back("--json");
  if (!args.against.empty()) argv.insert(argv.end(), {"--against", args.against});
  // After `--`: a source is never read as an option, whatever its name.
  if (!args.source.empty() || args.action != "check") argv.insert(argv.end(), {"--", args.source});
  if (args.action == "diff") argv.insert(argv.end(), {std::to_string(args.v1), std::to_string(args.v2)});
  return argv;
}

}  // namespace

int SchemaRead(const SchemaArgs& args, ReadContext& ctx) {
  if (args.action == "check") return Check(ctx, args);
  if (args.action == "history") return History(ctx, args);
  return Diff(ctx, args);
}

int Schema(const SchemaArgs& args) {
  if (args.action != "accept") {
    // `check --against` compares with a file or a git revision: it never opens the lake.
    const bool needs_lake = args.action != "check" || args.against.empty();
    return RunRead(args.project, args.memory_limit, ReadArgv(args), needs_lake,
                   [&](ReadContext& ctx) { return SchemaRead(args, ctx); });
  }
  auto spec = LoadProject(args.project);
  if (!spec.ok()) return Fail(spec.status().message());
  if (auto limit = MemoryLimitFlag(args.memory_limit)) spec->memory_limit_bytes = limit;
  return Accept(*spec, args);
}

}  // namespace sluice::cli
