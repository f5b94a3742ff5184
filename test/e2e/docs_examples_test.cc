// The examples of README.md and docs/*.md, run as written against the real binary: a doc
// example that stops working fails this test, naming the document and line.
//
// Every fenced code block of those files is preceded by a directive, an HTML comment on its own
// line (invisible when the Markdown is rendered):
//
//   <!-- doctest: file project=P path=REL [append] -->
//       the block is written (or appended) to <scratch>/P/REL.
//   <!-- doctest: run [project=P] [exit=N] [stdout="text"]... [stderr="text"]... [serve] -->
//       the block is a shell script, run by `/bin/sh -e -c` in <scratch>/P (<scratch> without
//       project=) with the binary under test first on PATH as `sluice`. It must exit N (default 0)
//       and print every stdout= / stderr= text somewhere. With `serve`, `sluice serve` runs in P
//       while the block runs, on a free port: `127.0.0.1:8080` in the block means that port, and
//       serve must then stop cleanly on SIGTERM.
//   <!-- doctest: run ... cmd="COMMAND" -->
//       the same for COMMAND, without a block: a set-up step or a check between two blocks.
//   <!-- doctest: synopsis -->
//       the block lists command forms: for each `sluice ...` line (indented lines continue it,
//       `#` starts a comment), its subcommands exist (`sluice <subcommands> --help` exits 0 and
//       lists each) and every --option the line shows is in that help.
//   <!-- doctest: duckdb project=P [min_rows=N] -->
//       the block is SQL that another tool runs over P's files (here DuckDB in this process,
//       relative paths read from P); it must succeed and return at least N rows (default 1).
//   <!-- doctest: skip reason="..." -->
//       the block is not run, for the reason given; the reason is printed with the results.
//
// A block without a directive, a directive without its block, an unknown verb or key and a
// skip without a reason are failures: no example is left out silently. Each document runs in its
// own scratch directory from top to bottom, and its projects persist from one block to the next.
//
// Written as a GoogleTest e2e suite rather than a script: it reuses the harness's binary, child
// processes, scratch directories, `sluice serve` start/stop and in-process DuckDB reader, and
// ctest lists one test per document.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::optional<int> Number(const std::string& text) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// One `<!-- doctest: VERB key=value key="quoted value" flag -->` comment.
struct Directive {
  int line = 0;
  std::string verb;
  std::vector<std::pair<std::string, std::string>> attrs;  // in order; a flag has value ""
  std::string error;                                       // non-empty: the comment is malformed

  bool Has(const std::string& key) const {
    return std::any_of(attrs.begin(), attrs.end(), [&](const auto& a) { return a.first == key; });
  }
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    for (const auto& [k, v] : attrs) {
      if (k == key) return v;
    }
    return fallback;
  }
  std::vector<std::string> All(const std::string& key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : attrs) {
      if (k == key) out.push_back(v);
    }
    return out;
  }
};

constexpr const char* kOpen = "<!-- doctest:";
constexpr const char* kClose = "-->";

// The keys each verb takes; anything else is an error (a typo must not silently drop a check).
const std::map<std::string, std::set<std::string>>& KnownKeys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"file", {"project", "path", "append"}},
      {"run", {"project", "exit", "stdout", "stderr", "serve", "cmd"}},
      {"synopsis", {}},
      {"duckdb", {"project", "min_rows"}},
      {"skip", {"reason"}},
  };
  return keys;
}

Directive ParseDirective(const std::string& trimmed, int line) {
  Directive d;
  d.line = line;
  const std::string open = kOpen;
  const std::string close = kClose;
  if (trimmed.size() < open.size() + close.size() ||
      trimmed.compare(trimmed.size() - close.size(), close.size(), close) != 0) {
    d.error = "a doctest directive is one line ending with -->";
    return d;
  }
  const std::string body = trimmed.substr(open.size(), trimmed.size() - open.size() - close.size());
  size_t i = 0;
  auto skip_space = [&] {
    while (i < body.size() && (body[i] == ' ' || body[i] == '\t')) ++i;
  };
  skip_space();
  while (i < body.size() && body[i] != ' ' && body[i] != '\t') d.verb += body[i++];
  auto known = KnownKeys().find(d.verb);
  if (known == KnownKeys().end()) {
    d.error = "unknown doctest verb '" + d.verb + "' (file, run, synopsis, duckdb, skip)";
    return d;
  }
  for (skip_space(); i < body.size(); skip_space()) {
    std::string key;
    while (i < body.size() && body[i] != '=' && body[i] != ' ' && body[i] != '\t') key += body[i++];
    std::string value;
    if (i < body.size() && body[i] == '=') {
      ++i;
      if (i < body.size() && body[i] == '"') {
        ++i;
        bool closed = false;
        while (i < body.size()) {
          const char c = body[i++];
          if (c == '\\' && i < body.size()) {
            value += body[i++];
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        if (!closed) {
          d.error = "unterminated quoted value of '" + key + "'";
          return d;
        }
      } else {
        while (i < body.size() && body[i] != ' ' && body[i] != '\t') value += body[i++];
      }
    }
    if (known->second.count(key) == 0) {
      d.error = "doctest " + d.verb + " takes no key '" + key + "'";
      return d;
    }
    d.attrs.emplace_back(key, value);
  }
  return d;
}

struct Block {
  int line = 0;  // of the opening fence
  std::string lang;
  std::string text;
};

// Runs the examples of one Markdown document in a scratch directory.
class DocRunner {
 public:
  DocRunner(std::string doc, std::string scratch) : doc_(std::move(doc)), scratch_(std::move(scratch)) {}

  // Runs every directive of `markdown` in order. Returns the problems found (empty: every
  // example ran as written); report() then says what was run and what was skipped and why.
  std::vector<std::string> Run(const std::string& markdown) {
    const std::vector<std::string> lines = SplitLines(markdown);
    std::optional<Directive> pending;
    std::optional<Block> block;
    for (size_t n = 0; n < lines.size(); ++n) {
      const int line = static_cast<int>(n) + 1;
      const std::string trimmed = Trim(lines[n]);
      if (block) {
        if (trimmed.rfind("```", 0) == 0 && trimmed.find_first_not_of('`') == std::string::npos) {
          if (pending) Execute(*pending, &*block);
          pending.reset();
          block.reset();
        } else {
          block->text += lines[n] + "\n";
        }
        continue;
      }
      if (trimmed.rfind("```", 0) == 0) {
        block = Block{line, Trim(trimmed.substr(3)), ""};
        if (!pending) Problem(line, "code block without a doctest directive before it");
        continue;
      }
      if (trimmed.rfind(kOpen, 0) == 0) {
        if (pending) Problem(pending->line, "doctest directive not followed by a code block");
        pending.reset();
        Directive d = ParseDirective(trimmed, line);
        if (!d.error.empty()) {
          Problem(line, d.error);
        } else if (d.verb == "run" && d.Has("cmd")) {
          Execute(d, nullptr);
        } else {
          pending = d;
        }
        continue;
      }
      if (!trimmed.empty() && pending) {
        Problem(pending->line, "doctest directive not followed by a code block");
        pending.reset();
      }
    }
    if (block) Problem(block->line, "code block never closed");
    if (pending) Problem(pending->line, "doctest directive not followed by a code block");
    return problems_;
  }

  const std::vector<std::string>& report() const { return report_; }

 private:
  std::string Where(int line) const { return doc_ + ":" + std::to_string(line); }
  void Problem(int line, const std::string& what) { problems_.push_back(Where(line) + ": " + what); }
  void Note(int line, const std::string& what) { report_.push_back(Where(line) + ": " + what); }

  void Execute(const Directive& d, const Block* block) {
    const int line = block ? block->line : d.line;
    const size_t before = problems_.size();
    if (d.verb == "file") {
      DoFile(d, *block);
    } else if (d.verb == "run") {
      DoRun(d, block);
    } else if (d.verb == "synopsis") {
      DoSynopsis(*block);
    } else if (d.verb == "duckdb") {
      DoDuckdb(d, *block);
    } else if (d.verb == "skip") {
      if (Trim(d.Get("reason")).empty()) {
        Problem(d.line, "doctest skip needs reason=\"...\"");
      } else {
        Note(line, "not run: " + d.Get("reason"));
      }
      return;
    }
    Note(line, d.verb + (d.Has("cmd") ? " `" + d.Get("cmd") + "`" : "") +
                   (problems_.size() == before ? ": ok" : ": FAILED"));
  }

  // <scratch>/P, created when missing; <scratch> itself without project=.
  std::optional<std::string> Dir(const Directive& d, bool required) {
    const std::string project = d.Get("project");
    if (project.empty()) {
      if (required) {
        Problem(d.line, "doctest " + d.verb + " needs project=NAME");
        return std::nullopt;
      }
      return scratch_;
    }
    if (project.find('/') != std::string::npos || project == "." || project == "..") {
      Problem(d.line, "project=" + project + ": a plain name");
      return std::nullopt;
    }
    const std::string dir = scratch_ + "/" + project;
    fs::create_directories(dir);
    return dir;
  }

  void DoFile(const Directive& d, const Block& block) {
    auto dir = Dir(d, /*required=*/true);
    const std::string rel = d.Get("path");
    if (!dir) return;
    if (rel.empty() || rel[0] == '/' || rel.find("..") != std::string::npos) {
      Problem(d.line, "doctest file needs path=RELATIVE/PATH inside the project");
      return;
    }
    const std::string path = *dir + "/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    std::string text = block.text;
    if (d.Has("append") && fs::exists(path)) text = ReadFileOrDie(path) + text;
    WriteFileOrDie(path, text);
  }

  void DoRun(const Directive& d, const Block* block) {
    auto dir = Dir(d, /*required=*/false);
    if (!dir) return;
    const std::optional<int> expected_or = Number(d.Get("exit", "0"));
    if (!expected_or) {
      Problem(d.line, "exit=" + d.Get("exit") + ": a number");
      return;
    }
    const int expected = *expected_or;
    const int line = block ? block->line : d.line;
    std::string script = block ? block->text : d.Get("cmd");
    std::unique_ptr<ServeProcess> serve;
    if (d.Has("serve")) {
      serve = ServeProcess::Start(Project(*dir));
      if (!serve) {
        Problem(line, "sluice serve did not start in " + *dir);
        return;
      }
      const std::string documented = "127.0.0.1:8080";
      const std::string actual = "127.0.0.1:" + std::to_string(serve->port());
      for (size_t at = script.find(documented); at != std::string::npos;
           at = script.find(documented, at + actual.size())) {
        script.replace(at, documented.size(), actual);
      }
    }
    ProcessOptions options;
    options.cwd = *dir;
    const char* path = std::getenv("PATH");
    options.env = {
        {"PATH", fs::path(SluiceBinary()).parent_path().string() + ":" + (path ? path : "/usr/bin:/bin")}};
    options.timeout_seconds = 300;
    const ProcessResult r = RunProcess("/bin/sh", {"-e", "-c", script}, options);
    if (r.signaled || r.timed_out || r.exit_code != expected) {
      Problem(line, "expected exit " + std::to_string(expected) + ", got " + r.Describe());
    }
    for (const std::string& text : d.All("stdout")) {
      if (r.out.find(text) == std::string::npos) {
        Problem(line, "stdout lacks \"" + text + "\"; stdout:\n" + r.out);
      }
    }
    for (const std::string& text : d.All("stderr")) {
      if (r.err.find(text) == std::string::npos) {
        Problem(line, "stderr lacks \"" + text + "\"; stderr:\n" + r.err);
      }
    }
    if (serve) {
      const ProcessResult stopped = serve->Terminate();
      if (!stopped.ok()) Problem(line, "sluice serve did not stop cleanly: " + stopped.Describe());
    }
  }

  // `sluice <path...> --help`, cached; nullopt (and a problem) when it fails.
  std::optional<std::string> Help(const std::vector<std::string>& path, int line) {
    auto it = help_.find(path);
    if (it != help_.end()) return it->second;
    std::vector<std::string> args = path;
    args.push_back("--help");
    const ProcessResult r = RunProcess(SluiceBinary(), args, {});
    if (!r.ok()) {
      std::string cmd = "sluice";
      for (const auto& a : args) cmd += " " + a;
      Problem(line, cmd + " failed: " + r.Describe());
      return std::nullopt;
    }
    help_[path] = r.out;
    return r.out;
  }

  // The names CLI11 lists under "Subcommands:".
  static std::set<std::string> Subcommands(const std::string& help) {
    std::set<std::string> names;
    bool in = false;
    for (const std::string& l : SplitLines(help)) {
      if (Trim(l) == "Subcommands:") {
        in = true;
      } else if (in) {
        if (l.rfind("  ", 0) != 0) break;
        std::istringstream words(l);
        std::string first;
        words >> first;
        names.insert(first);
      }
    }
    return names;
  }

  static bool HelpHasOption(const std::string& help, const std::string& option) {
    for (size_t at = help.find(option); at != std::string::npos; at = help.find(option, at + 1)) {
      const size_t end = at + option.size();
      const bool word_end =
          end == help.size() || !(std::islower(static_cast<unsigned char>(help[end])) ||
                                  std::isdigit(static_cast<unsigned char>(help[end])) || help[end] == '-');
      if (word_end) return true;
    }
    return false;
  }

  void DoSynopsis(const Block& block) {
    std::vector<std::pair<int, std::string>> commands;  // line, text without comments
    const std::vector<std::string> lines = SplitLines(block.text);
    for (size_t n = 0; n < lines.size(); ++n) {
      const int line = block.line + 1 + static_cast<int>(n);
      std::string text = lines[n];
      for (size_t at = text.find('#'); at != std::string::npos; at = text.find('#', at + 1)) {
        if (at == 0 || text[at - 1] == ' ' || text[at - 1] == '\t') {
          text.resize(at);
          break;
        }
      }
      const std::string t = Trim(text);
      if (t.empty()) continue;
      if (t == "sluice" || t.rfind("sluice ", 0) == 0) {
        commands.emplace_back(line, t);
      } else if (!commands.empty() && (text[0] == ' ' || text[0] == '\t')) {
        commands.back().second += " " + t;
      } else {
        Problem(line, "synopsis line is not a sluice command: " + t);
      }
    }
    static const std::regex kWord("[a-z]+");
    static const std::regex kOption("--[a-z][a-z0-9-]*");
    for (const auto& [line, text] : commands) {
      std::istringstream words(text);
      std::vector<std::string> tokens;
      for (std::string w; words >> w;) tokens.push_back(w);
      std::vector<std::string> path;
      std::optional<std::string> help = Help(path, line);
      for (size_t i = 1; help && i < tokens.size(); ++i) {
        if (!std::regex_match(tokens[i], kWord) || Subcommands(*help).count(tokens[i]) == 0) break;
        path.push_back(tokens[i]);
        help = Help(path, line);
      }
      if (!help) continue;
      if (path.empty()) {
        Problem(line, "`" + text + "` names no sluice subcommand");
        continue;
      }
      for (std::sregex_iterator it(text.begin(), text.end(), kOption), end; it != end; ++it) {
        if (!HelpHasOption(*help, it->str())) {
          std::string cmd = "sluice";
          for (const auto& p : path) cmd += " " + p;
          Problem(line, cmd + " has no option " + it->str() + " (not in its --help)");
        }
      }
    }
  }

  void DoDuckdb(const Directive& d, const Block& block) {
    auto dir = Dir(d, /*required=*/true);
    if (!dir) return;
    DuckReader duck;
    const std::string set = duck.Execute("SET file_search_path = " + Quote(*dir));
    if (!set.empty()) {
      Problem(block.line, "DuckDB: " + set);
      return;
    }
    const DuckReader::Result r = duck.Query(block.text);
    const std::optional<int> min_rows_or = Number(d.Get("min_rows", "1"));
    if (!min_rows_or || *min_rows_or < 0) {
      Problem(d.line, "min_rows=" + d.Get("min_rows") + ": a number");
      return;
    }
    const size_t min_rows = static_cast<size_t>(*min_rows_or);
    if (!r.error.empty()) {
      Problem(block.line, "DuckDB: " + r.error);
    } else if (r.rows.size() < min_rows) {
      Problem(block.line, "DuckDB returned " + std::to_string(r.rows.size()) + " rows, expected at least " +
                              std::to_string(min_rows));
    }
  }

  std::string doc_;
  std::string scratch_;
  std::vector<std::string> problems_;
  std::vector<std::string> report_;
  std::map<std::vector<std::string>, std::string> help_;
};

std::string DocsRoot() { return SLUICE_DOCS_ROOT; }

// README.md and docs/*.md, relative to the source tree, sorted.
std::vector<std::string> DocFiles() {
  std::vector<std::string> files = {"README.md"};
  std::vector<std::string> docs;
  for (const auto& entry : fs::directory_iterator(DocsRoot() + "/docs")) {
    if (entry.path().extension() == ".md") docs.push_back("docs/" + entry.path().filename().string());
  }
  std::sort(docs.begin(), docs.end());
  files.insert(files.end(), docs.begin(), docs.end());
  return files;
}

// Runs `markdown` in a fresh scratch directory; returns its problems.
std::vector<std::string> RunDoc(const std::string& name, const std::string& markdown) {
  TempDir scratch("sluice-docs");
  DocRunner runner(name, scratch.path());
  std::vector<std::string> problems = runner.Run(markdown);
  for (const std::string& line : runner.report()) std::cout << "[doctest] " << line << "\n";
  return problems;
}

class DocsExamples : public ::testing::TestWithParam<std::string> {};

TEST_P(DocsExamples, RunAsWritten) {
  const std::string doc = GetParam();
  for (const std::string& problem : RunDoc(doc, ReadFileOrDie(DocsRoot() + "/" + doc))) {
    ADD_FAILURE() << problem;
  }
}

INSTANTIATE_TEST_SUITE_P(Docs, DocsExamples, ::testing::ValuesIn(DocFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// ---- The runner itself: each check fails on a broken example --------------------------------

bool Mentions(const std::vector<std::string>& problems, const std::string& text) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

TEST(DocsExamplesRunner, AWorkingExamplePasses) {
  const std::vector<std::string> problems =
      RunDoc("ok.md",
             "<!-- doctest: run stdout=\"created example project\" -->\n"
             "```sh\nsluice init shop\ncd shop\nsluice run\n```\n"
             "<!-- doctest: synopsis -->\n"
             "```sh\nsluice dlq list [SOURCE] [--reason R]   # x\n"
             "sluice run --json\n```\n"
             "<!-- doctest: skip reason=\"a diagram\" -->\n```\na -> b\n```\n");
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
}

TEST(DocsExamplesRunner, AProjectFileTheBinaryRefusesFails) {
  // A mart partitioned by a column its contract lacks, as docs/PROJECT.md once had.
  const std::vector<std::string> problems =
      RunDoc("broken.md",
             "<!-- doctest: run cmd=\"sluice init p\" -->\n"
             "<!-- doctest: file project=p path=contracts/orders.yaml -->\n"
             "```yaml\nname: orders\ncolumns:\n  order_id: {type: string, required: true}\n"
             "  created_at: {type: timestamp, required: true}\n  seq: {type: int64, required: true}\n```\n"
             "<!-- doctest: run project=p cmd=\"sluice run\" -->\n");
  EXPECT_TRUE(Mentions(problems, "broken.md:10: expected exit 0")) << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "column 'tenant_id' is not in contract 'orders'"))
      << ::testing::PrintToString(problems);
}

TEST(DocsExamplesRunner, MissingOutputFails) {
  const std::vector<std::string> problems =
      RunDoc("out.md", "<!-- doctest: run cmd=\"sluice init shop\" stdout=\"no such text\" -->\n");
  EXPECT_TRUE(Mentions(problems, "stdout lacks \"no such text\"")) << ::testing::PrintToString(problems);
}

TEST(DocsExamplesRunner, UnknownSubcommandOrOptionFails) {
  const std::vector<std::string> problems = RunDoc(
      "syn.md", "<!-- doctest: synopsis -->\n```\nsluice run --no-such-flag\nsluice frobnicate X\n```\n");
  EXPECT_TRUE(Mentions(problems, "syn.md:3: sluice run has no option --no-such-flag"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "syn.md:4: `sluice frobnicate X` names no sluice subcommand"))
      << ::testing::PrintToString(problems);
}

TEST(DocsExamplesRunner, NothingIsLeftOutSilently) {
  const std::vector<std::string> problems =
      RunDoc("marks.md",
             "```sh\nsluice status\n```\n"                               // 1: no directive
             "<!-- doctest: skip -->\n```\nx\n```\n"                     // 4: no reason
             "<!-- doctest: file project=p path=a.txt -->\nsome text\n"  // 8: no block
             "<!-- doctest: runn cmd=\"true\" -->\n"                     // 10: unknown verb
             "<!-- doctest: run stdot=\"x\" cmd=\"true\" -->\n");        // 11: unknown key
  EXPECT_TRUE(Mentions(problems, "marks.md:1: code block without a doctest directive"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "marks.md:4: doctest skip needs reason"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "marks.md:8: doctest directive not followed by a code block"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "marks.md:10: unknown doctest verb 'runn'"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "marks.md:11: doctest run takes no key 'stdot'"))
      << ::testing::PrintToString(problems);
}

}  // namespace
}  // namespace sluice::e2e
