// Connections refused by a connection limit (serve.limits, docs/HTTP.md) are counted in
// /metrics as sluice_http_connections_refused_total: one per connection closed unanswered.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

const char kHealth[] = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const char kMetric[] = "sluice_http_connections_refused_total";

// /metrics asked from another client address: 127.0.0.1 may be at its limit.
std::string MetricsFrom(int port, const std::string& source_ip) {
  RawConnection c(port, source_ip);
  EXPECT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse r = c.Read(10);
  EXPECT_EQ(r.status, 200) << Describe(r);
  return r.body;
}

TEST(ServeRefusedConnections, PerClientLimitRefusalsAreCounted) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  MakeStreamSource(p, "    type: http\n",
                   "transform: {interval: 500ms}\nserve:\n  limits: {max_connections_per_client: 3, "
                   "idle_timeout: 30s}");
  auto server = ServeProcess::Start(p);
  ASSERT_TRUE(server);
  const int port = server->port();
  // Nothing refused yet (the readiness polls closed their connections).
  EXPECT_EQ(MetricValue(MetricsFrom(port, "127.0.0.2"), kMetric), 0);

  // 127.0.0.1 holds three connections, each answered once (so the server counts it) and kept
  // open. A connection closed unanswered meanwhile (the readiness polls' connections may not be
  // closed on the server's side yet) is a refusal too, and is counted.
  int refused = 0, served = 0;
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int attempt = 0; attempt < 100 && held.size() < 3; ++attempt) {
    auto c = std::make_unique<RawConnection>(port);
    const HttpResponse r = c->Send(kHealth) ? c->Read(5) : HttpResponse{};
    if (r.status == 0) {
      ++refused;
    } else {
      ASSERT_EQ(r.status, 200) << Describe(r);
      held.push_back(std::move(c));
    }
  }
  ASSERT_EQ(held.size(), 3u);
  // Its next connections are closed unanswered: each one a refusal.
  const int refused_before = refused;
  for (int attempt = 0; attempt < 100 && refused - refused_before < 5; ++attempt) {
    RawConnection extra(port);
    if (!extra.connected()) continue;
    (void)extra.Send(kHealth);
    const HttpResponse r = extra.Read(5);
    if (r.status == 0) {
      ++refused;
    } else {
      ADD_FAILURE() << "a fourth connection from 127.0.0.1 was answered: " << Describe(r);
      ++served;
    }
  }
  ASSERT_EQ(refused - refused_before, 5)
      << "extra connections from 127.0.0.1 refused (" << served << " served)";
  // Exactly those refusals are counted.
  EXPECT_EQ(MetricValue(MetricsFrom(port, "127.0.0.2"), kMetric), refused);

  // The held connections are answered again; nothing more is counted.
  for (size_t i = 0; i < held.size(); ++i) {
    ASSERT_TRUE(held[i]->Send(kHealth)) << i;
    EXPECT_EQ(held[i]->Read(5).status, 200) << "held connection " << i;
  }
  const std::string metrics = MetricsFrom(port, "127.0.0.3");
  EXPECT_EQ(MetricValue(metrics, kMetric), refused);
  EXPECT_NE(metrics.find(std::string("# TYPE ") + kMetric + " counter"), std::string::npos);
  ProcessResult stop = server->Terminate();
  EXPECT_TRUE(stop.ok()) << stop.Describe();
}

}  // namespace
}  // namespace sluice::e2e
