// Spikeline dashboard charts: small SVG charts drawn without any library.
// Each function clears `host` and draws one <svg class="chart"> into it.
'use strict';

const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const M = { left: 64, right: 24, top: 16, bottom: 44 };

  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function title(node, text) {
    el('title', {}, node).textContent = text;
  }

  // Shortest readable number: 6 significant digits, trailing zeros dropped.
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '';
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(6)));
  }

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === Infinity) return [0, 1];
    if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.05, hi + (Math.abs(hi) || 1) * 0.05];
    return [lo, hi];
  }

  // About `count` round tick values covering [lo, hi].
  function ticks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Number(v.toPrecision(12)));
    }
    return out;
  }

  function linear(d0, d1, r0, r1) {
    const f = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    return (v) => r0 + (v - d0) * f;
  }

  function frame(host, id, width, height) {
    host.textContent = '';
    const svg = el('svg', { id, class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`,
                            role: 'img' }, host);
    return svg;
  }

  function axes(svg, x, y, xd, yd, w, h, labels) {
    const g = el('g', { class: 'axes' }, svg);
    el('line', { x1: M.left, y1: h - M.bottom, x2: w - M.right, y2: h - M.bottom }, g);
    el('line', { x1: M.left, y1: M.top, x2: M.left, y2: h - M.bottom }, g);
    let xt = ticks(xd[0], xd[1], Math.max(2, Math.floor((w - M.left - M.right) / 80)));
    if (labels[2]) xt = xt.filter(Number.isInteger);  // steps and trial numbers are integers
    for (const t of xt) {
      el('line', { x1: x(t), y1: h - M.bottom, x2: x(t), y2: h - M.bottom + 4 }, g);
      el('text', { x: x(t), y: h - M.bottom + 16, 'text-anchor': 'middle' }, g).textContent = fmt(t);
    }
    for (const t of ticks(yd[0], yd[1], 5)) {
      el('line', { x1: M.left - 4, y1: y(t), x2: w - M.right, y2: y(t), class: 'grid' }, g);
      el('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, g).textContent = fmt(t);
    }
    el('text', { x: (M.left + w - M.right) / 2, y: h - 8, 'text-anchor': 'middle', class: 'label' }, g)
      .textContent = labels[0];
    el('text', { x: 14, y: (M.top + h - M.bottom) / 2, 'text-anchor': 'middle', class: 'label',
                 transform: `rotate(-90 14 ${(M.top + h - M.bottom) / 2})` }, g).textContent = labels[1];
  }

  // Final metric per trial (scatter) and the best-so-far line.
  // data: {points: [{sequence_id, trial_id, value, best}], best_line: [[seq, best]], optimize_mode}
  function best(host, data, opts) {
    const w = opts.width || 900, h = opts.height || 320;
    const svg = frame(host, opts.id || 'best-chart', w, h);
    const pts = data.points;
    svg.setAttribute('data-points', String(pts.length));
    const xs = pts.map((p) => p.sequence_id).concat(data.best_line.map((p) => p[0]));
    const xd = extent(xs), yd = extent(pts.map((p) => p.value));
    const x = linear(xd[0], xd[1], M.left, w - M.right);
    const y = linear(yd[0], yd[1], h - M.bottom, M.top);
    axes(svg, x, y, xd, yd, w, h, ['trial number (sequence id)', 'final metric', true]);
    if (data.best_line.length > 0) {
      // Step line: the best value holds until the next improvement.
      let d = '';
      data.best_line.forEach((p, i) => {
        d += i === 0 ? `M${x(p[0])},${y(p[1])}` : `H${x(p[0])}V${y(p[1])}`;
      });
      el('path', { d, class: 'best-line' }, svg);
    }
    const g = el('g', { class: 'points' }, svg);
    for (const p of pts) {
      const c = el('circle', { cx: x(p.sequence_id), cy: y(p.value), r: 3.5, class: 'pt',
                               'data-trial': p.trial_id }, g);
      title(c, `trial ${p.trial_id} (#${p.sequence_id}): ${fmt(p.value)}`);
      if (opts.onClick) c.addEventListener('click', () => opts.onClick(p.trial_id));
    }
    return svg;
  }

  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
                   '#7f7f7f', '#bcbd22', '#17becf'];

  // Intermediate curves: series [{trial_id, points: [[step, value]]}].
  function lines(host, series, opts) {
    const w = opts.width || 900, h = opts.height || 300;
    const svg = frame(host, opts.id || 'curves-chart', w, h);
    svg.setAttribute('data-series', String(series.length));
    const all = series.flatMap((s) => s.points);
    const xd = extent(all.map((p) => p[0])), yd = extent(all.map((p) => p[1]));
    const x = linear(xd[0], xd[1], M.left, w - M.right - 110);
    const y = linear(yd[0], yd[1], h - M.bottom, M.top);
    axes(svg, x, y, xd, yd, w - 110, h, [opts.xLabel || 'step', opts.yLabel || 'intermediate metric', true]);
    series.forEach((s, i) => {
      const color = PALETTE[i % PALETTE.length];
      const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${x(p[0])},${y(p[1])}`).join('');
      const path = el('path', { d, class: 'series', stroke: color, 'data-trial': s.trial_id }, svg);
      title(path, `trial ${s.trial_id}`);
      for (const p of s.points.length <= 60 ? s.points : []) {
        el('circle', { cx: x(p[0]), cy: y(p[1]), r: 2, fill: color }, svg);
      }
      const ly = M.top + 14 * i + 8;
      if (ly < h - M.bottom) {
        el('rect', { x: w - 120, y: ly - 8, width: 10, height: 10, fill: color }, svg);
        el('text', { x: w - 106, y: ly + 1, class: 'legend' }, svg).textContent = s.trial_id;
      }
    });
    return svg;
  }

  // Colour for t in [0, 1] (0 worst, 1 best): a viridis-like ramp.
  function ramp(t) {
    const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    const u = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(u)), f = u - i;
    const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  // Parallel coordinates: one axis per parameter plus the metric; each trial a line coloured by
  // its metric (yellow = best). rows: [{trial_id, parameters: {...}, value}].
  function parallel(host, rows, names, opts) {
    const w = opts.width || 900, h = opts.height || 340;
    const svg = frame(host, opts.id || 'parallel-chart', w, h);
    svg.setAttribute('data-lines', String(rows.length));
    const top = 28, bottom = h - 24;
    const dims = names.map((n) => ({ name: n, get: (r) => (r.parameters || {})[n] }))
      .concat([{ name: opts.metricLabel || 'metric', get: (r) => r.value, metric: true }]);
    const step = dims.length > 1 ? (w - 2 * M.left) / (dims.length - 1) : 0;
    dims.forEach((d, i) => {
      d.x = M.left + i * step;
      const vals = rows.map(d.get);
      d.numeric = vals.every((v) => typeof v === 'number');
      if (d.numeric) {
        const e = extent(vals);
        d.scale = linear(e[0], e[1], bottom, top);
        d.ticks = ticks(e[0], e[1], 4).map((t) => [t, fmt(t)]);
      } else {
        const cats = [...new Set(vals.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))))].sort();
        const pos = new Map(cats.map((c, k) => [c, cats.length === 1 ? (top + bottom) / 2
          : bottom - (k * (bottom - top)) / (cats.length - 1)]));
        d.scale = (v) => pos.get(typeof v === 'object' ? JSON.stringify(v) : String(v));
        d.ticks = cats.map((c) => [c, c]);
      }
    });
    const values = rows.map((r) => r.value);
    const [lo, hi] = extent(values);
    const maximize = opts.optimizeMode !== 'minimize';
    const g = el('g', { class: 'pc-lines' }, svg);
    // Draw the best last so they are on top.
    const order = rows.map((r, i) => i).sort((a, b) => (maximize ? values[a] - values[b] : values[b] - values[a]));
    for (const i of order) {
      const r = rows[i];
      const t = hi === lo ? 1 : (maximize ? (r.value - lo) / (hi - lo) : (hi - r.value) / (hi - lo));
      const pts = dims.map((d) => `${d.x},${d.scale(d.get(r))}`).join(' ');
      const line = el('polyline', { points: pts, class: 'pc-line', stroke: ramp(t), 'data-trial': r.trial_id }, g);
      title(line, `trial ${r.trial_id}: ${fmt(r.value)}`);
      if (opts.onClick) line.addEventListener('click', () => opts.onClick(r.trial_id));
    }
    for (const d of dims) {
      const a = el('g', { class: 'pc-axis' }, svg);
      el('line', { x1: d.x, y1: top, x2: d.x, y2: bottom }, a);
      el('text', { x: d.x, y: top - 10, 'text-anchor': 'middle', class: 'label' }, a).textContent = d.name;
      for (const [v, label] of d.ticks) {
        const yy = d.scale(v);
        el('text', { x: d.x + 5, y: yy + 4, class: 'tick' }, a).textContent = label;
        el('line', { x1: d.x - 3, y1: yy, x2: d.x + 3, y2: yy }, a);
      }
    }
    return svg;
  }

  return { best, lines, parallel, fmt, ramp };
})();
