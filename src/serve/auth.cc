#include "serve/auth.h"

#include <arpa/inet.h>

namespace sluice {

namespace {

constexpr size_t kMinSecretBytes = 16;

}  // namespace

bool ConstantTimeEquals(std::string_view secret, std::string_view given) {
  // Every byte of `given` is compared (against the secret, cycled), whatever matches before.
  volatile unsigned char diff = secret.size() == given.size() ? 0 : 1;
  if (secret.empty()) return given.empty();
  for (size_t i = 0; i < given.size(); ++i) {
    diff = diff | static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
  }
  return diff == 0;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

Result<Authenticator> Authenticator::Create(const ServeAuthSpec& spec, const GetEnv& getenv) {
  Authenticator a;
  if (spec.none) return a;
  a.required_ = true;
  for (const TokenSpec& t : spec.tokens) {
    const std::string where =
        "serve.auth token '" + t.name + "' (sluice.yaml line " + std::to_string(t.line) + ")";
    const char* value = getenv(t.secret_env.c_str());
    if (value == nullptr || *value == '\0') {
      return Status::InvalidArgument(where + ": its secret variable " + t.secret_env +
                                     " is not set; export it before starting sluice serve");
    }
    std::string secret(value);
    if (secret.size() < kMinSecretBytes) {
      return Status::InvalidArgument(where + ": the secret in " + t.secret_env + " is shorter than " +
                                     std::to_string(kMinSecretBytes) +
                                     " bytes; use a random one (e.g. openssl rand -hex 32)");
    }
    for (const Token& other : a.tokens_) {
      if (other.secret == secret) {
        return Status::InvalidArgument(where + ": " + t.secret_env + " holds the same secret as token '" +
                                       other.principal.name + "'; give each token its own");
      }
    }
    a.tokens_.push_back(Token{http::Principal{t.name, t.scopes, t.tenants}, std::move(secret)});
  }
  return a;
}

void Authenticator::AddLocalAdmin(const std::string& name, std::string secret) {
  if (required_) tokens_.push_back(Token{http::Principal{name, {"admin"}, std::nullopt}, std::move(secret)});
}

Result<http::Principal> Authenticator::Authenticate(const http::Request& request) const {
  if (!required_) return http::Principal::Anonymous();
  std::optional<std::string> header = request.Header("authorization");
  if (!header)
    return Status::InvalidArgument("missing Authorization header: send Authorization: Bearer <token>");
  constexpr std::string_view kBearer = "Bearer ";
  if (header->size() <= kBearer.size() || header->compare(0, kBearer.size(), kBearer) != 0) {
    return Status::InvalidArgument("the Authorization header is not 'Bearer <token>'");
  }
  const std::string_view given = std::string_view(*header).substr(kBearer.size());
  // Every token is compared, so the time does not say which one (if any) matched.
  const Token* match = nullptr;
  for (const Token& t : tokens_) {
    if (ConstantTimeEquals(t.secret, given)) match = &t;
  }
  if (match == nullptr) return Status::InvalidArgument("the bearer token matches no token of this server");
  return match->principal;
}

}  // namespace sluice
