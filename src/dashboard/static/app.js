// The dashboard page: the state from /events (a snapshot, then patches),
// rendered into plain tables; counters and DNS as they come; rules and
// traces on request. Text goes in with textContent only.
/* global document, EventSource, fetch, requestAnimationFrame, URLSearchParams */
'use strict';

const state = { nodes: {}, pods: {}, services: {}, slices: {} };
let counters = [];
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}

const list = (items) => (items.length ? el('ul', {}, items.map((i) => el('li', {}, i))) : '—');
const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1048576).toFixed(1)} MB`);

// --- nodes and pods -----------------------------------------------------------

function renderNodes() {
  const body = $('nodes-body');
  const pods = Object.values(state.pods);
  body.replaceChildren(
    ...Object.values(state.nodes)
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
      .map((n) =>
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, n.name),
          el('td', {}, n.ip),
          el('td', {}, n.podCIDR),
          el('td', { class: n.ready ? '' : 'not-ready' }, n.ready ? 'Ready' : 'NotReady'),
          el(
            'td',
            {},
            list(
              pods
                .filter((p) => p.node === n.name)
                .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
                .map((p) => `${p.namespace}/${p.name} (${p.ip || 'no IP'}, ${p.phase}${p.ready ? ', ready' : ''})`),
            ),
          ),
        ),
      ),
  );
  const select = $('rules-node');
  const chosen = select.value;
  select.replaceChildren(...Object.keys(state.nodes).sort().map((n) => el('option', { value: n }, n)));
  if (chosen) select.value = chosen;
}

// --- services -----------------------------------------------------------------

const rows = new Map();

function endpointsOf(s) {
  return Object.values(state.slices)
    .filter((sl) => sl.namespace === s.namespace && sl.service === s.name)
    .flatMap((sl) => sl.endpoints.map((e) => `${e.ip} ${sl.ports.join(',')} (${e.pod || 'no pod'}, ${e.node || 'no node'})${e.ready ? '' : ' not ready'}`));
}

function trafficOf(key) {
  const mine = counters.filter((c) => c.service === key);
  const packets = mine.reduce((n, c) => n + c.packets, 0);
  const cell = el(
    'td',
    { class: 'traffic', 'data-packets': String(packets) },
    list(mine.map((c) => `${c.endpoint} via ${c.node}: ${c.packets} packets, ${bytes(c.bytes)}`)),
  );
  return cell;
}

function serviceCells(key) {
  const s = state.services[key];
  return [
    el('th', { scope: 'row' }, key),
    el('td', {}, s.type),
    el('td', {}, s.type === 'ExternalName' ? s.externalName : s.clusterIP),
    el('td', {}, list(s.ports)),
    el('td', {}, list(endpointsOf(s))),
    trafficOf(key),
    el('td', {}, el('button', { type: 'button', onclick: () => showRules(key), ariaLabel: `Rules of ${key}` }, 'Rules')),
  ];
}

function matchesFilter(key) {
  const f = $('filter').value.trim().toLowerCase();
  if (!f) return true;
  const s = state.services[key];
  return [key, s.clusterIP, s.type].some((x) => x.toLowerCase().includes(f));
}

/** Rows of `keys` rebuilt (or removed); new rows go in sorted order. */
function renderServices(keys) {
  const body = $('services-body');
  for (const key of keys) {
    const row = rows.get(key);
    if (!state.services[key]) {
      if (row) row.remove();
      rows.delete(key);
      continue;
    }
    if (row) {
      row.replaceChildren(...serviceCells(key));
      row.hidden = !matchesFilter(key);
      continue;
    }
    const tr = el('tr', { id: `svc-${key}`, 'data-service': key }, ...serviceCells(key));
    tr.hidden = !matchesFilter(key);
    rows.set(key, tr);
    const after = [...rows.keys()].sort().find((k) => k > key && rows.get(k).isConnected);
    body.insertBefore(tr, after ? rows.get(after) : null);
  }
  $('service-count').textContent = `${rows.size} Services`;
}

function refilter() {
  for (const [key, tr] of rows) tr.hidden = !matchesFilter(key);
}

// --- rules --------------------------------------------------------------------

function showRules(key) {
  $('rules-service').value = key;
  $('rules').scrollIntoView();
  loadRules();
  $('rules-output').focus();
}

async function loadRules() {
  const [namespace, name] = $('rules-service').value.includes('/') ? $('rules-service').value.split('/', 2) : ['default', $('rules-service').value];
  const node = $('rules-node').value;
  $('rules-status').textContent = `Loading the rules of ${namespace}/${name} on ${node}…`;
  const r = await fetch(`/api/rules?${new URLSearchParams({ namespace, name, node })}`);
  const body = await r.json();
  if (!r.ok) {
    $('rules-status').textContent = `No rules: ${body.error}`;
    $('rules-output').textContent = '';
    return;
  }
  $('rules-status').textContent = `${body.lines.length} of ${body.total} lines of ${node}'s ${body.mode} rules implement ${namespace}/${name}.`;
  $('rules-output').textContent = body.lines.join('\n');
}

// --- dns ----------------------------------------------------------------------

function renderDns(d) {
  $('dns-status').textContent = d.errors.length ? `Not read: ${d.errors.join('; ')}` : `${d.queries.length} recent queries.`;
  $('dns-body').replaceChildren(
    ...d.queries
      .slice()
      .reverse()
      .map((q) =>
        el(
          'tr',
          {},
          el('td', {}, new Date(q.time).toLocaleTimeString()),
          el('td', {}, `${q.client} (${q.proto})`),
          el('th', { scope: 'row' }, q.name),
          el('td', {}, q.type),
          el('td', {}, q.rcode),
          el('td', {}, list(q.answers)),
        ),
      ),
  );
}

// --- trace --------------------------------------------------------------------

async function runTrace(ev) {
  ev.preventDefault();
  const out = $('trace-outcome');
  out.className = '';
  out.textContent = 'Tracing…';
  $('trace-hops').hidden = true;
  const body = { target: $('trace-target').value, from: $('trace-from').value, namespace: $('trace-namespace').value, udp: $('trace-udp').checked };
  const r = await fetch('/api/trace', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const report = await r.json();
  if (!r.ok) {
    out.className = 'failed';
    out.textContent = `Trace failed: ${report.error}`;
    return;
  }
  out.className = report.outcome.result === 'delivered' ? 'delivered' : 'failed';
  out.dataset.result = report.outcome.result;
  const dnat = report.dnat ? ` DNAT to ${report.dnat.ip}:${report.dnat.port}${report.dnat.pod ? ` (${report.dnat.pod})` : ''}.` : '';
  out.textContent = `${report.outcome.result}: ${report.outcome.reason}${dnat} ${report.mode} mode, ${report.durationMs} ms.`;
  $('trace-body').replaceChildren(
    ...report.hops.map((h) => el('tr', {}, el('td', {}, h.node), el('td', {}, h.table), el('th', { scope: 'row' }, h.chain), el('td', {}, h.verdict), el('td', {}, h.meaning || ''), el('td', {}, el('code', {}, h.rule)))),
  );
  $('trace-hops').hidden = report.hops.length === 0;
}

// --- the stream ---------------------------------------------------------------

let pending = null;
function schedule(servicesChanged, others) {
  if (!pending) {
    pending = { services: new Set(), nodes: false };
    requestAnimationFrame(() => {
      const p = pending;
      pending = null;
      if (p.nodes) renderNodes();
      renderServices(p.services);
    });
  }
  for (const k of servicesChanged) pending.services.add(k);
  if (others) pending.nodes = true;
}

function servicesOfSlices(slices) {
  return slices.filter(Boolean).map((sl) => `${sl.namespace}/${sl.service}`);
}

function announce(patch) {
  const parts = [];
  for (const [kind, changes] of Object.entries(patch)) {
    const keys = Object.keys(changes);
    if (kind === 'services') {
      const added = keys.filter((k) => changes[k] && !rows.has(k));
      const removed = keys.filter((k) => !changes[k]);
      if (added.length) parts.push(added.length === 1 ? `Service ${added[0]} added` : `${added.length} Services added`);
      if (removed.length) parts.push(removed.length === 1 ? `Service ${removed[0]} removed` : `${removed.length} Services removed`);
    }
  }
  if (parts.length) $('changes').textContent = `${parts.join('; ')} (${new Date().toLocaleTimeString()}).`;
}

function connect() {
  const es = new EventSource('/events');
  es.addEventListener('open', () => ($('connection').textContent = 'Live: changes appear as they happen.'));
  es.addEventListener('error', () => ($('connection').textContent = 'Disconnected; reconnecting…'));
  es.addEventListener('snapshot', (e) => {
    Object.assign(state, JSON.parse(e.data));
    for (const tr of rows.values()) tr.remove();
    rows.clear();
    schedule(Object.keys(state.services), true);
  });
  es.addEventListener('patch', (e) => {
    const patch = JSON.parse(e.data);
    announce(patch);
    const touched = new Set();
    for (const [kind, changes] of Object.entries(patch)) {
      for (const [key, value] of Object.entries(changes)) {
        const before = state[kind][key];
        if (value) state[kind][key] = value;
        else delete state[kind][key];
        if (kind === 'services') touched.add(key);
        if (kind === 'slices') for (const k of servicesOfSlices([before, value])) touched.add(k);
      }
    }
    schedule(touched, patch.nodes || patch.pods);
  });
  es.addEventListener('counters', (e) => {
    const before = new Map();
    for (const c of counters) before.set(c.service, (before.get(c.service) || 0) + c.packets);
    counters = JSON.parse(e.data).counters;
    const now = new Map();
    for (const c of counters) now.set(c.service, (now.get(c.service) || 0) + c.packets);
    schedule([...now.keys()].filter((k) => now.get(k) !== before.get(k)), false);
  });
  es.addEventListener('dns', (e) => renderDns(JSON.parse(e.data)));
}

$('filter').addEventListener('input', refilter);
$('rules-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loadRules();
});
$('trace-form').addEventListener('submit', runTrace);
connect();
