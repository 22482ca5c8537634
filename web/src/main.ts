// The runlog web UI: a hash router over four pages. The URL's hash holds
// each page's whole state, so a view can be shared by its link.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { renderRuns } from './pages/runs';
import { renderMetrics } from './pages/metrics';
import { renderRun } from './pages/run';
import { renderScatter } from './pages/scatter';
import { el, parseRoute } from './util';

const app = document.getElementById('app')!;
let cleanup: (() => void) | null = null;

function nav(): HTMLElement {
  const r = parseRoute(location.hash);
  const link = (page: string, text: string) =>
    el('a', { href: `#/${page}`, class: r.page === page ? 'active' : '' }, text);
  return el('nav', {}, el('span', { class: 'brand' }, 'runlog'), link('runs', 'Runs'),
    link('metrics', 'Metrics'), link('scatter', 'Params vs metric'));
}

async function route(): Promise<void> {
  if (cleanup) cleanup();
  cleanup = null;
  const r = parseRoute(location.hash);
  const main = el('main');
  app.replaceChildren(nav(), main);
  try {
    if (r.page === 'run') cleanup = await renderRun(main, r.arg);
    else if (r.page === 'metrics') cleanup = await renderMetrics(main, r.params);
    else if (r.page === 'scatter') cleanup = await renderScatter(main, r.params);
    else cleanup = await renderRuns(main, r.params);
  } catch (e) {
    main.append(el('p', { class: 'error' }, String((e as Error).message ?? e)));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
