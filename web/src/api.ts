// The JSON API of docs/ui.md. Non-finite numbers arrive as the strings
// "NaN", "Infinity" and "-Infinity" and are turned back into numbers here.

export type Context = Record<string, string>;

export interface SeriesSummary {
  name: string;
  context: Context;
  kind: 'scalar' | 'text' | 'histogram' | 'blob';
  count: number;
  first_step: number;
  last_step: number;
  first?: number;
  last?: number;
  min?: number;
  max?: number;
}

export interface RunRow {
  id: string;
  state: string;
  status: string;
  experiment: string;
  name: string;
  description: string;
  created_us: number;
  ended_us: number | null;
  failure_reason: string;
  detail: string;
  error: string;
  tags: string[];
  params: unknown;
  series: SeriesSummary[];
  bytes_on_disk?: number;
}

export interface Columns {
  step: number[];
  epoch: number[];
  time_us: number[];
}
export interface Points extends Columns {
  value: number[];
}
export interface Envelope extends Columns {
  min: number[];
  max: number[];
  last: number[];
}
export interface SeriesData {
  run: string;
  name: string;
  context: Context;
  missing: boolean;
  count?: number;
  exact?: boolean;
  points?: Points;
  envelope?: Envelope;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === null || v === undefined) return NaN;
  return Number(v);
}

function nums(a: unknown[] | undefined): number[] {
  return (a ?? []).map(num);
}

async function getJson(path: string): Promise<any> {
  const res = await fetch(path);
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new ApiError(res.status, body.error ?? res.statusText);
  return body;
}

function fixSummary(s: any): SeriesSummary {
  for (const k of ['first', 'last', 'min', 'max']) {
    if (k in s) s[k] = num(s[k]);
  }
  return s as SeriesSummary;
}

export interface RunQuery {
  where?: string;
  order_by?: string[];
  limit?: number;
  offset?: number;
}

export async function listRuns(q: RunQuery = {}): Promise<RunRow[]> {
  const p = new URLSearchParams();
  if (q.where) p.set('where', q.where);
  if (q.order_by && q.order_by.length) p.set('order_by', q.order_by.join(','));
  if (q.limit !== undefined) p.set('limit', String(q.limit));
  if (q.offset !== undefined) p.set('offset', String(q.offset));
  const body = await getJson('/api/runs?' + p.toString());
  for (const r of body.runs) r.series = r.series.map(fixSummary);
  return body.runs;
}

export async function getRun(id: string): Promise<RunRow> {
  const r = await getJson('/api/runs/' + encodeURIComponent(id));
  r.series = r.series.map(fixSummary);
  return r;
}

export interface SeriesQuery {
  runs: string[];
  name: string;
  context: Context;
  steps?: [number, number];
  max_points?: number;
}

export async function getSeries(q: SeriesQuery): Promise<SeriesData[]> {
  const p = new URLSearchParams();
  p.set('runs', q.runs.join(','));
  p.set('name', q.name);
  p.set('context', JSON.stringify(q.context));
  if (q.steps) p.set('steps', `${Math.floor(q.steps[0])}:${Math.ceil(q.steps[1])}`);
  if (q.max_points) p.set('max_points', String(q.max_points));
  const body = await getJson('/api/series?' + p.toString());
  return body.series.map((s: any) => {
    if (s.points) {
      s.points.value = nums(s.points.value);
      s.points.epoch = nums(s.points.epoch);
    }
    if (s.envelope) {
      for (const k of ['min', 'max', 'last', 'epoch']) s.envelope[k] = nums(s.envelope[k]);
    }
    return s as SeriesData;
  });
}

function runParams(run: string, name: string, context: Context): URLSearchParams {
  const p = new URLSearchParams();
  p.set('run', run);
  p.set('name', name);
  p.set('context', JSON.stringify(context));
  return p;
}

export async function getTexts(run: string, name: string, context: Context) {
  const b = await getJson('/api/texts?' + runParams(run, name, context));
  return b as { step: number[]; value: string[]; truncated: boolean };
}

export async function getHistograms(run: string, name: string, context: Context) {
  const b = await getJson('/api/histograms?' + runParams(run, name, context));
  return {
    step: b.step as number[],
    edges: (b.edges as unknown[][]).map(nums),
    counts: (b.counts as unknown[][]).map(nums),
  };
}

export async function getBlobs(run: string, name: string, context: Context) {
  const b = await getJson('/api/blobs?' + runParams(run, name, context));
  return b as { step: number[]; content_type: string[]; bytes: number[] };
}

export function blobUrl(run: string, name: string, context: Context, step: number): string {
  const p = runParams(run, name, context);
  p.set('step', String(step));
  return '/api/blob?' + p.toString();
}

// "query:1:18: unknown field ..." → {line 1, column 18} in the where text;
// null for other messages (an order_by key's error names order_by[i]).
export function queryErrorPosition(message: string): { line: number; column: number } | null {
  const m = /^query:(\d+):(\d+):/.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
}
