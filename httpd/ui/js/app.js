// The dashboard's entry point: client-side routing over the History API,
// the theme toggle and the live-update stream. Deep links (/ui/queues/…,
// /ui/tasks/…, /ui/settings/…) are served index.html by the daemon, so a
// reload lands on the same view.

import { h, svg, replace } from './dom.js';
import { setToken } from './api.js';
import { start as startLive, restart as restartLive, subscribe } from './live.js';
import { field, errorSlot, bindForm } from './ui.js';
import { createDashboard } from './dashboard.js';

const main = document.getElementById('main');

function parse(loc) {
  const path = loc.pathname.replace(/\/+$/, '') || '/';
  const params = new URLSearchParams(loc.search);
  let m;
  if (path === '/ui' || path === '/') return { page: 'dashboard', params };
  // The original dashboard's addresses, which the daemon also serves.
  if (path === '/dashboard') return { page: 'dashboard', params, canonical: '/ui/' };
  if (path === '/settings') {
    const tab = { 'task-execution': 'tools', automation: 'purge', prompts: 'prompts', scripts: 'scripts' }[params.get('tab')] || '';
    return { page: 'settings', tab, params, canonical: `/ui/settings${tab ? `/${tab}` : ''}` };
  }
  if ((m = path.match(/^\/ui\/queues\/([^/]+)$/))) return { page: 'dashboard', queueId: decodeURIComponent(m[1]), params };
  if ((m = path.match(/^\/ui\/tasks\/([^/]+)$/))) return { page: 'dashboard', taskId: decodeURIComponent(m[1]), params };
  if (path === '/ui/queues') return { page: 'queues', params };
  if ((m = path.match(/^\/ui\/settings(?:\/([a-z-]+))?$/))) return { page: 'settings', tab: m[1] || '', params };
  return { page: 'notfound', params };
}

export function navigate(url, { replace: swap = false } = {}) {
  if (url === location.pathname + location.search) return;
  if (swap) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
}

const ctx = { navigate };
// The dashboard is the first page almost always; the others load when
// first visited, so their code does not delay its first paint.
const loaders = {
  queues: () => import('./queues.js').then((m) => m.createQueuesPage(ctx)),
  settings: () => import('./settings.js').then((m) => m.createSettingsPage(ctx)),
};
const pages = {
  dashboard: createDashboard(ctx),
  notfound: {
    mount(el) {
      replace(el, h('section', { class: 'card' },
        h('h1', null, 'Page not found'),
        h('p', null, 'There is nothing at this address. ', h('a', { href: '/ui/' }, 'Go to the dashboard'), '.')));
    },
    update() {},
    unmount() {},
  },
};

let current = null;
let routing = 0;

async function route() {
  let r = parse(location);
  if (r.canonical) {
    history.replaceState(null, '', r.canonical);
    r = parse(location);
  }
  const turn = ++routing;
  if (!pages[r.page]) {
    try {
      pages[r.page] = await loaders[r.page]();
    } catch (e) {
      replace(main, h('p', { class: 'error', role: 'alert' }, `Error: could not load this page (${e.message}). Reload to try again.`));
      return;
    }
    if (turn !== routing) return; // the user moved on meanwhile
  }
  const page = pages[r.page];
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.page === r.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (current === page) {
    page.update(r);
    return;
  }
  if (current) current.unmount();
  current = page;
  main.replaceChildren();
  page.mount(main, r);
}

// Same-origin links below /ui/ route on the client.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui')) return;
  if (/\.[a-z0-9]+$/i.test(url.pathname)) return; // a file, not a page
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);

// ---- theme: follows the system until the user picks one ----
const dark = window.matchMedia('(prefers-color-scheme: dark)');
const toggle = document.getElementById('theme-toggle');

function effectiveTheme() {
  const t = document.documentElement.getAttribute('data-theme');
  if (t === 'dark' || t === 'light') return t;
  return dark.matches ? 'dark' : 'light';
}

function paintToggle() {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  const icon = next === 'dark'
    ? svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' },
      svg('path', { d: 'M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z' }))
    : svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' },
      svg('circle', { cx: 12, cy: 12, r: 5 }),
      svg('path', { d: 'M11 1h2v4h-2zM11 19h2v4h-2zM1 11h4v2H1zM19 11h4v2h-4zM4.2 2.8l2.8 2.8-1.4 1.4-2.8-2.8zM17 18.4l1.4-1.4 2.8 2.8-1.4 1.4zM2.8 19.8 5.6 17l1.4 1.4-2.8 2.8zM18.4 7 17 5.6l2.8-2.8 1.4 1.4z' }));
  replace(toggle, icon, ` ${next === 'dark' ? 'Dark' : 'Light'}`);
  toggle.setAttribute('aria-label', `Switch to ${next} theme`);
  toggle.dataset.theme = effectiveTheme();
}

toggle.addEventListener('click', () => {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  document.documentElement.setAttribute('data-theme', next);
  try {
    localStorage.setItem('theme', next);
  } catch (e) {
    // Not persisted; the choice still applies to this page.
  }
  paintToggle();
});
dark.addEventListener('change', paintToggle);

// Ctrl/Cmd+Shift+L toggles the theme from anywhere.
document.addEventListener('keydown', (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && ev.shiftKey && ev.key.toLowerCase() === 'l') {
    ev.preventDefault();
    toggle.click();
  }
});

// ---- API token (only when the daemon requires one) ----
// /ui/#token=… hands the page a token without it reaching any server log.
if (location.hash.startsWith('#token=')) {
  setToken(decodeURIComponent(location.hash.slice('#token='.length)));
  history.replaceState(null, '', location.pathname + location.search);
}

let asking = false;
window.addEventListener('sparkq:unauthorized', (ev) => {
  if (asking) return;
  asking = true;
  const banner = document.getElementById('banner');
  const input = h('input', { type: 'password', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false' });
  const err = errorSlot();
  const form = bindForm(h('form', { class: 'card token-form', 'aria-label': 'API token' },
    h('h2', null, 'API token required'),
    h('p', { class: 'muted' }, ev.detail && ev.detail.hadToken
      ? 'The daemon refused the saved token. Paste the current one from its api_token_file.'
      : 'This daemon requires an API token (server.api_token_file). Paste it here; it is kept in this browser.'),
    h('div', { class: 'field-row' }, field('API token', input, { grow: true }),
      h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Use token'))),
    err), err, async (fd) => {
    setToken(String(fd.get('token') || ''));
    replace(banner);
    asking = false;
    restartLive();
  });
  replace(banner, form);
  input.focus();
});

paintToggle();
subscribe((ev) => {
  if (current && current.onEvent) current.onEvent(ev);
});
route();
startLive();
