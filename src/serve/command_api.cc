#include "serve/command_api.h"

#include <atomic>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace sluice {

namespace {

constexpr size_t kMaxArgs = 64;
constexpr size_t kMaxArgBytes = 4096;

// The argv of the request body, or a one-line reason it has none.
Result<std::vector<std::string>> ArgvOf(const http::Request& req) {
  const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("argv") || !body["argv"].is_array()) {
    return Status::InvalidArgument(
        "the body must be a JSON object {\"argv\": [\"dlq\", \"list\", ...]}: a sluice command without "
        "the program's name");
  }
  const nlohmann::json& argv = body["argv"];
  if (argv.empty() || argv.size() > kMaxArgs) {
    return Status::InvalidArgument("argv must hold 1 to " + std::to_string(kMaxArgs) + " arguments");
  }
  std::vector<std::string> out;
  for (const auto& a : argv) {
    if (!a.is_string() || a.get_ref<const std::string&>().size() > kMaxArgBytes) {
      return Status::InvalidArgument("each argument must be a string of at most " +
                                     std::to_string(kMaxArgBytes) + " bytes");
    }
    out.push_back(a.get<std::string>());
  }
  return out;
}

void Answer(http::Response& res, const CommandOutput& output) {
  res.status = 200;
  res.content_type = "application/json";
  // Output is UTF-8 (the lake's text is); a stray byte is replaced rather than failing the answer.
  res.body =
      nlohmann::json{{"exit_code", output.exit_code}, {"stdout", output.out}, {"stderr", output.err}}.dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n";
}

}  // namespace

bool IsReadCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  const std::string& command = argv[0];
  if (command == "status" || command == "trace") return true;
  if (argv.size() < 2) return false;
  const std::string& action = argv[1];
  if (command == "dlq") return action == "list" || action == "show";
  if (command == "batches") return action == "list";
  if (command == "schema") return action == "check" || action == "history" || action == "diff";
  return false;
}

http::Route CommandRoute(Server::Impl& impl) {
  auto running = std::make_shared<std::atomic<int64_t>>(0);
  Server::Impl* m = &impl;
  return {"POST", "/v1/admin/command", /*authenticated=*/true,
          [m, running](const http::Request& req, const http::Principal& who, http::Response& res) {
            if (!who.Can("admin")) {
              res.SetError(403, "token '" + who.name + "' may not run commands (needs scope admin)");
              return;
            }
            if (!m->options.commands) {
              res.SetError(501, "this server runs no commands");
              return;
            }
            Result<std::vector<std::string>> argv = ArgvOf(req);
            if (!argv.ok()) {
              res.SetError(400, argv.status().message());
              return;
            }
            if (!IsReadCommand(*argv)) {
              res.SetError(400, "`sluice " + (*argv)[0] +
                                    (argv->size() > 1 ? " " + (*argv)[1] : std::string()) +
                                    "` is not a read command: the server runs status, dlq list, dlq show, "
                                    "batches list, schema check, schema history, schema diff and trace");
              return;
            }
            const int64_t limit = m->engine->spec().serve.query.max_concurrent;
            if (running->fetch_add(1) >= limit) {
              running->fetch_sub(1);
              res.AddHeader("Retry-After", "1");
              res.SetError(429, std::to_string(limit) +
                                    " commands are running (serve.query.max_concurrent); retry after 1 s");
              return;
            }
            struct Release {
              std::atomic<int64_t>* n;
              ~Release() { n->fetch_sub(1); }
            } release{running.get()};
            // A reader on a connection of its own to the engine's database (the engine thread's
            // connection is never used here); its transaction ends with the reader.
            ReaderOpener open = [m](const ProjectSpec& spec) -> Result<std::unique_ptr<Catalog>> {
              ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> conn, m->engine->catalog().conn().Connect());
              return Catalog::OpenReader(spec, std::move(conn), m->env());
            };
            Result<CommandOutput> output = Status::Aborted("not run");
            try {
              output = m->options.commands(*argv, m->engine->spec().root, open);
            } catch (const std::exception& e) {
              output = Status::Aborted(std::string("internal error: ") + e.what());
            }
            if (!output.ok()) {
              res.SetError(output.status().code() == StatusCode::kInvalidArgument ? 400 : 500,
                           output.status().message());
              return;
            }
            std::string line;
            for (const auto& a : *argv) line += (line.empty() ? "" : " ") + a;
            m->Log("command `" + line + "` for token '" + who.name + "': exit " +
                   std::to_string(output->exit_code));
            Answer(res, *output);
          }};
}

}  // namespace sluice
