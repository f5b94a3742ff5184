// serve/auth.h: tokens from the environment, bearer matching, loopback addresses; and
// KeepRows, which moves a tenant-bound push's other tenants out of a batch.
#include "serve/auth.h"

#include <gtest/gtest.h>

#include <map>

#include "ingest/record_batch.h"

namespace sluice {
namespace {

ServeAuthSpec TwoTokens() {
  ServeAuthSpec spec;
  spec.none = false;
  spec.tokens.push_back(TokenSpec{"loader", "LOADER", {"ingest:orders"}, std::nullopt, 3});
  spec.tokens.push_back(TokenSpec{"acme", "ACME", {"read:*"}, std::vector<std::string>{"t01"}, 4});
  return spec;
}

Authenticator::GetEnv Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

http::Request Bearer(const std::string& value) {
  http::Request r;
  r.headers.emplace_back("authorization", value);
  return r;
}

TEST(Auth, BearerSecretsYieldTheirTokensPrincipal) {
  auto a = Authenticator::Create(TwoTokens(),
                                 Env({{"LOADER", "0123456789abcdef-l"}, {"ACME", "0123456789abcdef-a"}}));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->required());
  auto acme = a->Authenticate(Bearer("Bearer 0123456789abcdef-a"));
  ASSERT_TRUE(acme.ok()) << acme.status().ToString();
  EXPECT_EQ(acme->name, "acme");
  EXPECT_EQ(acme->tenants, std::vector<std::string>{"t01"});
  EXPECT_TRUE(acme->Can("read:marts.daily_revenue"));
  EXPECT_FALSE(acme->Can("ingest:orders"));
  auto loader = a->Authenticate(Bearer("Bearer 0123456789abcdef-l"));
  ASSERT_TRUE(loader.ok());
  EXPECT_EQ(loader->name, "loader");
  EXPECT_FALSE(loader->tenants.has_value());
  for (const char* bad :
       {"Bearer 0123456789abcdef-", "Bearer 0123456789abcdef-ll", "bearer 0123456789abcdef-l", "Bearer ",
        "0123456789abcdef-l", "Basic 0123456789abcdef-l"}) {
    auto r = a->Authenticate(Bearer(bad));
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find("0123456789abcdef"), std::string::npos) << "a secret in a message";
  }
  EXPECT_FALSE(a->Authenticate(http::Request{}).ok());
}

TEST(Auth, SecretsMustBeSetLongAndDistinct) {
  auto unset = Authenticator::Create(TwoTokens(), Env({{"LOADER", "0123456789abcdef-l"}}));
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.status().message().find("token 'acme'"), std::string::npos) << unset.status().message();
  EXPECT_NE(unset.status().message().find("ACME is not set"), std::string::npos);
  auto empty = Authenticator::Create(TwoTokens(), Env({{"LOADER", "0123456789abcdef-l"}, {"ACME", ""}}));
  EXPECT_FALSE(empty.ok());
  auto weak =
      Authenticator::Create(TwoTokens(), Env({{"LOADER", "short-secret"}, {"ACME", "0123456789abcdef-a"}}));
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.status().message().find("short-secret"), std::string::npos);
  auto same = Authenticator::Create(TwoTokens(),
                                    Env({{"LOADER", "0123456789abcdef-x"}, {"ACME", "0123456789abcdef-x"}}));
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.status().message().find("same secret"), std::string::npos);
  // auth: none: everyone is anonymous, an admin.
  auto none = Authenticator::Create(ServeAuthSpec{}, Env({}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->required());
  EXPECT_TRUE(none->Authenticate(http::Request{})->Can("admin"));
}

TEST(Auth, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcabc"));  // the cycled secret must not match
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(Auth, LoopbackHosts) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) EXPECT_TRUE(IsLoopbackHost(h)) << h;
  for (const char* h : {"0.0.0.0", "10.0.0.1", "128.0.0.1", "example.com", "", "::"}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

TEST(RecordBatchKeepRows, KeepsTheChosenRowsOfEveryColumn) {
  RecordBatch b;
  ColumnData s{ColumnType{TypeKind::kString}};
  ColumnData n{ColumnType{TypeKind::kInt64}};
  const std::vector<std::string> values = {"a", "", "ccc", "dd"};
  for (size_t i = 0; i < values.size(); ++i) {
    s.str_data += values[i];
    s.str_offsets.push_back(s.str_data.size());
    s.valid.push_back(i != 1);
    n.i64.push_back(static_cast<int64_t>(i) * 10);
    n.valid.push_back(1);
    b.source_line.push_back(static_cast<int64_t>(i) + 1);
    b.raw_spans.push_back(RawSpan{i * 100, i});
  }
  b.columns = {s, n};
  KeepRows(b, {1, 0, 0, 1});
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.columns[0].size(), 2u);
  EXPECT_EQ(b.columns[0].StringAt(0), "a");
  EXPECT_EQ(b.columns[0].StringAt(1), "dd");
  EXPECT_EQ(b.columns[1].i64, (std::vector<int64_t>{0, 30}));
  EXPECT_EQ(b.source_line, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(b.raw_spans[1].offset, 300u);
}

}  // namespace
}  // namespace sluice
