// Small DOM and data helpers shared by the pages.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

// Params as dotted paths to leaves ("hparams.lr" → 0.001); lists are leaves.
export function flatten(v: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [k, c] of entries) flatten(c, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, v);
  }
  return out;
}

export function show(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return fmt(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function fmt(v: number | undefined | null): string {
  if (v === undefined || v === null) return '';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(4);
  return v.toPrecision(5).replace(/\.?0+$/, '');
}

export function contextText(c: Record<string, string>): string {
  const e = Object.entries(c);
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(', ') : '';
}

export function seriesLabel(name: string, c: Record<string, string>): string {
  const t = contextText(c);
  return t ? `${name} {${t}}` : name;
}

// A series key for maps: name and context, order-independent.
export function seriesKey(name: string, c: Record<string, string>): string {
  return JSON.stringify([name, Object.entries(c).sort()]);
}

export function isoTime(us: number | null): string {
  if (us === null) return '';
  return new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19);
}

export function duration(startUs: number, endUs: number | null): string {
  const end = endUs ?? Date.now() * 1000;
  let s = Math.max(0, Math.round((end - startUs) / 1e6));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h ? `${h}h${m}m` : m ? `${m}m${s}s` : `${s}s`;
}

// Tableau-like colors that stay apart on white.
export const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];
export function color(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

// The state in the URL's hash: "#/page?k=v&...".
export interface Route {
  page: string;
  arg: string;
  params: URLSearchParams;
}
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const [page, ...rest] = path.split('/');
  return { page: page || 'runs', arg: decodeURIComponent(rest.join('/')), params };
}
export function routeHash(page: string, params: URLSearchParams, arg = ''): string {
  const q = params.toString();
  return `#/${page}${arg ? '/' + encodeURIComponent(arg) : ''}${q ? '?' + q : ''}`;
}
// Changes the URL without adding a history entry per keystroke or zoom.
export function replaceParams(params: URLSearchParams): void {
  const r = parseRoute(location.hash);
  history.replaceState(null, '', routeHash(r.page, params, r.arg));
}
