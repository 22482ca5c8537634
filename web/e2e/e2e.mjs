// End-to-end test of the web UI in a real browser: playwright-core drives
// Debian's Chromium (headless) against `segtool serve` on an ephemeral
// 127.0.0.1 port, over a repository made by runlog-demo.
//
//   node e2e/e2e.mjs SEGTOOL RUNLOG_DEMO OUT_DIR
//
// Screenshots go to OUT_DIR. Exit 0 when every check passed, 1 when one
// failed, 77 (skipped, with the reason) when Chromium or playwright-core is
// not installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [segtool, demo, outDir] = process.argv.slice(2);
if (!segtool || !demo || !outDir) {
  console.error('usage: e2e.mjs SEGTOOL RUNLOG_DEMO OUT_DIR');
  process.exit(2);
}
const CHROMIUM = process.env.RUNLOG_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(`e2e: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium; scripts/setup.sh does)`);
  process.exit(77);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log(`e2e: skipped: playwright-core is not installed (npm ci in web/): ${e.message}`);
  process.exit(77);
}

let passed = 0;
let failed = 0;
function check(ok, what, detail = '') {
  if (ok) {
    passed++;
    console.log(`  ok   ${what}${detail ? ': ' + detail : ''}`);
  } else {
    failed++;
    console.log(`  FAIL ${what}${detail ? ': ' + detail : ''}`);
  }
}

// Polls `fn` (in the page) until it returns a truthy value; bounded.
async function until(page, fn, arg, what, timeout = 15000) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (e) {
    throw new Error(`timed out waiting for ${what}`);
  }
}

mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'runlog-e2e-'));
const repo = join(work, 'repo');
const made = spawnSync(demo, [repo], { encoding: 'utf8' });
if (made.status !== 0) {
  console.error(`e2e: runlog-demo failed: ${made.stderr}`);
  process.exit(1);
}

const server = spawn(segtool, ['serve', repo, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
let serverErr = '';
server.stderr.on('data', (d) => (serverErr += d));
const base = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`segtool serve printed no URL: ${out} ${serverErr}`)), 15000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  server.on('exit', (code) => reject(new Error(`segtool serve exited with ${code}: ${serverErr}`)));
});

async function api(path) {
  const res = await fetch(base + path.replace(/^\//, ''));
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const consoleErrors = [];
const timings = {};
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));

  // 1. The runs table lists exactly the repository's runs.
  const all = (await api('/api/runs')).runs;
  await page.goto(base + '#/runs');
  await until(page, (n) => document.querySelectorAll('#runs tbody tr').length === n, all.length, 'the runs table');
  const shown = await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.dataset.runId));
  check(JSON.stringify([...shown].sort()) === JSON.stringify(all.map((r) => r.id).sort()), 'the table lists exactly the runs',
    `${shown.length} rows, ${all.length} runs`);
  await page.screenshot({ path: join(outDir, 'runs.png'), fullPage: true });

  // 2. A query narrows it; a malformed one shows an error at its column.
  const query = 'params.hparams.lr > 0.002 and run.status = "finished"';
  const want = (await api('/api/runs?where=' + encodeURIComponent(query))).runs.map((r) => r.id).sort();
  await page.fill('#query', query);
  await until(page, (n) => document.querySelectorAll('#runs tbody tr').length === n, want.length, 'the narrowed table');
  const narrowed = await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.dataset.runId).sort());
  check(want.length > 0 && want.length < all.length && JSON.stringify(narrowed) === JSON.stringify(want),
    'typing a query narrows the table', `${narrowed.length} of ${all.length}`);
  // Chromium logs the one 400 answer this step asks for as a console error.
  const errorsBefore = consoleErrors.length;
  await page.fill('#query', 'metrcs.loss > 1');
  await until(page, () => /query:1:/.test(document.querySelector('#query-error')?.textContent ?? ''), null, 'the query error');
  const err = await page.textContent('#query-error');
  check(/\^/.test(err) && /metrcs/.test(err), 'a malformed query shows an inline error with its position', err.split('\n').pop());
  await page.screenshot({ path: join(outDir, 'query-error.png') });
  const expected = consoleErrors.splice(errorsBefore);
  check(expected.length === 1 && /status of 400/.test(expected[0]), 'the malformed query was one 400 answer', expected.join(' | '));
  await page.fill('#query', '');
  await until(page, (n) => document.querySelectorAll('#runs tbody tr').length === n && !document.querySelector('#query-error').textContent,
    all.length, 'the full table again');

  // 3. Two selected runs: two series per chart, read back from the charts.
  const sweep = all.filter((r) => r.status === 'finished').slice(0, 2).map((r) => r.id);
  for (const id of sweep) await page.check(`#runs tr[data-run-id="${id}"] input.select`);
  await page.click('#compare');
  const t0 = Date.now();
  await until(page, () => document.querySelector('main')?.dataset.ready === '1', null, 'the metrics explorer');
  timings.firstPaintMs = Date.now() - t0;
  const perChart = await page.evaluate(() => window.__runlogCharts.map((c) => ({
    key: c.key,
    runs: c.runLines.filter(({ index }) => c.u.data[index].some((v) => v !== null)).map((l) => l.run),
  })));
  check(perChart.length >= 3, 'one chart per metric and context', perChart.map((c) => c.key).join(' '));
  check(perChart.every((c) => c.runs.length === 2 && sweep.every((id) => c.runs.includes(id))),
    'every chart draws a series for each of the two runs', perChart.map((c) => c.runs.length).join(','));
  await page.screenshot({ path: join(outDir, 'metrics.png'), fullPage: true });

  // 4. Dragging a zoom re-reads the visible range: more points in it.
  const countIn = () => page.evaluate(() => {
    const c = window.__runlogCharts[0];
    const { min, max } = c.u.scales.x;
    const xs = c.u.data[0];
    const line = c.runLines[0].index;
    let n = 0;
    for (let i = 0; i < xs.length; i++) if (xs[i] >= min && xs[i] <= max && c.u.data[line][i] !== null) n++;
    return { n, min, max, fetches: c.fetches };
  });
  const over = await page.locator('.chart').first().locator('.u-over').boundingBox();
  const x1 = over.x + over.width * 0.3;
  const x2 = over.x + over.width * 0.4;
  const y = over.y + over.height / 2;
  await page.mouse.move(x1, y);
  await page.mouse.down();
  await page.mouse.move(x2, y, { steps: 5 });
  const zoomStart = Date.now();
  await page.mouse.up();
  await until(page, () => window.__runlogCharts[0].fetches >= 2, null, 'the zoom re-fetch');
  timings.zoomWallMs = Date.now() - zoomStart;
  timings.zoomMs = await page.evaluate(() => window.__runlogCharts[0].zoomMs);
  const after = await countIn();
  // The same x range drawn from the overview before the zoom.
  const beforeN = await page.evaluate(({ min, max }) => {
    const c = window.__runlogCharts[0];
    return c.overviewCount ? c.overviewCount(min, max) : -1;
  }, after);
  check(after.fetches === 2, 'dragging a zoom fetches the visible range', `x ${after.min.toFixed(0)}..${after.max.toFixed(0)}`);
  check(after.n > beforeN && beforeN >= 0, 'the zoomed range holds more points than the overview had', `${beforeN} → ${after.n}`);
  await page.screenshot({ path: join(outDir, 'metrics-zoomed.png'), fullPage: true });

  // 5. The run page: params and an image blob.
  await page.goto(base + `#/run/${sweep[0]}`);
  await until(page, () => document.querySelector('main')?.dataset.ready === '1', null, 'the run page');
  const params = await page.textContent('#params');
  check(/lr/.test(params) && /batch_size/.test(params) && /seed/.test(params), 'the run page shows the params', params.replace(/\s+/g, ' ').slice(0, 80));
  check(!(await page.$$eval('main > *', (es) => es.some((e) => e.textContent.trim() === 'null'))), 'the run page shows no stray "null"');
  await until(page, () => { const i = document.querySelector('img.blob'); return i && i.complete && i.naturalWidth > 0; }, null, 'the image blob');
  const img = await page.$eval('img.blob', (i) => `${i.naturalWidth}x${i.naturalHeight} ${i.src.replace(/^.*\/api/, '/api')}`);
  check(/^16x16/.test(img), 'the run page shows an image blob', img);
  await page.fill('input.step-slider', '0');
  await page.screenshot({ path: join(outDir, 'run.png'), fullPage: true });

  // 6. Params vs metric.
  await page.goto(base + '#/scatter');
  await until(page, () => document.querySelector('main')?.dataset.ready === '1', null, 'the scatter page');
  check(await page.$('.chart canvas') !== null, 'the params-vs-metric page draws');
  await page.screenshot({ path: join(outDir, 'scatter.png') });

  check(consoleErrors.length === 0, 'no console error on any page', consoleErrors.join(' | '));
} catch (e) {
  check(false, 'e2e run', e.message);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  const code = await new Promise((resolve) => server.on('exit', (c) => resolve(c)));
  check(code === 0, 'segtool serve exits cleanly on SIGTERM', `exit ${code}`);
  rmSync(work, { recursive: true, force: true });
}
console.log(`e2e timings: metrics page ready ${timings.firstPaintMs} ms after the click; zoom re-fetch and redraw ${timings.zoomMs?.toFixed(1)} ms (performance.now in the page; ${timings.zoomWallMs} ms as the driver polls)`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
