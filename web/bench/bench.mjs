// Timings of the web UI (docs/benchmarks.md, "Web UI"): the JSON API of
// `segtool serve` on the workloads, and first paint and zoom in
// headless Chromium, timed with performance.now() in the page.
//
//   node bench/bench.mjs SEGTOOL RUNLOG_SERVE_BENCHDATA WORK_DIR
//
// The repositories are made once under WORK_DIR by runlog-serve-benchdata.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [segtool, benchdata, work] = process.argv.slice(2);
if (!segtool || !benchdata || !work) {
  console.error('usage: bench.mjs SEGTOOL RUNLOG_SERVE_BENCHDATA WORK_DIR');
  process.exit(2);
}
mkdirSync(work, { recursive: true });

function repoFor(workload) {
  const dir = join(work, workload);
  if (!existsSync(join(dir, 'RUNLOG'))) {
    const t = Date.now();
    const r = spawnSync(benchdata, [dir, workload], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`runlog-serve-benchdata ${workload} failed`);
    console.log(`made ${workload} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  return dir;
}

async function serve(repo) {
  const p = spawn(segtool, ['serve', repo, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    p.on('exit', (c) => reject(new Error(`segtool serve exited ${c}`)));
  });
  return {
    url,
    rssMb: () => {
      const s = readFileSync(`/proc/${p.pid}/status`, 'utf8');
      const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)[1]);
      return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
    },
    stop: () => new Promise((resolve) => { p.on('exit', resolve); p.kill('SIGTERM'); }),
  };
}

// min / median / max of `n` timed calls of `fn`, after 2 untimed ones.
async function time(n, fn) {
  for (let i = 0; i < 2; i++) await fn();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { min: ms[0], median: ms[Math.floor(n / 2)], max: ms[n - 1] };
}
const show = (t) => `median ${t.median.toFixed(1)} ms (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)})`;

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}
// What the timings measure: the request until its last byte arrived (the
// client's JSON parse is left out).
async function getBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return (await r.arrayBuffer()).byteLength;
}

const ctx = encodeURIComponent(JSON.stringify({ subset: 'train' }));
const results = [];
function report(what, t, extra = '') {
  const line = `${what}: ${show(t)}${extra}`;
  results.push(line);
  console.log(line);
}

// API workloads.
{
  const s = await serve(repoFor('table'));
  const runs = (await getJson(s.url + 'api/runs')).runs;
  const bytes = JSON.stringify(runs).length;
  report(`GET /api/runs, ${runs.length} runs (${(bytes / 1e6).toFixed(2)} MB JSON)`, await time(20, () => getBytes(s.url + 'api/runs')));
  report('GET /api/runs?where=params.hparams.lr > 0.002&order_by=metrics.loss DESC', await time(20, () =>
    getBytes(s.url + 'api/runs?where=' + encodeURIComponent('params.hparams.lr > 0.002') + '&order_by=' + encodeURIComponent('metrics["loss", subset="train"].last DESC'))));
  await s.stop();
}
{
  const s = await serve(repoFor('big'));
  const id = (await getJson(s.url + 'api/runs')).runs[0].id;
  const u = `${s.url}api/series?runs=${id}&name=loss&context=${ctx}&max_points=1000`;
  const one = (await getJson(u)).series[0];
  report(`GET /api/series, 1 run x 10,000,000 points (compacted), max_points=1000 -> ${one.envelope.step.length} buckets`, await time(20, () => getBytes(u)));
  const z = `${s.url}api/series?runs=${id}&name=loss&context=${ctx}&steps=4000000:4100000&max_points=1000`;
  report('  the same, zoomed to steps 4,000,000..4,100,000', await time(20, () => getBytes(z)));
  await s.stop();
}
{
  const s = await serve(repoFor('many'));
  const ids = (await getJson(s.url + 'api/runs')).runs.map((r) => r.id);
  const u = `${s.url}api/series?runs=${ids.join(',')}&name=loss&context=${ctx}&max_points=1000`;
  report(`GET /api/series, ${ids.length} runs x 1,000,000 points in one request, max_points=1000`, await time(10, () => getBytes(u)),
    `; server RSS ${s.rssMb().rss.toFixed(0)} MB`);
  // 244 buckets of 1,000,000 points are wider than a 4,096-point block:
  // answered from block summaries (tracking/downsample.h).
  const coarse = u.replace('max_points=1000', 'max_points=244');
  report(`GET /api/series, ${ids.length} runs x 1,000,000 points in one request, max_points=244`, await time(10, () => getBytes(coarse)));
  await s.stop();
}

// Browser workloads.
let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('browser timings skipped: playwright-core not installed');
}
if (chromium && existsSync('/usr/bin/chromium')) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  for (const workload of ['browser', 'mlflow']) {
    const s = await serve(repoFor(workload));
    const ids = (await getJson(s.url + 'api/runs')).runs.map((r) => r.id);
    const paints = [];
    const zooms = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${s.url}#/metrics?runs=${ids.join(',')}&smooth=0`);
      await page.waitForFunction(() => document.querySelector('main')?.dataset.ready === '1', null, { timeout: 60000, polling: 10 });
      // Navigation start is performance.now() = 0; ready is set after the
      // last chart's first draw.
      paints.push(await page.evaluate(() => window.__runlogReadyMs));
      const box = await page.locator('.chart').first().locator('.u-over').boundingBox();
      await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction(() => window.__runlogCharts[0].fetches >= 2, null, { timeout: 30000, polling: 10 });
      zooms.push(await page.evaluate(() => window.__runlogCharts[0].zoomMs));
      await page.close();
    }
    const stat = (a) => { a.sort((x, y) => x - y); return { min: a[0], median: a[Math.floor(a.length / 2)], max: a[a.length - 1] }; };
    const charts = workload === 'mlflow' ? '10 charts x 10 runs x 10,000 steps' : '1 chart x 10 runs x 1,000,000 points';
    report(`browser, ${charts}: page load to every chart drawn`, stat(paints));
    report(`browser, ${charts}: drag zoom to redraw (re-fetch included)`, stat(zooms), `; server RSS ${s.rssMb().rss.toFixed(0)} MB, peak ${s.rssMb().peak.toFixed(0)} MB`);
    await s.stop();
  }
  await browser.close();
}
console.log('\n' + results.join('\n'));
