// Settings: tools, task classes, prompts, purge settings and the scripts
// index, one tab each (/ui/settings/<tab>). Each tab loads when shown and
// reports errors — including endpoints this daemon does not offer — next
// to the part that failed.

import { get, post, put, del, enc } from './api.js';
import { h, replace, keyed } from './dom.js';
import { num } from './format.js';
import { pill, errorSlot, showError, field, select, fillSelect, bindForm, actionButton, confirmDialog, toast, tabs } from './ui.js';

const TABS = [
  ['tools', 'Tools'],
  ['task-classes', 'Task classes'],
  ['prompts', 'Prompts'],
  ['purge', 'Purge'],
  ['scripts', 'Scripts'],
];

const th = (t, cls) => h('th', { scope: 'col', class: cls }, t);
const empty = (cols, text) => h('tr', null, h('td', { colspan: cols, class: 'empty' }, text));

// rows renders a table body keyed by key, so a reload (e.g. on a live
// event) keeps unchanged rows — and the errors shown in them.
function rows(body, items, key, render, cols, emptyText) {
  if (!items.length) {
    replace(body, empty(cols, emptyText));
    return;
  }
  keyed(body, items, { key, sig: (x) => JSON.stringify(x), render });
}

function toolsTab() {
  const body = h('tbody');
  const loadErr = errorSlot();
  const err = errorSlot();
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
  const desc = h('input', { type: 'text', name: 'description', autocomplete: 'off' });
  const cls = select([], '', { name: 'task_class', required: true });
  const form = bindForm(h('form', { 'aria-label': 'Add or replace a tool' },
    h('div', { class: 'field-row' }, field('Tool name', name), field('Description', desc, { grow: true }), field('Task class', cls),
      h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save tool')))), err, async (fd) => {
    await post('/api/tools', { name: String(fd.get('name') || ''), description: String(fd.get('description') || ''), task_class: String(fd.get('task_class') || '') });
    toast(`Tool ${fd.get('name')} saved`);
    name.value = '';
    desc.value = '';
    await load();
  });
  const el = h('div', null,
    h('p', { class: 'muted' }, 'Tools name what runs a task; each belongs to a task class, which sets its timeout. Saving an existing name replaces it.'),
    form, err,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, th('Name'), th('Description'), th('Task class'), th('Actions'))), body)),
    loadErr);
  async function load() {
    try {
      const [tools, classes] = await Promise.all([get('/api/tools'), get('/api/task-classes')]);
      showError(loadErr, null);
      fillSelect(cls, (classes.task_classes || []).map((c) => [c.name, c.name]));
      const list = tools.tools || [];
      rows(body, list, (t) => t.name, (t) => {
        const rowErr = errorSlot();
        return h('tr', null, h('td', { class: 'mono' }, t.name), h('td', null, t.description || ''), h('td', { class: 'mono' }, t.task_class),
          h('td', { class: 'actions' }, actionButton('Delete', rowErr, async () => {
            if (!await confirmDialog(`Delete tool ${t.name}?`, { confirm: 'Delete tool' })) return;
            await del(`/api/tools/${enc(t.name)}`);
            await load();
          }, { class: 'btn small danger' }), rowErr));
      }, 4, 'No tools.');
    } catch (e) {
      showError(loadErr, e);
    }
  }
  return { el, load, events: ['registry.changed'] };
}

function classesTab() {
  const body = h('tbody');
  const loadErr = errorSlot();
  const err = errorSlot();
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
  const timeout = h('input', { type: 'number', name: 'timeout', required: true, min: 1, step: 1 });
  const desc = h('input', { type: 'text', name: 'description', autocomplete: 'off' });
  const form = bindForm(h('form', { 'aria-label': 'Add or replace a task class' },
    h('div', { class: 'field-row' }, field('Class name', name), field('Timeout (seconds)', timeout), field('Description', desc, { grow: true }),
      h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save class')))), err, async (fd) => {
    await post('/api/task-classes', { name: String(fd.get('name') || ''), timeout: Number(fd.get('timeout')), description: String(fd.get('description') || '') });
    toast(`Task class ${fd.get('name')} saved`);
    name.value = '';
    timeout.value = '';
    desc.value = '';
    await load();
  });
  const el = h('div', null,
    h('p', { class: 'muted' }, 'A running task is warned about at 1× its class timeout and auto-failed at 2×.'),
    form, err,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, th('Name'), th('Timeout', 'num'), th('Description'), th('Actions'))), body)),
    loadErr);
  async function load() {
    try {
      const data = await get('/api/task-classes');
      showError(loadErr, null);
      const list = data.task_classes || [];
      rows(body, list, (c) => c.name, (c) => {
        const rowErr = errorSlot();
        return h('tr', null, h('td', { class: 'mono' }, c.name), h('td', { class: 'num' }, `${num(c.timeout)} s`), h('td', null, c.description || ''),
          h('td', { class: 'actions' }, actionButton('Delete', rowErr, async () => {
            if (!await confirmDialog(`Delete task class ${c.name}?`, { confirm: 'Delete class' })) return;
            await del(`/api/task-classes/${enc(c.name)}`);
            await load();
          }, { class: 'btn small danger' }), rowErr));
      }, 4, 'No task classes.');
    } catch (e) {
      showError(loadErr, e);
    }
  }
  return { el, load, events: ['registry.changed'] };
}

function promptsTab() {
  const list = h('tbody');
  const loadErr = errorSlot();
  const err = errorSlot();
  const command = h('input', { type: 'text', name: 'command', required: true, autocomplete: 'off', pattern: '[a-z0-9][a-z0-9\\-]*' });
  const label = h('input', { type: 'text', name: 'label', required: true, autocomplete: 'off' });
  const desc = h('input', { type: 'text', name: 'description', autocomplete: 'off' });
  const template = h('textarea', { name: 'template_text', required: true, rows: 3 });
  const form = bindForm(h('form', { 'aria-label': 'New prompt' },
    h('div', { class: 'field-row' },
      field('Command', command, { hint: 'A short name for the template: lowercase letters, digits, dashes.' }),
      field('Label', label), field('Description', desc, { grow: true })),
    field('Template', template),
    h('button', { type: 'submit', class: 'btn primary' }, 'Add prompt')), err, async (fd) => {
    await post('/api/prompts', {
      command: String(fd.get('command') || ''), label: String(fd.get('label') || ''),
      template_text: String(fd.get('template_text') || ''), description: String(fd.get('description') || ''),
    });
    toast(`Prompt >${fd.get('command')} added`);
    for (const el of [command, label, desc, template]) el.value = '';
    await load();
  });
  const el = h('div', null, form, err,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, th('Command'), th('Label'), th('Description'), th('Category'), th('State'), th('Actions'))), list)),
    loadErr);
  async function load() {
    try {
      const data = await get('/api/prompts');
      showError(loadErr, null);
      const prompts = (data.prompts || []).filter((p) => p && typeof p === 'object');
      rows(list, prompts, (p) => p.id, (p) => {
        const rowErr = errorSlot();
        const active = p.active === true || p.active === 1;
        return h('tr', null,
          h('td', { class: 'mono' }, `>${p.command}`), h('td', null, p.label), h('td', null, p.description || ''),
          h('td', null, p.category || ''), h('td', null, pill(active ? 'succeeded' : 'archived', active ? 'Active' : 'Inactive')),
          h('td', { class: 'actions' },
            actionButton(active ? 'Deactivate' : 'Activate', rowErr, async () => {
              await put(`/api/prompts/${enc(p.id)}`, { active: !active });
              await load();
            }, { class: 'btn small' }),
            actionButton('Delete', rowErr, async () => {
              if (!await confirmDialog(`Delete prompt >${p.command}?`, { confirm: 'Delete prompt' })) return;
              await del(`/api/prompts/${enc(p.id)}`);
              await load();
            }, { class: 'btn small danger' }), rowErr));
      }, 6, 'No prompts.');
    } catch (e) {
      replace(list, empty(6, 'Prompts could not be loaded.'));
      showError(loadErr, e);
    }
  }
  return { el, load, events: [] };
}

function purgeTab() {
  const days = h('input', { type: 'number', name: 'older_than_days', min: 1, step: 1, required: true });
  const loadErr = errorSlot();
  const saveErr = errorSlot();
  const purgeErr = errorSlot();
  const result = h('p', { class: 'notice', role: 'status' });
  const saveForm = bindForm(h('form', { 'aria-label': 'Purge settings' },
    h('div', { class: 'field-row' },
      field('Delete finished tasks older than (days)', days, { hint: 'Succeeded and failed tasks past this age are purged automatically.' }),
      h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save')))), saveErr, async (fd) => {
    const n = Number(fd.get('older_than_days'));
    if (!Number.isInteger(n) || n <= 0) throw new Error('Days must be a whole number above zero');
    await put('/api/config/purge/config', { value: { older_than_days: n } });
    toast('Purge settings saved');
  });
  const purgeNow = actionButton('Purge now', purgeErr, async () => {
    const n = Number(days.value) || 3;
    if (!await confirmDialog(`Delete every succeeded or failed task that finished more than ${num(n)} days ago?`, { confirm: 'Purge' })) return;
    const body = await post('/api/purge', { older_than_days: n });
    result.textContent = body.message || `Purged ${num(body.deleted)} tasks`;
  }, { class: 'btn danger' });
  const el = h('div', null, saveForm, saveErr, loadErr,
    h('h3', null, 'Purge now'),
    h('p', { class: 'muted' }, 'Runs a purge with the number of days above, without waiting for the schedule.'),
    purgeNow, purgeErr, result);
  async function load() {
    try {
      const cfg = await get('/api/config');
      showError(loadErr, null);
      const v = cfg && cfg.purge && cfg.purge.older_than_days;
      if (v) days.value = String(v);
    } catch (e) {
      if (!days.value) days.value = '3';
      showError(loadErr, e);
    }
  }
  return { el, load, events: [] };
}

function scriptsTab() {
  const body = h('tbody');
  const loadErr = errorSlot();
  const search = h('input', { type: 'search', autocomplete: 'off' });
  const classFilter = select([['', 'All task classes']], '');
  let scripts = [];
  const io = (list) => (Array.isArray(list) ? list.map((x) => (x && typeof x === 'object'
    ? `${x.name}${x.required ? '' : '?'}` : String(x))).join(', ') : '');
  function render() {
    const q = search.value.trim().toLowerCase();
    const cls = classFilter.value;
    const shown = scripts.filter((s) => (!q || `${s.name} ${s.description || ''}`.toLowerCase().includes(q))
      && (!cls || s.task_class === cls));
    replace(body, shown.length ? shown.map((s) => h('tr', null,
      h('td', { class: 'mono', title: s.path || '' }, s.name),
      h('td', null, s.description || ''),
      h('td', { class: 'num' }, s.timeout ? `${num(s.timeout)} s` : ''),
      h('td', { class: 'mono' }, s.task_class || ''),
      h('td', null, io(s.inputs)),
      h('td', null, io(s.outputs)))) : empty(6, scripts.length ? 'No script matches.' : 'No scripts found.'));
  }
  search.addEventListener('input', render);
  classFilter.addEventListener('change', render);
  const el = h('div', null,
    h('div', { class: 'field-row' }, field('Search', search, { grow: true }), field('Task class', classFilter)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, th('Name'), th('Description'), th('Timeout', 'num'), th('Task class'), th('Inputs'), th('Outputs'))), body)),
    h('p', { class: 'hint' }, 'Inputs and outputs marked ? are optional.'),
    loadErr);
  async function load() {
    try {
      const data = await get('/api/scripts/index');
      showError(loadErr, null);
      scripts = (Array.isArray(data) ? data : (data && data.scripts) || []).filter((s) => s && typeof s === 'object');
      const classes = [...new Set(scripts.map((s) => s.task_class).filter(Boolean))].sort();
      fillSelect(classFilter, [['', 'All task classes'], ...classes.map((c) => [c, c])]);
      render();
    } catch (e) {
      scripts = [];
      replace(body, empty(6, 'The scripts index could not be loaded.'));
      showError(loadErr, e);
    }
  }
  return { el, load, events: [] };
}

export function createSettingsPage() {
  let els = null;
  let tab = 'tools';
  const makers = { tools: toolsTab, 'task-classes': classesTab, prompts: promptsTab, purge: purgeTab, scripts: scriptsTab };
  let current = null;

  function show(key) {
    tab = makers[key] ? key : 'tools';
    current = makers[tab]();
    replace(els.panel, current.el);
    els.panel.setAttribute('aria-labelledby', `tab-${tab}`);
    els.panel.id = `panel-${tab}`;
    document.title = `Settings · ${TABS.find(([k]) => k === tab)[1]} · SparkQ`;
    current.load();
  }

  return {
    mount(main, r) {
      tab = makers[r.tab] ? r.tab : 'tools';
      const panel = h('div', { role: 'tabpanel', tabindex: 0 });
      const list = tabs(TABS, tab, (key) => {
        history.replaceState(null, '', `/ui/settings/${key}`);
        show(key);
      }, 'Settings sections');
      els = { panel, list };
      main.append(h('div', { class: 'stack' }, h('h1', null, 'Settings'),
        h('section', { class: 'card' }, list, panel)));
      show(tab);
    },
    update(r) {
      if (els && (r.tab || 'tools') !== tab) {
        for (const b of els.list.querySelectorAll('[role="tab"]')) {
          const on = b.dataset.key === (r.tab || 'tools');
          b.setAttribute('aria-selected', String(on));
          b.tabIndex = on ? 0 : -1;
        }
        show(r.tab || 'tools');
      }
    },
    unmount() {
      els = null;
      current = null;
      document.title = 'SparkQ';
    },
    onEvent(ev) {
      if (current && (ev.type === 'resync' || current.events.includes(ev.type))) current.load();
    },
  };
}
