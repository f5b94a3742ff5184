// POST /v1/admin/command {"argv": ["dlq", "list", "--json"]}: a read-only `sluice` command run
// by the server on its own lake for a client (docs/QUERY_API.md). The lake's DuckDB file lock keeps
// other processes out while `sluice serve` holds it, so the CLI on the server's machine sends
// its read commands here (with the local secret of <lake>/serve.json) and prints the answer:
// `sluice status`, `dlq list|show`, `batches list`, `schema check|history|diff`.
//
// Needs the admin scope. Only those commands are run (an allow-list here, and the command
// runner parses the arguments with the CLI's own definitions and checks again); each runs on an
// HTTP worker on a reader of the engine's database (Catalog::OpenReader: its own connection and
// one transaction, rolled back), never on the engine thread's connection, and at most
// serve.query.max_concurrent at once. The answer is 200 {"exit_code", "stdout", "stderr"}
// whatever the command's exit code: what the command prints when the lake is free.
#pragma once

#include "serve/http.h"
#include "serve/server_impl.h"

namespace sluice {

// The route above, running commands with `impl.options.commands` (501 when unset).
http::Route CommandRoute(Server::Impl& impl);

// Whether `argv` starts with one of the read-only commands the route runs: ["status"], ["trace"],
// ["dlq", "list"|"show"], ["batches", "list"], ["schema", "check"|"history"|"diff"].
bool IsReadCommand(const std::vector<std::string>& argv);

}  // namespace sluice
