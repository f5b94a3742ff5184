#include "cli/serve_client.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <memory>

namespace sluice::cli {

namespace {

// `client` trusts the certificate (or chain) in the PEM file `cert` for this connection, and
// nothing else: not the system's certificate authorities. Any certificate of the file is a trust
// anchor (X509_V_FLAG_PARTIAL_CHAIN), so a leaf signed by a CA verifies as well as a
// self-signed one. The host name is not checked against it: the client connects to the address
// serve.json names and accepts exactly the server that presents the configured certificate.
Status TrustOnly(httplib::SSLClient& client, const std::string& cert) {
  // httplib's own verification would add the host name check (and, without a CA file, the
  // system's authorities); OpenSSL's, set on the context, runs during the handshake instead.
  client.enable_server_certificate_verification(false);
  SSL_CTX* ctx = client.ssl_context();
  if (ctx == nullptr) return Status::Unavailable("no TLS context for the connection to sluice serve");
  if (SSL_CTX_load_verify_locations(ctx, cert.c_str(), nullptr) != 1) {
    return Status::Unavailable("cannot read serve.tls.cert " + cert +
                               " to verify the running sluice serve's certificate");
  }
  X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return Status::OK();
}

// The server's answer to POST `path` with the JSON `body`, sent with its local secret over
// HTTP or, when serve.json names an https:// address, over TLS trusting serve.tls.cert only.
// Unavailable when serve.json names no address or secret, or the server does not answer.
Result<httplib::Result> PostToServe(const nlohmann::json& serve, const std::string& path,
                                    const nlohmann::json& body, const std::string& accept) {
  const std::string listen = serve.value("listen", "");
  const std::string secret = serve.value("local_secret", "");
  const bool tls = listen.rfind("https://", 0) == 0;
  const std::string prefix = tls ? "https://" : "http://";
  const size_t colon = listen.rfind(':');
  if (listen.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size() || secret.empty()) {
    return Status::Unavailable(
        "the lake is held by sluice serve, whose serve.json names no address and secret");
  }
  const std::string host = listen.substr(prefix.size(), colon - prefix.size());
  const int port = std::atoi(listen.c_str() + colon + 1);
  std::unique_ptr<httplib::ClientImpl> client;
  if (tls) {
    const std::string cert = serve.value("tls_cert", "");
    if (cert.empty()) {
      return Status::Unavailable("the lake is held by sluice serve at " + listen +
                                 ", whose serve.json names no certificate to verify it with");
    }
    auto ssl = std::make_unique<httplib::SSLClient>(host, port);
    RETURN_IF_ERROR(TrustOnly(*ssl, cert));
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(host, port);
  }
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(3600, 0);
  httplib::Headers headers = {{"Authorization", "Bearer " + secret}};
  if (!accept.empty()) headers.emplace("Accept", accept);
  httplib::Result r = client->Post(path, headers, body.dump(), "application/json");
  if (!r) {
    return Status::Unavailable("the lake is held by sluice serve at " + listen + ", which did not answer (" +
                               httplib::to_string(r.error()) + ")");
  }
  return r;
}

// The one-line reason of an error answer: its "error" field, else the status.
std::string ErrorOf(const httplib::Response& r, const nlohmann::json& body) {
  return body.is_object() && body.contains("error") && body["error"].is_string()
             ? body["error"].get<std::string>()
             : "HTTP " + std::to_string(r.status);
}

}  // namespace

Result<std::string> AskServe(const nlohmann::json& serve, const std::string& sql, const std::string& accept) {
  ASSIGN_OR_RETURN(httplib::Result r, PostToServe(serve, "/v1/query", nlohmann::json{{"sql", sql}}, accept));
  if (r->status == 200) return r->body;
  const std::string message =
      ErrorOf(*r, nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false));
  if (r->status >= 400 && r->status < 500) return Status::InvalidArgument(message);
  return Status::Aborted("sluice serve at " + serve.value("listen", "") + " failed the query: " + message);
}

Result<nlohmann::json> AskServeCommand(const nlohmann::json& serve, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(httplib::Result r,
                   PostToServe(serve, "/v1/admin/command", nlohmann::json{{"argv", argv}}, ""));
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (r->status == 200 && body.is_object() && body["exit_code"].is_number_integer() &&
      body["stdout"].is_string() && body["stderr"].is_string()) {
    return body;
  }
  const std::string message = ErrorOf(*r, body);
  if (r->status >= 400 && r->status < 500) return Status::InvalidArgument("sluice serve refused: " + message);
  return Status::Aborted("sluice serve at " + serve.value("listen", "") + " failed the command: " + message);
}

}  // namespace sluice::cli
