// Golden vectors for TensorBoard's debiased EMA, derived by hand from its
// definition: last = last * w + (1 - w) * v over finite values, shown as
// last / (1 - w^n).
import { describe, expect, it } from 'vitest';
import { smooth } from '../src/smoothing';

describe('smooth', () => {
  it('debiases the first values (w = 0.5)', () => {
    // n=1: 0.5/0.5 = 1; n=2: 1.25/0.75 = 5/3; n=3: 2.125/0.875 = 17/7.
    const got = smooth([1, 2, 3], 0.5);
    expect(got[0]).toBeCloseTo(1, 15);
    expect(got[1]).toBeCloseTo(5 / 3, 15);
    expect(got[2]).toBeCloseTo(17 / 7, 15);
  });

  it('matches the default weight 0.6', () => {
    // n=1: 0.4*10/0.4 = 10; n=2: (0.6*4 + 0.4*0)/(1-0.36) = 2.4/0.64 = 3.75;
    // n=3: (0.6*2.4 + 0.4*5)/(1-0.216) = 3.44/0.784.
    const got = smooth([10, 0, 5], 0.6);
    expect(got[0]).toBeCloseTo(10, 12);
    expect(got[1]).toBeCloseTo(3.75, 12);
    expect(got[2]).toBeCloseTo(3.44 / 0.784, 12);
  });

  it('passes NaN and infinities through without updating the average', () => {
    const got = smooth([1, NaN, Infinity, -Infinity, 3], 0.5);
    expect(got[0]).toBeCloseTo(1, 15);
    expect(got[1]).toBeNaN();
    expect(got[2]).toBe(Infinity);
    expect(got[3]).toBe(-Infinity);
    // The second finite value: (0.25 + 1.5) / 0.75.
    expect(got[4]).toBeCloseTo(1.75 / 0.75, 15);
  });

  it('leaves a constant series and weight 0 unchanged', () => {
    expect(smooth([2, 2, 2], 0.9)).toEqual([2, 2, 2]);
    expect(smooth([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
    expect(smooth([], 0.6)).toEqual([]);
  });

  it('clamps the weight and treats a non-finite weight as 0', () => {
    expect(smooth([1, 3], NaN)).toEqual([1, 3]);
    expect(smooth([1, 3], -2)).toEqual([1, 3]);
    // w = 1 has no debiasing, so the average stays at its initial 0.
    expect(smooth([1, 3], 7)).toEqual([0, 0]);
  });

  it('converges to a step change', () => {
    const v = Array.from({ length: 200 }, (_, i) => (i < 100 ? 0 : 1));
    const got = smooth(v, 0.9);
    expect(got[99]).toBe(0);
    expect(got[100]).toBeGreaterThan(0);
    expect(got[199]).toBeCloseTo(1, 4);
  });
});
