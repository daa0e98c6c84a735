// Queues page: sessions and queues with their lifecycle actions — create,
// rename, end, archive/unarchive, delete (after confirmation).

import { get, post, put, del, query, enc } from './api.js';
import { h, replace, keyed } from './dom.js';
import { num, relTime, absTime } from './format.js';
import {
  pill, setPill, progress, setProgress, progressText, errorSlot, showError, field, select, fillSelect,
  bindForm, actionButton, confirmDialog, toast,
} from './ui.js';
import { throttle } from './live.js';

const PAGE = 50;

export function createQueuesPage(ctx) {
  const st = { state: 'active', session: '', offset: 0, sessOffset: 0, sessions: [], sessionsMore: false, queues: [], more: false };
  let els = null;
  let dirty = {};
  const refresh = throttle(flush, 250);

  async function flush() {
    if (!els) return;
    if (st.editing) {
      // An inline rename is open: re-rendering would throw away the
      // user's typing. Catch up when it closes.
      return;
    }
    const d = dirty;
    dirty = {};
    await Promise.all([d.sessions && loadSessions(), d.queues && loadQueues()].filter(Boolean));
  }

  async function loadSessions() {
    try {
      const body = await get(`/api/sessions${query({ limit: PAGE + 1, offset: st.sessOffset })}`);
      if (!els) return;
      const all = body.sessions || [];
      st.sessionsMore = all.length > PAGE;
      st.sessions = all.slice(0, PAGE);
      showError(els.sessErr, null);
      renderSessions();
      fillSelect(els.sessionFilter, [['', 'All sessions'], ...st.sessions.map((s) => [s.id, s.name])], st.session);
      const active = st.sessions.filter((s) => s.status === 'active');
      fillSelect(els.newSession, active.length ? active.map((s) => [s.id, s.name]) : [['', 'Create a session first']]);
      els.newSession.disabled = !active.length;
      if (st.queues.length) renderQueues();
    } catch (e) {
      if (els) showError(els.sessErr, e);
    }
  }

  async function loadQueues() {
    const key = `${st.state}|${st.session}|${st.offset}`;
    try {
      const body = await get(`/api/queues${query({ state: st.state, session_id: st.session, limit: PAGE + 1, offset: st.offset })}`);
      if (!els || key !== `${st.state}|${st.session}|${st.offset}`) return;
      const all = body.queues || [];
      st.more = all.length > PAGE;
      st.queues = all.slice(0, PAGE);
      showError(els.queuesErr, null);
      renderQueues();
    } catch (e) {
      if (els) showError(els.queuesErr, e);
    }
  }

  function sessionName(id) {
    const s = st.sessions.find((x) => x.id === id);
    return s ? s.name : id;
  }

  // renameCell swaps a name for an inline form; Escape cancels.
  function renameCell(cell, label, current, save) {
    const input = h('input', { type: 'text', value: current, required: true, 'aria-label': label, autocomplete: 'off' });
    const err = errorSlot();
    const done = () => {
      st.editing = false;
      // Re-render this row even if nothing changed (Cancel).
      const row = cell.closest('tr');
      if (row) row.dataset.sig = '';
      dirty.sessions = dirty.queues = true;
      refresh.now();
    };
    const cancel = h('button', { type: 'button', class: 'btn small', onclick: done }, 'Cancel');
    const form = bindForm(h('form', { class: 'row rename' }, input,
      h('button', { type: 'submit', class: 'btn small primary' }, 'Save'), cancel, err), err, async () => {
      await save(input.value);
      done();
    });
    st.editing = true;
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        cancel.click();
      }
    });
    replace(cell, form);
    input.focus();
    input.select();
  }

  function renderSessions() {
    els.sessPrev.disabled = st.sessOffset === 0;
    els.sessNext.disabled = !st.sessionsMore;
    if (!st.sessions.length) {
      replace(els.sessBody, h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No sessions yet.')));
      return;
    }
    keyed(els.sessBody, st.sessions, {
      key: (s) => s.id,
      sig: (s) => JSON.stringify([s.name, s.description, s.status, s.started_at]),
      render: sessionRow,
    });
  }

  function sessionRow(s) {
    const err = errorSlot();
    const nameCell = h('td', null, s.name, s.description ? h('div', { class: 'muted' }, s.description) : null);
    const actions = h('td', { class: 'actions' },
      h('button', {
        type: 'button', class: 'btn small', dataset: { key: `rename-${s.id}` },
        onclick: () => renameCell(nameCell, `New name for session ${s.name}`, s.name,
          (name) => put(`/api/sessions/${enc(s.id)}`, { name })),
      }, 'Rename'),
      s.status === 'active' ? actionButton('End', err, async () => {
        if (!await confirmDialog(`End session “${s.name}”? Its active queues end with it.`, { confirm: 'End session', danger: false, title: 'End session' })) return;
        await put(`/api/sessions/${enc(s.id)}/end`);
        dirty.sessions = dirty.queues = true;
        refresh.now();
      }, { class: 'btn small' }) : null,
      actionButton('Delete', err, async () => {
        if (!await confirmDialog(`Delete session “${s.name}” with all its queues and tasks? This cannot be undone.`, { confirm: 'Delete session' })) return;
        await del(`/api/sessions/${enc(s.id)}`);
        toast(`Session “${s.name}” deleted`);
        dirty.sessions = dirty.queues = true;
        refresh.now();
      }, { class: 'btn small danger' }),
      err);
    return h('tr', { dataset: { id: s.id } }, nameCell, h('td', null, pill(s.status)),
      h('td', null, h('span', { title: absTime(s.started_at) }, relTime(s.started_at))), actions);
  }

  function renderQueues() {
    els.prev.disabled = st.offset === 0;
    els.next.disabled = !st.more;
    if (!st.queues.length) {
      replace(els.queuesBody, h('tr', null, h('td', { colspan: 6, class: 'empty' }, 'No queues match.')));
      return;
    }
    keyed(els.queuesBody, st.queues, {
      key: (q) => q.id,
      sig: (q) => JSON.stringify([q.name, q.state, sessionName(q.session_id), q.created_at]),
      render: queueRow,
      update: (tr, q) => {
        setPill(tr.querySelector('.pill'), q.status);
        setProgress(tr.querySelector('.progress'), q.stats);
        tr.querySelector('.progress-text').textContent = progressText(q.stats);
      },
    });
  }

  function queueRow(q) {
    const err = errorSlot();
    const nameCell = h('td', null, h('a', { href: `/ui/queues/${enc(q.id)}` }, q.name));
    const buttons = [
      h('button', {
        type: 'button', class: 'btn small', dataset: { key: `rename-${q.id}` },
        onclick: () => renameCell(nameCell, `New name for queue ${q.name}`, q.name,
          (name) => put(`/api/queues/${enc(q.id)}`, { name })),
      }, 'Rename'),
    ];
    if (q.state === 'active') {
      buttons.push(actionButton('End', err, async () => {
        await put(`/api/queues/${enc(q.id)}/end`);
        dirty.queues = true;
        refresh.now();
      }, { class: 'btn small', dataset: { action: 'end' } }));
    }
    if (q.state === 'archived') {
      buttons.push(actionButton('Unarchive', err, async () => {
        await put(`/api/queues/${enc(q.id)}/unarchive`);
        dirty.queues = true;
        refresh.now();
      }, { class: 'btn small', dataset: { action: 'unarchive' } }));
    } else {
      buttons.push(actionButton('Archive', err, async () => {
        await put(`/api/queues/${enc(q.id)}/archive`);
        dirty.queues = true;
        refresh.now();
      }, { class: 'btn small', dataset: { action: 'archive' } }));
    }
    buttons.push(actionButton('Delete', err, async () => {
      const cur = st.queues.find((x) => x.id === q.id) || q;
      const total = cur.stats ? cur.stats.total : 0;
      if (!await confirmDialog(`Delete queue “${q.name}” and its ${num(total)} tasks? This cannot be undone.`, { confirm: 'Delete queue' })) return;
      await del(`/api/queues/${enc(q.id)}`);
      toast(`Queue “${q.name}” deleted`);
      dirty.queues = true;
      refresh.now();
    }, { class: 'btn small danger', dataset: { action: 'delete' } }));
    return h('tr', { dataset: { id: q.id } },
      nameCell,
      h('td', null, sessionName(q.session_id)),
      h('td', null, pill(q.status)),
      h('td', null, progress(q.stats, { label: `Progress of ${q.name}` }), h('div', { class: 'muted progress-text' })),
      h('td', null, h('span', { title: absTime(q.created_at) }, relTime(q.created_at))),
      h('td', { class: 'actions' }, buttons, err));
  }

  function build() {
    const sessErr = errorSlot();
    const sessName = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
    const sessDesc = h('input', { type: 'text', name: 'description', autocomplete: 'off' });
    const sessForm = bindForm(h('form', { 'aria-label': 'New session' },
      h('div', { class: 'field-row' }, field('Session name', sessName), field('Description (optional)', sessDesc, { grow: true }),
        h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Create session')))), sessErr, async (fd) => {
      const description = String(fd.get('description') || '').trim();
      const body = await post('/api/sessions', { name: String(fd.get('name') || ''), ...(description ? { description } : {}) });
      sessName.value = '';
      sessDesc.value = '';
      toast(`Session “${body.session.name}” created`);
      dirty.sessions = true;
      refresh.now();
    });
    const sessBody = h('tbody');
    const sessPrev = h('button', { type: 'button', class: 'btn small', onclick: () => { st.sessOffset = Math.max(0, st.sessOffset - PAGE); dirty.sessions = true; refresh.now(); } }, 'Previous');
    const sessNext = h('button', { type: 'button', class: 'btn small', onclick: () => { st.sessOffset += PAGE; dirty.sessions = true; refresh.now(); } }, 'Next');

    const queuesErr = errorSlot();
    const newSession = select([], '', { name: 'session_id' });
    const newName = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
    const newInstr = h('input', { type: 'text', name: 'instructions', autocomplete: 'off' });
    const createErr = errorSlot();
    const createForm = bindForm(h('form', { 'aria-label': 'New queue' },
      h('div', { class: 'field-row' }, field('Session', newSession), field('Queue name', newName),
        field('Instructions (optional)', newInstr, { grow: true }),
        h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Create queue')))), createErr, async (fd) => {
      const instructions = String(fd.get('instructions') || '').trim();
      const body = await post('/api/queues', {
        session_id: String(fd.get('session_id') || ''), name: String(fd.get('name') || ''),
        ...(instructions ? { instructions } : {}),
      });
      newName.value = '';
      newInstr.value = '';
      toast(`Queue “${body.queue.name}” created`);
      dirty.queues = true;
      refresh.now();
    });
    const stateFilter = select([['active', 'Active'], ['ended', 'Ended'], ['archived', 'Archived'], ['', 'All']], st.state, {
      onchange: () => { st.state = stateFilter.value; st.offset = 0; dirty.queues = true; refresh.now(); },
    });
    const sessionFilter = select([['', 'All sessions']], st.session, {
      onchange: () => { st.session = sessionFilter.value; st.offset = 0; dirty.queues = true; refresh.now(); },
    });
    const queuesBody = h('tbody');
    const prev = h('button', { type: 'button', class: 'btn small', onclick: () => { st.offset = Math.max(0, st.offset - PAGE); dirty.queues = true; refresh.now(); } }, 'Previous');
    const next = h('button', { type: 'button', class: 'btn small', onclick: () => { st.offset += PAGE; dirty.queues = true; refresh.now(); } }, 'Next');

    const th = (t, cls) => h('th', { scope: 'col', class: cls }, t);
    const root = h('div', { class: 'stack' },
      h('h1', null, 'Queues'),
      h('section', { class: 'card', 'aria-labelledby': 'q-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'q-title' }, 'All queues'),
          h('span', { class: 'spacer' }), field('Show', stateFilter), field('Session', sessionFilter)),
        createForm, createErr,
        h('div', { class: 'table-wrap' }, h('table', { class: 'list queues' },
          h('thead', null, h('tr', null, th('Name'), th('Session'), th('Status'), th('Progress'), th('Created'), th('Actions'))),
          queuesBody)),
        queuesErr,
        h('nav', { class: 'pager', 'aria-label': 'Queue pages' }, prev, next)),
      h('section', { class: 'card', 'aria-labelledby': 's-title' },
        h('h2', { id: 's-title' }, 'Sessions'), sessForm, sessErr,
        h('div', { class: 'table-wrap' }, h('table', { class: 'list sessions' },
          h('thead', null, h('tr', null, th('Name'), th('Status'), th('Started'), th('Actions'))),
          sessBody)),
        h('nav', { class: 'pager', 'aria-label': 'Session pages' }, sessPrev, sessNext)));
    els = { root, sessBody, sessErr, sessPrev, sessNext, queuesBody, queuesErr, prev, next, newSession, sessionFilter };
  }

  return {
    mount(main) {
      build();
      main.append(els.root);
      document.title = 'Queues · SparkQ';
      dirty = { sessions: true, queues: true };
      refresh.now();
    },
    update() {},
    unmount() {
      els = null;
      st.editing = false;
      document.title = 'SparkQ';
    },
    onEvent(ev) {
      if (!els) return;
      if (ev.type === 'resync' || ev.type.startsWith('session.')) dirty.sessions = dirty.queues = true;
      else if (ev.type.startsWith('queue.') || ev.type.startsWith('task.')) dirty.queues = true;
      refresh();
    },
  };
}
