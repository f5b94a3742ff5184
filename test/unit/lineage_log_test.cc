// Unit tests of ops/: the lineage jsonl file (one file per day, a torn last line cut before the
// next append and skipped by readers), run ids, the sender's drop accounting, and the JSON log
// line format of common/log.h.
#include "ops/lineage_log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "common/env.h"
#include "common/log.h"
#include "ops/lineage_events.h"
#include "ops/lineage_sender.h"
#include "support/test_project.h"

namespace sluice {
namespace {

constexpr int64_t kDec4 = 1796379900000000;  // 2026-12-04T10:25:00Z

TEST(LineageLogTest, AppendsWholeLinesToTheFileOfTheDay) {
  testing::TempDir tmp;
  Env* env = Env::Default();
  LineageLog log(env, tmp.path() + "/lineage");
  EXPECT_EQ(FormatTimestampMicros(kDec4), "2026-12-04T10:25:00.000000Z");
  EXPECT_EQ(log.FileOf(kDec4), tmp.path() + "/lineage/2026-12-04.jsonl");
  ASSERT_TRUE(log.Append(kDec4, {"{\"a\":1}", "{\"a\":2}"}).ok());
  ASSERT_TRUE(log.Append(kDec4 + 86400000000, {"{\"a\":3}"}).ok());
  EXPECT_EQ(*env->ReadFile(tmp.path() + "/lineage/2026-12-04.jsonl"), "{\"a\":1}\n{\"a\":2}\n");
  EXPECT_EQ(*env->ReadFile(tmp.path() + "/lineage/2026-12-05.jsonl"), "{\"a\":3}\n");
  auto lines = ReadLineageLines(env, tmp.path() + "/lineage");
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(*lines, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"}));
}

TEST(LineageLogTest, ATornLastLineIsSkippedThenCutBeforeTheNextAppend) {
  testing::TempDir tmp;
  Env* env = Env::Default();
  const std::string dir = tmp.path() + "/lineage";
  ASSERT_TRUE(env->CreateDirs(dir).ok());
  const std::string file = dir + "/2026-12-04.jsonl";
  // What a crash in the middle of an append leaves: the last line without its end.
  ASSERT_TRUE(env->WriteFile(file, "{\"a\":1}\n{\"a\":").ok());
  auto lines = ReadLineageLines(env, dir);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(*lines, std::vector<std::string>{"{\"a\":1}"});
  LineageLog log(env, dir);  // a later process
  ASSERT_TRUE(log.Append(kDec4, {"{\"a\":2}"}).ok());
  EXPECT_EQ(*env->ReadFile(file), "{\"a\":1}\n{\"a\":2}\n");
  // A file that is nothing but a torn line.
  ASSERT_TRUE(env->WriteFile(file, "{\"a").ok());
  LineageLog again(env, dir);
  ASSERT_TRUE(again.Append(kDec4, {"{\"a\":3}"}).ok());
  EXPECT_EQ(*env->ReadFile(file), "{\"a\":3}\n");
}

TEST(LineageLogTest, RunIdsAreVersion4Uuids) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = NewRunId(kDec4);
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(LineageSenderTest, AnEndpointThatDoesNotAnswerDropsAndCounts) {
  std::vector<std::string> logged;
  LineageSenderOptions options;
  options.endpoint = "http://127.0.0.1:1/api/v1/lineage";  // nothing listens on port 1
  options.timeout_ms = 200;
  options.retries = 1;
  options.log = [&](const std::string& line) { logged.push_back(line); };
  auto sender = LineageSender::Start(options);
  ASSERT_TRUE(sender.ok()) << sender.status().ToString();
  EXPECT_TRUE((*sender)->Send("{}"));
  (*sender)->Close(/*wait_ms=*/10000);
  LineageSender::Counts c = (*sender)->counts();
  EXPECT_EQ(c.posted, 0);
  EXPECT_EQ(c.retried, 1);
  EXPECT_EQ(c.dropped, 1);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("not delivered to http://127.0.0.1:1/api/v1/lineage after 2 attempts"),
            std::string::npos)
      << logged[0];
  // After Close nothing is queued.
  EXPECT_FALSE((*sender)->Send("{}"));
  EXPECT_EQ((*sender)->counts().dropped, 2);

  options.endpoint = "https://127.0.0.1/x";
  EXPECT_EQ(LineageSender::Start(options).status().code(), StatusCode::kInvalidArgument);
  options.endpoint = "http://127.0.0.1:99999/x";
  EXPECT_EQ(LineageSender::Start(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(LogTest, JsonLinesEscapeAndLeaveOutUnknownFields) {
  const std::string line =
      LogJson(kDec4, LogLevel::kWarning, "sluice serve", "a \"quoted\"\nline\x01", {"c1", "", "orders", ""});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-12-04T10:25:00.000000Z\",\"level\":\"warning\",\"component\":\"sluice serve\","
            "\"msg\":\"a \\\"quoted\\\"\\nline\\u0001\",\"correlation_id\":\"c1\",\"source\":\"orders\"}");
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "a \"quoted\"\nline\x01");
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

}  // namespace
}  // namespace sluice
