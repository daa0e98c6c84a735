// Shared widgets: status pills, progress bars, labelled fields, forms and
// buttons that report API errors next to themselves, confirm dialogs, toasts.

import { h, id } from './dom.js';
import { num } from './format.js';

export function pill(status, label) {
  return h('span', { class: `pill ${status}` }, label || status);
}

// progress draws succeeded/failed/running segments of a queue's tasks. It
// is a progressbar whose value is the number of succeeded tasks.
export function progress(stats, opts = {}) {
  const el = h('div', {
    class: `progress${opts.big ? ' big' : ''}`,
    role: 'progressbar',
    'aria-label': opts.label || 'Progress',
    'aria-valuemin': 0,
  }, h('span', { class: 'seg-ok' }), h('span', { class: 'seg-bad' }), h('span', { class: 'seg-run' }));
  return setProgress(el, stats);
}

// setProgress updates a progress bar in place (so its width animates).
export function setProgress(el, stats) {
  const s = stats || {};
  const total = s.total || 0;
  const pct = (n) => (total > 0 ? `${(100 * (n || 0)) / total}%` : '0%');
  // Widths through the CSSOM: allowed by the CSP, unlike style attributes.
  el.children[0].style.width = pct(s.done);
  el.children[1].style.width = pct(s.failed);
  el.children[2].style.width = pct(s.running);
  el.setAttribute('aria-valuemax', String(total));
  el.setAttribute('aria-valuenow', String(s.done || 0));
  el.setAttribute('aria-valuetext', `${num(s.done || 0)} of ${num(total)} done`);
  return el;
}

export function setPill(el, status, label) {
  el.className = `pill ${status}`;
  el.textContent = label || status;
  return el;
}

export function progressText(stats) {
  const s = stats || {};
  const parts = [`${num(s.done || 0)}/${num(s.total || 0)} done`];
  if (s.running) parts.push(`${num(s.running)} running`);
  if (s.queued) parts.push(`${num(s.queued)} queued`);
  if (s.failed) parts.push(`${num(s.failed)} failed`);
  return parts.join(' · ');
}

// errorSlot is where an action's failure is shown, next to the action.
export function errorSlot() {
  return h('p', { class: 'error', role: 'alert' });
}

export function showError(slot, err) {
  slot.textContent = err ? `Error: ${err.message || err}` : '';
}

// field wraps a control with its label (and an optional hint).
export function field(label, control, opts = {}) {
  if (!control.id) control.id = id('f');
  const hintEl = opts.hint ? h('p', { class: 'hint', id: id('hint') }, opts.hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: `field${opts.grow ? ' grow' : ''}` },
    h('label', { for: control.id }, label), control, hintEl);
}

// select builds a <select> from [value, label] pairs.
export function select(options, value, props = {}) {
  const el = h('select', props);
  fillSelect(el, options, value);
  return el;
}

export function fillSelect(el, options, value) {
  const keep = value === undefined ? el.value : value;
  el.replaceChildren(...options.map(([v, label]) => h('option', { value: v }, label)));
  if (options.some(([v]) => v === keep)) el.value = keep;
  return el;
}

// bindForm runs handler on submit with the form's submit buttons disabled,
// and shows a failure in slot (cleared on the next attempt).
export function bindForm(form, slot, handler) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach((b) => { b.disabled = true; });
    showError(slot, null);
    form.setAttribute('aria-busy', 'true');
    try {
      await handler(new FormData(form));
    } catch (err) {
      showError(slot, err);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      form.removeAttribute('aria-busy');
    }
  });
  return form;
}

// actionButton runs fn on click and shows its failure in slot.
export function actionButton(label, slot, fn, props = {}) {
  const btn = h('button', { type: 'button', class: 'btn', ...props }, label);
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    showError(slot, null);
    try {
      await fn();
    } catch (err) {
      showError(slot, err);
    } finally {
      if (btn.isConnected) btn.disabled = false;
    }
  });
  return btn;
}

// confirmDialog asks a yes/no question in a modal dialog; Escape and
// Cancel answer no. Cancel has focus, so Enter never deletes by accident.
export function confirmDialog(message, { confirm = 'Delete', danger = true, title = 'Are you sure?' } = {}) {
  return new Promise((resolve) => {
    const titleId = id('confirm-title');
    const cancel = h('button', { type: 'button', class: 'btn', value: 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', class: `btn ${danger ? 'danger' : 'primary'}`, value: 'ok' }, confirm);
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': titleId },
      h('div', { class: 'dialog-body' },
        h('h2', { id: titleId }, title),
        h('p', null, message),
        h('div', { class: 'dialog-actions' }, cancel, ok)));
    let answer = false;
    cancel.addEventListener('click', () => dlg.close());
    ok.addEventListener('click', () => { answer = true; dlg.close(); });
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(answer);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

export function toast(message) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: 'toast' }, message);
  box.append(t);
  setTimeout(() => t.remove(), 3500);
}

// tabs builds an ARIA tab list; ←/→/Home/End move between tabs.
export function tabs(items, selected, onSelect, label) {
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label });
  const buttons = items.map(([key, text]) => h('button', {
    type: 'button',
    role: 'tab',
    id: `tab-${key}`,
    'aria-selected': String(key === selected),
    tabIndex: key === selected ? 0 : -1,
    'aria-controls': `panel-${key}`,
    dataset: { key },
    onclick: () => choose(key),
  }, text));
  // choose marks the tab selected in place, so keyboard focus stays on it.
  function choose(key) {
    for (const b of buttons) {
      const on = b.dataset.key === key;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    onSelect(key);
  }
  list.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    let j = -1;
    if (ev.key === 'ArrowRight') j = (i + 1) % buttons.length;
    else if (ev.key === 'ArrowLeft') j = (i - 1 + buttons.length) % buttons.length;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = buttons.length - 1;
    if (j < 0) return;
    ev.preventDefault();
    buttons[j].focus();
    choose(buttons[j].dataset.key);
  });
  list.append(...buttons);
  return list;
}
