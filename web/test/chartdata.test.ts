import { describe, expect, it } from 'vitest';
import { join, lineFrom, mergeRange, stepRangeFor, xValues, type Line } from '../src/chartdata';
import type { SeriesData } from '../src/api';

function exact(steps: number[], values: number[]): Line {
  return { step: steps, epoch: steps.map((s) => Math.floor(s / 10)), time_us: steps.map((s) => 1e6 * (100 + s)), y: values, lo: null, hi: null };
}

describe('lineFrom', () => {
  it('takes exact points or the envelope', () => {
    const p: SeriesData = { run: 'a', name: 'loss', context: {}, missing: false, exact: true,
      points: { step: [1, 2], value: [5, 6], epoch: [0, 0], time_us: [10, 20] } };
    expect(lineFrom(p)).toEqual({ step: [1, 2], epoch: [0, 0], time_us: [10, 20], y: [5, 6], lo: null, hi: null });
    const e: SeriesData = { run: 'a', name: 'loss', context: {}, missing: false, exact: false,
      envelope: { step: [0, 5], epoch: [0, 0], time_us: [1, 2], min: [1, 2], max: [3, 4], last: [2, 3] } };
    expect(lineFrom(e)).toMatchObject({ y: [2, 3], lo: [1, 2], hi: [3, 4] });
    expect(lineFrom({ run: 'a', name: 'x', context: {}, missing: true })).toBeNull();
  });
});

describe('mergeRange', () => {
  it('replaces the zoomed steps by the fine read and keeps the rest', () => {
    const coarse: Line = { step: [0, 100, 200, 300], epoch: [0, 0, 0, 0], time_us: [0, 1, 2, 3], y: [1, 2, 3, 4], lo: [0, 1, 2, 3], hi: [2, 9, 4, 5] };
    const fine = exact([100, 101, 150, 199], [2, 9, 2.5, 3]);
    const m = mergeRange(coarse, fine, 100, 199);
    expect(m.step).toEqual([0, 100, 101, 150, 199, 200, 300]);
    expect(m.y).toEqual([1, 2, 9, 2.5, 3, 3, 4]);
    // Exact points inside a banded line get a band of their own value.
    expect(m.lo).toEqual([0, 2, 9, 2.5, 3, 2, 3]);
    expect(m.hi).toEqual([2, 2, 9, 2.5, 3, 4, 5]);
  });

  it('stays exact when both sides are', () => {
    const m = mergeRange(exact([0, 10, 20], [1, 2, 3]), exact([10, 11], [7, 8]), 5, 15);
    expect(m.step).toEqual([0, 10, 11, 20]);
    expect(m.lo).toBeNull();
  });

  it('merging the full range returns the fine read', () => {
    const fine = exact([0, 1, 2], [3, 2, 1]);
    expect(mergeRange(exact([0, 2], [3, 1]), fine, 0, 2).step).toEqual([0, 1, 2]);
  });
});

describe('axis modes', () => {
  const l = exact([0, 5, 10], [1, 2, 3]);
  it('maps points to step, epoch, relative and wall time', () => {
    expect(xValues(l, 'step', 0)).toEqual([0, 5, 10]);
    expect(xValues(l, 'epoch', 0)).toEqual([0, 0, 1]);
    expect(xValues(l, 'relative', l.time_us[0])).toEqual([0, 5, 10]);
    expect(xValues(l, 'wall', 0)).toEqual([100, 105, 110]);
  });
  it('turns an x range back into the steps around it in every mode', () => {
    expect(stepRangeFor(l, 'step', 0, 5, 10)).toEqual([5, 10]);
    expect(stepRangeFor(l, 'step', 0, 4, 11)).toEqual([0, 10]);
    expect(stepRangeFor(l, 'step', 0, 6, 7)).toEqual([5, 10]);
    expect(stepRangeFor(l, 'relative', l.time_us[0], 4, 6)).toEqual([0, 10]);
    expect(stepRangeFor(l, 'relative', l.time_us[0], 5, 5)).toEqual([5, 5]);
    expect(stepRangeFor(l, 'wall', 0, 105, 111)).toEqual([5, 10]);
    expect(stepRangeFor(l, 'epoch', 0, 0.5, 0.7)).toEqual([5, 10]);
    expect(stepRangeFor(l, 'step', 0, 20, 30)).toBeNull();
    expect(stepRangeFor(l, 'step', 0, -9, -1)).toBeNull();
  });
});

describe('join', () => {
  it('aligns runs on the union of their x values with gaps as null', () => {
    const j = join([
      { x: [0, 2, 4], ys: [[1, 2, 3]] },
      { x: [1, 2], ys: [[10, NaN], [5, 6]] },
    ]);
    expect(j.x).toEqual([0, 1, 2, 4]);
    expect(j.ys).toEqual([
      [1, null, 2, 3],
      [null, 10, null, null],
      [null, 5, 6, null],
    ]);
  });
  it('keeps the last point of a repeated x and drops non-finite x', () => {
    const j = join([{ x: [0, 0, NaN, 1], ys: [[1, 2, 3, 4]] }]);
    expect(j.x).toEqual([0, 1]);
    expect(j.ys).toEqual([[2, 4]]);
  });
});
