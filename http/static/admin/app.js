// Wallet admin page script: asks once for the admin token (kept in sessionStorage), then every
// second fetches /admin/actors and /admin/bridges with it and renders them, with the key series
// of the service's own /metrics (public) and a link to Prometheus' graphs of them. Builds the DOM with
// textContent only (no innerHTML), so nothing the API returns can run as markup.
'use strict';

(() => {
  const TOKEN_KEY = 'wallet.adminToken';
  const POLL_MS = 1000;
  // Under load there can be thousands of live actors: render the first rows of the sorted (and
  // filtered) list only, so the page stays responsive; the filter finds any other.
  const MAX_ROWS = 300;

  const $ = (id) => document.getElementById(id);
  const els = {
    status: $('status'),
    forget: $('forget'),
    message: $('message'),
    login: $('login'),
    form: $('token-form'),
    token: $('token'),
    dashboard: $('dashboard'),
    tbody: document.querySelector('#actors tbody'),
    headers: document.querySelectorAll('#actors th[data-key]'),
    noActors: $('no-actors'),
    filter: $('filter'),
    shown: $('shown'),
  };

  // Hot actors first: the biggest mailbox, then the most recent activity.
  let sort = { key: 'mailbox_size', type: 'number', descending: true };
  let timer = null;
  let generation = 0;  // bumps on connect/disconnect so a late answer of an old poll is ignored
  let lastActors = [];

  // ---------- small helpers ----------

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function showMessage(text, level) {
    els.message.textContent = text;
    els.message.className = 'message' + (level === 'warn' ? ' warn' : '');
    els.message.hidden = !text;
  }

  function setStatus(text, level) {
    els.status.textContent = text;
    els.status.className = 'status status-' + level;
  }

  function formatAge(ms) {
    const seconds = Math.max(0, ms) / 1000;
    if (seconds < 10) return seconds.toFixed(1) + ' s';
    if (seconds < 60) return Math.floor(seconds) + ' s';
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + ' m ' + String(Math.floor(seconds % 60)).padStart(2, '0') + ' s';
    const hours = Math.floor(minutes / 60);
    return hours + ' h ' + String(minutes % 60).padStart(2, '0') + ' m';
  }

  // Money arrives as exact decimal strings ("1234.50"); compare them exactly, never as floats.
  function moneyValue(text) {
    try {
      return BigInt(String(text).replace('.', ''));
    } catch (e) {
      return 0n;
    }
  }

  function compare(a, b) {
    const { key, type } = sort;
    let result;
    if (type === 'money') {
      const x = moneyValue(a[key]);
      const y = moneyValue(b[key]);
      result = x < y ? -1 : x > y ? 1 : 0;
    } else if (type === 'text') {
      result = String(a[key]).localeCompare(String(b[key]));
    } else if (type === 'age') {
      result = (b[key] || 0) - (a[key] || 0);  // ascending age = most recent activity first
    } else {
      result = (a[key] || 0) - (b[key] || 0);
    }
    if (sort.descending) result = -result;
    return result !== 0 ? result : String(a.user_id).localeCompare(String(b.user_id));
  }

  // ---------- rendering ----------

  function matchesFilter(actor, needle) {
    return !needle || String(actor.user_id).includes(needle) || String(actor.state) === needle;
  }

  function renderActors(actors) {
    lastActors = actors;
    const now = Date.now();
    const needle = els.filter.value.trim().toLowerCase();
    const matching = actors.filter((actor) => matchesFilter(actor, needle)).sort(compare);
    const shown = matching.slice(0, MAX_ROWS);
    els.shown.textContent = matching.length > shown.length
        ? 'showing ' + shown.length + ' of ' + matching.length + ' matching actors'
        : (needle ? matching.length + ' of ' + actors.length + ' actors match' : '');
    const rows = shown.map((actor) => {
      const tr = document.createElement('tr');
      tr.dataset.userId = actor.user_id;
      if (actor.mailbox_size > 0 || actor.stashed > 0) tr.className = 'hot';
      tr.append(el('td', actor.user_id, 'id'));
      const state = el('td');
      state.append(el('span', actor.state, 'state state-' + actor.state));
      tr.append(state);
      tr.append(el('td', actor.currency || '–'));
      for (const key of ['balance', 'pending_balance', 'held', 'holds_pending', 'mailbox_size',
                         'stashed', 'messages_handled', 'in_flight']) {
        tr.append(el('td', actor[key], 'num'));
      }
      const age = el('td', formatAge(now - actor.last_activity_ms), 'num');
      age.title = new Date(actor.last_activity_ms).toISOString();
      tr.append(age);
      return tr;
    });
    els.tbody.replaceChildren(...rows);
    els.noActors.hidden = matching.length > 0;
    els.noActors.textContent = actors.length ? 'No live actor matches the filter.'
                                             : 'No live actors right now.';
    for (const th of els.headers) {
      th.setAttribute('aria-sort', th.dataset.key === sort.key
                                       ? (sort.descending ? 'descending' : 'ascending') : 'none');
    }
  }

  function renderTotals(totals) {
    $('total-live').textContent = totals.live;
    $('total-mailbox').textContent = totals.mailbox_size;
    // Money of two currencies is never added: one total per currency of the live actors.
    const byCurrency = totals.by_currency || {};
    const codes = Object.keys(byCurrency).sort();
    $('total-held').textContent = codes.length
        ? codes.map((code) => byCurrency[code].balance_held + ' ' + code).join(' · ')
        : totals.balance_held;
    $('updated').textContent = new Date().toLocaleTimeString();
  }

  function scalarText(value) {
    if (value === null || value === undefined) return '–';
    if (Array.isArray(value)) return value.length ? value.join(', ') : 'none';
    if (typeof value === 'object') {
      return Object.entries(value).map(([k, v]) => k + '=' + scalarText(v)).join('  ');
    }
    return String(value);
  }

  // A bridge's status as a definition list; an array of objects (Kafka partitions) as a table.
  function renderBridge(name, status) {
    const card = $('bridge-' + name);
    if (!card) return;
    const badge = card.querySelector('[data-state]');
    const details = card.querySelector('.details');
    if (!status || typeof status !== 'object') {
      badge.textContent = 'absent';
      badge.className = 'badge warn';
      details.replaceChildren(el('p', 'not reported by the service', 'empty'));
      return;
    }
    const state = status.state !== undefined ? String(status.state) : 'running';
    const healthy = ['running', 'connected', 'ok'].includes(state) &&
                    status.broker_reachable !== false && status.subscribed !== false;
    badge.textContent = status.broker_reachable === false ? state + ', broker unreachable' : state;
    badge.className = 'badge ' + (healthy ? 'ok' : 'warn');
    const dl = document.createElement('dl');
    const tables = [];
    for (const [key, value] of Object.entries(status)) {
      if (key === 'state') continue;
      if (Array.isArray(value) && value.length && typeof value[0] === 'object') {
        tables.push(renderTable(key, value));
        continue;
      }
      dl.append(el('dt', key.replace(/_/g, ' ')), el('dd', scalarText(value)));
    }
    details.replaceChildren(dl, ...tables);
  }

  // Kafka partitions and the like: the identifying column first, "_offset" dropped from headers.
  function renderTable(caption, rows) {
    const table = document.createElement('table');
    const columns = Object.keys(rows[0]).sort((a, b) => (b === 'partition') - (a === 'partition'));
    const head = document.createElement('tr');
    for (const column of columns) {
      head.append(el('th', column.replace(/_offset$/, '').replace(/_/g, ' '), 'num'));
    }
    const body = rows.map((row) => {
      const tr = document.createElement('tr');
      for (const column of columns) tr.append(el('td', scalarText(row[column]), 'num'));
      return tr;
    });
    const cap = el('caption', caption.replace(/_/g, ' '));
    const thead = document.createElement('thead');
    thead.append(head);
    const tbody = document.createElement('tbody');
    tbody.append(...body);
    table.append(cap, thead, tbody);
    const scroll = el('div', null, 'table-scroll');
    scroll.append(table);
    return scroll;
  }

  // ---------- polling ----------

  class HttpError extends Error {
    constructor(status, code, text) {
      super(text);
      this.status = status;
      this.code = code;
    }
  }

  async function getJson(path, token) {
    const response = await fetch(path, {
      headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const error = body && body.error ? body.error : {};
      throw new HttpError(response.status, error.code || 'http_' + response.status,
                          error.message || response.statusText);
    }
    return body;
  }

  // The Prometheus text format, summed per series name (labels dropped); the 5xx answers apart.
  function parseMetrics(text) {
    const sums = { http_5xx: 0 };
    for (const line of text.split('\n')) {
      if (!line || line[0] === '#') continue;
      // Label values may hold braces (route="/users/{user_id}/balance"): match quoted values.
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? ([^ ]+)$/.exec(line);
      if (!match) continue;
      const value = Number(match[3]);
      sums[match[1]] = (sums[match[1]] || 0) + value;
      if (match[1] === 'http_requests_total' && /status="5/.test(match[2] || '')) sums.http_5xx += value;
    }
    return sums;
  }

  function renderHealth(sums) {
    const caughtUp = sums.wallet_idempotency_purge_caught_up_timestamp_seconds;
    const shown = {
      in_transit: sums.wallet_in_transit_count === undefined ? '–'
          : sums.wallet_in_transit_count + ' (' + formatAge(1000 * (sums.wallet_in_transit_oldest_seconds || 0)) + ')',
      purge: !caughtUp ? 'not yet' : formatAge(Date.now() - 1000 * caughtUp) + ' ago',
    };
    for (const span of document.querySelectorAll('#health [data-series]')) {
      const key = span.dataset.series;
      const value = key in shown ? shown[key] : sums[key];
      span.textContent = value === undefined ? '–' : String(value);
    }
  }

  async function getMetrics() {
    const response = await fetch('/metrics', { cache: 'no-store', credentials: 'omit' });
    if (!response.ok) throw new HttpError(response.status, 'metrics', response.statusText);
    return parseMetrics(await response.text());
  }

  async function poll(token, mine) {
    try {
      const [actors, bridges, metrics] = await Promise.all(
          [getJson('/admin/actors', token), getJson('/admin/bridges', token),
           getMetrics().catch(() => null)]);
      if (mine !== generation) return;
      if (metrics) renderHealth(metrics);
      renderTotals(actors.totals || {});
      renderActors(actors.actors || []);
      for (const name of ['kafka_consumer', 'nats_responder', 'ledger_writer', 'ledger_events']) {
        renderBridge(name, bridges[name]);
      }
      els.dashboard.hidden = false;
      showMessage('');
      setStatus('live', 'ok');
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof HttpError && error.status === 401) {
        disconnect('401 Unauthorized: the service rejected this admin token. Enter the ' +
                   'ADMIN_TOKEN the service runs with.');
        return;
      }
      const what = error instanceof HttpError
                       ? error.status + ' ' + error.code + ': ' + error.message
                       : 'cannot reach the service (' + error.message + ')';
      showMessage('Last update failed: ' + what + '. Retrying every second.', 'warn');
      setStatus('retrying', 'warn');
    }
    if (mine === generation) timer = setTimeout(() => poll(token, mine), POLL_MS);
  }

  function connect(token) {
    generation += 1;
    clearTimeout(timer);
    sessionStorage.setItem(TOKEN_KEY, token);
    els.login.hidden = true;
    els.forget.hidden = false;
    setStatus('connecting…', 'warn');
    poll(token, generation);
  }

  function disconnect(message) {
    generation += 1;
    clearTimeout(timer);
    sessionStorage.removeItem(TOKEN_KEY);
    els.dashboard.hidden = true;
    els.login.hidden = false;
    els.forget.hidden = true;
    els.token.value = '';
    setStatus(message ? 'unauthorized' : 'not connected', message ? 'bad' : 'off');
    showMessage(message || '');
    els.token.focus();
  }

  // ---------- wiring ----------

  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = els.token.value.trim();
    if (token) connect(token);
  });
  els.forget.addEventListener('click', () => disconnect(''));
  els.filter.addEventListener('input', () => renderActors(lastActors));
  for (const th of els.headers) {
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      if (sort.key === key) {
        sort.descending = !sort.descending;
      } else {
        // Figures start with the largest, text from A, ages with the most recent.
        sort = { key, type: th.dataset.type, descending: ['number', 'money'].includes(th.dataset.type) };
      }
      renderActors(lastActors);
    });
  }

  // Prometheus of `./scripts/up prometheus` on this host: the alerts and the recorded series.
  $('prometheus-graphs').href = 'http://' + location.hostname + ':9090/graph?' +
      'g0.expr=job%3Ahttp_requests_5xx%3Aratio_rate5m&g0.tab=0&g0.range_input=1h&' +
      'g1.expr=wallet%3Amoney_request_duration_seconds%3Ap99_5m&g1.tab=0&g1.range_input=1h&' +
      'g2.expr=wallet%3Ain_transit_oldest_seconds%3Amax&g2.tab=0&g2.range_input=1h';

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    connect(saved);
  } else {
    disconnect('');
  }
})();
