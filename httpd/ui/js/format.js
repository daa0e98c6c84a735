// Formatting of times, numbers and task previews for display.

const nf = new Intl.NumberFormat();

export function num(n) {
  return nf.format(Number(n) || 0);
}

export function absTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString();
}

export function relTime(iso, now = Date.now()) {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const s = Math.round((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ago`;
  const d = Math.floor(h / 24);
  if (d < 30) return `${d}d ago`;
  return new Date(t).toLocaleDateString();
}

// preview is one line of a task's prompt (or payload) for lists.
export function preview(task, max = 120) {
  // The prompt as typed: the composed one starts with the queue's
  // instructions, which would make every row of a queue look the same.
  let text = task.raw_prompt || task.prompt_preview;
  if (!text) {
    text = task.payload || '';
  }
  text = String(text).replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// pretty shows JSON text indented; anything else as it is.
export function pretty(value) {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return JSON.stringify(value, null, 2);
  const t = value.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch (e) {
      return value;
    }
  }
  return value;
}

export function plural(n, one, many) {
  return `${num(n)} ${n === 1 ? one : many}`;
}
