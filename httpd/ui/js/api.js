// A small JSON client for the daemon's API. Errors carry the server's
// message (its envelope is {"error": "Error: …", "status": N}).

export class APIError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'APIError';
    this.status = status;
  }
}

// The API token, when the daemon requires one (server.api_token_file). It
// reaches the page as /ui/#token=… (the fragment never leaves the browser)
// or through the prompt shown on a 401, and is kept in localStorage.
const TOKEN_KEY = 'sparkq.token';
let token = '';
try {
  token = localStorage.getItem(TOKEN_KEY) || '';
} catch (e) {
  token = '';
}

export function setToken(value) {
  token = String(value || '').trim();
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch (e) {
    // kept for this page only
  }
}

// authHeaders adds the Authorization header when there is a token.
export function authHeaders(headers = {}) {
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

// unauthorized tells the app (which asks for a token) that one is needed.
export function unauthorized() {
  window.dispatchEvent(new CustomEvent('sparkq:unauthorized', { detail: { hadToken: !!token } }));
}

// bootResponse hands over a response boot.js requested for this URL while
// the modules loaded; each is used once, and only shortly after load.
function bootResponse(path) {
  const boot = window.__sparkqBoot;
  if (!boot || !boot.requests[path]) return null;
  const res = boot.requests[path];
  delete boot.requests[path];
  return performance.now() - boot.at < 10000 ? res : null;
}

export async function api(method, path, body) {
  const init = { method, headers: authHeaders({ Accept: 'application/json' }) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await ((method === 'GET' && bootResponse(path)) || fetch(path, init));
  } catch (e) {
    throw new APIError('Network error: the SparkQ daemon did not answer (is it running?)', 0);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (res.status === 401) unauthorized();
  if (!res.ok) {
    const raw = (data && (data.error || data.message || data.detail)) || res.statusText || 'request failed';
    const msg = String(raw).replace(/^Error:\s*/, '');
    throw new APIError(`${msg} (HTTP ${res.status})`, res.status);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// query builds "?k=v&…" from the non-empty values of params.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
