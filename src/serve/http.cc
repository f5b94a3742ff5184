#include "serve/http.h"

#include <algorithm>
#include <cctype>

namespace sluice::http {

namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Request::Param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

void Response::SetJson(int s, const nlohmann::json& j) {
  status = s;
  content_type = "application/json";
  body = j.dump() + "\n";
}

void Response::SetError(int s, std::string_view message) { SetJson(s, nlohmann::json{{"error", message}}); }

void Response::AddHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

bool Principal::Can(std::string_view scope) const {
  for (const std::string& granted : scopes) {
    if (granted == "admin" || granted == scope) return true;
    if (!granted.empty() && granted.back() == '*' &&
        scope.substr(0, granted.size() - 1) == std::string_view(granted).substr(0, granted.size() - 1)) {
      return true;
    }
  }
  return false;
}

Principal Principal::Anonymous() { return Principal{"anonymous", {"admin"}, std::nullopt}; }

}  // namespace sluice::http
