// DOM building without markup strings. Every string a caller passes ends up
// as a text node or an attribute value, never parsed as HTML, so user data
// (queue names, prompts, results) cannot inject elements or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Properties set directly on the element instead of as attributes.
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'htmlFor', 'tabIndex', 'indeterminate']);

function setProps(el, props) {
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// append adds children: nodes as they are, strings and numbers as text.
export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// h('button', {class: 'btn', onclick: fn}, 'Label') builds an element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  return append(el, children);
}

// svg builds an SVG element; attributes are always set as attributes.
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  return append(el, children);
}

// replace swaps el's children, keeping keyboard focus on the element with
// the same data-key when the focused element was among them (live updates
// re-render lists under the user's cursor).
export function replace(el, ...children) {
  const active = document.activeElement;
  const key = active && el.contains(active) ? active.dataset.key : undefined;
  el.replaceChildren();
  append(el, children);
  if (key !== undefined) {
    const again = el.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
  return el;
}

// keyed updates a list in place: a child whose key and signature are
// unchanged is kept (update may refresh its volatile parts), others are
// rendered anew, and the DOM is touched only when the sequence changed.
// Live updates then never swap a button out from under a click.
export function keyed(container, items, { key, sig = () => '', render, update }) {
  const old = new Map();
  for (const el of container.children) {
    if (el.dataset.k !== undefined) old.set(el.dataset.k, el);
  }
  const next = items.map((item) => {
    const k = String(key(item));
    const s = sig(item);
    let el = old.get(k);
    if (!el || el.dataset.sig !== s) {
      el = render(item);
      el.dataset.k = k;
      el.dataset.sig = s;
    }
    if (update) update(el, item);
    return el;
  });
  const kids = container.children;
  if (next.length === kids.length && next.every((el, i) => kids[i] === el)) return container;
  return replace(container, next);
}

let uid = 0;
// id returns a unique element id for label/aria wiring.
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}
