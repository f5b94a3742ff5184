// Read commands while `sluice serve` holds the lake: DuckDB's lock keeps other processes out
// of its database, so `sluice query` asks the running server instead (POST /v1/query, the same
// statement gate). The server is found through <lake>/serve.json (cli/stream_status.h
// RunningServe), which also holds the server's local secret: the file is readable by the
// lake's owner only, and whoever reads the lake's files may read its tables anyway.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::cli {

// The body of the server's answer to `sql`, asked with `Accept: <accept>`. InvalidArgument
// holding the server's one-line reason when it refused the query (4xx); Unavailable when
// serve.json names no address or secret or the server does not answer; Aborted otherwise.
Result<std::string> AskServe(const nlohmann::json& serve, const std::string& sql, const std::string& accept);

// Asks the server of `serve` (its serve.json) to run the read command `argv` (POST
// /v1/admin/command, serve/command_api.h); its answer {"exit_code", "stdout", "stderr"}.
// Errors as AskServe's, with the server's one-line reason when it refused the command.
Result<nlohmann::json> AskServeCommand(const nlohmann::json& serve, const std::vector<std::string>& argv);

}  // namespace sluice::cli
