#include "cli/serve_client.h"

#include <httplib.h>

#include <cstdlib>

namespace sluice::cli {

Result<std::string> AskServe(const nlohmann::json& serve, const std::string& sql, const std::string& accept) {
  const std::string listen = serve.value("listen", "");
  const std::string secret = serve.value("local_secret", "");
  const std::string prefix = "http://";
  const size_t colon = listen.rfind(':');
  if (listen.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size() || secret.empty()) {
    return Status::Unavailable(
        "the lake is held by sluice serve, whose serve.json names no address and secret");
  }
  const std::string host = listen.substr(prefix.size(), colon - prefix.size());
  const int port = std::atoi(listen.c_str() + colon + 1);
  httplib::Client client(host, port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(3600, 0);
  httplib::Headers headers = {{"Authorization", "Bearer " + secret}, {"Accept", accept}};
  httplib::Result r =
      client.Post("/v1/query", headers, nlohmann::json{{"sql", sql}}.dump(), "application/json");
  if (!r) {
    return Status::Unavailable("the lake is held by sluice serve at " + listen + ", which did not answer (" +
                               httplib::to_string(r.error()) + ")");
  }
  if (r->status == 200) return r->body;
  nlohmann::json error = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  const std::string message = error.is_object() && error.contains("error") && error["error"].is_string()
                                  ? error["error"].get<std::string>()
                                  : "HTTP " + std::to_string(r->status);
  if (r->status >= 400 && r->status < 500) return Status::InvalidArgument(message);
  return Status::Aborted("sluice serve at " + listen + " failed the query: " + message);
}

Result<nlohmann::json> AskServeCommand(const nlohmann::json& serve, const std::vector<std::string>& argv) {
  const std::string listen = serve.value("listen", "");
  const std::string secret = serve.value("local_secret", "");
  const std::string prefix = "http://";
  const size_t colon = listen.rfind(':');
  if (listen.rfind("https://", 0) == 0) {
    return Status::Unavailable("the lake is held by sluice serve at " + listen +
                               ", which speaks TLS (serve.tls): this command does not, yet; stop it first");
  }
  if (listen.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size() || secret.empty()) {
    return Status::Unavailable(
        "the lake is held by sluice serve, whose serve.json names no address and secret");
  }
  httplib::Client client(listen.substr(prefix.size(), colon - prefix.size()),
                         std::atoi(listen.c_str() + colon + 1));
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(3600, 0);
  httplib::Result r = client.Post("/v1/admin/command", {{"Authorization", "Bearer " + secret}},
                                  nlohmann::json{{"argv", argv}}.dump(), "application/json");
  if (!r) {
    return Status::Unavailable("the lake is held by sluice serve at " + listen + ", which did not answer (" +
                               httplib::to_string(r.error()) + ")");
  }
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (r->status == 200 && body.is_object() && body["exit_code"].is_number_integer() &&
      body["stdout"].is_string() && body["stderr"].is_string()) {
    return body;
  }
  const std::string message = body.is_object() && body.contains("error") && body["error"].is_string()
                                  ? body["error"].get<std::string>()
                                  : "HTTP " + std::to_string(r->status);
  if (r->status >= 400 && r->status < 500) return Status::InvalidArgument("sluice serve refused: " + message);
  return Status::Aborted("sluice serve at " + listen + " failed the command: " + message);
}

}  // namespace sluice::cli
