// API tokens of `sluice serve` (`serve.auth` in sluice.yaml; docs/SECURITY.md).
//
// A request carries `Authorization: Bearer <secret>`; the secret is matched against every
// token's secret, read once from the environment variable the token names, in time that does
// not depend on the secrets' contents. The principal it yields says which scopes and tenants
// the request has (http::Principal); handlers check them. Secrets never appear in messages.
#pragma once

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "serve/http.h"
#include "spec/spec.h"

namespace sluice {

class Authenticator {
 public:
  using GetEnv = std::function<const char*(const char*)>;

  // Reads each token's secret from its variable. InvalidArgument naming the token and the
  // variable (never a value) when one is unset, empty, shorter than 16 bytes, or holds another
  // token's secret. With `auth: none` every request is http::Principal::Anonymous().
  static Result<Authenticator> Create(const ServeAuthSpec& spec, const GetEnv& getenv = ::getenv);

  // The principal of `request`; Unauthenticated-style InvalidArgument with a one-line reason
  // (answered 401) when the header is missing, not a Bearer token, or matches no token.
  // Thread-safe.
  Result<http::Principal> Authenticate(const http::Request& request) const;

  // Also accepts `secret` as an admin token named `name` (the secret `sluice serve` writes into
  // <lake>/serve.json for the read commands of the same machine). No effect under `auth: none`.
  void AddLocalAdmin(const std::string& name, std::string secret);

  bool required() const { return required_; }

 private:
  struct Token {
    http::Principal principal;
    std::string secret;
  };
  std::vector<Token> tokens_;
  bool required_ = false;
};

// Whether `host` (as given to --listen) is a loopback address: 127.0.0.0/8, ::1, localhost.
bool IsLoopbackHost(const std::string& host);

// Equal strings, compared in time that depends only on `given`'s length.
bool ConstantTimeEquals(std::string_view secret, std::string_view given);

}  // namespace sluice
