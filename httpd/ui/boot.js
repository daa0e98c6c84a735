// Starts the dashboard's first API requests while its modules download, so
// the answers are there when the page's code asks for them (js/api.js takes
// them from window.__sparkqBoot by URL, once). A classic script in <head>
// for that reason, and a file because the Content-Security-Policy forbids
// inline script. The URLs must be built exactly as js/dashboard.js builds
// them; anything not matched is simply fetched again.
(function () {
  'use strict';
  var boot = { at: performance.now(), requests: {} };
  window.__sparkqBoot = boot;

  function stored(key, fallback) {
    try {
      var v = window.localStorage.getItem(key);
      return v === null ? fallback : v;
    } catch (e) {
      return fallback;
    }
  }

  var headers = { Accept: 'application/json' };
  var token = stored('sparkq.token', '');
  if (token) headers.Authorization = 'Bearer ' + token;

  function get(path) {
    if (!boot.requests[path]) boot.requests[path] = fetch(path, { headers: headers });
    return boot.requests[path];
  }

  // query mirrors js/api.js: "?k=v&…" from the non-empty values, in order.
  function query(params) {
    var q = new URLSearchParams();
    for (var i = 0; i < params.length; i++) {
      var v = params[i][1];
      if (v !== undefined && v !== null && v !== '') q.set(params[i][0], String(v));
    }
    var s = q.toString();
    return s ? '?' + s : '';
  }

  function json(p) {
    return p.then(function (r) { return r.ok ? r.clone().json() : null; });
  }

  var params = new URLSearchParams(location.search);
  var status = params.get('status') || '';
  if (['queued', 'running', 'succeeded', 'failed'].indexOf(status) < 0) status = '';
  var offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);

  function queue(id) {
    get('/api/queues/' + encodeURIComponent(id));
    get('/api/tasks' + query([['queue_id', id], ['status', status], ['limit', 25], ['offset', offset]]));
  }

  var path = location.pathname.replace(/\/+$/, '');
  var q = path.match(/^\/ui\/queues\/([^/]+)$/);
  var t = path.match(/^\/ui\/tasks\/([^/]+)$/);
  if (!(path === '/ui' || path === '' || path === '/dashboard' || q || t)) return;

  get('/stats');
  get('/api/sessions?limit=100');
  get('/api/tools');
  var queues = get('/api/queues' + query([['session_id', stored('dashboard.session', '')],
    ['state', stored('dashboard.queueState', 'active')], ['limit', 51], ['offset', 0]]));
  if (q) {
    queue(decodeURIComponent(q[1]));
  } else if (t) {
    json(get('/api/tasks/' + t[1])).then(function (b) {
      if (b && b.task) queue(b.task.queue_id);
    }).catch(function () {});
  } else {
    // The dashboard opens on the first queue of the list.
    json(queues).then(function (b) {
      if (b && b.queues && b.queues.length) queue(b.queues[0].id);
    }).catch(function () {});
  }
  get('/api/stats/throughput?minutes=60');
})();
