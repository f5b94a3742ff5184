// The dashboard of `sluice serve` (docs/DASHBOARD.md). Plain JavaScript, no library: it reads
// /v1/health, /v1/pipeline, /v1/slo and /v1/history from the server it came from every 10 s and
// draws everything as DOM and inline SVG. It loads nothing from anywhere else (the page's
// Content-Security-Policy would refuse it).
'use strict';

(function () {
  const TOKEN_KEY = 'sluice.dashboard.token';
  const REFRESH_MS = 10000;
  const NS = 'http://www.w3.org/2000/svg';  // the SVG namespace name, not a URL that is fetched
  const STAGES = ['sources', 'staging', 'curated', 'marts', 'consumers'];
  const STAGE_TITLES = {
    sources: 'sources', staging: 'staging', curated: 'curated', marts: 'marts',
    consumers: 'consumers'
  };

  const $ = (id) => document.getElementById(id);
  let timer = null;

  // ---- Fetching ----------------------------------------------------------------------------

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  async function getJson(path) {
    const headers = { Accept: 'application/json' };
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const r = await fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit' });
    let body = null;
    try {
      body = await r.json();
    } catch (e) {
      body = null;
    }
    return { status: r.status, body: body };
  }

  // ---- Formatting --------------------------------------------------------------------------

  function fmtInt(n) {
    return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
  }

  function fmtNum(n, unit) {
    if (n === null || n === undefined) return '–';
    if (unit === 'seconds') return fmtAge(n);
    if (unit === 'ratio') return (n * 100).toFixed(2) + '%';
    const v = Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(2);
    return v + (unit ? ' ' + unit : '');
  }

  function fmtAge(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + ' s';
    if (seconds < 3600) return (seconds / 60).toFixed(0) + ' min';
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + ' h';
    return (seconds / 86400).toFixed(1) + ' d';
  }

  function fmtTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toISOString().substring(11, 19) + 'Z';
  }

  // ---- DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function truncate(s, n) {
    return s.length > n ? s.substring(0, n - 1) + '…' : s;
  }

  // ---- Pipeline graph ----------------------------------------------------------------------

  const NODE_W = 232, NODE_H = 62, GAP_Y = 14, COL_W = 272, TOP = 28;

  function drawGraph(pipeline, slos) {
    const root = $('graph');
    clear(root);
    const breached = new Set();
    for (const s of slos) {
      if (s.state !== 'breach') continue;
      // A table's SLO marks its node; a source's (error rate, lag, latency) its source.
      if (s.table) breached.add(s.table);
      if (s.source) breached.add('sources.' + s.source);
    }
    const columns = {};
    for (const st of STAGES) columns[st] = [];
    for (const n of pipeline.nodes) (columns[n.stage] || columns.consumers).push(n);
    const rowsMax = Math.max(1, ...STAGES.map((s) => columns[s].length));
    const height = TOP + rowsMax * (NODE_H + GAP_Y);
    const width = STAGES.length * COL_W - (COL_W - NODE_W) + 2;
    root.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    root.setAttribute('height', String(height));

    const pos = {};
    STAGES.forEach((stage, c) => {
      root.appendChild(svg('text', { x: c * COL_W + 2, y: 14, class: 'col-title' }, STAGE_TITLES[stage]));
      const list = columns[stage];
      // Centre shorter columns against the tallest.
      const offset = ((rowsMax - list.length) * (NODE_H + GAP_Y)) / 2;
      list.forEach((n, r) => {
        pos[n.id] = { x: c * COL_W + 1, y: TOP + offset + r * (NODE_H + GAP_Y) };
      });
    });

    const edges = svg('g', { class: 'edges' });
    for (const e of pipeline.edges) {
      const a = pos[e.from], b = pos[e.to];
      if (!a || !b) continue;
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
      const mx = (x1 + x2) / 2;
      // An edge that passes a column (a curated table's copies) is dashed: it does not come out
      // of the node it runs behind.
      const skips = b.x - a.x > COL_W + 1;
      edges.appendChild(svg('path', {
        class: 'edge' + (skips ? ' skip' : ''), d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
        'data-from': e.from, 'data-to': e.to
      }));
    }
    root.appendChild(edges);

    for (const n of pipeline.nodes) {
      const p = pos[n.id];
      if (!p) continue;
      const slo = breached.has(n.id);
      const g = svg('g', {
        class: 'node ' + n.state + (slo ? ' breach' : ''),
        transform: `translate(${p.x},${p.y})`,
        'data-node': n.id, 'data-kind': n.kind, 'data-state': n.state,
        'data-rows': n.rows === null ? '' : n.rows, 'data-slo': slo ? 'breach' : ''
      });
      const title = svg('title', {}, nodeTooltip(n));
      g.appendChild(title);
      g.appendChild(svg('rect', { class: 'box', width: NODE_W, height: NODE_H, rx: 6 }));
      g.appendChild(svg('rect', { class: 'stripe', width: 5, height: NODE_H, rx: 2 }));
      g.appendChild(svg('text', { class: 'name', x: 14, y: 20 }, truncate(n.label, 30)));
      g.appendChild(svg('text', { class: 'rows', x: 14, y: 38 }, nodeRowsText(n)));
      g.appendChild(svg('text', { class: 'fresh', x: 14, y: 54 }, nodeFreshText(n)));
      if (slo) {
        g.appendChild(svg('rect', { class: 'badge', x: NODE_W - 40, y: 6, width: 34, height: 15, rx: 7 }));
        g.appendChild(svg('text', { class: 'badge-text', x: NODE_W - 35, y: 17 }, 'SLO'));
      }
      root.appendChild(g);
    }
  }

  function nodeRowsText(n) {
    const d = n.detail || {};
    if (n.kind === 'consumer') {
      return d.lag_changes === undefined ? 'feed' : fmtInt(d.lag_changes) + ' changes behind';
    }
    if (n.rows === null) {
      if (n.state === 'idle') return 'no data yet';
      if (d.published_version !== undefined) return 'v' + d.published_version + ' of v' + d.version;
      return 'rows hidden';
    }
    const noun = n.kind === 'source' ? ' rows read' : ' rows';
    return fmtInt(n.rows) + noun;
  }

  function nodeFreshText(n) {
    const d = n.detail || {};
    if (n.state === 'error') return 'error: ' + truncate(String(n.error || ''), 24);
    // A stream source's consumer lag: messages (NATS) or requests (HTTP) not yet committed.
    if (n.kind === 'source' && typeof d.lag_messages === 'number') {
      return 'lag ' + fmtInt(d.lag_messages) + (n.type === 'nats' ? ' msgs' : ' requests') +
          (d.lag_seconds > 0 ? ', ' + fmtAge(d.lag_seconds) : '');
    }
    // A PostgreSQL table: the lake version PostgreSQL holds, and the lake's when it is behind.
    if (n.kind === 'postgres' && typeof d.published_version === 'number') {
      return 'published v' + d.published_version +
          (d.published_version === d.version ? '' : ' of v' + d.version);
    }
    if (n.kind === 'consumer') return d.lag_seconds ? 'lag ' + fmtAge(d.lag_seconds) : n.state;
    if (n.freshness_seconds === null || n.freshness_seconds === undefined) return n.state;
    return 'updated ' + fmtAge(n.freshness_seconds) + ' ago';
  }

  function nodeTooltip(n) {
    const lines = [n.id + ' (' + n.kind + ')', 'state: ' + n.state];
    if (n.rows !== null) lines.push('rows: ' + fmtInt(n.rows));
    if (n.updated_at) lines.push('updated: ' + n.updated_at);
    for (const [k, v] of Object.entries(n.detail || {})) lines.push(k + ': ' + v);
    if (n.error) lines.push('error: ' + n.error);
    return lines.join('\n');
  }

  // ---- SLOs --------------------------------------------------------------------------------

  function drawSlos(slo) {
    const table = $('slo'), body = table.querySelector('tbody');
    clear(body);
    const list = slo && slo.slos ? slo.slos : [];
    $('slo-empty').hidden = list.length > 0;
    table.hidden = list.length === 0;
    $('slo-at').textContent = slo && slo.evaluated_at ? 'evaluated ' + slo.evaluated_at : '';
    for (const s of list) {
      const tr = el('tr', { 'data-slo': s.name, 'data-state': s.state, class: s.state });
      const name = el('td', { title: s.runbook ? 'runbook: ' + s.runbook : '' }, s.name);
      tr.appendChild(name);
      const st = el('td');
      st.appendChild(el('span', { class: 'state ' + s.state }, s.state));
      tr.appendChild(st);
      tr.appendChild(el('td', { class: 'num' }, fmtNum(s.value, s.unit)));
      tr.appendChild(el('td', { class: 'num' }, fmtNum(s.objective, s.unit)));
      const b = el('td');
      const left = typeof s.budget_remaining === 'number' ? s.budget_remaining : null;
      const bar = el('span', { class: 'budget' + (left !== null && left <= 0 ? ' out' : left !== null && left < 0.25 ? ' low' : '') });
      const fill = el('span');
      fill.style.width = (left === null ? 0 : Math.max(0, Math.min(1, left)) * 100).toFixed(0) + '%';
      bar.appendChild(fill);
      b.appendChild(bar);
      const leftText = left === null ? '–' : left < 0 ? 'overspent' : (left * 100).toFixed(0) + '%';
      b.appendChild(el('span', { class: 'budget-text', title: left === null ? '' : (left * 100).toFixed(1) + '%' }, leftText));
      tr.appendChild(b);
      const burn = s.burn_rates && typeof s.burn_rates['1h'] === 'number' ? s.burn_rates['1h'].toFixed(1) + '×' : '–';
      tr.appendChild(el('td', { class: 'num' }, burn));
      body.appendChild(tr);
    }
  }

  // ---- DLQ and batches ---------------------------------------------------------------------

  function drawDlq(dlq) {
    const root = $('dlq');
    clear(root);
    $('dlq-empty').hidden = dlq.length > 0;
    const max = Math.max(1, ...dlq.map((r) => r.rows));
    for (const r of dlq) {
      const row = el('div', { class: 'bar-row', 'data-dlq': r.source + '/' + r.reason, 'data-rows': r.rows });
      row.appendChild(el('span', { class: 'label', title: r.open + ' open' }, r.source + ' · ' + r.reason));
      const track = el('span', { class: 'track' });
      const fill = el('span', { class: 'fill' });
      fill.style.width = ((r.rows / max) * 100).toFixed(1) + '%';
      fill.style.display = 'block';
      track.appendChild(fill);
      row.appendChild(track);
      row.appendChild(el('span', { class: 'value' }, fmtInt(r.rows)));
      root.appendChild(row);
    }
  }

  function drawBatches(batches) {
    const table = $('batches'), body = table.querySelector('tbody');
    clear(body);
    $('batches-empty').hidden = batches.length > 0;
    table.hidden = batches.length === 0;
    for (const b of batches) {
      const tr = el('tr', { 'data-batch': b.batch_id });
      tr.appendChild(el('td', {}, fmtTime(b.committed_at)));
      tr.appendChild(el('td', {}, b.source));
      tr.appendChild(el('td', { title: b.batch_id + '\ncorrelation ' + b.correlation_id }, truncate(b.batch_id, 28)));
      const st = el('td');
      st.appendChild(el('span', { class: 'state ' + b.status }, b.status));
      tr.appendChild(st);
      tr.appendChild(el('td', { class: 'num' }, fmtInt(b.rows_read)));
      tr.appendChild(el('td', { class: 'num' }, fmtInt(b.rows_staged)));
      tr.appendChild(el('td', { class: 'num' }, fmtInt(b.rows_dead)));
      tr.appendChild(el('td', { class: 'num' }, b.seconds.toFixed(3)));
      body.appendChild(tr);
    }
  }

  // ---- Charts ------------------------------------------------------------------------------

  // series: [{name, points: [[t_ms, value], ...]}], drawn over the hour ending at `now`.
  function lineChart(root, legend, series, now, unit, emptyText) {
    clear(root);
    clear(legend);
    const W = 560, H = 190, L = 46, R = 8, T = 10, B = 22;
    root.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const from = now - 3600 * 1000;
    const points = series.flatMap((s) => s.points);
    if (points.length === 0) {
      root.appendChild(svg('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' },
                           emptyText));
      root.dataset.points = '0';
      return;
    }
    let max = Math.max(...points.map((p) => p[1]));
    max = max <= 0 ? 1 : niceCeil(max);
    const x = (t) => L + ((t - from) / (now - from)) * (W - L - R);
    const y = (v) => T + (1 - v / max) * (H - T - B);
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      root.appendChild(svg('line', { class: 'grid-line', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      root.appendChild(svg('text', { class: 'axis', x: L - 5, y: y(v) + 3, 'text-anchor': 'end' }, fmtAxis(v)));
    }
    for (const m of [60, 45, 30, 15, 0]) {
      root.appendChild(svg('text', { class: 'axis', x: x(now - m * 60000), y: H - 6, 'text-anchor': 'middle' },
                           m === 0 ? 'now' : '−' + m + ' min'));
    }
    series.forEach((s, i) => {
      const cls = 'c' + (i % 6);
      const pts = s.points.filter((p) => p[0] >= from).map((p) => x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1));
      if (pts.length === 1) {
        const [px, py] = pts[0].split(',');
        root.appendChild(svg('circle', { class: 'series ' + cls, cx: px, cy: py, r: 2.5 }));
      } else if (pts.length > 1) {
        root.appendChild(svg('polyline', { class: 'series ' + cls, points: pts.join(' '), 'data-series': s.name }));
      }
      const item = el('span');
      item.appendChild(el('span', { class: 'swatch ' + cls }));
      item.appendChild(document.createTextNode(s.name + (unit ? ' (' + unit + ')' : '')));
      legend.appendChild(item);
    });
    root.dataset.points = String(points.length);
  }

  function niceCeil(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function fmtAxis(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
    return v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1);
  }

  function drawHistory(history) {
    const samples = history && history.samples ? history.samples : [];
    const names = new Set();
    for (const s of samples) Object.keys(s.sources).forEach((n) => names.add(n));
    const throughput = [], lag = [];
    for (const name of names) {
      const rate = [], behind = [];
      let prev = null;
      for (const s of samples) {
        const v = s.sources[name];
        if (!v) continue;
        const t = s.at_us / 1000;
        if (prev) {
          const dt = (t - prev.t) / 1000;
          const rows = v.rows_staged + v.rows_dead - (prev.v.rows_staged + prev.v.rows_dead);
          if (dt > 0) rate.push([t, Math.max(0, rows) / dt]);
        }
        behind.push([t, v.lag_seconds]);
        prev = { t: t, v: v };
      }
      throughput.push({ name: name, points: rate });
      lag.push({ name: name, points: behind });
    }
    // The lag of feed consumers and of the PostgreSQL warehouse too.
    const consumers = new Set();
    for (const s of samples) Object.keys(s.consumers || {}).forEach((n) => consumers.add(n));
    for (const name of consumers) {
      lag.push({
        name: name + ' (feed)',
        points: samples.filter((s) => s.consumers && s.consumers[name])
                       .map((s) => [s.at_us / 1000, s.consumers[name].lag_seconds])
      });
    }
    const warehouse = samples.filter((s) => s.warehouse).map((s) => [s.at_us / 1000, s.warehouse.lag_seconds]);
    if (warehouse.length) lag.push({ name: 'PostgreSQL', points: warehouse });
    const now = samples.length ? Math.max(Date.now(), samples[samples.length - 1].at_us / 1000) : Date.now();
    const empty = samples.length > 0 && names.size === 0 && lag.length === 0
      ? 'no stream sources (files are ingested by sluice run)'
      : 'collecting samples (one every 10 s)';
    lineChart($('chart-throughput'), $('legend-throughput'), throughput, now, '',
              samples.length > 0 && names.size === 0 ? 'no stream sources (files are ingested by sluice run)'
                                                     : 'collecting samples (one every 10 s)');
    lineChart($('chart-lag'), $('legend-lag'), lag, now, '', empty);
  }

  // ---- Refresh -----------------------------------------------------------------------------

  function askForToken(message) {
    $('auth').hidden = false;
    $('main').hidden = true;
    $('auth-message').textContent = message;
    $('health').className = 'pill idle';
    $('health').textContent = 'token needed';
    $('token').focus();
  }

  async function refresh() {
    try {
      const health = await getJson('/v1/health');
      if (health.body && health.body.status) {
        $('health').className = 'pill ' + health.body.status;
        $('health').textContent = health.body.status;
      }
      const pipeline = await getJson('/v1/pipeline');
      if (pipeline.status === 401) {
        return askForToken(token() ? 'The server refused this token (401). Enter another one.'
                                   : 'This server asks for an API token (serve.auth). It is kept in this tab only ' +
                                     '(sessionStorage) and sent as Authorization: Bearer.');
      }
      if (pipeline.status === 403) {
        return askForToken((pipeline.body && pipeline.body.error) || 'This token may not read the dashboard (403).');
      }
      if (pipeline.status !== 200 || !pipeline.body) {
        throw new Error('/v1/pipeline answered ' + pipeline.status + (pipeline.body ? ': ' + pipeline.body.error : ''));
      }
      $('auth').hidden = true;
      $('main').hidden = false;
      $('forget-token').hidden = !token();
      const [slo, history] = await Promise.all([getJson('/v1/slo'), getJson('/v1/history')]);
      // 404: this server evaluates no SLOs (none configured, or a server without /v1/slo).
      const slos = slo.status === 200 && slo.body ? slo.body : { slos: [] };
      const p = pipeline.body;
      $('project').textContent = p.project;
      document.title = 'sluice · ' + p.project;
      drawGraph(p, slos.slos || []);
      drawSlos(slos);
      drawDlq(p.dlq);
      drawBatches(p.batches);
      drawHistory(history.status === 200 ? history.body : null);
      $('graph-error').hidden = true;
      $('updated').textContent = 'updated ' + fmtTime(p.generated_at);
      document.body.dataset.loaded = 'true';
      document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    } catch (e) {
      $('graph-error').hidden = false;
      $('graph-error').textContent = 'could not refresh: ' + e.message;
    } finally {
      schedule();
    }
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = $('auth').hidden ? setTimeout(refresh, REFRESH_MS) : null;
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('auth-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      $('token').value = '';
      refresh();
    });
    $('forget-token').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      refresh();
    });
    refresh();
  });
})();
