// The throughput chart: tasks finished per minute over the last hour, as
// an SVG bar chart (succeeded stacked under failed).

import { get } from './api.js';
import { h, svg, replace } from './dom.js';
import { num } from './format.js';
import { errorSlot, showError } from './ui.js';

export function throughputCard() {
  const title = h('h2', { id: 'chart-title' }, 'Finished per minute');
  const total = h('span', { class: 'muted' });
  const box = h('div', { class: 'chart-box' });
  const axis = h('div', { class: 'chart-axis', 'aria-hidden': 'true' },
    h('span', null, '60 min ago'), h('span', { class: 'peak' }), h('span', null, 'now'));
  const err = errorSlot();
  const card = h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-title' },
    h('div', { class: 'card-head' }, title, total), box, axis, err);

  async function load() {
    try {
      const data = await get('/api/stats/throughput?minutes=60');
      showError(err, null);
      draw(data);
    } catch (e) {
      showError(err, e);
    }
  }

  function draw(data) {
    const buckets = data.buckets || [];
    const peak = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
    const W = 600;
    const H = 70;
    const bw = W / Math.max(1, buckets.length);
    const bars = buckets.map((b, i) => {
      const x = i * bw + 1;
      const w = Math.max(1, bw - 2);
      const okH = (b.succeeded / peak) * (H - 2);
      const badH = (b.failed / peak) * (H - 2);
      const when = new Date(b.minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      const g = svg('g', null, svg('title', null, `${when}: ${b.succeeded} succeeded, ${b.failed} failed`));
      if (b.succeeded + b.failed === 0) {
        g.append(svg('rect', { class: 'b-zero', x, y: H - 2, width: w, height: 2 }));
      } else {
        g.append(svg('rect', { class: 'b-ok', x, y: H - okH, width: w, height: okH }));
        if (badH > 0) g.append(svg('rect', { class: 'b-bad', x, y: H - okH - badH, width: w, height: badH }));
      }
      return g;
    });
    const summary = `${num(data.succeeded)} succeeded, ${num(data.failed)} failed in the last hour`;
    replace(box, svg('svg', {
      class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': summary,
    }, bars));
    total.textContent = `${num(data.succeeded + data.failed)} in the last hour`;
    card.querySelector('.peak').textContent = `peak ${num(peak)}/min`;
  }

  return { el: card, load };
}
