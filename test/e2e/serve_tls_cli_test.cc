// The read commands beside a `sluice serve` that speaks HTTPS only (`serve.tls`): `sluice query`
// asks the running server over TLS, trusting the certificate file of serve.tls.cert and nothing
// else, and `sluice status` reads serve.json (docs/QUERY_API.md, docs/HTTP.md).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

std::string OrderLine(int i) {
  return "{\"order_id\":\"tls-" + std::to_string(i) +
         "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":" + std::to_string(i) +
         ".25,\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
}

TEST(ServeTlsCli, QueryAndStatusWorkWhileServeHoldsTheLakeOverTls) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  MakeStreamSource(
      p, "    type: http\n",
      "transform: {interval: 200ms}\nserve:\n  tls: {cert: tls/server.pem, key: tls/server.key}");
  std::filesystem::create_directories(p.Path("tls"));
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(p.Path("tls"), "server"));
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(p.Path("tls"), "other"));
  const std::string ca = p.Path("tls/server.pem");
  auto server = ServeProcess::Start(p, {}, {}, 60, ca);
  ASSERT_TRUE(server);
  HttpClient client(server->port(), 30, ca);
  std::string body;
  for (int i = 1; i <= 3; ++i) body += OrderLine(i);
  HttpResponse posted = client.Post("/v1/sources/orders/events", body, {{"Idempotency-Key", "tls-cli"}});
  ASSERT_EQ(posted.status, 200) << Describe(posted);

  // serve.json names the certificate the CLI is to trust.
  const Json serve_json = Json::parse(ReadFileOrDie(p.Lake() + "/serve.json"));
  EXPECT_EQ(serve_json.value("listen", ""), "https://127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(serve_json.value("tls_cert", ""), ca);

  // `sluice query`: answered by the server over HTTPS, in both output formats (polled until the
  // transform cycle curated the batch).
  ProcessResult q;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  do {
    q = p.Sluice("query", {"SELECT count(*) AS n, sum(amount) AS s FROM curated.orders", "--format", "json"});
    ASSERT_TRUE(q.ok()) << q.Describe() << "\n" << server->Stderr();
  } while (Json::parse(q.out)[0]["n"] != 3 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(Json::parse(q.out), Json::parse(R"([{"n":3,"s":6.75}])")) << q.out;
  EXPECT_NE(q.err.find("answered by the running sluice serve"), std::string::npos) << q.err;
  EXPECT_NE(q.err.find("https://127.0.0.1:"), std::string::npos) << q.err;
  ProcessResult csv =
      p.Sluice("query", {"SELECT order_id FROM curated.orders ORDER BY 1", "--format", "csv"});
  ASSERT_TRUE(csv.ok()) << csv.Describe();
  EXPECT_EQ(csv.out, "order_id\ntls-1\ntls-2\ntls-3\n");
  // The gate still refuses, with the server's reason.
  ProcessResult refused = p.Sluice("query", {"COPY curated.orders TO 'out.csv'"});
  ExpectCleanFailure(refused, "COPY through the TLS server");
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(p.Path("out.csv")));

  // `sluice status`: answered by the running server over TLS (the lake's tables, as on a free
  // lake), then the server's own section with its https address.
  ProcessResult status = p.Sluice("status");
  EXPECT_TRUE(status.ok()) << status.Describe();
  EXPECT_NE(status.err.find("answered by the running sluice serve"), std::string::npos) << status.err;
  EXPECT_NE(status.out.find("curated.orders: 3 rows"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("https://127.0.0.1:" + std::to_string(server->port())), std::string::npos)
      << status.out;

  // The CLI trusts the configured certificate only: with another certificate in that file (the
  // server keeps the one it loaded at start), the server it reaches is not the one it trusts,
  // and the query fails cleanly without sending its secret anywhere.
  const std::string original = ReadFileOrDie(ca);
  WriteFileOrDie(ca, ReadFileOrDie(p.Path("tls/other.pem")));
  ProcessResult untrusted = p.Sluice("query", {"SELECT count(*) FROM curated.orders"});
  ExpectCleanFailure(untrusted, "a server whose certificate is not serve.tls.cert's");
  EXPECT_NE(untrusted.err.find("did not answer"), std::string::npos) << untrusted.err;
  WriteFileOrDie(ca, original);
  ProcessResult again = p.Sluice("query", {"SELECT count(*) AS n FROM curated.orders", "--format", "json"});
  ASSERT_TRUE(again.ok()) << again.Describe();
  EXPECT_EQ(Json::parse(again.out), Json::parse(R"([{"n":3}])")) << again.out;

  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  // Once serve stopped, the lake is read directly again.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "3");
}

}  // namespace
}  // namespace sluice::e2e
