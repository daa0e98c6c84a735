// Dashboard: counts, throughput, the queue list with progress, the selected
// queue's tasks (status filter, server-side pages) and a task's details
// with its actions. Everything re-reads only what an event touched, a page
// at a time, so it stays fast however many tasks the store holds.

import { get, post, put, del, query, enc } from './api.js';
import { h, replace, keyed } from './dom.js';
import { num, relTime, absTime, preview, pretty } from './format.js';
import {
  pill, setPill, progress, setProgress, progressText, errorSlot, showError, field, select, fillSelect,
  bindForm, actionButton, confirmDialog, toast, tabs,
} from './ui.js';
import { throughputCard } from './chart.js';
import { throttle } from './live.js';

const PAGE = 25;
const QUEUE_PAGE = 50;
// [status filter value, label, stats key]
const FILTERS = [
  ['', 'All', 'total'],
  ['queued', 'Queued', 'queued'],
  ['running', 'Running', 'running'],
  ['succeeded', 'Succeeded', 'done'],
  ['failed', 'Failed', 'failed'],
];
const QUEUE_STATES = [['active', 'Active'], ['ended', 'Ended'], ['archived', 'Archived'], ['', 'All']];

function stored(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v;
  } catch (e) {
    return fallback;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch (e) {
    // not persisted
  }
}

export function createDashboard(ctx) {
  const st = {
    session: stored('dashboard.session', ''),
    queueState: stored('dashboard.queueState', 'active'),
    queueOffset: 0,
    sessions: [],
    queues: [],
    queuesMore: false,
    tools: [],
    autoSelect: false,
    queueId: null,
    queue: null,
    status: '',
    offset: 0,
    tasks: [],
    more: false,
    tasksFor: '',
    taskId: null,
    task: null,
  };
  let els = null;
  let dirty = {};
  let timers = [];
  let ready = false;
  const chart = throughputCard();
  const chartRefresh = throttle(() => chart.load(), 5000);
  const refresh = throttle(flush, 250);

  // ---------- loading ----------

  async function flush() {
    if (!els) return;
    const d = dirty;
    dirty = {};
    const jobs = [];
    if (d.counts) jobs.push(loadCounts());
    if (d.sessions) jobs.push(loadSessions());
    if (d.tools) jobs.push(loadTools());
    if (d.queues) jobs.push(loadQueues());
    if (d.task) jobs.push(loadTask());
    if (d.queue) jobs.push(loadQueue());
    if (d.tasks) jobs.push(loadTasks());
    await Promise.all(jobs);
    if (!els) return;
    // The queue became known only now (first queue of the list, or the
    // queue of a deep-linked task): load it at once, not on the next tick.
    if (st.queueId && (!st.queue || st.queue.id !== st.queueId)) {
      await Promise.all([loadQueue(), loadTasks()]);
    }
    if (!ready && (st.queueId ? st.tasksFor === taskKey() : d.queues)) markReady();
  }

  // markReady records when the first data is on screen, for the browser
  // tests' paint-time measurement (data-ready on <html>).
  function markReady() {
    ready = true;
    window.__sparkqRendered = performance.now();
    const mark = () => {
      window.__sparkqReady = performance.now();
      document.documentElement.dataset.ready = 'true';
    };
    // After the next frame, i.e. once painted; a hidden tab paints nothing.
    if (document.visibilityState === 'hidden') mark();
    else requestAnimationFrame(() => setTimeout(mark, 0));
  }

  async function loadCounts() {
    try {
      const c = await get('/stats');
      if (!els) return;
      els.stats.sessions.textContent = num(c.sessions);
      els.stats.queues.textContent = num(c.queues);
      els.stats.queued.textContent = num(c.queued_tasks);
      els.stats.running.textContent = num(c.running_tasks);
      showError(els.statsErr, null);
    } catch (e) {
      if (els) showError(els.statsErr, e);
    }
  }

  async function loadSessions() {
    try {
      const body = await get('/api/sessions?limit=100');
      if (!els) return;
      st.sessions = body.sessions || [];
      if (st.session && st.sessions.length < 100 && !st.sessions.some((x) => x.id === st.session)) {
        // The remembered session filter names a deleted session.
        st.session = '';
        store('dashboard.session', '');
        dirty.queues = true;
        refresh();
      }
      const opts = [['', 'All sessions'], ...st.sessions.map((s) => [s.id, s.status === 'ended' ? `${s.name} (ended)` : s.name])];
      fillSelect(els.sessionFilter, opts, st.session);
      const active = st.sessions.filter((s) => s.status === 'active');
      fillSelect(els.newQueueSession, active.length ? active.map((s) => [s.id, s.name]) : [['', 'Create a session first']]);
      els.newQueueSession.disabled = active.length === 0;
      if (st.queue) renderQueueHead();
    } catch (e) {
      if (els) showError(els.queuesErr, e);
    }
  }

  async function loadTools() {
    try {
      const body = await get('/api/tools');
      if (!els) return;
      st.tools = body.tools || [];
      const all = st.tools.map((t) => [t.name, t.description ? `${t.description} (${t.name})` : t.name]);
      fillSelect(els.taskTool, all, st.tools.some((t) => t.name === 'run-bash') && !els.taskTool.value ? 'run-bash' : undefined);
      const llm = st.tools.filter((t) => String(t.task_class).startsWith('LLM_'))
        .map((t) => [t.name, t.description ? `${t.description} (${t.name})` : t.name]);
      fillSelect(els.quickTool, [['', 'Auto (by prompt length)'], ...llm]);
    } catch (e) {
      if (els) showError(els.addErr, e);
    }
  }

  async function loadQueues() {
    const key = `${st.session}|${st.queueState}|${st.queueOffset}`;
    try {
      const body = await get(`/api/queues${query({
        session_id: st.session, state: st.queueState, limit: QUEUE_PAGE + 1, offset: st.queueOffset,
      })}`);
      if (!els || key !== `${st.session}|${st.queueState}|${st.queueOffset}`) return;
      const qs = body.queues || [];
      st.queuesMore = qs.length > QUEUE_PAGE;
      st.queues = qs.slice(0, QUEUE_PAGE);
      showError(els.queuesErr, null);
      renderQueues();
      if (st.autoSelect && !st.queueId && st.queues.length) {
        // Show the first queue; flush loads it straight after this. The
        // address names it, so a reload keeps the view.
        st.autoSelect = false;
        st.queueId = st.queues[0].id;
        history.replaceState(null, '', queueURL(st.queueId, st.status, st.offset));
        markQueueSelected();
      } else if (!st.queueId) {
        renderNoQueue();
      }
    } catch (e) {
      if (els) showError(els.queuesErr, e);
    }
  }

  async function loadQueue() {
    const id = st.queueId;
    if (!id) {
      st.queue = null;
      return;
    }
    try {
      const body = await get(`/api/queues/${enc(id)}`);
      if (!els || id !== st.queueId) return;
      st.queue = body.queue;
      showError(els.headErr, null);
      renderQueueHead();
      renderFilterCounts();
      renderPager();
    } catch (e) {
      if (!els || id !== st.queueId) return;
      st.queue = null;
      els.panel.hidden = false;
      els.head.dataset.sig = '';
      replace(els.head, h('h1', null, 'Queue unavailable'));
      showError(els.headErr, e);
      els.addCard.hidden = true;
    }
  }

  function taskKey() {
    return `${st.queueId}|${st.status}|${st.offset}`;
  }

  async function loadTasks() {
    const id = st.queueId;
    if (!id) return;
    const key = taskKey();
    try {
      const body = await get(`/api/tasks${query({ queue_id: id, status: st.status, limit: PAGE, offset: st.offset })}`);
      if (!els || key !== taskKey()) return;
      st.tasks = body.tasks || [];
      st.more = body.next_offset !== null && body.next_offset !== undefined;
      st.tasksFor = key;
      showError(els.tasksErr, null);
      renderTasks();
      renderPager();
    } catch (e) {
      if (els && key === taskKey()) showError(els.tasksErr, e);
    }
  }

  async function loadTask() {
    const id = st.taskId;
    if (!id) return;
    try {
      const body = await get(`/api/tasks/${enc(id)}`);
      if (!els || id !== st.taskId) return;
      st.task = body.task;
      if (st.task.queue_id !== st.queueId) {
        st.queueId = st.task.queue_id;
        st.queue = null;
        markQueueSelected();
      }
      renderTask();
    } catch (e) {
      if (!els || id !== st.taskId) return;
      st.task = null;
      renderTaskGone(e);
    }
  }

  // ---------- building ----------

  function build() {
    const stat = (label) => {
      const n = h('div', { class: 'n' }, '–');
      return [n, h('section', { class: 'card stat' }, n, h('div', { class: 'l' }, label))];
    };
    const [sessions, sessionsCard] = stat('Sessions');
    const [queues, queuesCard] = stat('Queues');
    const [queued, queuedCard] = stat('Queued tasks');
    const [running, runningCard] = stat('Running tasks');
    const statsErr = errorSlot();

    // sidebar: queue list and creation forms
    const sessionFilter = select([['', 'All sessions']], st.session, {
      onchange: () => {
        st.session = sessionFilter.value;
        st.queueOffset = 0;
        store('dashboard.session', st.session);
        dirty.queues = true;
        refresh();
      },
    });
    const stateFilter = select(QUEUE_STATES, st.queueState, {
      onchange: () => {
        st.queueState = stateFilter.value;
        st.queueOffset = 0;
        store('dashboard.queueState', st.queueState);
        dirty.queues = true;
        refresh();
      },
    });
    const queueList = h('ul', { class: 'queue-list', 'aria-label': 'Queues' });
    const queuesErr = errorSlot();
    const queuePrev = h('button', { type: 'button', class: 'btn small', onclick: () => pageQueues(-1) }, 'Previous');
    const queueNext = h('button', { type: 'button', class: 'btn small', onclick: () => pageQueues(1) }, 'Next');
    const queuePager = h('div', { class: 'pager' }, queuePrev, queueNext);

    const newSessionErr = errorSlot();
    const newSessionName = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off', maxlength: 200 });
    const newSessionForm = bindForm(h('form', { class: 'new-session', 'aria-label': 'New session' },
      field('Session name', newSessionName),
      h('button', { type: 'submit', class: 'btn' }, 'Create session'),
      newSessionErr), newSessionErr, async (fd) => {
      const body = await post('/api/sessions', { name: String(fd.get('name') || '') });
      newSessionName.value = '';
      toast(`Session “${body.session.name}” created`);
      await loadSessions();
      els.newQueueSession.value = body.session.id;
      els.newQueueName.focus();
    });

    const newQueueErr = errorSlot();
    const newQueueSession = select([], '', { name: 'session_id' });
    const newQueueName = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off', maxlength: 200 });
    const newQueueInstr = h('textarea', { name: 'instructions', rows: 2 });
    const newQueueForm = bindForm(h('form', { class: 'new-queue', 'aria-label': 'New queue' },
      field('Session', newQueueSession),
      field('Queue name', newQueueName),
      field('Instructions (optional)', newQueueInstr),
      h('button', { type: 'submit', class: 'btn primary' }, 'Create queue'),
      newQueueErr), newQueueErr, async (fd) => {
      const instructions = String(fd.get('instructions') || '').trim();
      const body = await post('/api/queues', {
        session_id: String(fd.get('session_id') || ''),
        name: String(fd.get('name') || ''),
        ...(instructions ? { instructions } : {}),
      });
      newQueueName.value = '';
      newQueueInstr.value = '';
      toast(`Queue “${body.queue.name}” created`);
      ctx.navigate(`/ui/queues/${enc(body.queue.id)}`);
    });

    const sidebar = h('aside', { class: 'sidebar', 'aria-label': 'Queues and sessions' },
      h('section', { class: 'card', 'aria-labelledby': 'queues-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'queues-title' }, 'Queues')),
        h('div', { class: 'field-row' }, field('Session', sessionFilter), field('Show', stateFilter)),
        queueList, queuePager, queuesErr),
      h('section', { class: 'card', 'aria-labelledby': 'new-queue-title' },
        h('h2', { id: 'new-queue-title' }, 'New queue'), newQueueForm),
      h('section', { class: 'card', 'aria-labelledby': 'new-session-title' },
        h('h2', { id: 'new-session-title' }, 'New session'), newSessionForm));

    // panel: the selected queue
    const head = h('div', { class: 'panel-head' });
    const headErr = errorSlot();
    const noQueue = h('section', { class: 'card empty-state', hidden: true });

    const addErr = errorSlot();
    const quickPrompt = h('textarea', { name: 'prompt', rows: 3, required: true });
    const quickTool = select([['', 'Auto (by prompt length)']], '', { name: 'tool_name' });
    const quickForm = bindForm(h('form', { class: 'quick-add', 'aria-label': 'Quick add' },
      field('Prompt', quickPrompt, { hint: 'Enter adds the task; Shift+Enter starts a new line. Queue instructions are added by the server.' }),
      h('div', { class: 'field-row' }, field('Model', quickTool),
        h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Add'))),
    ), addErr, async (fd) => {
      const tool = String(fd.get('tool_name') || '');
      const body = await post('/api/tasks/quick-add', {
        queue_id: st.queueId, mode: 'llm', prompt: String(fd.get('prompt') || ''), ...(tool ? { tool_name: tool } : {}),
      });
      quickPrompt.value = '';
      toast(`Task ${body.friendly_id || body.task_id} added`);
      dirty.tasks = dirty.queue = true;
      refresh();
    });
    quickPrompt.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        quickForm.requestSubmit();
      }
    });

    const taskTool = select([], '', { name: 'tool_name' });
    const taskPayload = h('textarea', { name: 'payload', rows: 4, class: 'code', spellcheck: 'false' });
    taskPayload.value = '{\n  "prompt": ""\n}';
    const taskTimeout = h('input', { type: 'number', name: 'timeout', min: 1, step: 1, inputmode: 'numeric', placeholder: 'task class default' });
    const taskForm = bindForm(h('form', { class: 'add-task', 'aria-label': 'Add task' },
      h('div', { class: 'field-row' }, field('Tool', taskTool),
        field('Timeout in seconds (optional)', taskTimeout)),
      field('Payload (JSON object)', taskPayload),
      h('button', { type: 'submit', class: 'btn primary' }, 'Add task'),
    ), addErr, async (fd) => {
      let payload;
      try {
        payload = JSON.parse(String(fd.get('payload') || ''));
      } catch (e) {
        throw new Error(`Payload is not valid JSON: ${e.message}`);
      }
      if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
        throw new Error('Payload must be a JSON object, like {"prompt": "…"}');
      }
      const timeout = String(fd.get('timeout') || '').trim();
      const body = await post('/api/tasks', {
        queue_id: st.queueId, tool_name: String(fd.get('tool_name') || ''), payload,
        ...(timeout ? { timeout: Number(timeout) } : {}),
      });
      toast(`Task ${body.task.friendly_id} added`);
      dirty.tasks = dirty.queue = true;
      refresh();
    });
    const quickPanel = h('div', { role: 'tabpanel', id: 'panel-quick', 'aria-labelledby': 'tab-quick' }, quickForm);
    const taskPanel = h('div', { role: 'tabpanel', id: 'panel-task', 'aria-labelledby': 'tab-task', hidden: true }, taskForm);
    const addTabs = tabs([['quick', 'Quick add'], ['task', 'Task (JSON payload)']], 'quick', (key) => {
      quickPanel.hidden = key !== 'quick';
      taskPanel.hidden = key !== 'task';
      showError(addErr, null);
    }, 'Add a task');
    const addCard = h('section', { class: 'card', 'aria-label': 'Add a task' }, addTabs, quickPanel, taskPanel, addErr);

    const filterInputs = [];
    const filterCounts = {};
    const filters = h('fieldset', { class: 'filters' }, h('legend', null, 'Status filter'),
      FILTERS.map(([value, label, key]) => {
        const input = h('input', {
          type: 'radio', name: 'status', value, checked: value === st.status,
          onchange: () => {
            if (input.checked) ctx.navigate(queueURL(st.queueId, value, 0));
          },
        });
        filterInputs.push(input);
        filterCounts[key] = h('span', { class: 'count' });
        return h('label', null, input, label, ' ', filterCounts[key]);
      }));
    const taskBody = h('tbody');
    const table = h('table', { class: 'list tasks' },
      h('caption', { class: 'sr-only' }, 'Tasks of the selected queue, newest first'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Task'), h('th', { scope: 'col' }, 'Tool'),
        h('th', { scope: 'col' }, 'Prompt / payload'), h('th', { scope: 'col', class: 'num' }, 'Attempts'),
        h('th', { scope: 'col' }, 'Created'))),
      taskBody);
    const tasksErr = errorSlot();
    const range = h('span', { class: 'range', 'aria-live': 'polite' });
    const prev = h('button', { type: 'button', class: 'btn small', onclick: () => ctx.navigate(queueURL(st.queueId, st.status, Math.max(0, st.offset - PAGE))) }, 'Previous');
    const next = h('button', { type: 'button', class: 'btn small', onclick: () => ctx.navigate(queueURL(st.queueId, st.status, st.offset + PAGE)) }, 'Next');
    const tasksCard = h('section', { class: 'card', 'aria-labelledby': 'tasks-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'tasks-title' }, 'Tasks'), filters),
      h('div', { class: 'table-wrap' }, table), tasksErr,
      h('nav', { class: 'pager', 'aria-label': 'Task pages' }, range, prev, next));

    const panel = h('div', { class: 'stack queue-panel' },
      h('section', { class: 'card', 'aria-label': 'Selected queue' }, head, headErr), addCard, tasksCard);

    // the task dialog
    // The title takes focus when the dialog opens (not the Close button,
    // which the Enter that opened the task would otherwise press).
    const dlgTitle = h('h2', { id: 'task-dialog-title', tabindex: -1, autofocus: true });
    const dlgInfo = h('div', { class: 'task-info' });
    const dlgActions = h('div', { class: 'task-actions' });
    const dlgClose = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Close');
    const dialog = h('dialog', { id: 'task-dialog', 'aria-labelledby': 'task-dialog-title' },
      h('div', { class: 'dialog-body' },
        h('div', { class: 'dialog-head' }, dlgTitle, dlgClose), dlgInfo, dlgActions));
    dialog.addEventListener('close', () => {
      if (st.taskId) ctx.navigate(st.queueId ? queueURL(st.queueId, st.status, st.offset) : '/ui/');
    });

    const root = h('div', { class: 'dashboard' },
      h('h1', { class: 'sr-only' }, 'Dashboard'),
      h('div', { class: 'summary' }, sessionsCard, queuesCard, queuedCard, runningCard, chart.el),
      statsErr,
      h('div', { class: 'dash' }, sidebar, h('div', null, noQueue, panel)),
      dialog);

    els = {
      root, stats: { sessions, queues, queued, running }, statsErr,
      sessionFilter, stateFilter, queueList, queuesErr, queuePrev, queueNext, queuePager,
      newQueueSession, newQueueName, newQueueForm, newSessionForm,
      head, headErr, noQueue, panel, addCard, addErr, quickTool, taskTool,
      filterInputs, filterCounts, taskBody, tasksErr, range, prev, next,
      dialog, dlgTitle, dlgInfo, dlgActions,
    };
  }

  function queueURL(queueId, status, offset) {
    return `/ui/queues/${enc(queueId)}${query({ status, offset: offset || '' })}`;
  }

  function pageQueues(dir) {
    st.queueOffset = Math.max(0, st.queueOffset + dir * QUEUE_PAGE);
    dirty.queues = true;
    refresh();
  }

  // ---------- rendering ----------

  function renderQueues() {
    els.queuePrev.disabled = st.queueOffset === 0;
    els.queueNext.disabled = !st.queuesMore;
    els.queuePager.hidden = st.queueOffset === 0 && !st.queuesMore;
    if (!st.queues.length) {
      replace(els.queueList, h('li', { class: 'empty' },
        st.queueState === 'active' ? 'No active queues. Create one below.' : 'No queues here.'));
      return;
    }
    keyed(els.queueList, st.queues, {
      key: (q) => q.id,
      sig: (q) => q.name,
      render: (q) => h('li', null,
        h('a', { class: 'queue-link', href: `/ui/queues/${enc(q.id)}`, dataset: { key: q.id } },
          h('span', { class: 'top-line' }, h('span', { class: 'qname' }, q.name), pill(q.status)),
          progress(q.stats, { label: `Progress of ${q.name}` }),
          h('span', { class: 'qmeta' }))),
      update: (li, q) => {
        setPill(li.querySelector('.pill'), q.status);
        setProgress(li.querySelector('.progress'), q.stats);
        li.querySelector('.qmeta').textContent = progressText(q.stats);
      },
    });
    markQueueSelected();
  }

  function markQueueSelected() {
    for (const a of els.queueList.querySelectorAll('.queue-link')) {
      if (a.dataset.key === st.queueId) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    }
  }

  function renderNoQueue() {
    els.panel.hidden = true;
    els.noQueue.hidden = false;
    replace(els.noQueue,
      h('h2', null, st.queues.length ? 'Pick a queue' : 'No queues yet'),
      h('p', { class: 'muted' }, st.queues.length
        ? 'Choose a queue on the left to see its tasks.'
        : 'Create a session and a queue on the left, then add tasks to it.'));
  }

  function sessionName(id) {
    const s = st.sessions.find((x) => x.id === id);
    return s ? s.name : id;
  }

  // renderQueueHead rebuilds the title and actions only when they change;
  // status and progress update in place, so live updates neither lose a
  // click on the buttons nor restart the bar's animation.
  function renderQueueHead() {
    const q = st.queue;
    if (!q) return;
    els.panel.hidden = false;
    els.noQueue.hidden = true;
    const sig = JSON.stringify([q.id, q.state, q.name, q.instructions, sessionName(q.session_id)]);
    if (els.head.dataset.sig !== sig) {
      els.head.dataset.sig = sig;
      buildQueueHead(q);
    }
    setPill(els.head.querySelector('.sub .pill'), q.status);
    setProgress(els.head.querySelector('.progress'), q.stats);
    els.head.querySelector('.progress-label').textContent = progressText(q.stats);
    const accepts = q.state === 'active';
    els.addCard.hidden = !accepts;
    if (!accepts) showError(els.addErr, null);
  }

  function buildQueueHead(q) {
    const errSlot = els.headErr;
    showError(errSlot, null);
    const actions = [];
    if (q.state === 'active') {
      actions.push(actionButton('End', errSlot, async () => {
        if (!await confirmDialog(`End queue “${q.name}”? It takes no new tasks; queued tasks can still be claimed.`, { confirm: 'End queue', danger: false, title: 'End queue' })) return;
        const body = await put(`/api/queues/${enc(q.id)}/end`);
        st.queue = body.queue;
        renderQueueHead();
        dirty.queues = true;
        refresh();
      }, { class: 'btn', dataset: { action: 'end' } }));
    }
    if (q.state === 'archived') {
      actions.push(actionButton('Unarchive', errSlot, async () => {
        const body = await put(`/api/queues/${enc(q.id)}/unarchive`);
        st.queue = body.queue;
        renderQueueHead();
        dirty.queues = dirty.tasks = true;
        refresh();
      }, { class: 'btn primary', dataset: { action: 'unarchive' } }));
    } else {
      actions.push(actionButton('Archive', errSlot, async () => {
        const body = await put(`/api/queues/${enc(q.id)}/archive`);
        st.queue = body.queue;
        renderQueueHead();
        dirty.queues = dirty.tasks = true;
        refresh();
      }, { class: 'btn', dataset: { action: 'archive' } }));
    }
    actions.push(actionButton('Delete', errSlot, async () => {
      const total = st.queue && st.queue.stats ? st.queue.stats.total : 0;
      if (!await confirmDialog(`Delete queue “${q.name}” and its ${num(total)} tasks? This cannot be undone.`, { confirm: 'Delete queue' })) return;
      await del(`/api/queues/${enc(q.id)}`);
      toast(`Queue “${q.name}” deleted`);
      ctx.navigate('/ui/');
    }, { class: 'btn danger', dataset: { action: 'delete' } }));

    replace(els.head,
      h('div', { class: 'grow' },
        h('h1', { id: 'queue-title' }, q.name),
        h('div', { class: 'sub' }, pill(q.status), ' in session ', sessionName(q.session_id),
          ' · created ', h('span', { title: absTime(q.created_at), dataset: { time: q.created_at } }, relTime(q.created_at))),
        q.instructions ? h('p', { class: 'muted' }, 'Instructions: ', q.instructions) : null,
        q.state === 'active' ? null : h('p', { class: 'notice' }, q.state === 'archived'
          ? 'Archived: read-only. Unarchive it to add or claim tasks.'
          : 'Ended: it takes no new tasks; queued ones can still be claimed.')),
      h('div', { class: 'row' }, actions),
      h('div', { class: 'progress-wrap' },
        progress(q.stats, { big: true, label: `Progress of ${q.name}` }),
        h('div', { class: 'progress-label' })));
  }

  function renderFilterCounts() {
    const stats = (st.queue && st.queue.stats) || {};
    for (const [, , key] of FILTERS) els.filterCounts[key].textContent = num(stats[key] || 0);
    for (const input of els.filterInputs) input.checked = input.value === st.status;
  }

  function filteredTotal() {
    const stats = st.queue && st.queue.id === st.queueId ? st.queue.stats : null;
    if (!stats) return null;
    const f = FILTERS.find(([v]) => v === st.status);
    return stats[f[2]] || 0;
  }

  function renderPager() {
    if (!els || st.tasksFor !== taskKey()) return;
    const total = filteredTotal();
    const n = st.tasks.length;
    let text = n ? `${num(st.offset + 1)}–${num(st.offset + n)}` : 'No tasks';
    if (n && total !== null) text += ` of ${num(Math.max(total, st.offset + n))}`;
    els.range.textContent = text;
    els.prev.disabled = st.offset === 0;
    els.next.disabled = !st.more;
  }

  function renderTasks() {
    const archived = st.queue && st.queue.state === 'archived';
    if (!st.tasks.length) {
      const what = st.status ? `${st.status} tasks` : 'tasks';
      replace(els.taskBody, h('tr', null, h('td', { colspan: 6, class: 'empty' },
        st.offset ? 'No more tasks on this page.' : `No ${what} in this queue${archived ? '' : ' yet'}.`)));
      return;
    }
    keyed(els.taskBody, st.tasks, {
      key: (t) => t.id,
      sig: (t) => JSON.stringify([t.status, t.attempts, t.friendly_id, t.tool_name, preview(t), t.created_at]),
      render: taskRowEl,
    });
  }

  function taskRowEl(t) {
    const href = `/ui/tasks/${enc(t.id)}`;
    const row = h('tr', { class: 'clickable', dataset: { id: t.id, status: t.status } },
      h('td', null, pill(t.status)),
      h('td', null, h('a', { href, class: 'mono task-link', dataset: { key: t.id } }, t.friendly_id)),
      h('td', null, t.tool_name),
      h('td', { class: 'preview', title: preview(t, 500) }, preview(t)),
      h('td', { class: 'num' }, num(t.attempts)),
      h('td', null, h('span', { title: absTime(t.created_at), dataset: { time: t.created_at } }, relTime(t.created_at))));
    row.addEventListener('click', (ev) => {
      if (ev.target.closest('a, button') || window.getSelection().toString()) return;
      ctx.navigate(href);
    });
    return row;
  }

  function openDialog() {
    if (!els.dialog.open) els.dialog.showModal();
  }

  function renderTaskGone(err) {
    openDialog();
    els.dlgTitle.textContent = 'Task unavailable';
    replace(els.dlgInfo, h('p', { class: 'error', role: 'alert' }, `Error: ${err.message}`));
    replace(els.dlgActions);
    els.dlgActions.dataset.for = '';
  }

  function renderTask() {
    const t = st.task;
    openDialog();
    replace(els.dlgTitle, `Task ${t.friendly_id} `, pill(t.status));
    const when = (iso) => (iso ? h('span', { title: iso }, `${absTime(iso)} (${relTime(iso)})`) : h('span', { class: 'muted' }, '—'));
    const prop = (label, value) => [h('dt', null, label), h('dd', null, value === null || value === undefined || value === '' ? h('span', { class: 'muted' }, '—') : value)];
    const block = (label, value) => (value === null || value === undefined || value === ''
      ? null : [h('h3', null, label), h('pre', { class: 'block', tabindex: 0 }, pretty(value))]);
    replace(els.dlgInfo,
      h('dl', { class: 'props' },
        prop('ID', h('span', { class: 'mono' }, t.id)),
        prop('Queue', h('a', { href: `/ui/queues/${enc(t.queue_id)}` }, t.queue_name || t.queue_id)),
        prop('Status', t.status),
        prop('Tool', t.tool_name),
        prop('Task class', t.task_class),
        prop('Timeout', `${num(t.timeout)} s`),
        prop('Attempts', num(t.attempts)),
        prop('Worker', t.worker_id),
        prop('Agent role', t.agent_role_key),
        prop('Created', when(t.created_at)),
        prop('Updated', when(t.updated_at)),
        prop('Claimed', when(t.claimed_at)),
        prop('Started', when(t.started_at)),
        prop('Finished', when(t.finished_at)),
        t.stale_warned_at ? prop('Stale warning', when(t.stale_warned_at)) : null),
      block('Payload', t.payload),
      block('Result summary', t.result_summary),
      t.result !== t.result_summary ? block('Result', t.result) : null,
      block('Error', t.error),
      block('Stdout', t.stdout),
      block('Stderr', t.stderr));
    // Rebuild the actions only when they change, so typing in them is
    // not lost to a live update.
    const sig = `${t.id}|${t.status}`;
    if (els.dlgActions.dataset.for !== sig) {
      els.dlgActions.dataset.for = sig;
      replace(els.dlgActions, taskActions(t));
    }
  }

  function applyTask(task) {
    st.task = task;
    renderTask();
    dirty.tasks = dirty.queue = dirty.counts = true;
    refresh();
  }

  function taskActions(t) {
    const err = errorSlot();
    const parts = [h('h3', null, 'Actions')];
    const base = `/api/tasks/${enc(t.id)}`;
    if (t.status === 'queued') {
      parts.push(h('div', { class: 'row' }, actionButton('Claim', err, async () => {
        const body = await post(`${base}/claim`, { worker_id: 'dashboard' });
        applyTask(body.task);
      }, { class: 'btn primary', dataset: { action: 'claim' } })));
    }
    if (t.status === 'running') {
      const summary = h('input', { type: 'text', name: 'result_summary', required: true, autocomplete: 'off' });
      parts.push(bindForm(h('form', { class: 'complete-task', 'aria-label': 'Complete task' },
        h('div', { class: 'field-row' }, field('Result summary', summary, { grow: true }),
          h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn primary' }, 'Complete')))), err, async (fd) => {
        const body = await post(`${base}/complete`, { result_summary: String(fd.get('result_summary') || '') });
        applyTask(body.task);
      }));
      const message = h('input', { type: 'text', name: 'error_message', required: true, autocomplete: 'off' });
      parts.push(bindForm(h('form', { class: 'fail-task', 'aria-label': 'Fail task' },
        h('div', { class: 'field-row' }, field('Error message', message, { grow: true }),
          h('div', { class: 'field shrink' }, h('button', { type: 'submit', class: 'btn danger' }, 'Fail')))), err, async (fd) => {
        const body = await post(`${base}/fail`, { error_message: String(fd.get('error_message') || '') });
        applyTask(body.task);
      }));
    }
    const row = h('div', { class: 'row' });
    if (t.status === 'succeeded' || t.status === 'failed') {
      row.append(actionButton('Requeue', err, async () => {
        const body = await post(`${base}/requeue`);
        toast(`Requeued as ${body.task.friendly_id}`);
        ctx.navigate(`/ui/tasks/${enc(body.task.id)}`);
      }, { title: 'Add a copy of this task at the back of the queue', dataset: { action: 'requeue' } }));
      row.append(actionButton('Rerun in place', err, async () => {
        const body = await post(`${base}/rerun`);
        applyTask(body.task);
      }, { title: 'Put this task back to queued, keeping its place', dataset: { action: 'rerun' } }));
    }
    row.append(actionButton('Delete', err, async () => {
      if (!await confirmDialog(`Delete task ${t.friendly_id}? This cannot be undone.`, { confirm: 'Delete task' })) return;
      await del(base);
      toast(`Task ${t.friendly_id} deleted`);
      const back = queueURL(t.queue_id, st.status, st.offset);
      st.taskId = null;
      els.dialog.close();
      ctx.navigate(back);
    }, { class: 'btn danger', dataset: { action: 'delete-task' } }));
    parts.push(row, err);
    return parts;
  }

  function tickTimes() {
    if (!els) return;
    const now = Date.now();
    for (const el of els.root.querySelectorAll('[data-time]')) el.textContent = relTime(el.dataset.time, now);
  }

  // ---------- page lifecycle ----------

  function apply(r, first) {
    const status = r.params.get('status') || '';
    st.status = FILTERS.some(([v]) => v === status) ? status : '';
    st.offset = Math.max(0, Number.parseInt(r.params.get('offset') || '0', 10) || 0);
    const prevQueue = st.queueId;
    if (r.taskId) {
      if (r.taskId !== st.taskId) {
        st.taskId = r.taskId;
        st.task = null;
        els.dlgActions.dataset.for = '';
        dirty.task = true;
      }
    } else {
      st.taskId = null;
      st.task = null;
      if (els.dialog.open) els.dialog.close();
      st.queueId = r.queueId || null;
      st.autoSelect = !r.queueId;
    }
    if (first) {
      dirty = { counts: true, sessions: true, tools: true, queues: true, queue: true, tasks: true, task: !!r.taskId };
    } else if (st.queueId !== prevQueue) {
      st.queue = null;
      dirty.queue = dirty.tasks = true;
      markQueueSelected();
      if (!st.queueId) dirty.queues = true;
    } else if (st.tasksFor !== taskKey()) {
      dirty.tasks = true;
    }
    if (st.queueId && els.noQueue) els.noQueue.hidden = true;
    if (!r.taskId && st.queueId) document.title = 'SparkQ';
    if (els) renderFilterCounts();
    refresh.now();
  }

  function markAll() {
    dirty = { counts: true, sessions: true, tools: true, queues: true, queue: true, tasks: true, task: !!st.taskId };
  }

  return {
    mount(main, r) {
      build();
      main.append(els.root);
      apply(r, true);
      chartRefresh();
      timers = [setInterval(() => chart.load(), 60000), setInterval(tickTimes, 30000)];
    },
    update(r) {
      apply(r, false);
    },
    unmount() {
      timers.forEach(clearInterval);
      timers = [];
      if (els && els.dialog.open) {
        st.taskId = null;
        els.dialog.close();
      }
      els = null;
      ready = true;
      st.queue = null;
      st.tasksFor = '';
    },
    onEvent(ev) {
      if (!els) return;
      const t = ev.type;
      if (t === 'resync') {
        markAll();
        chartRefresh();
      } else if (t.startsWith('task.')) {
        dirty.counts = dirty.queues = true;
        if (!ev.queue_id || ev.queue_id === st.queueId) dirty.queue = dirty.tasks = true;
        if (st.taskId && (!ev.id || ev.id === st.taskId)) dirty.task = true;
        if (t === 'task.completed' || t === 'task.failed' || t === 'task.purged') chartRefresh();
      } else if (t.startsWith('queue.')) {
        dirty.queues = dirty.counts = true;
        if (!ev.queue_id || ev.queue_id === st.queueId) dirty.queue = dirty.tasks = true;
      } else if (t.startsWith('session.')) {
        dirty.sessions = dirty.queues = dirty.counts = dirty.queue = true;
      } else if (t === 'registry.changed') {
        dirty.tools = true;
      }
      refresh();
    },
  };
}
