// Params vs metric: one point per listed run, any param against any metric
// summary (first, last, min, max).
import uPlot from 'uplot';
import { listRuns, type RunRow } from '../api';
import { el, flatten, fmt, replaceParams, seriesKey, seriesLabel } from '../util';

const AGGS = ['last', 'min', 'max', 'first'] as const;

export async function renderScatter(main: HTMLElement, params: URLSearchParams): Promise<() => void> {
  const runs: RunRow[] = await listRuns({ where: params.get('q') ?? '' });
  const paths = new Set<string>();
  const metrics = new Map<string, string>();
  for (const r of runs) {
    for (const p of flatten(r.params).keys()) paths.add(p);
    for (const s of r.series) if (s.kind === 'scalar') metrics.set(seriesKey(s.name, s.context), seriesLabel(s.name, s.context));
  }
  const px = el('select', { id: 'scatter-param' }) as HTMLSelectElement;
  for (const p of Array.from(paths).sort()) px.append(el('option', { value: p }, p));
  const my = el('select', { id: 'scatter-metric' }) as HTMLSelectElement;
  for (const [k, label] of metrics) my.append(el('option', { value: k }, label));
  const agg = el('select', { id: 'scatter-agg' }) as HTMLSelectElement;
  for (const a of AGGS) agg.append(el('option', { value: a }, a));
  if (params.get('param')) px.value = params.get('param')!;
  if (params.get('metric')) my.value = params.get('metric')!;
  if (params.get('agg')) agg.value = params.get('agg')!;
  const box = el('div', { class: 'chart' });
  const note = el('p', { class: 'meta' });
  main.append(el('div', { class: 'toolbar' }, 'param ', px, ' metric ', my, agg), note, box);
  let u: uPlot | null = null;

  function draw() {
    params.set('param', px.value);
    params.set('metric', my.value);
    params.set('agg', agg.value);
    replaceParams(params);
    // Numbers as they are; other values by their order of first appearance.
    const cats: string[] = [];
    const pts: [number, number, string][] = [];
    for (const r of runs) {
      const v = flatten(r.params).get(px.value);
      const s = r.series.find((x) => seriesKey(x.name, x.context) === my.value);
      const y = s ? (s as unknown as Record<string, number>)[agg.value] : undefined;
      if (v === undefined || y === undefined || !Number.isFinite(y)) continue;
      let x: number;
      if (typeof v === 'number') x = v;
      else {
        const t = JSON.stringify(v);
        if (!cats.includes(t)) cats.push(t);
        x = cats.indexOf(t);
      }
      pts.push([x, y, r.name || r.id]);
    }
    pts.sort((a, b) => a[0] - b[0]);
    note.textContent = `${pts.length} of ${runs.length} runs have both` + (cats.length ? ` (x: ${cats.join(', ')} as 0…${cats.length - 1})` : '');
    u?.destroy();
    u = new uPlot({
      width: Math.max(300, main.clientWidth - 20 || 600),
      height: 360,
      scales: { x: { time: false } },
      series: [{ label: px.value }, { label: agg.value, stroke: '#1f77b4', paths: () => null, points: { show: true, size: 9, fill: '#1f77b4' } }],
      legend: { show: true },
      axes: [{}, { size: 60, values: (_u, vals) => vals.map((v) => fmt(v)) }],
    }, [pts.map((p) => p[0]), pts.map((p) => p[1])], box);
  }
  px.addEventListener('change', draw);
  my.addEventListener('change', draw);
  agg.addEventListener('change', draw);
  if (paths.size && metrics.size) draw();
  else note.textContent = 'The listed runs have no params or no scalar metrics.';
  main.dataset.ready = '1';
  return () => u?.destroy();
}
