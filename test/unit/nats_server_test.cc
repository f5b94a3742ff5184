// The JetStream test server (test/support/nats_server.h): a real nats-server keeps every
// acknowledged message across a SIGKILL and restart, and across a clean stop when the store
// directory is reused. Fails (never skips) when nats-server is not installed.
#include "support/nats_server.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_project.h"

namespace sluice::test {
namespace {

std::vector<std::string> Payloads(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) {
    out.push_back(R"({"order_id":"o)" + std::to_string(i) + R"(","seq":)" + std::to_string(i) + "}");
  }
  return out;
}

TEST(NatsServerTest, AcknowledgedMessagesSurviveKillAndRestart) {
  auto server = NatsServer::Start();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->url().rfind("nats://127.0.0.1:", 0), 0u) << server->url();
  ASSERT_NO_FATAL_FAILURE(CreateStream(server->url(), "ORDERS", {"orders.>"}));
  // Creating it again with the same subjects keeps it.
  ASSERT_NO_FATAL_FAILURE(CreateStream(server->url(), "ORDERS", {"orders.>"}));

  ASSERT_NO_FATAL_FAILURE(PublishAll(server->url(), "orders.created", Payloads(1, 1000)));
  EXPECT_EQ(GetStreamState(server->url(), "ORDERS"), (StreamState{1000, 1000}));

  const std::string url = server->url();
  const pid_t before = server->pid();
  server->Kill();
  EXPECT_EQ(server->pid(), -1);
  ASSERT_NO_FATAL_FAILURE(server->Restart());
  EXPECT_NE(server->pid(), before);
  EXPECT_EQ(server->url(), url) << "restart must keep the port";
  EXPECT_EQ(GetStreamState(url, "ORDERS"), (StreamState{1000, 1000})) << server->LogTail();

  ASSERT_NO_FATAL_FAILURE(PublishAll(url, "orders.created", Payloads(1001, 10)));
  EXPECT_EQ(GetStreamState(url, "ORDERS"), (StreamState{1010, 1010}));
}

TEST(NatsServerTest, GivenStoreDirOutlivesTheServer) {
  testing::TempDir store("sluice_nats_server_test");
  {
    auto server = NatsServer::Start(store.path());
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(server->store_dir(), store.path());
    ASSERT_NO_FATAL_FAILURE(CreateStream(server->url(), "ORDERS", {"orders.>"}));
    ASSERT_NO_FATAL_FAILURE(PublishAll(server->url(), "orders.created", Payloads(1, 5)));
  }  // SIGTERM: a clean stop
  auto server = NatsServer::Start(store.path());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(GetStreamState(server->url(), "ORDERS"), (StreamState{5, 5}));
}

}  // namespace
}  // namespace sluice::test
