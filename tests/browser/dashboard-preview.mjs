// Draws docs/grafana/realtime-node.json as Grafana would lay it out, every panel's own queries
// evaluated by a real Prometheus over a time range, and saves a screenshot from Chromium. Grafana
// itself cannot be installed on our build machine; this reads the same dashboard file, so the
// picture shows exactly the panels and PromQL an operator imports (README, Operations → Dashboards).
//   node dashboard-preview.mjs <prometheus url> <start unix s> <end unix s> <out.png>
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [prometheus, start, end, out] = process.argv.slice(2);
if (!prometheus || !start || !end || !out) {
  console.error('usage: node dashboard-preview.mjs <prometheus url> <start unix s> <end unix s> <out.png>');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dashboard = JSON.parse(readFileSync(join(root, 'docs/grafana/realtime-node.json'), 'utf8'));
const step = Math.max(2, Math.round((end - start) / 200));
// Grafana's variables: every instance; $__rate_interval at least four scrape intervals.
const expand = (expr) => expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '20s');

async function series(target) {
  const url = new URL('/api/v1/query_range', prometheus);
  url.search = new URLSearchParams({ query: expand(target.expr), start, end, step }).toString();
  const answer = await (await fetch(url)).json();
  if (answer.status !== 'success') throw new Error(`${target.expr}: ${answer.error}`);
  return answer.data.result.map((r) => ({
    name: (target.legendFormat || target.expr).replace(/\{\{(\w+)\}\}/g, (_, l) => r.metric[l] ?? ''),
    points: r.values.map(([t, v]) => [Number(t), Number(v)]).filter(([, v]) => Number.isFinite(v)),
  }));
}

const units = {
  bytes: (v) => `${(v / 2 ** 20).toFixed(0)} MiB`,
  s: (v) => (v < 1 ? `${(v * 1000).toFixed(v < 0.01 ? 2 : 0)} ms` : `${v.toFixed(1)} s`),
  percentunit: (v) => `${(v * 100).toFixed(0)}%`,
};
const format = (unit, v) => (units[unit] ?? ((x) => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : `${+x.toPrecision(3)}`)))(v);
const colours = ['#73bf69', '#f2cc0c', '#5794f2', '#ff780a', '#b877d9', '#f2495c', '#8ab8ff', '#fade2a', '#ca95e5', '#96d98d'];

function chart(panel, lines, width, height) {
  const pad = { l: 64, r: 32, t: 8, b: 22 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const highest = Math.max(0, ...lines.flatMap((l) => l.points.map(([, v]) => v)));
  const max = highest > 0 ? highest : 1;
  const x = (t) => pad.l + ((t - start) / (end - start)) * w;
  const y = (v) => pad.t + h - (v / max) * h;
  const unit = panel.fieldConfig?.defaults?.unit;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    `<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#2c3235"/>` +
    `<text x="${pad.l - 6}" y="${y(max * f) + 4}" text-anchor="end">${format(unit, max * f)}</text>`).join('');
  const ticks = [0, 0.5, 1].map((f) => {
    const t = Number(start) + f * (end - start);
    const label = new Date(t * 1000).toISOString().slice(11, 19);
    return `<text x="${x(t)}" y="${height - 6}" text-anchor="middle">${label}</text>`;
  }).join('');
  const paths = lines.map((l, i) => `<polyline fill="none" stroke="${colours[i % colours.length]}" stroke-width="1.5" points="${
    l.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`).join('');
  return `<svg width="${width}" height="${height}">${grid}${ticks}${paths}</svg>`;
}

const columnWidth = 60;
const rowHeight = 30;
let html = `<html><body style="margin:0;background:#111217;color:#ccccdc;font:12px sans-serif">
<div style="padding:8px 12px;font-size:16px">${dashboard.title}
<span style="font-size:12px;color:#8e8e8e"> · ${new Date(start * 1000).toISOString().slice(0, 19)}Z – ${new Date(end * 1000).toISOString().slice(11, 19)}Z · rendered from docs/grafana/realtime-node.json, data from Prometheus</span></div>
<div style="position:relative">`;
for (const panel of dashboard.panels) {
  const { x, y, w, h } = panel.gridPos;
  const width = w * columnWidth - 8;
  const height = h * rowHeight - 8;
  const lines = (await Promise.all(panel.targets.map(series))).flat();
  const legend = lines.slice(0, 10).map((l, i) =>
    `<span style="margin-right:10px"><span style="color:${colours[i % colours.length]}">━</span> ${l.name}</span>`).join('');
  html += `<div style="position:absolute;left:${x * columnWidth + 4}px;top:${y * rowHeight + 4}px;width:${width}px;height:${height}px;background:#181b1f;border:1px solid #2c3235;border-radius:2px">
<div style="padding:4px 8px;font-weight:600">${panel.title}</div>
<style>svg text{fill:#8e8e8e;font-size:10px}</style>
${chart(panel, lines, width - 2, height - 48)}
<div style="padding:0 8px;white-space:nowrap;overflow:hidden">${legend || '<span style="color:#8e8e8e">no data</span>'}</div></div>`;
}
const bottom = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * rowHeight + 50;
html += '</div></body></html>';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 24 * columnWidth + 8, height: bottom } });
await page.setContent(html);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
console.log(`saved ${out}`);
