// The dashboard of `sluice serve` (docs/DASHBOARD.md): the page at GET / with its script, style
// and icon (serve/dashboard_assets.h, compiled into the binary), and the two JSON endpoints it
// reads besides /v1/health and /v1/slo:
//   GET /v1/pipeline  the graph from sources to consumers with each node's state, freshness and
//                     rows, the recent batches and the DLQ by reason (ops/pipeline.h)
//   GET /v1/history   the last hour of ingest rows and lag per source, sampled every 10 s
//                     (ops/history.h)
//
// The page and its assets are public (they hold no data) and are sent with a
// Content-Security-Policy that lets the page load and fetch from its own origin only. The JSON
// endpoints need a token when serve.auth has tokens, as every data endpoint does; a token bound
// to tenants is refused (403: the overview counts every tenant's rows), and a node whose dataset
// the token may not read (read:<layer>.<name>) shows no numbers. Handlers are thread-safe.
#pragma once

#include <vector>

#include "serve/http.h"
#include "serve/server_impl.h"

namespace sluice {

// The routes above.
std::vector<http::Route> DashboardRoutes(Server::Impl& impl);

// The Content-Security-Policy of the page and its assets.
inline constexpr const char* kDashboardCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace sluice
