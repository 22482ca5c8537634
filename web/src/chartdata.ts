// From the API's series to the aligned tables uPlot draws: lines with their
// min/max band, x axis modes, the merge of a zoomed re-fetch into the
// overview, and the join of many runs onto one x axis.
import type { SeriesData } from './api';

export type XMode = 'step' | 'epoch' | 'relative' | 'wall';
export const X_MODES: XMode[] = ['step', 'epoch', 'relative', 'wall'];

// One run's series in step order: exact points (lo/hi null) or envelope
// buckets (y is each bucket's last value, lo/hi its min and max).
export interface Line {
  step: number[];
  epoch: number[];
  time_us: number[];
  y: number[];
  lo: number[] | null;
  hi: number[] | null;
}

export function lineFrom(s: SeriesData): Line | null {
  if (s.missing) return null;
  if (s.points) {
    const p = s.points;
    return { step: p.step, epoch: p.epoch, time_us: p.time_us, y: p.value, lo: null, hi: null };
  }
  if (s.envelope) {
    const e = s.envelope;
    return { step: e.step, epoch: e.epoch, time_us: e.time_us, y: e.last, lo: e.min, hi: e.max };
  }
  return null;
}

// Points of `coarse` outside [first, last] and every point of `fine` (read
// for that range at full resolution) in step order. Where one side is exact
// and the other an envelope, the exact points get a band equal to their
// value, so the band stays continuous.
export function mergeRange(coarse: Line, fine: Line, first: number, last: number): Line {
  const out: Line = { step: [], epoch: [], time_us: [], y: [], lo: [], hi: [] };
  const banded = coarse.lo !== null || fine.lo !== null;
  const push = (l: Line, i: number) => {
    out.step.push(l.step[i]);
    out.epoch.push(l.epoch[i]);
    out.time_us.push(l.time_us[i]);
    out.y.push(l.y[i]);
    out.lo!.push(l.lo ? l.lo[i] : l.y[i]);
    out.hi!.push(l.hi ? l.hi[i] : l.y[i]);
  };
  let i = 0;
  while (i < coarse.step.length && coarse.step[i] < first) push(coarse, i++);
  for (let j = 0; j < fine.step.length; j++) push(fine, j);
  while (i < coarse.step.length && coarse.step[i] <= last) i++;
  while (i < coarse.step.length) push(coarse, i++);
  if (!banded) {
    out.lo = null;
    out.hi = null;
  }
  return out;
}

// The x value of every point: the step; the epoch; seconds since `t0Us`
// (the run's first point); or wall-clock seconds since the Unix epoch.
export function xValues(line: Line, mode: XMode, t0Us: number): number[] {
  switch (mode) {
    case 'step':
      return line.step.slice();
    case 'epoch':
      return line.epoch.slice();
    case 'relative':
      return line.time_us.map((t) => (t - t0Us) / 1e6);
    case 'wall':
      return line.time_us.map((t) => t / 1e6);
  }
}

// The steps to read again for the x range [a, b]: from the last point at or
// before a to the first at or after b, so that the buckets the range cuts
// through are read whole; null when the range misses the line.
export function stepRangeFor(line: Line, mode: XMode, t0Us: number, a: number, b: number): [number, number] | null {
  const xs = xValues(line, mode, t0Us);
  const n = xs.length;
  if (n === 0 || b < xs[0] || a > xs[n - 1]) return null;
  let lo = 0;
  let hi = n - 1;
  for (let i = 0; i < n; i++) {
    if (xs[i] <= a) lo = i;
    if (xs[i] >= b) {
      hi = i;
      break;
    }
  }
  return [line.step[lo], line.step[hi]];
}

export interface Table {
  x: number[];
  ys: number[][];
}

// One x axis for many tables: the sorted union of their finite x values;
// each y column gets null where its table has no point at that x. Within a
// table, a repeated x keeps its last point; non-finite y values become null
// (a gap), since a chart cannot place them.
export function join(tables: Table[]): { x: number[]; ys: (number | null)[][] } {
  const all = new Set<number>();
  for (const t of tables) for (const x of t.x) if (Number.isFinite(x)) all.add(x);
  const x = Array.from(all).sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const ys: (number | null)[][] = [];
  for (const t of tables) {
    for (const col of t.ys) {
      const out = new Array<number | null>(x.length).fill(null);
      for (let i = 0; i < t.x.length; i++) {
        const k = index.get(t.x[i]);
        if (k === undefined) continue;
        const v = col[i];
        out[k] = Number.isFinite(v) ? v : null;
      }
      ys.push(out);
    }
  }
  return { x, ys };
}
