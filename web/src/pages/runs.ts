// The runs table: every run (or those the query selects) with its status,
// times, tags, the params that differ between runs and the last value of
// every scalar metric; sorting by any column through the query language's
// order_by; multi-select into the metrics explorer; live runs polled.
import { ApiError, listRuns, queryErrorPosition, type RunRow } from '../api';
import { duration, el, flatten, fmt, isoTime, replaceParams, routeHash, seriesKey, seriesLabel, show } from '../util';

const POLL_MS = 3000;

interface Column {
  title: string;
  sortKey: string | null; // order_by field, null: not sortable
  cell: (r: RunRow) => Node | string;
}

function quoted(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

export function metricField(name: string, context: Record<string, string>, agg = 'last'): string {
  const parts = [quoted(name), ...Object.entries(context).map(([k, v]) => `${k}=${quoted(v)}`)];
  return `metrics[${parts.join(', ')}].${agg}`;
}

function columns(runs: RunRow[]): Column[] {
  const cols: Column[] = [
    { title: 'Name', sortKey: 'run.name', cell: (r) => el('a', { href: `#/run/${r.id}` }, r.name || r.id) },
    { title: 'Experiment', sortKey: 'run.experiment', cell: (r) => r.experiment },
    { title: 'Status', sortKey: 'run.status', cell: (r) => el('span', { class: `status ${r.status}` }, r.status) },
    { title: 'Created', sortKey: 'run.created', cell: (r) => isoTime(r.created_us) },
    { title: 'Duration', sortKey: 'run.duration', cell: (r) => duration(r.created_us, r.ended_us) },
    { title: 'Tags', sortKey: null, cell: (r) => r.tags.join(', ') },
  ];
  // Params whose values differ between the listed runs (all of them when
  // only one run is listed).
  const flat = runs.map((r) => flatten(r.params));
  const paths = new Set<string>();
  for (const f of flat) for (const k of f.keys()) paths.add(k);
  for (const p of Array.from(paths).sort()) {
    const values = new Set(flat.map((f) => JSON.stringify(f.get(p))));
    if (runs.length > 1 && values.size < 2) continue;
    cols.push({ title: p, sortKey: `params.${p}`, cell: (r) => show(flatten(r.params).get(p)) });
  }
  const metrics = new Map<string, { name: string; context: Record<string, string> }>();
  for (const r of runs) {
    for (const s of r.series) {
      if (s.kind === 'scalar') metrics.set(seriesKey(s.name, s.context), { name: s.name, context: s.context });
    }
  }
  for (const [key, m] of Array.from(metrics.entries()).sort()) {
    cols.push({
      title: seriesLabel(m.name, m.context),
      sortKey: metricField(m.name, m.context),
      cell: (r) => {
        const s = r.series.find((x) => seriesKey(x.name, x.context) === key);
        return s ? fmt(s.last) : '';
      },
    });
  }
  return cols;
}

export async function renderRuns(main: HTMLElement, params: URLSearchParams): Promise<() => void> {
  const selected = new Set((params.get('sel') ?? '').split(',').filter(Boolean));
  let timer: number | undefined;
  let debounce: number | undefined;
  let generation = 0;
  let runs: RunRow[] = [];

  const input = el('input', {
    id: 'query', type: 'search', spellcheck: 'false', autocomplete: 'off',
    placeholder: "query, e.g. params.hparams.lr > 0.002 and metrics.loss < 1", value: params.get('q') ?? '',
  });
  const errorBox = el('div', { id: 'query-error', class: 'query-error', role: 'alert' });
  const count = el('span', { class: 'count' });
  const compare = el('button', { id: 'compare' }, 'Compare metrics');
  const scatter = el('button', { id: 'to-scatter' }, 'Params vs metric');
  const table = el('table', { id: 'runs', class: 'runs' });
  main.append(el('div', { class: 'toolbar' }, input, compare, scatter, count), errorBox, el('div', { class: 'scroll' }, table));

  const sortParam = () => params.get('sort') ?? '';
  const updateButtons = () => {
    compare.textContent = `Compare metrics (${selected.size})`;
    (compare as HTMLButtonElement).disabled = selected.size === 0;
  };
  compare.addEventListener('click', () => {
    const p = new URLSearchParams({ runs: Array.from(selected).join(',') });
    location.hash = routeHash('metrics', p);
  });
  scatter.addEventListener('click', () => {
    const p = new URLSearchParams();
    if (input.value) p.set('q', input.value);
    location.hash = routeHash('scatter', p);
  });

  function showError(message: string) {
    errorBox.replaceChildren();
    if (!message) return;
    const pos = queryErrorPosition(message);
    if (pos && pos.line === 1) {
      const text = input.value;
      const col = Math.max(0, Math.min(text.length, pos.column - 1));
      errorBox.append(
        el('pre', { class: 'caret' }, text + '\n' + ' '.repeat(col) + '^'),
      );
      input.setSelectionRange(col, Math.min(text.length, col + 1));
    }
    errorBox.append(el('span', {}, message));
  }

  function draw() {
    const cols = columns(runs);
    const [sortField, sortDir] = sortParam().split('|');
    const head = el('tr', {}, el('th', {}, el('input', { type: 'checkbox', id: 'select-all', title: 'select all' })));
    for (const c of cols) {
      const th = el('th', {}, c.title);
      if (c.sortKey) {
        th.classList.add('sortable');
        if (c.sortKey === sortField) th.classList.add(sortDir === 'DESC' ? 'desc' : 'asc');
        th.addEventListener('click', () => {
          const dir = c.sortKey === sortField && sortDir !== 'DESC' ? 'DESC' : 'ASC';
          params.set('sort', `${c.sortKey}|${dir}`);
          replaceParams(params);
          void load();
        });
      }
      head.append(th);
    }
    const body = el('tbody');
    for (const r of runs) {
      const box = el('input', { type: 'checkbox', class: 'select' }) as HTMLInputElement;
      box.checked = selected.has(r.id);
      box.addEventListener('change', () => {
        if (box.checked) selected.add(r.id);
        else selected.delete(r.id);
        params.set('sel', Array.from(selected).join(','));
        replaceParams(params);
        updateButtons();
      });
      const tr = el('tr', { 'data-run-id': r.id }, el('td', {}, box));
      for (const c of cols) tr.append(el('td', {}, c.cell(r)));
      body.append(tr);
    }
    table.replaceChildren(el('thead', {}, head), body);
    const all = table.querySelector('#select-all') as HTMLInputElement;
    all.checked = runs.length > 0 && runs.every((r) => selected.has(r.id));
    all.addEventListener('change', () => {
      for (const r of runs) all.checked ? selected.add(r.id) : selected.delete(r.id);
      params.set('sel', Array.from(selected).join(','));
      replaceParams(params);
      draw();
    });
    count.textContent = `${runs.length} runs`;
    updateButtons();
  }

  async function load() {
    const mine = ++generation;
    window.clearTimeout(timer);
    const [field, dir] = sortParam().split('|');
    try {
      const got = await listRuns({ where: input.value.trim(), order_by: field ? [`${field} ${dir || 'ASC'}`] : [] });
      if (mine !== generation) return;
      runs = got;
      showError('');
      draw();
      main.dataset.loaded = String(mine);
    } catch (e) {
      if (mine !== generation) return;
      if (e instanceof ApiError && e.status === 400) showError(e.message);
      else showError(String((e as Error).message));
      main.dataset.loaded = String(mine);
    }
    if (runs.some((r) => r.status === 'running')) timer = window.setTimeout(() => void load(), POLL_MS);
  }

  input.addEventListener('input', () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      if (input.value) params.set('q', input.value);
      else params.delete('q');
      replaceParams(params);
      void load();
    }, 300);
  });
  await load();
  return () => {
    generation++;
    window.clearTimeout(timer);
    window.clearTimeout(debounce);
  };
}

