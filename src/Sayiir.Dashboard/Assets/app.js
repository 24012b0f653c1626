// Sayiir dashboard: a small page over the JSON API under ./api/. Every value from the server is inserted as text
// (textContent / createElement), never as HTML, so a task output containing markup shows as that markup's text.
'use strict';

const STATES = ['Running', 'Waiting', 'AwaitingSignal', 'Paused', 'Queued', 'Compensating', 'Completed', 'Failed', 'Cancelled', 'Compensated'];
const ACTION_HEADER = 'X-Sayiir-Dashboard';
let config = { readOnly: false, actionsAllowed: false, refreshMilliseconds: 2000, pageSize: 50 };
let timer = null;
let routeVersion = 0;

// ---- helpers ------------------------------------------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

class ApiError extends Error {
  constructor(status, problem, fallback) {
    super(problem && (problem.title || problem.detail)
      ? [problem.title, problem.detail].filter(Boolean).join(' — ')
      : fallback);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, options) {
  const response = await fetch('api/' + path, options);
  const text = await response.text();
  let body = null;
  if (text) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!response.ok) throw new ApiError(response.status, body, `HTTP ${response.status}`);
  return body;
}

function action(path, body) {
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', [ACTION_HEADER]: '1' },
    body: JSON.stringify(body || {}),
  });
}

function parseJsonField(text, what) {
  if (!text.trim()) return null;
  try { return JSON.parse(text); } catch (e) { throw new Error(`${what} is not valid JSON: ${e.message}`); }
}

function stateBadge(state) { return el('span', { class: `state state-${state}`, text: state }); }

function when(value) { return value ? new Date(value).toISOString().replace('T', ' ').replace('Z', ' UTC') : ''; }

function duration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

function json(value) { return JSON.stringify(value, null, 2); }

function runLink(id) { return '#/runs/' + encodeURIComponent(id); }

function runPath(id) { return 'runs/' + encodeURIComponent(id); }

function message(target, text, ok) {
  clear(target).append(el('div', { class: `message ${ok ? 'ok' : 'error'}`, role: ok ? 'status' : 'alert', text }));
}

function every(ms, fn) {
  stopTimer();
  timer = setInterval(fn, ms);
}

function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }

// ---- routing ------------------------------------------------------------------------------------------------------

function route() {
  stopTimer();
  routeVersion++;
  const hash = location.hash || '#/runs';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const app = clear(document.getElementById('app'));
  for (const a of document.querySelectorAll('header nav a')) a.classList.remove('active');
  if (path.startsWith('/runs/')) {
    document.getElementById('nav-runs').classList.add('active');
    runPage(app, decodeURIComponent(path.slice('/runs/'.length)));
  } else if (path === '/cluster') {
    document.getElementById('nav-cluster').classList.add('active');
    clusterPage(app);
  } else if (path === '/workflows') {
    document.getElementById('nav-workflows').classList.add('active');
    workflowsPage(app);
  } else {
    document.getElementById('nav-runs').classList.add('active');
    runsPage(app, params);
  }
}

// ---- runs page ----------------------------------------------------------------------------------------------------

function runsPage(app, params) {
  const version = routeVersion;
  const workflow = el('select', { id: 'filter-workflow' }, el('option', { value: '', text: 'any' }));
  const initialWorkflow = params.get('workflow') || '';
  if (initialWorkflow) workflow.append(el('option', { value: initialWorkflow, text: initialWorkflow }));
  workflow.value = initialWorkflow;
  const initialStates = (params.get('state') || '').split(',').filter(Boolean);
  const stateBoxes = STATES.map(s => el('label', {},
    el('input', { type: 'checkbox', value: s, class: 'filter-state', id: `filter-state-${s}`, checked: initialStates.includes(s) }), s));
  const from = el('input', { type: 'datetime-local', id: 'filter-from', step: '1' });
  const before = el('input', { type: 'datetime-local', id: 'filter-before', step: '1' });
  const prefix = el('input', { type: 'search', id: 'filter-prefix', placeholder: 'order-42', spellcheck: 'false', value: params.get('prefix') || '' });
  const tbody = el('tbody');
  const pageInfo = el('span', { id: 'page-info', class: 'muted' });
  const counts = el('span', { id: 'page-counts', class: 'muted' });
  const errors = el('div', { id: 'runs-error' });
  const next = el('button', { id: 'next-page', class: 'secondary', type: 'button', text: 'Next page →' });
  const first = el('button', { id: 'first-page', class: 'secondary', type: 'button', text: '⇤ Newest' });
  const tokens = [null];

  const query = () => {
    const q = new URLSearchParams();
    if (workflow.value) q.set('workflow', workflow.value);
    const states = stateBoxes.map(l => l.firstChild).filter(c => c.checked).map(c => c.value);
    if (states.length) q.set('state', states.join(','));
    if (from.value) q.set('from', from.value + 'Z');
    if (before.value) q.set('before', before.value + 'Z');
    if (prefix.value) q.set('prefix', prefix.value);
    q.set('pageSize', String(config.pageSize));
    const token = tokens[tokens.length - 1];
    if (token) q.set('continuationToken', token);
    return q;
  };

  let lastToken = null;
  const load = async () => {
    try {
      const page = await api('runs?' + query());
      if (version !== routeVersion) return;
      clear(errors);
      clear(tbody);
      for (const run of page.runs) {
        tbody.append(el('tr', { dataset: { instanceId: run.instanceId } },
          el('td', { class: 'mono' }, el('a', { href: runLink(run.instanceId), text: run.instanceId })),
          el('td', { text: run.workflowName }),
          el('td', { class: 'mono', text: run.workflowVersion || '' }),
          el('td', {}, stateBadge(run.state)),
          el('td', { text: when(run.createdAt) }),
          el('td', { text: when(run.updatedAt) })));
      }
      if (page.runs.length === 0) tbody.append(el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'No runs match.' })));
      lastToken = page.continuationToken || null;
      next.disabled = !lastToken;
      first.disabled = tokens.length === 1;
      pageInfo.textContent = `Page ${tokens.length}`;
      renderCounts(counts, page.counts || {});
    } catch (e) {
      if (version === routeVersion) message(errors, `Cannot list runs: ${e.message}`);
    }
  };
  const reset = () => { tokens.length = 1; load(); };
  next.addEventListener('click', () => { if (lastToken) { tokens.push(lastToken); load(); } });
  first.addEventListener('click', reset);
  for (const input of [workflow, from, before, ...stateBoxes.map(l => l.firstChild)]) input.addEventListener('change', reset);
  let typing = null;
  prefix.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(reset, 250); });

  app.append(
    el('h1', { text: 'Runs' }),
    el('div', { class: 'panel filters' },
      el('label', {}, 'Workflow', workflow),
      el('label', {}, 'State', el('span', { class: 'states' }, stateBoxes)),
      el('label', {}, 'Created from (UTC)', from),
      el('label', {}, 'Created before (UTC)', before),
      el('label', {}, 'Instance id starts with', prefix)),
    errors,
    el('div', { class: 'pager' }, first, next, pageInfo, counts),
    el('table', { id: 'runs-table' },
      el('thead', {}, el('tr', {}, ['Instance id', 'Workflow', 'Version', 'State', 'Created', 'Updated'].map(h => el('th', { text: h })))),
      tbody),
    startPanel());

  api('workflows').then(versions => {
    if (version !== routeVersion) return;
    for (const name of [...new Set(versions.map(v => v.workflowName))].sort()) {
      if (name !== initialWorkflow) workflow.append(el('option', { value: name, text: name }));
    }
    const select = document.getElementById('start-workflow');
    if (select) for (const v of versions.filter(v => v.isRegistered)) {
      const label = v.version ? `${v.workflowName} (${v.version}${v.isLatest ? ', latest' : ''})` : v.workflowName;
      select.append(el('option', { value: JSON.stringify([v.workflowName, v.isLatest ? null : v.version]), text: label }));
    }
  }).catch(() => { /* the listing still works without the workflow names */ });

  load();
  every(config.refreshMilliseconds, load);
}

// Runs per state over every run the other filters match (not only the page), in the states' order.
function renderCounts(box, counts) {
  clear(box);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  box.dataset.total = String(total);
  box.append(el('span', { text: `${total} matching` }));
  for (const state of STATES.filter(s => counts[s])) {
    box.append(' · ', el('span', { class: 'count', dataset: { state }, text: `${state} ${counts[state]}` }));
  }
}

function startPanel() {
  if (!config.actionsAllowed) return null;
  const workflow = el('select', { id: 'start-workflow' });
  const input = el('textarea', { id: 'start-input', placeholder: 'input as JSON, e.g. 42 or {"orderId": "A-1"}' });
  const instance = el('input', { id: 'start-instance', placeholder: 'instance id (optional)' });
  const result = el('div', { id: 'start-result' });
  const form = el('form', {
    id: 'start-form',
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const [name, version] = JSON.parse(workflow.value || '[null,null]');
        const status = await action('runs', { workflow: name, version, input: parseJsonField(input.value, 'The input'), instanceId: instance.value || null });
        clear(result).append(el('div', { class: 'message ok', role: 'status' }, 'Started ', el('a', { href: runLink(status.instanceId), text: status.instanceId })));
      } catch (e) {
        message(result, `Cannot start: ${e.message}`);
      }
    },
  }, el('div', { class: 'row' }, workflow, instance, el('button', { id: 'start-button', type: 'submit', text: 'Start run' })), input);
  return el('div', { class: 'panel actions' }, el('h2', { text: 'Start a run' }), form, result);
}

// ---- run page -----------------------------------------------------------------------------------------------------

function runPage(app, instanceId) {
  const version = routeVersion;
  const title = el('h1', {}, 'Run ', el('span', { class: 'mono', id: 'run-id', text: instanceId }));
  const errors = el('div', { id: 'run-error' });
  const statusBox = el('div', { class: 'panel', id: 'run-status' });
  const failureBox = el('div', { id: 'failure-box' });
  const outputBox = el('div', { id: 'output-box' });
  const timeline = el('div', { class: 'timeline', id: 'timeline' });
  const taskOutput = el('div', { id: 'task-output-box' });
  const historyBody = el('tbody');
  const flowBox = el('div', { id: 'flow-graph', class: 'graph' });
  const actionsBox = actionsPanel(instanceId, () => load());
  // The graph depends on the run's workflow and version (which an upgrade changes): fetched once per pair.
  let graphKey = null;
  let graph = null;
  app.append(title, errors,
    el('div', { class: 'grid' },
      el('div', {}, statusBox, failureBox, outputBox,
        el('div', { class: 'panel' }, el('h2', { text: 'Flow' }),
          el('p', { class: 'muted', text: 'The definition this run follows, each node colored by its state in this run.' }),
          graphLegend(), flowBox),
        el('div', { class: 'panel' }, el('h2', { text: 'Timeline' }),
          el('p', { class: 'muted', text: 'Each attempt is a bar; gaps are retries, delays and waits. Click a completed task to read its output.' }),
          timeline, taskOutput),
        el('div', { class: 'panel' }, el('h2', { text: 'History' }),
          el('table', { id: 'history-table' },
            el('thead', {}, el('tr', {}, ['#', 'At', 'Event', 'Step', 'Attempt', 'Duration', 'Detail'].map(h => el('th', { text: h })))),
            historyBody))),
      el('div', {}, actionsBox)));

  let lastKey = '';
  const load = async () => {
    try {
      const [detail, history] = await Promise.all([api(runPath(instanceId)), api(runPath(instanceId) + '/history')]);
      if (version !== routeVersion) return;
      clear(errors);
      // Redraw only on change, so an open task output or a selection survives the polling.
      const key = JSON.stringify([detail, history]);
      if (key === lastKey) return;
      lastKey = key;
      renderStatus(statusBox, detail.status);
      renderFailure(failureBox, detail.status.failure);
      renderOutput(outputBox, detail);
      renderTimeline(timeline, taskOutput, instanceId, detail.status, history);
      renderHistory(historyBody, history);
      const wanted = JSON.stringify([detail.status.workflowName, detail.status.workflowVersion || null]);
      if (wanted !== graphKey) {
        try {
          graph = await api(graphPath(detail.status.workflowName, detail.status.workflowVersion));
        } catch (e) {
          graph = null;
          message(flowBox, `Cannot draw the flow: ${e.message}`);
        }
        if (version !== routeVersion) return;
        graphKey = wanted;
      }
      if (graph) renderGraph(flowBox, graph, nodeStates(history, detail.status));
    } catch (e) {
      if (version === routeVersion) message(errors, e.status === 404 ? `No run '${instanceId}'.` : `Cannot load the run: ${e.message}`);
    }
  };
  load();
  every(config.refreshMilliseconds, load);
}

function renderStatus(box, s) {
  const rows = [
    ['State', stateBadge(s.state)],
    ['Workflow', s.workflowName],
    ['Version', s.workflowVersion],
    ['Definition', s.definitionHash],
    ['Current step', s.currentTaskId],
    ['Wakes at', when(s.wakeAt)],
    ['Awaits signal', s.signalName],
    ['Queued for key', s.concurrencyKey],
    ['Signal timeout at', when(s.signalTimeoutAt)],
    ['Task timeout at', when(s.taskTimeoutAt)],
    ['Paused', s.pause && `${when(s.pause.at)}${s.pause.by ? ' by ' + s.pause.by : ''}${s.pause.reason ? ': ' + s.pause.reason : ''}`],
    ['Cancelled', s.cancellation && `${when(s.cancellation.at)}${s.cancellation.by ? ' by ' + s.cancellation.by : ''}${s.cancellation.reason ? ': ' + s.cancellation.reason : ''}`],
    ['Undo failed', s.compensationFailures && s.compensationFailures.length > 0
      && s.compensationFailures.map(f => `${f.taskId} (attempt ${f.attempt}): ${f.errorType}: ${f.message}`).join('\n')],
    ['Created', when(s.createdAt)],
    ['Updated', when(s.updatedAt)],
  ].filter(([, v]) => v);
  clear(box).append(el('dl', { class: 'status' },
    rows.map(([k, v]) => [el('dt', { text: k }), el('dd', { id: k === 'State' ? 'run-state' : null, dataset: k === 'State' ? { state: s.state } : null }, v)])));
}

function renderFailure(box, failure) {
  clear(box);
  if (!failure) return;
  const chain = [];
  for (let inner = failure.innerFailure; inner; inner = inner.innerFailure) chain.push(inner);
  box.append(el('div', { class: 'panel failure', id: 'failure' },
    el('h3', { text: 'Failure' }),
    el('dl', { class: 'status' },
      el('dt', { text: 'Step' }), el('dd', { class: 'mono', text: failure.taskId }),
      el('dt', { text: 'Attempt' }), el('dd', { text: failure.attempt }),
      el('dt', { text: 'Error' }), el('dd', { class: 'mono', id: 'failure-type', text: failure.errorType }),
      el('dt', { text: 'Message' }), el('dd', { id: 'failure-message', text: failure.message }),
      el('dt', { text: 'At' }), el('dd', { text: when(failure.at) })),
    failure.stackTrace ? el('pre', { id: 'failure-stack', text: failure.stackTrace }) : el('p', { class: 'muted', text: 'No stack trace.' }),
    chain.map((inner, i) => el('div', { class: 'inner-failure' },
      el('h3', { text: `Caused by (${i + 1}): ${inner.errorType}` }),
      el('p', { text: inner.message }),
      inner.stackTrace ? el('pre', { text: inner.stackTrace }) : null))));
}

function renderOutput(box, detail) {
  clear(box);
  if (detail.status.state !== 'Completed') return;
  box.append(el('div', { class: 'panel' }, el('h2', { text: 'Output' }),
    detail.outputError ? el('p', { class: 'message error', text: detail.outputError }) : el('pre', { id: 'run-output', text: json(detail.output) })));
}

// Bars from the history: a task attempt spans TaskStarted → TaskCompleted/TaskFailed; delays and signal waits get their
// own lighter bars. Time runs left to right from the first event to the last (or the run's last update).
function timelineItems(history, status) {
  const items = [];
  const open = new Map();
  const logs = new Map();
  const begin = (key, item) => { items.push(item); open.set(key, item); };
  const end = (key, at, props, fallback) => {
    let item = open.get(key);
    if (!item && fallback) { item = fallback(); items.push(item); }
    if (!item) return;
    open.delete(key);
    Object.assign(item, { end: at }, props);
  };
  for (const e of history) {
    const at = Date.parse(e.at);
    switch (e.kind) {
      case 'TaskStarted':
        begin(`task:${e.taskId}#${e.attempt}`, { kind: 'task', taskId: e.taskId, attempt: e.attempt, start: at, outcome: 'running', superseded: e.superseded });
        break;
      case 'TaskCompleted':
      case 'TaskFailed': {
        const outcome = e.kind === 'TaskCompleted' ? 'completed' : 'failed';
        end(`task:${e.taskId}#${e.attempt}`, at, { outcome, durationMs: e.durationMs, message: e.message, superseded: e.superseded },
          () => ({ kind: 'task', taskId: e.taskId, attempt: e.attempt, start: at - (e.durationMs || 0) }));
        break;
      }
      case 'DelayStarted':
        begin(`delay:${e.taskId}`, { kind: 'delay', taskId: e.taskId, start: at, outcome: 'delay', superseded: e.superseded });
        break;
      case 'DelayWoken':
        end(`delay:${e.taskId}`, at, {});
        break;
      case 'SignalAwaited':
        begin(`wait:${e.taskId}`, { kind: 'wait', taskId: e.taskId, signal: e.detail, start: at, outcome: 'wait', superseded: e.superseded });
        break;
      case 'SignalConsumed':
        end(`wait:${e.taskId}`, at, {});
        break;
      case 'TaskLog': {
        // An attempt's lines are saved just before its outcome, while its bar is still open.
        const key = `${e.taskId}#${e.attempt}`;
        if (!logs.has(key)) logs.set(key, []);
        logs.get(key).push(e);
        break;
      }
      default:
        break;
    }
  }
  const times = history.map(e => Date.parse(e.at));
  if (status.updatedAt) times.push(Date.parse(status.updatedAt));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  for (const item of items) {
    if (item.end === undefined) item.end = t1;
    if (item.kind === 'task') item.logs = logs.get(`${item.taskId}#${item.attempt}`) || [];
  }
  return { items, t0, t1 };
}

function renderTimeline(box, outputBox, instanceId, status, history) {
  clear(box);
  if (history.length === 0) { box.append(el('p', { class: 'muted', text: 'No history yet.' })); return; }
  const { items, t0, t1 } = timelineItems(history, status);
  const span = Math.max(t1 - t0, 1);
  box.append(el('div', { class: 'axis' }, el('span'), el('span', { class: 'ticks' }, el('span', { text: '0' }), el('span', { text: duration(span) })), el('span')));
  for (const item of items) {
    const label = item.kind === 'task' ? `${item.taskId} #${item.attempt}`
      : item.kind === 'delay' ? `${item.taskId} (delay)` : `${item.taskId} (signal ${item.signal || ''})`;
    const bar = el(item.kind === 'task' && item.outcome === 'completed' ? 'button' : 'span', {
      class: `bar ${item.outcome}`,
      type: item.kind === 'task' && item.outcome === 'completed' ? 'button' : null,
      title: `${label}: ${item.outcome}${item.message ? ' — ' + item.message : ''}`,
      'aria-label': `${label} ${item.outcome}`,
    });
    bar.style.left = `${((item.start - t0) / span) * 100}%`;
    bar.style.width = `${Math.max(((item.end - item.start) / span) * 100, 0.4)}%`;
    if (bar.tagName === 'BUTTON') bar.addEventListener('click', () => showTaskOutput(outputBox, instanceId, item.taskId));
    const shown = item.kind === 'task' && item.durationMs !== undefined && item.durationMs !== null ? item.durationMs : item.end - item.start;
    box.append(el('div', {
      class: `timeline-row ${item.kind}${item.superseded ? ' superseded' : ''}`,
      dataset: { taskId: item.taskId, attempt: item.attempt || '', outcome: item.outcome },
    }, el('span', { class: 'label mono', title: label, text: label }), el('span', { class: 'track' }, bar),
    el('span', { class: 'dur', text: item.outcome === 'running' ? 'running' : duration(shown) })));
    if (item.logs && item.logs.length) box.append(renderTaskLogs(item));
  }
}

// The lines an attempt wrote through TaskContext.Logger, under its bar.
function renderTaskLogs(item) {
  return el('ol', {
    class: `task-logs${item.superseded ? ' superseded' : ''}`,
    dataset: { taskId: item.taskId, attempt: item.attempt },
    'aria-label': `log of ${item.taskId} attempt ${item.attempt}`,
  }, item.logs.map(line => el('li', { class: `log-line level-${line.errorType || 'None'}` },
    el('span', { class: 'log-at mono', text: logTime(line.at) }),
    el('span', { class: 'log-level', text: line.errorType || '' }),
    el('span', { class: 'log-message', text: line.detail || '' }),
    line.message ? el('span', { class: 'log-exception mono', text: line.message }) : null)));
}

function logTime(value) { return value ? new Date(value).toISOString().slice(11, 23) : ''; }

async function showTaskOutput(box, instanceId, taskId) {
  try {
    const output = await api(`${runPath(instanceId)}/tasks/${encodeURIComponent(taskId)}/output`);
    clear(box).append(el('h2', {}, 'Output of ', el('span', { class: 'mono', text: taskId })), el('pre', { id: 'task-output', text: json(output) }));
  } catch (e) {
    message(box, `No output for ${taskId}: ${e.message}`);
  }
}

function renderHistory(tbody, history) {
  clear(tbody);
  for (const e of history) {
    // A log line's level travels in errorType: show it beside the kind, and the line (then its exception) as the detail.
    const log = e.kind === 'TaskLog';
    const kind = log ? `Log ${e.errorType || ''}`.trim() : e.kind;
    const detail = log ? [e.detail, e.message] : [e.detail, e.errorType, e.message];
    tbody.append(el('tr', { class: [e.superseded ? 'muted' : null, log ? `history-log level-${e.errorType || 'None'}` : null].filter(Boolean).join(' ') || null, dataset: { kind: e.kind } },
      el('td', { text: e.sequence }),
      el('td', { text: when(e.at) }),
      el('td', { text: kind + (e.superseded ? ' (superseded)' : '') }),
      el('td', { class: 'mono', text: e.taskId || '' }),
      el('td', { text: e.attempt || '' }),
      el('td', { text: duration(e.durationMs) }),
      el('td', { text: detail.filter(Boolean).join(' — ') })));
  }
}

function actionsPanel(instanceId, reload) {
  if (!config.actionsAllowed) {
    return el('div', { class: 'panel', id: 'actions-disabled' }, el('h2', { text: 'Actions' }),
      el('p', { class: 'muted', text: config.actionsRefusal || 'Actions are disabled.' }));
  }
  const result = el('div', { id: 'action-message' });
  const run = (name, path, body) => async () => {
    try {
      const status = await action(`${runPath(instanceId)}/${path}`, body ? body() : {});
      message(result, `${name}: the run is ${status.state}.`, true);
    } catch (e) {
      message(result, `Cannot ${name.toLowerCase()}: ${e.message}`);
    }
    reload();
  };
  const cancelReason = el('input', { id: 'cancel-reason', placeholder: 'reason (optional)' });
  const pauseReason = el('input', { id: 'pause-reason', placeholder: 'reason (optional)' });
  const signalName = el('input', { id: 'signal-name', placeholder: 'signal name' });
  const signalPayload = el('textarea', { id: 'signal-payload', placeholder: 'payload as JSON, e.g. {"approved": true}' });
  const button = (id, text, onclick, cls) => el('button', { id, type: 'button', class: cls, text, onclick });
  return el('div', { class: 'panel actions', id: 'actions' }, el('h2', { text: 'Actions' }),
    el('div', { class: 'row' }, cancelReason, button('cancel-button', 'Cancel', run('Cancel', 'cancel', () => ({ reason: cancelReason.value || null })), 'danger'),
      button('cancel-compensate-button', 'Cancel and undo', run('Cancel and undo', 'cancel', () => ({ reason: cancelReason.value || null, compensate: true })), 'danger')),
    el('div', { class: 'row' }, pauseReason, button('pause-button', 'Pause', run('Pause', 'pause', () => ({ reason: pauseReason.value || null })))),
    el('div', { class: 'row' },
      button('unpause-button', 'Unpause', run('Unpause', 'unpause')),
      button('resume-button', 'Resume', run('Resume', 'resume'), 'secondary')),
    el('h2', { text: 'Signal' }),
    el('div', { class: 'row' }, signalName, button('signal-button', 'Send signal', async () => {
      let payload;
      try { payload = parseJsonField(signalPayload.value, 'The payload'); } catch (e) { message(result, e.message); return; }
      await run('Signal', 'signal', () => ({ name: signalName.value, payload }))();
    })),
    signalPayload,
    result);
}

// ---- workflows page -----------------------------------------------------------------------------------------------

function workflowsPage(app) {
  const version = routeVersion;
  const tbody = el('tbody');
  const errors = el('div');
  const activity = el('tbody');
  app.append(el('h1', { text: 'Workflows' }), errors,
    el('h2', { text: 'Last hour' }),
    el('table', { id: 'activity-table' },
      el('thead', {}, el('tr', {}, ['Workflow', 'Runs per state', 'Started · completed · failed per minute'].map(h => el('th', { text: h })))),
      activity),
    el('h2', { text: 'Versions' }),
    el('table', { id: 'workflows-table' },
      el('thead', {}, el('tr', {}, ['Workflow', 'Version', 'Definition hash', 'Registered', 'Latest', 'Active runs', ''].map(h => el('th', { text: h })))),
      tbody));
  const open = new Map(); // key → its graph row, kept across refreshes
  const load = async () => {
    try {
      const versions = await api('workflows');
      if (version !== routeVersion) return;
      clear(errors);
      clear(tbody);
      for (const v of versions) {
        const key = JSON.stringify([v.workflowName, v.version || null]);
        const toggle = v.isRegistered ? el('button', {
          type: 'button', class: 'secondary graph-toggle', text: open.has(key) ? 'hide flow' : 'flow',
          onclick: (event) => {
            const tr = event.target.closest('tr');
            if (open.has(key)) { open.get(key).remove(); open.delete(key); event.target.textContent = 'flow'; return; }
            const graphRow = workflowGraphRow(v, 7);
            open.set(key, graphRow);
            tr.after(graphRow);
            event.target.textContent = 'hide flow';
          },
        }) : null;
        tbody.append(el('tr', { dataset: { workflow: v.workflowName, version: v.version || '' } },
          el('td', { text: v.workflowName }),
          el('td', { class: 'mono', text: v.version || '(unversioned)' }),
          el('td', { class: 'mono', title: v.definitionHash, text: v.definitionHash.slice(0, 16) }),
          el('td', { text: v.isRegistered ? 'yes' : 'no' }),
          el('td', { text: v.isLatest ? 'yes' : '' }),
          el('td', { class: 'active-runs', text: v.activeRuns }),
          el('td', {}, el('a', { href: '#/runs?workflow=' + encodeURIComponent(v.workflowName), text: 'runs' }), ' ', toggle)));
        if (open.has(key)) tbody.append(open.get(key));
      }
      if (versions.length === 0) tbody.append(el('tr', {}, el('td', { colspan: '7', class: 'muted', text: 'No workflows registered.' })));
      await loadActivity([...new Set(versions.map(v => v.workflowName))].sort());
    } catch (e) {
      if (version === routeVersion) message(errors, `Cannot list workflows: ${e.message}`);
    }
  };
  // One row per workflow: its runs per state and a chart of the last hour, both fetched before the rows are replaced.
  const loadActivity = async (names) => {
    const rows = await Promise.all(names.map(async name => {
      const [counts, act] = await Promise.all([
        api('runs/counts?workflow=' + encodeURIComponent(name)),
        api('activity?workflow=' + encodeURIComponent(name)),
      ]);
      const states = el('td', { class: 'state-counts' });
      for (const state of STATES.filter(s => counts.counts[s])) states.append(stateBadge(state), ` ${counts.counts[state]} `);
      if (counts.total === 0) states.append(el('span', { class: 'muted', text: 'no runs' }));
      return el('tr', { dataset: { workflow: name } },
        el('td', { text: name }),
        states,
        el('td', {}, activityChart(act)));
    }));
    if (version !== routeVersion) return;
    clear(activity).append(...rows);
    if (rows.length === 0) activity.append(el('tr', {}, el('td', { colspan: '3', class: 'muted', text: 'No workflows registered.' })));
  };
  load();
  every(config.refreshMilliseconds, load);
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

// Three thin bars per bucket (started, completed, failed), scaled to the busiest bucket; a tooltip per bucket.
function activityChart(act) {
  const series = [['started', 'var(--running)'], ['completed', 'var(--completed)'], ['failed', 'var(--failed)']];
  const buckets = act.buckets;
  const width = 4 * buckets.length, height = 44;
  const peak = Math.max(1, ...buckets.map(b => Math.max(b.started, b.completed, b.failed)));
  const chart = svg('svg', { class: 'activity-chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  buckets.forEach((b, i) => {
    const group = svg('g', {}, svg('title', {}, `${when(b.start)}: ${b.started} started, ${b.completed} completed, ${b.failed} failed, ${b.cancelled} cancelled`));
    group.append(svg('rect', { x: 4 * i, y: 0, width: 4, height, fill: 'transparent' }));
    series.forEach(([key, color], k) => {
      const h = Math.round((b[key] / peak) * (height - 2));
      if (h > 0) group.append(svg('rect', { x: 4 * i + k, y: height - h, width: 1, height: h, fill: color }));
    });
    chart.append(group);
  });
  const total = key => buckets.reduce((sum, b) => sum + b[key], 0);
  const totals = el('span', { class: 'activity-totals muted', dataset: { started: total('started'), completed: total('completed'), failed: total('failed') },
    text: `${total('started')} started · ${total('completed')} completed · ${total('failed')} failed` });
  chart.setAttribute('aria-label', totals.textContent + ' in the last hour');
  return el('div', { class: 'activity' }, chart, totals);
}

// ---- flow graph ---------------------------------------------------------------------------------------------------

function graphPath(name, version) {
  return `workflows/${encodeURIComponent(name)}/graph` + (version ? `?version=${encodeURIComponent(version)}` : '');
}

const NODE_STATES = ['completed', 'failed', 'running', 'waiting', 'not-reached'];

function graphLegend() {
  return el('div', { class: 'graph-legend' }, NODE_STATES.map(s => el('span', { class: `legend node-${s}`, text: s.replace('-', ' ') })));
}

// The state of each node id in this run, from its (not superseded) history: the last event of a node decides.
function nodeStates(history, status) {
  const states = new Map();
  const starts = new Map(); // attempts started per node (a loop's iterations are its first body step's starts)
  for (const e of history) {
    if (!e.taskId || e.superseded) continue;
    switch (e.kind) {
      case 'TaskStarted': states.set(e.taskId, 'running'); starts.set(e.taskId, (starts.get(e.taskId) || 0) + 1); break;
      case 'TaskCompleted': case 'DelayWoken': case 'SignalConsumed': states.set(e.taskId, 'completed'); break;
      case 'TaskFailed': states.set(e.taskId, 'failed'); break;
      case 'RetryScheduled': case 'DelayStarted': case 'SignalAwaited': states.set(e.taskId, 'waiting'); break;
      default: break;
    }
  }
  // A failed attempt that will be retried is waiting; the step the run failed at is failed.
  for (const e of history) if (e.kind === 'RetryScheduled' && !e.superseded && states.get(e.taskId) === 'failed') states.set(e.taskId, 'waiting');
  if (status.state === 'Failed' && status.failure && status.failure.taskId) states.set(status.failure.taskId, 'failed');
  if (status.currentTaskId && !states.has(status.currentTaskId) && ['Running', 'Waiting', 'AwaitingSignal'].includes(status.state)) {
    states.set(status.currentTaskId, status.state === 'Running' ? 'running' : 'waiting');
  }
  return { states, starts, ended: ['Completed', 'Failed', 'Cancelled', 'Compensated'].includes(status.state), completed: status.state === 'Completed' };
}

// A composite node (fork, route, loop, child flow) takes its state from what it contains, unless it has its own.
function compositeState(node, childStates, run) {
  if (childStates.includes('failed')) return 'failed';
  if (childStates.includes('running')) return 'running';
  if (childStates.includes('waiting')) return 'waiting';
  const reached = childStates.filter(s => s !== 'not-reached');
  if (reached.length === 0) return 'not-reached';
  if (node.kind === 'Route' || node.kind === 'Loop') return run.completed || reached.length === childStates.length ? 'completed' : (run.ended ? 'completed' : 'running');
  if (reached.length === childStates.length) return 'completed';
  return run.ended ? 'completed' : 'running';
}

function renderGraph(box, graph, run) {
  clear(box).append(el('div', { class: 'graph-steps' }, graphSteps(graph.steps, run)));
  box.dataset.workflow = graph.name;
  box.dataset.version = graph.version || '';
}

function graphSteps(steps, run) { return steps.map(step => graphNode(step, run)); }

function nodeFacts(node) {
  const facts = [];
  if (node.kind === 'Signal' && node.signalName) facts.push(`signal ${node.signalName}`);
  if (node.signalTimeout) facts.push(`timeout ${node.signalTimeout}`);
  if (node.delay) facts.push(`for ${node.delay}`);
  if (node.maxAttempts && node.maxAttempts > 1) facts.push(`${node.maxAttempts} attempts`);
  if (node.timeout) facts.push(`timeout ${node.timeout}`);
  if (node.maxIterations) facts.push(`≤ ${node.maxIterations} iterations`);
  if (node.childWorkflowName) facts.push(`child ${node.childWorkflowName}`);
  if (node.taskType) facts.push(node.taskType.split('.').pop());
  return facts.join(', ');
}

// Returns the node's element; its state is on data-state (and its class) for the caller to aggregate.
function graphNode(node, run) {
  const first = node.kind === 'Loop' && run.starts && (node.steps || [])[0];
  const iterations = first && first.kind === 'Task' ? run.starts.get(first.id) || 0 : 0;
  const head = el('div', { class: 'node-head' }, el('span', { class: 'node-kind', text: node.kind }),
    el('span', { class: 'node-id mono', text: node.id }), el('span', { class: 'node-facts muted', text: nodeFacts(node) }),
    iterations ? el('span', { class: 'node-iterations', text: `${iterations} iteration${iterations === 1 ? '' : 's'} run` }) : null);
  let body = null;
  let state;
  if (node.kind === 'Fork' || node.kind === 'Route') {
    const branches = (node.branches || []).map(branch => {
      const steps = graphSteps(branch.steps || [], run);
      return { branch, steps, states: steps.map(s => s.dataset.state) };
    });
    const join = node.join ? graphNode(node.join, run) : null;
    body = [el('div', { class: 'branches' }, branches.map(({ branch, steps }) => el('div', {
      class: 'branch', dataset: { branch: branch.name },
    }, el('div', { class: 'branch-name mono', text: branch.isDefault && !branch.name.includes('default') ? `${branch.name} (default)` : branch.name }), steps))), join];
    let childStates;
    if (node.kind === 'Route') {
      // Only the branch taken runs: the route is as far as that branch (or its key task) got.
      const taken = branches.filter(b => b.states.some(s => s !== 'not-reached'));
      childStates = taken.length ? taken[0].states : [];
      if (run.states.has(node.id)) childStates = [run.states.get(node.id) === 'completed' && taken.length ? 'completed' : run.states.get(node.id), ...childStates];
    } else {
      childStates = branches.flatMap(b => b.states);
      if (join) childStates.push(join.dataset.state);
    }
    state = compositeState(node, childStates, run);
    if (node.kind === 'Route' && run.states.get(node.id) === 'completed' && childStates.length === 1 && !run.ended) state = 'running';
  } else if ((node.steps || []).length) {
    const steps = graphSteps(node.steps, run);
    body = el('div', { class: 'node-body' }, steps);
    state = run.states.get(node.id) || compositeState(node, steps.map(s => s.dataset.state), run);
  } else {
    state = run.states.get(node.id) || 'not-reached';
  }
  // On the Workflows page there is no run: the definition alone, without states.
  if (run.definitionOnly) state = 'definition';
  return el('div', {
    class: `graph-node kind-${node.kind} node-${state}`,
    dataset: { nodeId: node.id, kind: node.kind, state },
    title: `${node.kind} ${node.id}${run.definitionOnly ? '' : ': ' + state.replace('-', ' ')}`,
  }, head, body);
}

function workflowGraphRow(v, columns) {
  const box = el('div', { class: 'graph' });
  const row = el('tr', { class: 'graph-row', dataset: { graphOf: v.workflowName, version: v.version || '' } },
    el('td', { colspan: String(columns) }, box));
  api(graphPath(v.workflowName, v.version))
    .then(graph => renderGraph(box, graph, { states: new Map(), ended: false, completed: false, definitionOnly: true }))
    .catch(e => message(box, `Cannot draw the flow: ${e.message}`));
  return row;
}

// ---- cluster page -------------------------------------------------------------------------------------------------

function clusterPage(app) {
  const version = routeVersion;
  const tbody = el('tbody');
  const errors = el('div');
  const totals = el('p', { id: 'cluster-totals', class: 'muted' });
  app.append(el('h1', { text: 'Cluster' }), errors,
    el('p', { class: 'muted', text: 'Silos that are not dead. Active runs: runs a silo drives (running a task, or parked on a delay, a signal or a pause while loaded). A dash: the silo did not answer in time, or is not active.' }),
    el('table', { id: 'cluster-table' },
      el('thead', {}, el('tr', {}, ['Address', 'Name', 'Host', 'Status', 'Started', 'Active runs', 'Attempts in flight'].map(h => el('th', { text: h })))),
      tbody),
    totals);
  const figure = (n) => (n === null || n === undefined ? '—' : n);
  const load = async () => {
    try {
      const silos = await api('cluster');
      if (version !== routeVersion) return;
      clear(errors);
      clear(tbody);
      for (const s of silos) {
        tbody.append(el('tr', { dataset: { address: s.address, status: s.status } },
          el('td', { class: 'mono', text: s.address }),
          el('td', { text: s.name || '' }),
          el('td', { text: s.hostName || '' }),
          el('td', {}, el('span', { class: `silo-status silo-${s.status}`, text: s.status })),
          el('td', { text: when(s.startedAt) }),
          el('td', { class: 'active-runs', text: figure(s.activeRuns) }),
          el('td', { class: 'attempts-in-flight', text: figure(s.attemptsInFlight) })));
      }
      if (silos.length === 0) tbody.append(el('tr', {}, el('td', { colspan: '7', class: 'muted', text: 'No live silo.' })));
      const sum = (f) => silos.reduce((n, s) => n + (s[f] || 0), 0);
      totals.textContent = `${silos.length} silo${silos.length === 1 ? '' : 's'}, ${sum('activeRuns')} active runs, ${sum('attemptsInFlight')} attempts in flight.`;
    } catch (e) {
      if (version === routeVersion) message(errors, `Cannot read the cluster: ${e.message}`);
    }
  };
  load();
  every(config.refreshMilliseconds, load);
}

// ---- start --------------------------------------------------------------------------------------------------------

async function main() {
  try {
    config = await api('config');
  } catch (e) {
    message(clear(document.getElementById('app')), `Cannot reach the dashboard API: ${e.message}`);
    return;
  }
  document.getElementById('mode').textContent = config.readOnly ? 'read-only' : config.actionsAllowed ? '' : 'actions disabled';
  window.addEventListener('hashchange', route);
  route();
}

main();
