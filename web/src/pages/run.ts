// One run: params as a tree, tags, description, every series' summary,
// texts, histograms as a heatmap over steps, images with a step slider.
import { blobUrl, getBlobs, getHistograms, getRun, getTexts, type SeriesSummary } from '../api';
import { contextText, duration, el, fmt, isoTime, show } from '../util';

function paramsTree(v: unknown): HTMLElement {
  const ul = el('ul', { class: 'tree' });
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, c] of Object.entries(v as Record<string, unknown>)) {
      const isMap = c !== null && typeof c === 'object' && !Array.isArray(c) && Object.keys(c as object).length > 0;
      ul.append(isMap ? el('li', {}, el('span', { class: 'key' }, k), paramsTree(c))
                      : el('li', {}, el('span', { class: 'key' }, k + ': '), el('span', { class: 'val' }, show(c))));
    }
  }
  return ul;
}

function summaryTable(series: SeriesSummary[]): HTMLElement {
  const head = el('tr', {}, ...['series', 'context', 'kind', 'count', 'first step', 'last step', 'min', 'max', 'last'].map((t) => el('th', {}, t)));
  const rows = series.map((s) => el('tr', {},
    el('td', {}, s.name), el('td', {}, contextText(s.context)), el('td', {}, s.kind), el('td', {}, String(s.count)),
    el('td', {}, String(s.first_step)), el('td', {}, String(s.last_step)),
    el('td', {}, fmt(s.min)), el('td', {}, fmt(s.max)), el('td', {}, fmt(s.last))));
  return el('table', { class: 'summary' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

// Steps along x, the union of all bins' range along y; each step's counts
// spread over the rows its bins cover, shaded by count.
function heatmap(h: { step: number[]; edges: number[][]; counts: number[][] }): HTMLCanvasElement {
  const canvas = el('canvas', { class: 'heatmap', width: '600', height: '160' }) as HTMLCanvasElement;
  const ctx = canvas.getContext('2d')!;
  let lo = Infinity, hi = -Infinity, top = 0;
  h.edges.forEach((e) => {
    lo = Math.min(lo, e[0]);
    hi = Math.max(hi, e[e.length - 1]);
  });
  h.counts.forEach((c) => c.forEach((v) => (top = Math.max(top, v))));
  if (!(hi > lo) || top <= 0) return canvas;
  const rows = canvas.height;
  const colW = canvas.width / Math.max(1, h.step.length);
  h.step.forEach((_, i) => {
    const e = h.edges[i];
    const c = h.counts[i];
    for (let b = 0; b < c.length; b++) {
      const y0 = rows - ((e[b + 1] - lo) / (hi - lo)) * rows;
      const y1 = rows - ((e[b] - lo) / (hi - lo)) * rows;
      const t = Math.sqrt(c[b] / top);
      ctx.fillStyle = `rgba(31,119,180,${t.toFixed(3)})`;
      ctx.fillRect(i * colW, y0, Math.ceil(colW), Math.max(1, y1 - y0));
    }
  });
  return canvas;
}

export async function renderRun(main: HTMLElement, id: string): Promise<() => void> {
  const r = await getRun(id);
  const parts: (HTMLElement | null)[] = [
    el('h2', { id: 'run-title' }, r.name || r.id),
    el('p', { class: 'meta' },
      `${r.id} · ${r.experiment} · `, el('span', { class: `status ${r.status}` }, r.status),
      ` · created ${isoTime(r.created_us)} · ${duration(r.created_us, r.ended_us)}`,
      r.failure_reason ? ` · ${r.failure_reason}` : ''),
    r.description ? el('p', { class: 'description' }, r.description) : null,
    el('p', { class: 'tags' }, ...r.tags.map((t) => el('span', { class: 'tag' }, t))),
    el('h3', {}, 'Params'), el('div', { id: 'params' }, paramsTree(r.params)),
    el('h3', {}, 'Series'), summaryTable(r.series),
  ];
  main.append(...parts.filter((p): p is HTMLElement => p !== null));
  const jobs: Promise<void>[] = [];
  for (const s of r.series) {
    const section = el('section', { class: 'extra' }, el('h3', {}, `${s.kind}: ${s.name}${contextText(s.context) ? ' {' + contextText(s.context) + '}' : ''}`));
    if (s.kind === 'text') {
      main.append(section);
      jobs.push(getTexts(r.id, s.name, s.context).then((t) => {
        section.append(el('ol', { class: 'texts' }, ...t.step.map((st, i) => el('li', {}, el('b', {}, `step ${st}: `), t.value[i]))));
      }));
    } else if (s.kind === 'histogram') {
      main.append(section);
      jobs.push(getHistograms(r.id, s.name, s.context).then((h) => {
        section.append(heatmap(h), el('p', { class: 'axis' }, `steps ${h.step[0] ?? ''} … ${h.step[h.step.length - 1] ?? ''}`));
      }));
    } else if (s.kind === 'blob') {
      main.append(section);
      jobs.push(getBlobs(r.id, s.name, s.context).then((b) => {
        if (b.step.length === 0) return;
        const img = el('img', { class: 'blob', alt: `${s.name} at step ${b.step[0]}` }) as HTMLImageElement;
        const label = el('span', {});
        const slider = el('input', { type: 'range', min: '0', max: String(b.step.length - 1), value: String(b.step.length - 1), class: 'step-slider' }) as HTMLInputElement;
        const set = () => {
          const i = Number(slider.value);
          label.textContent = `step ${b.step[i]} (${b.content_type[i]}, ${b.bytes[i]} bytes)`;
          if (b.content_type[i].startsWith('image/') && b.content_type[i] !== 'image/svg+xml') {
            img.src = blobUrl(r.id, s.name, s.context, b.step[i]);
            img.style.display = '';
          } else {
            img.style.display = 'none';
          }
        };
        slider.addEventListener('input', set);
        set();
        section.append(el('div', {}, slider, label), img,
          el('a', { href: blobUrl(r.id, s.name, s.context, b.step[Number(slider.value)]) }, 'download'));
      }));
    }
  }
  await Promise.all(jobs);
  main.dataset.ready = '1';
  return () => {};
}
