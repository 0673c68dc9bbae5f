// The snakepit dashboard page: plain browser JavaScript, no framework, no build step.
// It reads /api/events (Server-Sent Events: one `snapshot`, then an `update` per interval) and draws the pools.
// Everything a worker or a caller sent (tool names, messages, tracebacks) is set as text, never as markup.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const MAX_ERRORS = 50;
  /** The state the page shows: the last snapshot, with each update merged in. */
  let state = undefined;
  const shownErrors = new Set();

  // ── small DOM helpers ───────────────────────────────────────────────────────────────────────────────────
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      node.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  // ── formatting ─────────────────────────────────────────────────────────────────────────────────────────
  function ms(v) {
    if (v === null || v === undefined) return '–';
    if (v < 1) return `${Math.round(v * 1000)} µs`;
    if (v < 100) return `${v.toFixed(1)} ms`;
    if (v < 10000) return `${Math.round(v)} ms`;
    return `${(v / 1000).toFixed(1)} s`;
  }

  function duration(v) {
    const s = Math.max(0, Math.floor(v / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }

  function rate(v) {
    if (v >= 100) return String(Math.round(v));
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2).replace(/\.?0+$/, '') || '0';
  }

  function clock(t) {
    return new Date(t).toLocaleTimeString([], { hour12: false });
  }

  // ── charts ─────────────────────────────────────────────────────────────────────────────────────────────
  const W = 300;
  const H = 60;

  /** A sparkline of one or more series over the history window; `series`: [{ values, cls, label }]. */
  function sparkline(title, points, series, format) {
    // The x axis spans the history kept so far (up to the whole window), so a new host's first seconds fill it.
    const end = state.at;
    const start =
      points.length > 0
        ? Math.max(end - state.historyMs, points[0].t - state.intervalMs)
        : end - state.historyMs;
    let max = 0;
    for (const s of series) for (const p of points) max = Math.max(max, s.value(p) || 0);
    const top = max > 0 ? max * 1.1 : 1;
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'spark' });
    for (const s of series) {
      const coords = [];
      for (const p of points) {
        const v = s.value(p);
        if (v === null || v === undefined) continue;
        const x = ((p.t - start) / (end - start)) * W;
        coords.push(`${x.toFixed(1)},${(H - (v / top) * H).toFixed(1)}`);
      }
      if (coords.length > 0) chart.append(svg('polyline', { points: coords.join(' '), class: s.cls }));
    }
    const last = points[points.length - 1];
    const legend = el('figcaption', {});
    legend.append(el('span', { class: 'chart-title' }, title));
    for (const s of series) {
      legend.append(
        ' ',
        el('span', { class: `key ${s.cls}` }, `${s.label} ${last ? format(s.value(last)) : '–'}`),
      );
    }
    legend.append(' ', el('span', { class: 'muted' }, `max ${format(max)} · last ${duration(end - start)}`));
    return el('figure', { class: 'chart' }, chart, legend);
  }

  /** The latency histogram of the window: one bar per doubling. */
  function histogram(latency) {
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'spark' });
    const bars = latency.bars;
    let max = 0;
    for (const b of bars) max = Math.max(max, b.count);
    const width = bars.length > 0 ? W / bars.length : W;
    bars.forEach((b, i) => {
      const h = max > 0 ? (b.count / max) * (H - 2) : 0;
      const rect = svg('rect', {
        x: i * width + 1,
        y: H - h,
        width: Math.max(width - 2, 1),
        height: h,
        class: 'bar',
      });
      const tip = svg('title', {});
      tip.textContent = `${ms(b.fromMs)} – ${ms(b.toMs)}: ${b.count}`;
      rect.append(tip);
      chart.append(rect);
    });
    const caption = el('figcaption', {}, el('span', { class: 'chart-title' }, 'latency histogram'));
    if (bars.length > 0) {
      caption.append(
        ' ',
        el('span', { class: 'muted' }, `${ms(bars[0].fromMs)} … ${ms(bars[bars.length - 1].toMs)}`),
        ' ',
        el(
          'span',
          {},
          `p50 ${ms(latency.p50)} · p90 ${ms(latency.p90)} · p99 ${ms(latency.p99)} · ${latency.count} calls`,
        ),
      );
    } else {
      caption.append(' ', el('span', { class: 'muted' }, 'no calls in the window'));
    }
    return el('figure', { class: 'chart', 'data-chart': 'histogram' }, chart, caption);
  }

  // ── pools ──────────────────────────────────────────────────────────────────────────────────────────────
  function kpi(name, label, value, cls) {
    return el(
      'div',
      { class: `kpi ${cls || ''}`, 'data-kpi': name },
      el('span', { class: 'value' }, value),
      el('span', { class: 'label' }, label),
    );
  }

  function poolSection(pool) {
    const s = pool.stats;
    const last = pool.history[pool.history.length - 1];
    const section = el('section', { class: 'pool', 'data-pool': pool.name });
    section.append(
      el(
        'h2',
        {},
        pool.name,
        ' ',
        el('span', { class: `badge state-${pool.state}`, 'data-field': 'pool-state' }, pool.state),
      ),
    );
    section.append(
      el(
        'div',
        { class: 'kpis' },
        kpi('workers', 'workers ready / busy', `${s.available + s.busy} / ${s.busy}`),
        kpi('queued', 'queued', String(s.queued), s.queued > 0 ? 'warn' : ''),
        kpi('inFlight', 'in flight', String(s.inFlight)),
        kpi('rate', 'calls/s', last ? rate(last.calls) : '–'),
        kpi('requests', 'requests', String(s.requests)),
        kpi('errors', 'errors', String(s.errors), s.errors > 0 ? 'bad' : ''),
        kpi('timeouts', 'timeouts', String(s.timeouts)),
        kpi('restarts', 'restarts', String(s.restarts)),
        kpi('recycles', 'recycles', String(s.recycles)),
        kpi('p50', 'p50 (window)', pool.latency.count > 0 ? ms(pool.latency.p50) : '–'),
        kpi('p99', 'p99 (window)', pool.latency.count > 0 ? ms(pool.latency.p99) : '–'),
      ),
    );
    section.append(
      el(
        'div',
        { class: 'charts' },
        sparkline(
          'throughput',
          pool.history,
          [
            { value: (p) => p.calls, cls: 'line-a', label: 'calls/s' },
            { value: (p) => p.errors, cls: 'line-bad', label: 'errors/s' },
          ],
          rate,
        ),
        sparkline(
          'queue',
          pool.history,
          [
            { value: (p) => p.queued, cls: 'line-warn', label: 'queued' },
            { value: (p) => p.inFlight, cls: 'line-a', label: 'in flight' },
          ],
          (v) => (v === null || v === undefined ? '–' : String(Math.round(v))),
        ),
        sparkline(
          'latency',
          pool.history,
          [
            { value: (p) => p.p50, cls: 'line-a', label: 'p50' },
            { value: (p) => p.p99, cls: 'line-warn', label: 'p99' },
          ],
          ms,
        ),
        histogram(pool.latency),
      ),
    );
    const rows = pool.workers.map((w) =>
      el(
        'tr',
        { 'data-worker': w.id },
        el('td', { 'data-field': 'id' }, w.id),
        el('td', { 'data-field': 'state' }, el('span', { class: `badge state-${w.state}` }, w.state)),
        el('td', { class: 'num', 'data-field': 'pid' }, w.pid === undefined ? '–' : String(w.pid)),
        el('td', { 'data-field': 'profile' }, w.profile),
        el('td', { class: 'num', 'data-field': 'load' }, String(w.load)),
        el(
          'td',
          { class: 'num', 'data-field': 'rss' },
          w.rssMb === undefined ? '–' : `${w.rssMb.toFixed(1)} MiB`,
        ),
        el('td', { class: 'num', 'data-field': 'uptime' }, duration(w.uptimeMs)),
        el('td', { class: 'num', 'data-field': 'served' }, String(w.served)),
        el('td', { class: 'num', 'data-field': 'restarts' }, String(w.restarts)),
        el('td', { class: 'num', 'data-field': 'recycles' }, String(w.recycles)),
        el('td', { class: 'muted small', 'data-field': 'last-error' }, w.lastError || ''),
      ),
    );
    const head = [
      'worker',
      'state',
      'pid',
      'profile',
      'load',
      'RSS',
      'uptime',
      'requests',
      'restarts',
      'recycles',
      'last error',
    ];
    section.append(
      el(
        'table',
        { class: 'workers' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...head.map((h, i) => el('th', { class: i >= 2 && i <= 9 && i !== 3 ? 'num' : '' }, h)),
          ),
        ),
        el('tbody', {}, ...rows),
      ),
    );
    return section;
  }

  // ── sessions and errors ────────────────────────────────────────────────────────────────────────────────
  function renderSessions() {
    const { stats, newest, limit } = state.sessions;
    document.getElementById('sessions-summary').textContent =
      `${stats.active} active · ${stats.created} created · ${stats.expired} expired · ${stats.deleted} deleted` +
      (stats.active > newest.length ? ` · newest ${limit} shown` : '');
    const body = document.querySelector('#sessions tbody');
    body.replaceChildren(
      ...newest.map((s) =>
        el(
          'tr',
          { 'data-session': s.id },
          el('td', {}, s.id),
          el('td', {}, Object.values(s.workers).join(', ') || '–'),
          el('td', { class: 'num' }, String(s.calls)),
          el('td', { class: 'num' }, String(s.inFlight)),
          el('td', { class: 'num' }, duration(state.at - s.lastAccessedAt)),
          el('td', { class: 'num' }, duration(s.expiresAt - state.at)),
        ),
      ),
    );
    if (newest.length === 0)
      body.append(el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'no sessions')));
  }

  function errorItem(e) {
    const summary = el(
      'summary',
      {},
      el('time', { class: 'muted' }, clock(e.at)),
      ' ',
      el('span', { class: 'badge kind' }, e.kind),
      ' ',
      el('strong', { 'data-field': 'error-name' }, e.errorName),
      ' ',
      el('span', { 'data-field': 'message' }, e.message),
      ' ',
      el(
        'span',
        { class: 'muted' },
        `${e.pool} · ${e.tool}${e.worker ? ` · ${e.worker}` : ''} · ${ms(e.durationMs)}`,
      ),
    );
    const body = el('div', { class: 'error-body' });
    body.append(
      el(
        'p',
        { class: 'muted small' },
        `correlation id ${e.correlationId}${e.session ? ` · session ${e.session}` : ''}${e.errorCode ? ` · ${e.errorCode}` : ''}`,
      ),
    );
    if (e.traceback) body.append(el('pre', { class: 'traceback' }, e.traceback));
    return el('li', { class: 'error', 'data-seq': String(e.seq) }, el('details', {}, summary, body));
  }

  function addErrors(errors) {
    const list = document.getElementById('errors');
    // `errors` is newest first: insert the oldest first so the newest ends on top.
    for (const e of [...errors].reverse()) {
      if (shownErrors.has(e.seq)) continue;
      shownErrors.add(e.seq);
      list.prepend(errorItem(e));
    }
    while (list.children.length > MAX_ERRORS) {
      shownErrors.delete(Number(list.lastElementChild.getAttribute('data-seq')));
      list.lastElementChild.remove();
    }
    document.getElementById('errors-summary').textContent =
      list.children.length === 0 ? 'none' : `${list.children.length} shown`;
  }

  // ── the whole page ─────────────────────────────────────────────────────────────────────────────────────
  function render() {
    const h = state.host;
    document.getElementById('host').textContent =
      `${h.hostname} · pid ${h.pid} · run ${h.runId} · node ${h.node} · host RSS ${h.rssMb.toFixed(1)} MiB · up ${duration(h.uptimeMs)}`;
    document.getElementById('pools').replaceChildren(...state.pools.map(poolSection));
    renderSessions();
  }

  function setStatus(text, cls) {
    const status = document.getElementById('status');
    status.textContent = text;
    status.className = `status ${cls}`;
  }

  function onSnapshot(snapshot) {
    state = snapshot;
    document.getElementById('errors').replaceChildren();
    shownErrors.clear();
    addErrors(snapshot.errors);
    render();
    setStatus('live', 'live');
  }

  function onUpdate(update) {
    if (!state) return;
    const start = update.at - state.historyMs;
    const previous = new Map(state.pools.map((p) => [p.name, p.history]));
    state.pools = update.pools.map((p) => {
      const history = (previous.get(p.name) || []).filter((point) => point.t > start);
      history.push(p.point);
      return { ...p, history };
    });
    state.at = update.at;
    state.host = update.host;
    state.sessions = update.sessions;
    addErrors(update.errors);
    render();
    setStatus('live', 'live');
  }

  function connect() {
    const source = new EventSource('api/events');
    source.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
    source.addEventListener('update', (e) => onUpdate(JSON.parse(e.data)));
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        setStatus('disconnected (reload to retry)', 'down');
      } else {
        setStatus('reconnecting…', 'connecting');
      }
    });
  }

  connect();
})();
