// Spikeline dashboard: a single-page app over the read-only REST API (/api/v1/, docs/dashboard.md).
// Hash routes: #/ · #/e/ID · #/e/ID/trials?... · #/e/ID/charts?ids=... · #/e/ID/trial/TID ·
// #/e/ID/compare?ids=... . The page polls the experiment's revision every 2 s and refreshes the
// current view only when it changed. All data goes into the page as text nodes, never as HTML.
'use strict';

const API = '/api/v1';
const POLL_MS = 2000;
const fmt = Charts.fmt;
const STATUSES = ['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'EARLY_STOPPED', 'USER_CANCELED', 'SYS_CANCELED'];

const app = {
  experiments: [],
  view: null,      // {key, mount(main), refresh(), query}
  expId: null,
  revision: null,
  selected: new Set(),  // trial ids picked in the table (compare / curves)
  busy: false,
};

// ---- helpers -------------------------------------------------------------------------------

// h('div', {class: 'x', onclick: f}, 'text', node, [more...])
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  const add = (c) => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  };
  children.forEach(add);
  return e;
}

async function api(path) {
  const res = await fetch(API + path, { cache: 'no-store' });
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

// Appends children (nodes, text, nested arrays; null/false skipped) to `host`.
function put(host, ...children) {
  const add = (c) => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else host.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  };
  children.forEach(add);
  return host;
}

const enc = encodeURIComponent;
const expPath = (rest) => `/experiments/${enc(app.expId)}${rest || ''}`;
const link = (route) => `#/e/${enc(app.expId)}${route || ''}`;

function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(ms), p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fmtDuration(s) {
  if (s === null || s === undefined) return '';
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  const m = Math.floor(s / 60), hh = Math.floor(m / 60);
  if (hh === 0) return `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${hh}h ${String(m % 60).padStart(2, '0')}m`;
}

function fmtValue(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : fmt(v);
}

const badge = (s) => h('span', { class: `status ${s}` }, s);
const trialLink = (id) => h('a', { href: link(`/trial/${enc(id)}`), class: 'trial-link' }, id);

function showError(host, err) {
  host.textContent = '';
  host.appendChild(h('div', { class: 'error' }, String(err.message || err)));
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  return { parts: path ? path.split('/').map(decodeURIComponent) : [], query: new URLSearchParams(qs || '') };
}

function setQuery(route, query) {
  const qs = query.toString();
  location.hash = `${route}${qs ? '?' + qs : ''}`;
}

function chartWidth(host) {
  return Math.max(480, Math.min(1400, (host.clientWidth || document.body.clientWidth - 60)));
}

// ---- views ---------------------------------------------------------------------------------

function homeView() {
  const host = h('div');
  return {
    key: 'home',
    mount(main) {
      put(main, h('h1', {}, 'Experiments'), host);
    },
    async refresh() {
      const list = await api('/experiments');
      app.experiments = list;
      if (list.length === 1) {
        location.replace(`#/e/${enc(list[0].id)}`);
        return;
      }
      host.textContent = '';
      host.appendChild(h('div', { class: 'table-wrap' }, h('table', { id: 'experiments' },
        h('thead', {}, h('tr', {}, ['ID', 'Name', 'Status', 'Trials', 'Best', 'Started', 'Directory'].map((c) => h('th', {}, c)))),
        h('tbody', {}, list.map((e) => h('tr', {},
          h('td', {}, h('a', { href: `#/e/${enc(e.id)}` }, e.id)), h('td', {}, e.name), h('td', {}, badge(e.status)),
          h('td', { class: 'num' }, e.trials_submitted), h('td', { class: 'num' }, e.best ? fmt(e.best.value) : ''),
          h('td', {}, fmtTime(e.start_time)), h('td', { class: 'muted' }, e.dir)))))));
    },
  };
}

// One row per parameter: name, NNI _type, _value (nested choices shown as JSON).
function searchSpaceTable(space) {
  if (!space || typeof space !== 'object') return h('p', { class: 'muted' }, 'No search space recorded.');
  return h('div', { class: 'table-wrap' }, h('table', { id: 'search-space' },
    h('thead', {}, h('tr', {}, h('th', {}, 'parameter'), h('th', {}, 'type'), h('th', {}, 'values'))),
    h('tbody', {}, Object.entries(space).map(([name, spec]) => h('tr', {}, h('td', {}, name),
      h('td', {}, (spec && spec._type) || ''), h('td', { class: 'wrap' }, JSON.stringify(spec && '_value' in spec ? spec._value : spec)))))));
}

function overviewView() {
  const host = h('div', { id: 'overview' });
  const chartHost = h('div', { id: 'overview-chart' });
  return {
    key: `overview:${app.expId}`,
    mount(main) {
      put(main, host, h('h2', {}, 'Best metric vs trial number'), chartHost);
    },
    async refresh() {
      const [o, series] = await Promise.all([api(expPath('')), api(expPath('/best-series?max_points=2000'))]);
      const b = o.budget;
      const counts = Object.entries(o.counts).filter(([, n]) => n > 0);
      const pct = (a, m) => (m ? Math.min(100, (100 * a) / m) : 0);
      host.textContent = '';
      put(host, 
        h('h1', {}, o.name ? `${o.name} ` : '', h('span', { class: 'muted' }, `(${o.id})`)),
        o.error ? h('div', { class: 'error' }, `Error: ${o.error}`) : null,
        h('div', { class: 'cards' },
          h('div', { class: 'card' }, h('div', { class: 'k' }, 'Status'), h('div', { class: 'v', id: 'exp-status' }, badge(o.status)),
            h('div', { class: 'muted' }, [o.start_time ? `started ${fmtTime(o.start_time)}` : null,
              o.end_time ? `ended ${fmtTime(o.end_time)}` : null].filter(Boolean).join(', '))),
          h('div', { class: 'card' }, h('div', { class: 'k' }, 'Trials'),
            h('div', { class: 'v' }, `${o.trials_submitted}`, b.max_trial_number ? ` / ${b.max_trial_number}` : ''),
            h('div', { class: 'bar' }, h('span', { style: `width:${pct(o.trials_submitted, b.max_trial_number)}%` })),
            h('div', { id: 'counts' }, counts.map(([s, n]) => h('span', {}, badge(s), ` ${n}  `)))),
          h('div', { class: 'card' }, h('div', { class: 'k' }, 'Duration'),
            h('div', { class: 'v' }, fmtDuration(b.exec_seconds || 0), b.max_duration_s ? ` / ${fmtDuration(b.max_duration_s)}` : ''),
            h('div', { class: 'bar' }, h('span', { style: `width:${pct(b.exec_seconds || 0, b.max_duration_s)}%` })),
            h('div', { class: 'muted' }, b.remaining_s !== null ? `${fmtDuration(b.remaining_s)} remaining` : 'no time limit',
              b.remaining_trials !== null ? `, ${b.remaining_trials} trials left` : '')),
          h('div', { class: 'card' }, h('div', { class: 'k' }, `Best metric (${o.optimize_mode})`),
            h('div', { class: 'v', id: 'best-value' }, o.best ? fmt(o.best.value) : '—'),
            o.best ? h('div', {}, 'trial ', trialLink(o.best.trial_id), ` (#${o.best.sequence_id})`) : null),
          h('div', { class: 'card' }, h('div', { class: 'k' }, 'Setup'),
            h('dl', { class: 'kv' }, h('dt', {}, 'tuner'), h('dd', {}, o.tuner || '—'), h('dt', {}, 'assessor'), h('dd', {}, o.assessor || '—'),
              h('dt', {}, 'concurrency'), h('dd', {}, o.concurrency ?? '—'), h('dt', {}, 'directory'), h('dd', {}, o.dir))),
          h('div', { class: 'card' }, h('div', { class: 'k' }, 'Export'),
            h('div', { class: 'controls' },
              h('a', { class: 'button', href: API + expPath('/export?format=csv'), download: '' }, 'CSV'),
              h('a', { class: 'button', href: API + expPath('/export?format=json'), download: '' }, 'JSON'),
              h('a', { class: 'button', href: API + expPath('/export?format=json&intermediate=1'), download: '' }, 'JSON + curves')))),
        h('h2', {}, 'Search space'), searchSpaceTable(o.search_space),
        h('details', {}, h('summary', {}, 'Experiment config'), h('pre', { class: 'json' }, JSON.stringify(o.config, null, 2))));
      chartHost.textContent = '';
      if (series.points.length === 0) put(chartHost, h('p', { class: 'muted' }, 'No succeeded trial yet.'));
      else Charts.best(chartHost, series, { id: 'best-chart', width: chartWidth(chartHost), onClick: (id) => { location.hash = link(`/trial/${enc(id)}`); } });
    },
  };
}

function trialsView(query) {
  const host = h('div', { id: 'trials' });
  let overview = null, overviewRev = null;
  const view = {
    key: `trials:${app.expId}`,
    query,
    mount(main) {
      put(main, h('h1', {}, 'Trials'), host);
    },
    async refresh() {
      const q = view.query;
      if (!overview || overviewRev !== app.revision) {
        overview = await api(expPath(''));
        overviewRev = app.revision;
      }
      const params = new URLSearchParams();
      for (const k of ['offset', 'limit', 'sort', 'order', 'status', 'q']) if (q.get(k)) params.set(k, q.get(k));
      for (const [k, v] of q.entries()) if (k.startsWith('param.')) params.set(k, v);
      const page = await api(expPath(`/trials?${params}`));
      render(page);
    },
  };
  const route = () => link('/trials');
  const update = (changes) => {
    const q = new URLSearchParams(view.query);
    for (const [k, v] of Object.entries(changes)) { if (v === null || v === '') q.delete(k); else q.set(k, v); }
    if (!('offset' in changes)) q.delete('offset');
    setQuery(route(), q);
  };

  function render(page) {
    const q = view.query;
    const sort = q.get('sort') || 'sequence_id', order = q.get('order') || 'asc';
    const names = overview.parameter_names, keys = overview.metric_keys.filter((k) => k !== 'default');
    const statusSel = h('select', { id: 'status-filter', onchange: (e) => update({ status: e.target.value }) },
      h('option', { value: '' }, 'all statuses'), STATUSES.map((s) => h('option', { value: s, selected: q.get('status') === s }, s)));
    const search = h('input', { type: 'text', id: 'search', placeholder: 'search id, sequence no., parameter text', value: q.get('q') || '' });
    search.addEventListener('keydown', (e) => { if (e.key === 'Enter') update({ q: search.value.trim() }); });
    const paramFilter = h('input', { type: 'text', id: 'param-filter', placeholder: 'parameter filter, e.g. lr=0.01 act=relu',
      value: [...q.entries()].filter(([k]) => k.startsWith('param.')).map(([k, v]) => `${k.slice(6)}=${v}`).join(' ') });
    paramFilter.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      const nq = new URLSearchParams([...q.entries()].filter(([k]) => !k.startsWith('param.') && k !== 'offset'));
      for (const tok of paramFilter.value.trim().split(/\s+/).filter(Boolean)) {
        const i = tok.indexOf('=');
        if (i > 0) nq.set(`param.${tok.slice(0, i)}`, tok.slice(i + 1));
      }
      setQuery(route(), nq);
    });
    const limit = Number(q.get('limit') || 50), offset = Number(q.get('offset') || 0);
    const sizeSel = h('select', { id: 'page-size', onchange: (e) => update({ limit: e.target.value }) },
      [25, 50, 100, 200, 500].map((n) => h('option', { value: n, selected: n === limit }, `${n} / page`)));
    const sel = app.selected;
    const selInfo = h('span', { class: 'muted' }, `${sel.size} selected`);
    const compareBtn = h('a', { class: 'button', id: 'compare-selected', href: link(`/compare?ids=${[...sel].map(enc).join(',')}`) }, 'Compare selected');
    const curvesBtn = h('a', { class: 'button', href: link(`/charts?ids=${[...sel].map(enc).join(',')}`) }, 'Curves of selected');
    const refreshSel = () => {
      selInfo.textContent = `${sel.size} selected`;
      compareBtn.href = link(`/compare?ids=${[...sel].map(enc).join(',')}`);
      curvesBtn.href = link(`/charts?ids=${[...sel].map(enc).join(',')}`);
    };

    const th = (label, key) => h('th', {
      class: `sortable${sort === key ? ` sorted-${order}` : ''}`, 'data-sort': key,
      onclick: () => update({ sort: key, order: sort === key && order === 'asc' ? 'desc' : (sort === key ? 'asc' : (key === 'value' || key.startsWith('metric.') ? (overview.optimize_mode === 'minimize' ? 'asc' : 'desc') : 'asc')) }),
    }, label);
    const head = h('tr', {}, h('th', {}, ''), th('#', 'sequence_id'), th('Trial', 'trial_id'), th('Status', 'status'),
      th('Start', 'start_time'), th('Duration', 'duration'), th('Metric', 'value'), th('Steps', 'intermediate_count'),
      names.map((n) => th(n, `param.${n}`)), keys.map((k) => th(k, `metric.${k}`)));
    const rows = page.trials.map((t) => {
      const box = h('input', { type: 'checkbox', checked: sel.has(t.trial_id),
        onchange: (e) => { if (e.target.checked) sel.add(t.trial_id); else sel.delete(t.trial_id); refreshSel(); } });
      const value = t.final_value !== null ? h('span', { class: 'metric' }, fmt(t.final_value))
        : (t.latest_value !== null ? h('i', { title: 'latest intermediate result' }, fmt(t.latest_value)) : '');
      const fm = t.final_metric && typeof t.final_metric === 'object' ? t.final_metric : {};
      return h('tr', { 'data-trial': t.trial_id }, h('td', {}, box), h('td', { class: 'num' }, t.sequence_id), h('td', {}, trialLink(t.trial_id)),
        h('td', {}, badge(t.status)), h('td', {}, fmtTime(t.start_time)), h('td', { class: 'num' }, fmtDuration(t.duration_s)),
        h('td', { class: 'num' }, value), h('td', { class: 'num' }, t.intermediate_count),
        names.map((n) => h('td', { class: 'num' }, fmtValue((t.parameters || {})[n]))),
        keys.map((k) => h('td', { class: 'num' }, fmtValue(fm[k]))));
    });
    const last = Math.min(page.total, offset + page.trials.length);
    host.textContent = '';
    put(host, 
      h('div', { class: 'controls' }, statusSel, search, paramFilter, sizeSel,
        h('a', { class: 'button', href: API + expPath('/export?format=csv'), download: '' }, 'Export CSV'),
        h('a', { class: 'button', href: API + expPath('/export?format=json'), download: '' }, 'Export JSON')),
      h('div', { class: 'controls' }, selInfo, compareBtn, curvesBtn,
        h('button', { onclick: () => { sel.clear(); refreshSel(); host.querySelectorAll('tbody input').forEach((b) => { b.checked = false; }); } }, 'Clear selection')),
      h('div', { class: 'table-wrap' }, h('table', { id: 'trials-table', 'data-total': page.total }, h('thead', {}, head), h('tbody', {}, rows))),
      h('div', { class: 'pager' },
        h('button', { id: 'prev-page', disabled: offset <= 0, onclick: () => update({ offset: Math.max(0, offset - limit) }) }, '‹ Prev'),
        h('span', { id: 'page-info' }, page.total === 0 ? 'no trials' : `${offset + 1}–${last} of ${page.total}`),
        h('button', { id: 'next-page', disabled: last >= page.total, onclick: () => update({ offset: offset + limit }) }, 'Next ›')));
  }
  return view;
}

function chartsView(query) {
  const bestHost = h('div'), pcHost = h('div'), curveHost = h('div');
  const curveNote = h('p', { class: 'muted' });
  const curveControls = h('div', { class: 'controls' });
  const view = {
    key: `charts:${app.expId}`,
    query,
    mount(main) {
      put(main, h('h1', {}, 'Charts'),
        h('h2', {}, 'Best metric vs trial number'), h('p', { class: 'muted' }, 'Final metric of each succeeded trial; the red line is the best so far. Click a point to open the trial.'), bestHost,
        h('h2', {}, 'Hyperparameters (parallel coordinates)'), h('p', { class: 'muted' }, 'One line per succeeded trial, coloured by its final metric (yellow = best).'), pcHost,
        h('h2', {}, 'Intermediate results'), curveNote, curveControls, curveHost);
    },
    async refresh() {
      const o = await api(expPath(''));
      let ids = (view.query.get('ids') || '').split(',').filter(Boolean);
      const [series, pc] = await Promise.all([api(expPath('/best-series')), api(expPath('/parallel'))]);
      if (ids.length === 0) {
        const top = await api(expPath(`/trials?sort=value&order=${o.optimize_mode === 'minimize' ? 'asc' : 'desc'}&limit=10`));
        ids = top.trials.map((t) => t.trial_id);
        curveNote.textContent = 'The 10 best trials (select trials in the table to choose others).';
      } else {
        curveNote.textContent = `Selected trials: ${ids.join(', ')}`;
      }
      const width = chartWidth(bestHost);
      if (series.points.length) Charts.best(bestHost, series, { id: 'best-chart', width, onClick: (id) => { location.hash = link(`/trial/${enc(id)}`); } });
      else bestHost.textContent = 'No succeeded trial yet.';
      if (pc.rows.length) {
        Charts.parallel(pcHost, pc.rows, o.parameter_names, { id: 'parallel-chart', width, optimizeMode: pc.optimize_mode, onClick: (id) => { location.hash = link(`/trial/${enc(id)}`); } });
        if (pc.shown < pc.total) put(pcHost, h('p', { class: 'muted' }, `${pc.shown} of ${pc.total} trials shown (the best and an even sample).`));
      } else pcHost.textContent = 'No succeeded trial yet.';
      // Dict metrics: pick which key the curves show.
      const key = view.query.get('key') || '';
      curveControls.textContent = '';
      const keys = o.metric_keys.filter((k) => k !== 'default');
      if (keys.length) {
        put(curveControls, h('label', {}, 'metric key ', h('select', { id: 'metric-key', onchange: (e) => {
          const q = new URLSearchParams(view.query);
          if (e.target.value) q.set('key', e.target.value); else q.delete('key');
          setQuery(link('/charts'), q);
        } }, h('option', { value: '' }, 'default'), keys.map((k) => h('option', { value: k, selected: k === key }, k)))));
      }
      if (ids.length) {
        const m = await api(expPath(`/metrics?trials=${ids.slice(0, 50).map(enc).join(',')}&max_points=500${key ? `&key=${enc(key)}` : ''}`));
        Charts.lines(curveHost, m.series, { id: 'curves-chart', width, yLabel: key || 'intermediate metric' });
      } else curveHost.textContent = 'No trials yet.';
    },
  };
  return view;
}

function trialView(trialId) {
  const host = h('div', { id: 'trial' });
  return {
    key: `trial:${app.expId}:${trialId}`,
    mount(main) { put(main, host); },
    async refresh() {
      const t = await api(expPath(`/trials/${enc(trialId)}?tail_kb=32`));
      const params = t.parameters && typeof t.parameters === 'object' ? Object.entries(t.parameters) : [];
      const curve = h('div');
      const fileUrl = (name) => API + expPath(`/trials/${enc(t.trial_id)}/files/${enc(name)}`);
      host.textContent = '';
      put(host, 
        h('h1', {}, 'Trial ', h('span', { id: 'trial-id' }, t.trial_id), ` (#${t.sequence_id}) `, badge(t.status)),
        h('div', { class: 'grid2' },
          h('div', {}, h('h2', {}, 'Parameters'), h('table', { id: 'trial-params' }, h('tbody', {},
            params.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'num' }, fmtValue(v))))))),
          h('div', {}, h('h2', {}, 'Result'), h('dl', { class: 'kv' },
            h('dt', {}, 'final metric'), h('dd', { id: 'trial-final' }, t.final_value !== null ? fmt(t.final_value) : '—'),
            t.final_metric && typeof t.final_metric === 'object' ? Object.entries(t.final_metric).filter(([k]) => k !== 'default')
              .map(([k, v]) => [h('dt', {}, k), h('dd', {}, fmtValue(v))]) : null,
            h('dt', {}, 'latest intermediate'), h('dd', {}, t.latest_value !== null ? fmt(t.latest_value) : '—'),
            h('dt', {}, 'intermediate results'), h('dd', {}, t.intermediate_count),
            h('dt', {}, 'started'), h('dd', {}, fmtTime(t.start_time)), h('dt', {}, 'ended'), h('dd', {}, fmtTime(t.end_time)),
            h('dt', {}, 'duration'), h('dd', {}, fmtDuration(t.duration_s)),
            h('dt', {}, 'exit code'), h('dd', {}, t.exit_code ?? '—'),
            t.message ? [h('dt', {}, 'message'), h('dd', {}, t.message)] : null,
            h('dt', {}, 'directory'), h('dd', {}, t.dir || '—'),
            h('dt', {}, 'checkpoint'), h('dd', { id: 'trial-checkpoint' }, t.checkpoint || '—')))),
        h('h2', {}, 'Intermediate results'), curve,
        h('h2', {}, 'Logs'),
        Object.entries(t.logs).map(([name, log]) => [
          h('h3', {}, name, ' ', h('span', { class: 'muted' }, `${log.size} bytes${log.truncated ? ', last part shown' : ''} · `),
            h('a', { href: fileUrl(name) }, 'open')),
          h('pre', { class: 'log', 'data-file': name }, log.text || '(empty)')]),
        h('h2', {}, 'Files'), h('ul', {}, t.files.map((f) => h('li', {}, h('a', { href: fileUrl(f.name) }, f.name), ` (${f.size} bytes)`))));
      if (t.intermediate.length) {
        Charts.lines(curve, [{ trial_id: t.trial_id, points: t.intermediate.filter((m) => m.value !== null).map((m) => [m.sequence, m.value]) }],
          { id: 'trial-curve', width: chartWidth(host), height: 260 });
      } else put(curve, h('p', { class: 'muted' }, 'No intermediate result.'));
    },
  };
}

function compareView(query) {
  const host = h('div', { id: 'compare' });
  const view = {
    key: `compare:${app.expId}`,
    query,
    mount(main) { put(main, h('h1', {}, 'Compare trials'), host); },
    async refresh() {
      const ids = (view.query.get('ids') || '').split(',').filter(Boolean).slice(0, 20);
      host.textContent = '';
      if (ids.length === 0) {
        put(host, h('p', { class: 'muted' }, 'Select trials in the ', h('a', { href: link('/trials') }, 'trials table'), ' and press "Compare selected".'));
        return;
      }
      const trials = await Promise.all(ids.map((id) => api(expPath(`/trials/${enc(id)}?tail_kb=0`))));
      const m = await api(expPath(`/metrics?trials=${ids.map(enc).join(',')}&max_points=500`));
      const names = [...new Set(trials.flatMap((t) => Object.keys(t.parameters || {})))];
      const keys = [...new Set(trials.flatMap((t) => (t.final_metric && typeof t.final_metric === 'object' ? Object.keys(t.final_metric) : [])))];
      const row = (label, f) => h('tr', {}, h('th', {}, label), trials.map((t) => h('td', { class: 'num' }, f(t))));
      const curve = h('div');
      put(host, h('div', { class: 'table-wrap' }, h('table', { id: 'compare-table' },
        h('thead', {}, h('tr', {}, h('th', {}, ''), trials.map((t) => h('th', {}, trialLink(t.trial_id))))),
        h('tbody', {}, row('sequence id', (t) => t.sequence_id), row('status', (t) => badge(t.status)),
          row('final metric', (t) => (t.final_value !== null ? fmt(t.final_value) : '')),
          keys.filter((k) => k !== 'default').map((k) => row(k, (t) => fmtValue((t.final_metric || {})[k]))),
          names.map((n) => row(n, (t) => fmtValue((t.parameters || {})[n]))),
          row('duration', (t) => fmtDuration(t.duration_s)), row('intermediate results', (t) => t.intermediate_count)))),
      h('h2', {}, 'Intermediate results'), curve);
      Charts.lines(curve, m.series, { id: 'compare-curves', width: chartWidth(host) });
    },
  };
  return view;
}

// ---- router, navigation and live updates --------------------------------------------------

function renderNav() {
  const nav = document.getElementById('nav');
  nav.textContent = '';
  const { parts } = parseHash();
  if (app.experiments.length > 1) put(nav, h('a', { href: '#/', class: parts.length === 0 ? 'active' : null }, 'All experiments'));
  if (!app.expId) return;
  const here = parts[2] || '';
  for (const [label, route] of [['Overview', ''], ['Trials', 'trials'], ['Charts', 'charts'], ['Compare', 'compare']]) {
    put(nav, h('a', { href: link(route ? `/${route}` : ''), class: here === route ? 'active' : null }, label));
  }
}

function makeView() {
  const { parts, query } = parseHash();
  if (parts[0] !== 'e' || !parts[1]) return homeView();
  if (app.expId !== parts[1]) app.selected.clear();
  app.expId = parts[1];
  switch (parts[2] || '') {
    case '': return overviewView();
    case 'trials': return trialsView(query);
    case 'charts': return chartsView(query);
    case 'compare': return compareView(query);
    case 'trial': return trialView(parts[3] || '');
    default: return overviewView();
  }
}

async function refreshView() {
  if (app.busy || !app.view) return;
  app.busy = true;
  const view = app.view;
  try {
    await view.refresh();
  } catch (err) {
    if (view === app.view) showError(document.getElementById('app'), err);
  } finally {
    app.busy = false;
  }
}

async function route() {
  const { parts } = parseHash();
  if (parts[0] !== 'e') app.expId = null;
  const next = makeView();
  if (app.view && app.view.key === next.key && next.query) {
    app.view.query = next.query;  // same page, new parameters: keep the DOM, refetch
  } else {
    app.view = next;
    const main = document.getElementById('app');
    main.textContent = '';
    next.mount(main);
  }
  renderNav();
  app.busy = false;
  await refreshView();
}

async function poll() {
  try {
    const rev = app.expId ? (await api(expPath('/revision'))).revision : JSON.stringify((await api('/revision')).revisions);
    const live = document.getElementById('live');
    if (app.revision !== null && rev !== app.revision) {
      if (app.busy) return;  // a refresh is running: catch this revision on the next poll
      app.revision = rev;
      await refreshView();
    }
    app.revision = rev;
    live.textContent = `live · checked ${fmtTime(Date.now()).slice(11)}`;
  } catch (err) {
    document.getElementById('live').textContent = `offline: ${err.message}`;
  }
}

async function start() {
  try {
    app.experiments = await api('/experiments');
  } catch (err) {
    showError(document.getElementById('app'), err);
  }
  window.addEventListener('hashchange', route);
  await route();
  await poll();
  setInterval(poll, POLL_MS);
}

start();
