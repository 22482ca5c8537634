// TensorBoard's scalar smoothing: a debiased exponential moving average.
//
// For weight w in [0, 1] (out-of-range weights are clamped, a non-finite one
// is 0): the average starts at 0; every finite value v updates it to
// last = last * w + (1 - w) * v and is shown as last / (1 - w^n), n being the
// number of finite values so far (the division undoes the pull towards the
// initial 0; with w = 1 there is no division). Non-finite values (NaN, ±inf)
// pass through unchanged and do not update the average. A constant series
// is returned unchanged.
export function smooth(values: ArrayLike<number>, weight: number): number[] {
  const n = values.length;
  const out = new Array<number>(n);
  let w = Number.isFinite(weight) ? weight : 0;
  w = Math.min(1, Math.max(0, w));
  let constant = true;
  for (let i = 1; i < n && constant; i++) {
    // `==` as TensorBoard compares, so NaN never counts as constant.
    constant = values[i] == values[0];
  }
  if (n > 0 && !(values[0] == values[0])) constant = false;
  if (constant) {
    for (let i = 0; i < n; i++) out[i] = values[i];
    return out;
  }
  let last = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    count++;
    const debias = w === 1 ? 1 : 1 - Math.pow(w, count);
    out[i] = last / debias;
  }
  return out;
}
