// Live updates: the server-sent event stream GET /api/events.
//
// One stream per browser, not per tab: over HTTP/1.1 a browser opens at
// most six connections to the daemon, and a stream holds one for good, so
// six dashboard tabs would starve the seventh. The tab that holds the Web
// Lock "sparkq-events" reads the stream and forwards every event to the
// other tabs on a BroadcastChannel; when it closes, another tab takes over.
//
// The stream is read with fetch rather than EventSource so it can carry
// the API token header. Every time it (re)opens — first load, daemon
// restart, after a "resync" — listeners get a "resync" event and re-read
// what they show, since events may have been missed meanwhile.

import { authHeaders, unauthorized } from './api.js';

const LOCK = 'sparkq-events';
const listeners = new Set();
let started = false;
let retryMs = 2000; // the server's retry: hint replaces it
let failures = 0;
let timer = null;
let controller = null;
let waitingForToken = false;
let channel = null;
let leading = false;
let releaseLock = null;
let state = { state: 'connecting', text: 'Connecting…' };

function setIndicator(s, text) {
  state = { state: s, text };
  const el = document.getElementById('live');
  if (el) {
    el.dataset.state = s;
    el.textContent = text;
  }
  if (leading && channel) channel.postMessage({ kind: 'state', ...state });
}

function dispatch(ev) {
  for (const fn of listeners) {
    try {
      fn(ev);
    } catch (e) {
      console.error('live update handler failed', e);
    }
  }
}

// deliver hands an event to this tab and, when leading, to the others.
function deliver(ev) {
  dispatch(ev);
  if (leading && channel) channel.postMessage({ kind: 'event', ev });
}

// parser turns stream text into events per the SSE format: "field: value"
// lines, a blank line ends an event, lines starting with ":" are comments.
function parser(onEvent) {
  let buf = '';
  let type = '';
  let data = [];
  const line = (l) => {
    if (l === '') {
      if (data.length) onEvent(type || 'message', data.join('\n'));
      type = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
  };
  return (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      line(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
    }
  };
}

function later() {
  if (timer || !leading) return;
  failures += 1;
  const wait = Math.min(retryMs * 2 ** Math.min(failures - 1, 3), 15000);
  timer = setTimeout(() => {
    timer = null;
    connect();
  }, wait);
}

async function connect() {
  if (!leading) return;
  const ctl = new AbortController();
  controller = ctl;
  let res;
  try {
    res = await fetch('/api/events', {
      headers: authHeaders({ Accept: 'text/event-stream' }),
      cache: 'no-store',
      signal: ctl.signal,
    });
  } catch (e) {
    if (ctl.signal.aborted) return;
    setIndicator('offline', 'Offline — retrying');
    later();
    return;
  }
  if (res.status === 401) {
    setIndicator('offline', 'API token needed');
    waitingForToken = true;
    unauthorized();
    return;
  }
  if (!res.ok || !res.body) {
    setIndicator('offline', `Live updates unavailable (HTTP ${res.status})`);
    later();
    return;
  }
  failures = 0;
  setIndicator('live', 'Live');
  // Re-read on every open, the first included: the page's own first load
  // may have raced the subscription. Pages coalesce this with their own
  // loading, so it costs one extra refresh at most.
  deliver({ type: 'resync' });
  const feed = parser((type, raw) => {
    let ev;
    try {
      ev = JSON.parse(raw);
    } catch (e) {
      ev = {};
    }
    ev.type = type;
    deliver(ev);
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      feed(value);
    }
  } catch (e) {
    // connection lost (daemon stopped) or aborted
  }
  if (ctl.signal.aborted) return;
  setIndicator('connecting', 'Reconnecting…');
  later();
}

// lead waits for the lock, then reads the stream until the page goes.
function lead() {
  if (!navigator.locks) {
    leading = true;
    connect();
    return;
  }
  navigator.locks.request(LOCK, () => new Promise((release) => {
    releaseLock = release;
    leading = true;
    failures = 0;
    connect();
  }));
}

function stopLeading() {
  if (controller) controller.abort();
  if (timer) clearTimeout(timer);
  timer = null;
  leading = false;
  if (releaseLock) {
    releaseLock();
    releaseLock = null;
  }
}

// start opens (or joins) the stream once.
export function start() {
  if (started) return;
  started = true;
  if (typeof BroadcastChannel === 'function' && navigator.locks) {
    channel = new BroadcastChannel(LOCK);
    channel.onmessage = (m) => {
      const msg = m.data || {};
      if (leading) {
        // A tab that just opened asks how the stream is doing; one that got
        // an API token asks for a new attempt.
        if (msg.kind === 'hello') channel.postMessage({ kind: 'state', ...state });
        if (msg.kind === 'retry') restart();
        return;
      }
      if (msg.kind === 'event') {
        dispatch(msg.ev);
      } else if (msg.kind === 'state') {
        const was = state.state;
        setIndicator(msg.state, msg.text);
        // Joining a live stream: catch up once, as on a fresh open.
        if (msg.state === 'live' && was !== 'live') dispatch({ type: 'resync' });
      }
    };
    channel.postMessage({ kind: 'hello' });
  }
  lead();
  // A page kept in the back/forward cache must not hold a connection (nor
  // the lock); it catches up when shown again.
  let hidLeading = false;
  window.addEventListener('pagehide', () => {
    hidLeading = leading;
    if (leading) stopLeading();
  });
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted && hidLeading) {
      hidLeading = false;
      setIndicator('connecting', 'Reconnecting…');
      lead();
    }
  });
}

// restart reconnects at once, e.g. after the user entered an API token.
export function restart() {
  if (!started) {
    start();
    return;
  }
  waitingForToken = false;
  failures = 0;
  if (!leading) {
    // Another tab reads the stream: it picks the token up from storage.
    if (channel) channel.postMessage({ kind: 'retry' });
    return;
  }
  if (controller) controller.abort();
  if (timer) clearTimeout(timer);
  timer = null;
  connect();
}

export function needsToken() {
  return waitingForToken;
}

// subscribe registers fn for every event; the returned function removes it.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// throttle returns a function that runs fn at most once per interval ms,
// the first call promptly and later ones coalesced into a trailing call.
// Its now() runs fn at once (after a run in progress), for user actions.
export function throttle(fn, interval) {
  let last = -Infinity;
  let pending = null;
  let running = false;
  let again = null; // null, 'later' or 'now'
  const run = async () => {
    if (pending) {
      clearTimeout(pending);
      pending = null;
    }
    running = true;
    last = performance.now();
    try {
      await fn();
    } finally {
      running = false;
      const next = again;
      again = null;
      if (next === 'now') run();
      else if (next === 'later') schedule();
    }
  };
  const schedule = () => {
    if (running) {
      if (!again) again = 'later';
      return;
    }
    if (pending) return;
    const wait = Math.max(0, last + interval - performance.now());
    pending = setTimeout(run, wait);
  };
  schedule.now = () => {
    if (running) {
      again = 'now';
      return;
    }
    run();
  };
  return schedule;
}
