// The metrics explorer: one chart per metric and context, the selected runs
// overlaid, each downsampled series drawn as its last-value line inside its
// min/max band so that no spike is hidden. Dragging zooms and re-reads the
// visible steps at full resolution; hovering shows every run's value at
// that x on every chart at once.
import uPlot from 'uplot';
import { getRun, getSeries, type Context, type RunRow, type SeriesData } from '../api';
import { join, lineFrom, mergeRange, stepRangeFor, xValues, X_MODES, type Line, type Table, type XMode } from '../chartdata';
import { smooth } from '../smoothing';
import { color, el, flatten, fmt, replaceParams, seriesKey, seriesLabel, show } from '../util';

const CHART_HEIGHT = 240;

interface RunLine {
  run: RunRow;
  line: Line;
  t0: number; // the run's first point's time, for relative time
}

interface ChartState {
  key: string;
  name: string;
  context: Context;
  u: uPlot | null;
  lines: RunLine[];
  // Per run: the drawn (smoothed) line's column and the raw values' column.
  runLines: { run: string; index: number; raw: number }[];
  fetches: number;
  // The first run's points with x in [a, b] as first read, before any zoom
  // (for tests: a zoom must bring more).
  overviewCount: (a: number, b: number) => number;
  // Milliseconds from the end of the last zoom's drag to its redraw.
  zoomMs: number;
}

declare global {
  interface Window {
    __runlogCharts?: ChartState[];
    // performance.now() when every chart had its first draw.
    __runlogReadyMs?: number;
  }
}

function settings(params: URLSearchParams) {
  const s = Number(params.get('smooth') ?? '0.6');
  const x = (params.get('x') ?? 'step') as XMode;
  return {
    smoothing: Number.isFinite(s) ? Math.min(0.999, Math.max(0, s)) : 0.6,
    logY: params.get('log') === '1',
    x: X_MODES.includes(x) ? x : 'step',
    group: params.get('group') ?? '',
  };
}

export async function renderMetrics(main: HTMLElement, params: URLSearchParams): Promise<() => void> {
  const ids = (params.get('runs') ?? '').split(',').filter(Boolean);
  if (ids.length === 0) {
    main.append(el('p', {}, 'No runs selected: pick some in the ', el('a', { href: '#/runs' }, 'runs table'), '.'));
    return () => {};
  }
  const runs = await Promise.all(ids.map(getRun));
  const st = settings(params);
  const charts: ChartState[] = [];
  window.__runlogCharts = charts;
  let alive = true;

  // Controls.
  const smoothing = el('input', { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01', value: String(st.smoothing) }) as HTMLInputElement;
  const smoothingValue = el('span', {}, st.smoothing.toFixed(2));
  const logY = el('input', { id: 'log-y', type: 'checkbox' }) as HTMLInputElement;
  logY.checked = st.logY;
  const xMode = el('select', { id: 'x-mode' }) as HTMLSelectElement;
  for (const m of X_MODES) xMode.append(el('option', { value: m }, m));
  xMode.value = st.x;
  const group = el('select', { id: 'group-by' }) as HTMLSelectElement;
  group.append(el('option', { value: '' }, 'color by run'));
  const paths = new Set<string>();
  for (const r of runs) for (const p of flatten(r.params).keys()) paths.add(p);
  for (const p of Array.from(paths).sort()) group.append(el('option', { value: p }, `group by ${p}`));
  group.value = st.group;
  const legend = el('div', { class: 'legend', id: 'legend' });
  const grid = el('div', { class: 'charts' });
  main.append(
    el('div', { class: 'toolbar' },
      el('label', {}, 'smoothing ', smoothing, smoothingValue),
      el('label', {}, logY, ' log y'),
      el('label', {}, 'x ', xMode),
      group),
    legend, grid);

  // Colors: one per run, or one per value of the grouping param.
  function runColors(): Map<string, string> {
    const out = new Map<string, string>();
    const items: [string, string][] = [];
    if (!st.group) {
      runs.forEach((r, i) => {
        out.set(r.id, color(i));
        items.push([r.name || r.id, color(i)]);
      });
    } else {
      const values: string[] = [];
      for (const r of runs) {
        const v = show(flatten(r.params).get(st.group));
        if (!values.includes(v)) values.push(v);
        out.set(r.id, color(values.indexOf(v)));
      }
      values.forEach((v, i) => items.push([`${st.group} = ${v || '(none)'}`, color(i)]));
    }
    legend.replaceChildren(...items.map(([t, c]) => el('span', { class: 'item' }, el('i', { style: `background:${c}` }), t)));
    return out;
  }

  // Every scalar series of the selected runs, one chart each.
  const keys = new Map<string, { name: string; context: Context }>();
  for (const r of runs) for (const s of r.series) if (s.kind === 'scalar') keys.set(seriesKey(s.name, s.context), { name: s.name, context: s.context });
  const sorted = Array.from(keys.entries()).sort((a, b) => a[0].localeCompare(b[0]));

  function toLines(series: SeriesData[]): RunLine[] {
    const out: RunLine[] = [];
    series.forEach((s, i) => {
      const line = lineFrom(s);
      if (line && line.step.length) out.push({ run: runs[i], line, t0: line.time_us[0] });
    });
    return out;
  }

  // `keepScale`: new data for the same series (a zoom's merge): the chart
  // is updated in place and keeps its zoomed x range.
  function build(chart: ChartState, box: HTMLElement, readout: HTMLElement, keepScale = false) {
    const colors = runColors();
    const tables: Table[] = [];
    const series: uPlot.Series[] = [{ label: st.x }];
    const bands: uPlot.Band[] = [];
    chart.runLines = [];
    for (const rl of chart.lines) {
      const c = colors.get(rl.run.id)!;
      const x = xValues(rl.line, st.x, rl.t0);
      const ys: number[][] = [];
      const clean = (v: number[]) => (st.logY ? v.map((y) => (y > 0 ? y : NaN)) : v);
      const base = series.length;
      if (rl.line.lo && rl.line.hi) {
        ys.push(clean(rl.line.hi), clean(rl.line.lo));
        // Runs' buckets start at different steps, so on the joined x axis
        // most rows of a run are empty: spanning them keeps each band and
        // line one path (thousands of gaps made drawing take seconds).
        series.push({ label: `${rl.run.name} max`, stroke: c, width: 0, spanGaps: true, points: { show: false } });
        series.push({ label: `${rl.run.name} min`, stroke: c, width: 0, spanGaps: true, points: { show: false } });
        bands.push({ series: [base, base + 1], fill: c + '33' });
      }
      // Without smoothing the drawn line is the raw one.
      const raw = series.length;
      if (st.smoothing > 0) {
        ys.push(clean(rl.line.y));
        series.push({ label: `${rl.run.name} raw`, stroke: c + '55', width: 1, spanGaps: true, points: { show: false } });
      }
      ys.push(clean(smooth(rl.line.y, st.smoothing)));
      chart.runLines.push({ run: rl.run.id, index: series.length, raw });
      series.push({ label: rl.run.name || rl.run.id, stroke: c, width: 1.5, spanGaps: true, points: { show: false } });
      tables.push({ x, ys });
    }
    const joined = join(tables);
    const data = [joined.x, ...joined.ys] as uPlot.AlignedData;
    if (keepScale && chart.u && chart.u.series.length === series.length) {
      chart.u.setData(data, false);
      return;
    }
    if (chart.u) {
      chart.u.destroy();
      chart.u = null;
    }
    const opts: uPlot.Options = {
      width: Math.max(300, box.clientWidth || 600),
      height: CHART_HEIGHT,
      series,
      bands,
      legend: { show: false },
      scales: { x: { time: st.x === 'wall' }, y: { distr: st.logY ? 3 : 1 } },
      cursor: { sync: { key: 'runlog-metrics' }, drag: { x: true, y: false, setScale: true } },
      axes: [{}, { size: 60 }],
      hooks: {
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (i === null || i === undefined) {
              readout.textContent = '';
              return;
            }
            const parts = chart.runLines.map(({ run, index, raw }) => {
              const v = u.data[raw][i];
              const sm = u.data[index][i];
              const r = runs.find((x) => x.id === run)!;
              const text = v === null || v === undefined ? '–' : fmt(v) + (raw !== index && sm !== null && sm !== undefined ? ` (smoothed ${fmt(sm)})` : '');
              return el('span', { style: `color:${colors.get(run)}` }, `${r.name || r.id}: ${text}`);
            });
            readout.replaceChildren(el('span', {}, `${st.x} ${fmt(u.data[0][i])}`), ...parts);
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            void zoom(chart, box, readout, a, b);
          },
        ],
      },
    };
    chart.u = new uPlot(opts, data, box);
  }

  // Re-reads the steps between x = a and b at full resolution for every run
  // and merges them into the overview.
  async function zoom(chart: ChartState, box: HTMLElement, readout: HTMLElement, a: number, b: number) {
    const started = performance.now();
    let first = Infinity;
    let last = -Infinity;
    for (const rl of chart.lines) {
      const r = stepRangeFor(rl.line, st.x, rl.t0, a, b);
      if (r) {
        first = Math.min(first, r[0]);
        last = Math.max(last, r[1]);
      }
    }
    if (first === Infinity) return;
    const width = Math.max(300, box.clientWidth || 600);
    const fine = await getSeries({ runs: chart.lines.map((l) => l.run.id), name: chart.name, context: chart.context, steps: [first, last], max_points: width });
    chart.fetches++;
    if (!alive) return;
    fine.forEach((s, i) => {
      const l = lineFrom(s);
      if (l) chart.lines[i].line = mergeRange(chart.lines[i].line, l, first, last);
    });
    const scale = chart.u ? { min: chart.u.scales.x.min!, max: chart.u.scales.x.max! } : null;
    const reused = chart.u;
    build(chart, box, readout, true);
    if (scale && chart.u && chart.u !== reused) chart.u.setScale('x', scale);
    chart.zoomMs = performance.now() - started;
    box.dataset.fetches = String(chart.fetches);
  }

  async function load(chart: ChartState, box: HTMLElement, readout: HTMLElement) {
    const width = Math.max(300, box.clientWidth || 600);
    const series = await getSeries({ runs: ids, name: chart.name, context: chart.context, max_points: width });
    chart.fetches++;
    if (!alive) return;
    // getSeries answers in the order of ids; the runs without this series
    // are left out of the chart.
    chart.lines = toLines(series);
    const first = chart.lines[0];
    const xs = first ? xValues(first.line, st.x, first.t0) : [];
    chart.overviewCount = (a, b) => xs.filter((x) => x >= a && x <= b).length;
    build(chart, box, readout);
    box.dataset.fetches = String(chart.fetches);
    box.dataset.ready = '1';
  }

  const pending: Promise<void>[] = [];
  for (const [key, k] of sorted) {
    const chart: ChartState = { key, name: k.name, context: k.context, u: null, lines: [], runLines: [], fetches: 0, overviewCount: () => 0, zoomMs: NaN };
    charts.push(chart);
    const box = el('div', { class: 'chart', 'data-key': key });
    const readout = el('div', { class: 'readout' });
    grid.append(el('section', { class: 'chart-card' }, el('h3', {}, seriesLabel(k.name, k.context)), box, readout));
    pending.push(load(chart, box, readout).catch((e) => {
      box.append(el('p', { class: 'error' }, String(e.message ?? e)));
    }));
  }

  const rebuild = () => {
    replaceParams(params);
    charts.forEach((c, i) => {
      const box = grid.children[i].querySelector('.chart') as HTMLElement;
      const readout = grid.children[i].querySelector('.readout') as HTMLElement;
      if (c.lines.length) build(c, box, readout);
    });
  };
  smoothing.addEventListener('input', () => {
    st.smoothing = Number(smoothing.value);
    smoothingValue.textContent = st.smoothing.toFixed(2);
    params.set('smooth', smoothing.value);
    rebuild();
  });
  logY.addEventListener('change', () => {
    st.logY = logY.checked;
    logY.checked ? params.set('log', '1') : params.delete('log');
    rebuild();
  });
  xMode.addEventListener('change', () => {
    st.x = xMode.value as XMode;
    params.set('x', st.x);
    rebuild();
  });
  group.addEventListener('change', () => {
    st.group = group.value;
    st.group ? params.set('group', st.group) : params.delete('group');
    rebuild();
  });
  runColors();
  await Promise.all(pending);
  window.__runlogReadyMs = performance.now();
  main.dataset.ready = '1';
  return () => {
    alive = false;
    for (const c of charts) c.u?.destroy();
    window.__runlogCharts = [];
  };
}
