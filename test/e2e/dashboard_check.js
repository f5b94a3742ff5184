// Opens the dashboard of a running `sluice serve` in Debian's headless Chromium, driven by
// playwright-core (third_party/node, scripts/setup.sh), and prints what the page shows as one
// JSON object on stdout, for test/e2e/dashboard_test.cc to check:
//
//   node dashboard_check.js <url> <token> <screenshot.png> <user-data-dir>
//
// {"prompted": the page asked for a token, "nodes": [{id, kind, state, rows, slo, text, tooltip}],
//  "edges": ["from>to", ...], "slos": [{name, state}], "slo_empty": bool, "dlq": [{key, rows}],
//  "batches": n, "chart_points": {throughput, lag}, "requests": [...], "external": [...],
//  "console_errors": [...], "failed_loads": [{url, status}], "csp": the page's
//  Content-Security-Policy header}
//
// Every request the page makes goes through route interception: one to another origin than
// the server's is recorded in "external" and aborted, so the page cannot reach the network.
'use strict';

const { chromium } = require('playwright-core');

async function main() {
  const [url, token, screenshot, userDataDir] = process.argv.slice(2);
  if (!url || !token || !screenshot || !userDataDir) {
    throw new Error('usage: dashboard_check.js <url> <token> <screenshot.png> <user-data-dir>');
  }
  const origin = new URL(url).origin;
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out = { requests: [], external: [], console_errors: [] };
  try {
    await context.route('**/*', (route) => {
      const u = route.request().url();
      out.requests.push(u);
      if (new URL(u).origin !== origin) {
        out.external.push(u);
        return route.abort();
      }
      return route.continue();
    });
    const page = context.pages()[0] || (await context.newPage());
    // Chromium logs every answer >= 400 as a console error: those are kept apart, with their
    // URL (the first /v1/pipeline is 401 until the token is given).
    out.failed_loads = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (m.text().startsWith('Failed to load resource: the server responded with a status of')) {
        const status = Number((m.text().match(/status of (\d+)/) || [])[1]);
        out.failed_loads.push({ url: new URL(m.location().url).pathname, status: status });
      } else {
        out.console_errors.push(m.text());
      }
    });
    page.on('pageerror', (e) => out.console_errors.push(String(e)));

    const response = await page.goto(url, { waitUntil: 'load' });
    out.csp = (await response.allHeaders())['content-security-policy'] || '';

    // serve.auth has tokens: the page asks for one, keeps it in sessionStorage and sends it.
    await page.waitForSelector('#auth:not([hidden])', { timeout: 30000 });
    out.prompted = true;
    await page.fill('#token', token);
    await page.click('#auth-form button[type=submit]');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30000 });
    out.token_kept = await page.evaluate(() => sessionStorage.getItem('sluice.dashboard.token') !== null);
    // The charts need two samples of the history for a rate.
    await page.waitForFunction(
        () => Number(document.getElementById('chart-throughput').dataset.points || 0) > 0, null,
        { timeout: 60000 });

    out.nodes = await page.$$eval('#graph g.node', (gs) => gs.map((g) => ({
      id: g.dataset.node, kind: g.dataset.kind, state: g.dataset.state,
      rows: g.dataset.rows === '' ? null : Number(g.dataset.rows), slo: g.dataset.slo,
      text: Array.from(g.querySelectorAll('text')).map((t) => t.textContent),
      tooltip: (g.querySelector('title') || {}).textContent || '',
      box: (() => { const r = g.getBoundingClientRect(); return [r.width, r.height]; })(),
    })));
    out.edges = await page.$$eval('#graph path.edge', (ps) => ps.map((p) => p.dataset.from + '>' + p.dataset.to));
    out.slos = await page.$$eval('#slo tbody tr', (rs) => rs.map((r) => ({
      name: r.dataset.slo, state: r.dataset.state,
      shown: r.querySelector('.state').textContent,
      visible: r.getBoundingClientRect().height > 0,
    })));
    out.slo_empty = await page.isVisible('#slo-empty');
    out.dlq = await page.$$eval('#dlq .bar-row', (rs) => rs.map((r) => ({ key: r.dataset.dlq, rows: Number(r.dataset.rows) })));
    out.batches = await page.$$eval('#batches tbody tr', (rs) => rs.length);
    out.chart_points = {
      throughput: await page.$eval('#chart-throughput', (s) => Number(s.dataset.points || 0)),
      lag: await page.$eval('#chart-lag', (s) => Number(s.dataset.points || 0)),
    };
    out.polylines = await page.$$eval('svg.chart polyline', (ps) => ps.length);
    out.lag_legend = await page.$$eval('#legend-lag > span', (ss) => ss.map((x) => x.textContent));
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
