// The dashboard's pages. Each view is mount(container, ctx) → update(): mount builds the page's fixed parts once,
// update brings it in step with ctx.state (called on every refresh and every new event). Action buttons are built
// only when ctx.canAct (an operator or admin key); the API refuses a viewer's actions anyway.

import { h, replaceChildren, syncRows, confirmButton } from './dom.js';
import * as fmt from './format.js';

const MAX_LOG_LINES = 5000;

/** Rows a table shows before "Show all": a thousand rows cost the browser about a second to lay out the first time. */
const ROW_LIMIT = 250;

function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? fmt.lower(text)}`, text });
}

function notAvailable(what) {
  return h('p', { class: 'muted', 'data-testid': 'not-available', text: `${what} not available on this server.` });
}

function table(columns, testId) {
  const tbody = h('tbody');
  tbody.labels = columns.map(c => c.label);
  const el = h('div', { class: 'table-wrap' },
    h('table', { 'data-testid': testId },
      h('thead', {}, h('tr', {}, columns.map(c => h('th', { class: c.cls, text: c.label })))),
      tbody));
  return { el, tbody };
}

/**
 * Caps a long table at ROW_LIMIT rows until "Show all" is clicked; when capped, problems come first so none is left
 * out. rerender is called when the choice changes.
 */
function rowCap(rerender) {
  let all = false;
  const text = h('span');
  const el = h('p', { class: 'muted small cap', hidden: true }, text, h('a', {
    href: '#', 'data-testid': 'show-all', text: 'Show all',
    onclick: e => {
      e.preventDefault();
      all = true;
      rerender();
    },
  }));
  return {
    el,
    apply(list, isProblem) {
      if (all || list.length <= ROW_LIMIT) {
        el.hidden = true;
        return list;
      }
      el.hidden = false;
      text.textContent = `Showing ${ROW_LIMIT} of ${list.length}, problems first. `;
      return [...list.filter(isProblem), ...list.filter(x => !isProblem(x))].slice(0, ROW_LIMIT);
    },
  };
}

function replicaProblem(r) {
  return replicaState(r) !== 'healthy';
}

function nodeProblem(n) {
  return fmt.lower(n.node.status) !== 'ready' || n.node.draining;
}

function cell(text, cls, testId) {
  return h('td', { class: cls, 'data-testid': testId, text });
}

function nodeStatus(node) {
  const status = fmt.lower(node.status);
  const parts = [badge(status, status === 'ready' ? 'ok' : 'bad')];
  if (node.draining) {
    parts.push(' ', badge('draining', 'warn'));
  } else if (node.eligible === false) {
    parts.push(' ', badge('drained', 'warn'));
  }
  return parts;
}

function nodeRole(name, leader) {
  return name === leader ? 'agent · leader' : 'agent';
}

function serviceHealth(s) {
  if (s.desired === 0) {
    return 'idle';
  }
  if (s.healthy >= s.desired) {
    return 'ok';
  }
  return s.running > 0 ? 'warn' : 'bad';
}

function replicaState(r) {
  const phase = fmt.lower(r.replica.phase);
  const state = fmt.lower(r.replica.state);
  if (phase === 'assigned' && state) {
    return state;
  }
  return phase;
}

function stateKind(state) {
  switch (state) {
    case 'healthy': return 'ok';
    case 'running': case 'starting': case 'pending': case 'stopping': return 'warn';
    default: return 'bad';
  }
}

function severityKind(severity) {
  return { critical: 'bad', warning: 'warn', info: 'info' }[fmt.lower(severity)] ?? 'info';
}

// --- actions -------------------------------------------------------------------------------------------------

function scaleControl(ctx, service) {
  if (!ctx.canAct || fmt.lower(service.spec.mode) === 'global') {
    return null;
  }
  const input = h('input', { type: 'number', min: 0, max: 1000, value: service.spec.replicas, class: 'replicas-input', 'aria-label': `replicas of ${service.spec.name}`, 'data-testid': 'scale-input' });
  const submit = h('button', { type: 'submit', class: 'action', 'data-testid': 'scale', text: 'Scale' });
  return h('form', {
    class: 'inline',
    onsubmit: async e => {
      e.preventDefault();
      const replicas = Number(input.value);
      submit.disabled = true;
      try {
        await ctx.act(`/v1/services/${encodeURIComponent(service.spec.name)}/scale`, 'PUT', { replicas }, `${service.spec.name} scaled to ${replicas}`);
      } finally {
        submit.disabled = false;
      }
    },
  }, input, submit);
}

function restartButton(ctx, name) {
  return ctx.canAct
    ? confirmButton('Restart', 'Confirm restart', () => ctx.act(`/v1/services/${encodeURIComponent(name)}/restart`, 'POST', undefined, `${name}: restart requested`), { 'data-testid': 'restart' })
    : null;
}

function drainButton(ctx, node) {
  if (!ctx.canAct) {
    return null;
  }
  const name = node.name;
  return node.eligible === false || node.draining
    ? confirmButton('Undrain', 'Confirm undrain', () => ctx.act(`/v1/nodes/${encodeURIComponent(name)}/undrain`, 'POST', undefined, `${name} undrained`), { 'data-testid': 'undrain' })
    : confirmButton('Drain', 'Confirm drain', () => ctx.act(`/v1/nodes/${encodeURIComponent(name)}/drain`, 'POST', undefined, `${name} draining`), { 'data-testid': 'drain' });
}

function ackButton(ctx, alarm) {
  return ctx.canAct && alarm.active !== false && !alarm.acknowledged
    ? h('button', { type: 'button', class: 'action', 'data-testid': 'ack', text: 'Acknowledge', onclick: () => ctx.act(`/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, 'POST', undefined, `alarm ${alarm.id} acknowledged`) })
    : null;
}

// --- overview ------------------------------------------------------------------------------------------------

function card(title, testId) {
  const value = h('div', { class: 'value', 'data-testid': testId });
  const detail = h('div', { class: 'detail' });
  return { el: h('div', { class: 'card' }, h('div', { class: 'title', text: title }), value, detail), value, detail };
}

export function overview(container, ctx) {
  const health = card('Health', 'health-score');
  const alarms = card('Alarms', 'count-alarms');
  const nodes = card('Nodes', 'count-nodes');
  const services = card('Services', 'count-services');
  const replicas = card('Replicas', 'count-replicas');
  const meta = h('p', { class: 'muted meta' });
  const alarmList = h('div');
  const eventList = h('div');
  replaceChildren(container,
    h('h1', { text: 'Overview' }),
    h('div', { class: 'cards' }, health.el, alarms.el, nodes.el, services.el, replicas.el),
    meta,
    h('div', { class: 'split' },
      h('section', {}, h('h2', {}, h('a', { href: '#/alarms', text: 'Active alarms' })), alarmList),
      h('section', {}, h('h2', {}, h('a', { href: '#/events', text: 'Recent events' })), eventList)));

  return () => {
    const { status, alarms: alarmData, events } = ctx.state;
    if (!status) {
      return;
    }
    const score = status.health?.score;
    health.value.textContent = score === undefined || score === null ? '—' : String(Math.round(score));
    health.value.className = `value ${score === undefined || score === null ? '' : score >= 90 ? 'ok' : score >= 60 ? 'warn' : 'bad'}`;
    health.detail.textContent = score === undefined || score === null ? 'not available on this server' : 'of 100';

    const active = alarmData ? alarmData.filter(a => a.active !== false) : null;
    const counts = status.alarms ?? (active ? {
      critical: active.filter(a => fmt.lower(a.severity) === 'critical').length,
      warning: active.filter(a => fmt.lower(a.severity) === 'warning').length,
      info: active.filter(a => fmt.lower(a.severity) === 'info').length,
    } : null);
    if (counts) {
      alarms.value.textContent = String((counts.critical ?? 0) + (counts.warning ?? 0) + (counts.info ?? 0));
      alarms.value.className = `value ${counts.critical > 0 ? 'bad' : counts.warning > 0 ? 'warn' : 'ok'}`;
      alarms.detail.textContent = `${counts.critical ?? 0} critical · ${counts.warning ?? 0} warning · ${counts.info ?? 0} info`;
    } else {
      alarms.value.textContent = '—';
      alarms.value.className = 'value';
      alarms.detail.textContent = 'not available on this server';
    }

    const ready = status.nodes.filter(n => fmt.lower(n.node.status) === 'ready').length;
    const draining = status.nodes.filter(n => n.node.draining || n.node.eligible === false).length;
    nodes.value.textContent = String(status.nodes.length);
    nodes.value.className = `value ${ready === status.nodes.length ? 'ok' : 'bad'}`;
    nodes.detail.textContent = `${ready} ready · ${status.nodes.length - ready} down · ${draining} drained`;
    nodes.detail.dataset.testid = 'nodes-detail';

    const atDesired = status.services.filter(s => s.healthy >= s.desired).length;
    services.value.textContent = String(status.services.length);
    services.value.className = `value ${atDesired === status.services.length ? 'ok' : 'warn'}`;
    services.detail.textContent = `${atDesired} at desired healthy · ${status.services.length - atDesired} below`;

    const desired = status.services.reduce((n, s) => n + s.desired, 0);
    const running = status.services.reduce((n, s) => n + s.running, 0);
    const healthy = status.services.reduce((n, s) => n + s.healthy, 0);
    replicas.value.textContent = `${healthy}/${desired}`;
    replicas.value.className = `value ${healthy >= desired ? 'ok' : 'warn'}`;
    replicas.detail.textContent = `healthy of desired · ${running} running`;

    meta.textContent = `leader ${status.leader ?? 'none'} · store ${status.store_kind} ${status.store_healthy ? 'healthy' : 'UNHEALTHY'} · revision ${status.revision} · version ${status.version}`;

    if (active === null) {
      replaceChildren(alarmList, notAvailable('Alarms are'));
    } else if (active.length === 0) {
      replaceChildren(alarmList, h('p', { class: 'muted', text: 'No active alarms.' }));
    } else {
      replaceChildren(alarmList, h('ul', { class: 'list' }, active.slice(0, 8).map(a =>
        h('li', {}, badge(fmt.lower(a.severity), severityKind(a.severity)), ' ', h('strong', { text: a.subject }), ' ', a.message))));
    }
    replaceChildren(eventList, h('ul', { class: 'list' }, events.slice(-8).reverse().map(e =>
      h('li', {}, h('span', { class: 'muted', text: fmt.ago(e.time) }), ' ', h('code', { text: e.kind }), ' ', e.message))));
  };
}

// --- nodes ---------------------------------------------------------------------------------------------------

/** What a node row shows, as text: the row's signature, so a row changes only when what it shows changes. */
function nodeCells(n, leader, newest) {
  const node = n.node;
  return {
    status: [fmt.lower(node.status), node.draining, node.eligible],
    role: nodeRole(node.name, leader),
    address: (node.addresses ?? [])[0] ?? '—',
    cpu: n.cpu_percent === undefined || n.cpu_percent === null ? '—' : `${fmt.percent(n.cpu_percent)} of ${node.cpu_cores} cores`,
    memory: n.memory_used_bytes === undefined || n.memory_used_bytes === null ? `— of ${fmt.bytes(node.memory_bytes)}` : `${fmt.bytes(n.memory_used_bytes)} of ${fmt.bytes(node.memory_bytes)}`,
    replicas: String(n.replicas),
    heartbeat: heartbeatText(n.last_heartbeat, newest),
  };
}

/**
 * "current" while a node's last heartbeat is within 5 s of the newest heartbeat any node sent (the server's clock,
 * so the browser's clock does not matter), else the time of the last one.
 */
function heartbeatText(iso, newest) {
  if (!iso) {
    return '—';
  }
  return newest - Date.parse(iso) < 5000 ? 'current' : fmt.clock(iso);
}

function newestHeartbeat(list) {
  let newest = 0;
  for (const n of list) {
    if (n.last_heartbeat) {
      newest = Math.max(newest, Date.parse(n.last_heartbeat));
    }
  }
  return newest;
}

function nodeRow(ctx, n, c) {
  const node = n.node;
  return h('tr', {},
    h('td', {}, h('a', { href: `#/nodes/${encodeURIComponent(node.name)}`, text: node.name })),
    h('td', { 'data-testid': 'node-status' }, nodeStatus(node)),
    cell(c.role),
    cell(c.address, 'mono'),
    cell(c.cpu, 'num'),
    cell(c.memory, 'num'),
    cell(c.replicas, 'num', 'node-replicas'),
    cell(c.heartbeat, 'muted nowrap'),
    ctx.canAct ? h('td', { class: 'actions', dataset: { keep: node.draining || node.eligible === false ? 'undrain' : 'drain' } }, drainButton(ctx, node)) : null);
}

function nodeColumns(ctx) {
  return [{ label: 'Node' }, { label: 'Status' }, { label: 'Role' }, { label: 'Address' }, { label: 'CPU', cls: 'num' },
    { label: 'Memory', cls: 'num' }, { label: 'Replicas', cls: 'num' }, { label: 'Heartbeat' }, ctx.canAct ? { label: '' } : null].filter(Boolean);
}

export function nodes(container, ctx) {
  const { el, tbody } = table(nodeColumns(ctx), 'nodes');
  const summary = h('p', { class: 'muted' });
  const cap = rowCap(() => update());
  replaceChildren(container, h('h1', { text: 'Nodes' }), summary, cap.el, el);
  const update = () => {
    const status = ctx.state.status;
    if (!status) {
      return;
    }
    summary.textContent = `${status.nodes.length} nodes`;
    const newest = newestHeartbeat(status.nodes);
    const cells = new Map(status.nodes.map(n => [n.node.name, nodeCells(n, status.leader, newest)]));
    syncRows(tbody, cap.apply(status.nodes, nodeProblem), n => n.node.name,
      n => JSON.stringify(cells.get(n.node.name)),
      n => nodeRow(ctx, n, cells.get(n.node.name)));
  };
  return update;
}

export function node(container, ctx, name) {
  const head = h('div', { class: 'detail-head' });
  const { el, tbody } = table(replicaColumns(true), 'replicas');
  const cap = rowCap(() => update());
  replaceChildren(container, h('p', {}, h('a', { href: '#/nodes', text: '← Nodes' })), h('h1', { text: name }), head, h('h2', { text: 'Replicas' }), cap.el, el);
  const update = () => {
    const n = ctx.state.status?.nodes.find(x => x.node.name === name);
    if (!n) {
      replaceChildren(head, h('p', { class: 'error', text: `No node '${name}'.` }));
      return;
    }
    const labels = Object.entries(n.node.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'none';
    replaceChildren(head,
      h('dl', { class: 'facts' },
        h('dt', { text: 'Status' }), h('dd', {}, nodeStatus(n.node)),
        h('dt', { text: 'Role' }), h('dd', { text: nodeRole(name, ctx.state.status.leader) }),
        h('dt', { text: 'Addresses' }), h('dd', { class: 'mono', text: (n.node.addresses ?? []).join(', ') || '—' }),
        h('dt', { text: 'CPU' }), h('dd', { text: `${fmt.percent(n.cpu_percent)} of ${n.node.cpu_cores} cores · load ${n.load1 ?? '—'}` }),
        h('dt', { text: 'Memory' }), h('dd', { text: `${fmt.bytes(n.memory_used_bytes)} of ${fmt.bytes(n.node.memory_bytes)}` }),
        h('dt', { text: 'Labels' }), h('dd', { class: 'mono', text: labels }),
        h('dt', { text: 'Heartbeat' }), h('dd', { text: heartbeatText(n.last_heartbeat, newestHeartbeat(ctx.state.status.nodes)) })),
      h('div', { class: 'toolbar' }, drainButton(ctx, n.node)));
    syncRows(tbody, cap.apply(ctx.state.nodeReplicas ?? [], replicaProblem), r => r.replica.id, replicaSignature, r => replicaRow(r, true));
  };
  return update;
}

// --- services ------------------------------------------------------------------------------------------------

function where(service) {
  const counts = new Map();
  for (const r of service.replicas) {
    if (r.replica.node) {
      counts.set(r.replica.node, (counts.get(r.replica.node) ?? 0) + 1);
    }
  }
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([n, c]) => `${n}×${c}`);
  return counts.size > 4 ? `${parts.join(' ')} +${counts.size - 4} nodes` : parts.join(' ');
}

function serviceRow(ctx, s) {
  const name = s.spec.name;
  return h('tr', { 'data-service': name },
    h('td', {}, h('a', { href: `#/services/${encodeURIComponent(name)}`, text: name })),
    cell(s.spec.stack, 'muted'),
    cell(fmt.shortVersion(s.version), 'mono'),
    cell(String(s.desired), 'num', 'desired'),
    cell(String(s.running), 'num', 'running'),
    h('td', { class: 'num' }, badge(String(s.healthy), serviceHealth(s))),
    h('td', {}, h('div', { text: fmt.placement(s.spec) }), h('div', { class: 'muted small', text: where(s) })),
    ctx.canAct ? h('td', { class: 'actions', dataset: { keep: `${s.spec.replicas}/${s.spec.mode}` } }, scaleControl(ctx, s), restartButton(ctx, name)) : null);
}

export function services(container, ctx) {
  const columns = [{ label: 'Service' }, { label: 'Stack' }, { label: 'Version' }, { label: 'Desired', cls: 'num' },
    { label: 'Running', cls: 'num' }, { label: 'Healthy', cls: 'num' }, { label: 'Placement' }, ctx.canAct ? { label: '' } : null].filter(Boolean);
  const { el, tbody } = table(columns, 'services');
  const summary = h('p', { class: 'muted' });
  replaceChildren(container, h('h1', { text: 'Services' }), summary, el);
  return () => {
    const list = ctx.state.services;
    if (!list) {
      return;
    }
    summary.textContent = `${list.length} services · ${list.reduce((n, s) => n + s.replicas.length, 0)} replicas`;
    // The scale input keeps what the operator typed until the desired count itself changes.
    syncRows(tbody, list, s => s.spec.name,
      s => JSON.stringify([s.spec.name, s.spec.stack, s.version, s.desired, s.running, s.healthy, s.spec.placement, s.spec.mode, where(s)]),
      s => serviceRow(ctx, s));
  };
}

function replicaColumns(showService) {
  return [{ label: 'Replica' }, showService ? { label: 'Service' } : { label: 'Node' }, { label: 'State' }, { label: 'PID', cls: 'num' },
    { label: 'Ports' }, { label: 'Since' }, { label: 'CPU', cls: 'num' }, { label: 'Memory', cls: 'num' }, { label: 'Reason' }, { label: '' }].filter(Boolean);
}

/** What a replica row shows, as text (its signature). */
function replicaSignature(r) {
  const x = r.replica;
  return JSON.stringify([x.id, x.service, x.node, replicaState(r), r.pid, r.ports, r.state_since, fmt.percent(r.cpu_percent), fmt.bytes(r.rss_bytes), x.reason]);
}

function replicaRow(r, showService) {
  const replica = r.replica;
  const state = replicaState(r);
  const ports = Object.entries(r.ports ?? {}).map(([k, v]) => `${k}:${v}`).join(' ');
  return h('tr', { 'data-replica': replica.id },
    cell(replica.id, 'mono'),
    showService
      ? h('td', {}, h('a', { href: `#/services/${encodeURIComponent(replica.service)}`, text: replica.service }))
      : replica.node ? h('td', {}, h('a', { href: `#/nodes/${encodeURIComponent(replica.node)}`, text: replica.node })) : cell('—', 'muted'),
    h('td', { 'data-testid': 'replica-state' }, badge(state, stateKind(state))),
    cell(r.pid === undefined || r.pid === null ? '—' : String(r.pid), 'num mono', 'replica-pid'),
    cell(ports || '—', 'mono'),
    cell(fmt.clock(r.state_since), 'muted nowrap'),
    cell(fmt.percent(r.cpu_percent), 'num'),
    cell(fmt.bytes(r.rss_bytes), 'num'),
    cell(replica.reason || '', 'muted small'),
    h('td', {}, h('a', { href: `#/logs/${encodeURIComponent(replica.service)}/${encodeURIComponent(replica.id)}`, text: 'logs' })));
}

export function service(container, ctx, name) {
  const head = h('div', { class: 'detail-head' });
  const toolbar = h('div', { class: 'toolbar' });
  const { el, tbody } = table(replicaColumns(false), 'replicas');
  const cap = rowCap(() => update());
  let actionsFor = null;
  replaceChildren(container, h('p', {}, h('a', { href: '#/services', text: '← Services' })), h('h1', { text: name }), head, toolbar, h('h2', { text: 'Replicas' }), cap.el, el);
  const update = () => {
    const s = ctx.state.service;
    if (ctx.state.serviceMissing) {
      replaceChildren(head, h('p', { class: 'error', text: `No service '${name}'.` }));
      return;
    }
    if (!s || s.spec.name !== name) {
      return;
    }
    replaceChildren(head, h('dl', { class: 'facts' },
      h('dt', { text: 'Stack' }), h('dd', { text: s.spec.stack }),
      h('dt', { text: 'Version' }), h('dd', { class: 'mono', text: s.version }),
      h('dt', { text: 'Replicas' }), h('dd', {},
        h('span', { 'data-testid': 'desired', text: String(s.desired) }), ' desired · ',
        h('span', { 'data-testid': 'running', text: String(s.running) }), ' running · ',
        h('span', { 'data-testid': 'healthy', text: String(s.healthy) }), ' healthy · ',
        h('span', { text: String(s.pending) }), ' pending'),
      h('dt', { text: 'Placement' }), h('dd', { text: `${fmt.placement(s.spec)} · ${where(s) || 'nowhere yet'}` }),
      h('dt', { text: 'Command' }), h('dd', { class: 'mono', text: [s.spec.task?.command, ...(s.spec.task?.args ?? [])].filter(Boolean).join(' ') || '—' })));
    // Rebuilt only when the desired count changes, so a number being typed is not overwritten every second.
    const actionsKey = `${s.spec.replicas}/${s.spec.mode}`;
    if (actionsFor !== actionsKey) {
      actionsFor = actionsKey;
      replaceChildren(toolbar, scaleControl(ctx, s), restartButton(ctx, name));
    }
    syncRows(tbody, cap.apply(s.replicas, replicaProblem), r => r.replica.id, replicaSignature, r => replicaRow(r, false));
  };
  return update;
}

// --- logs ----------------------------------------------------------------------------------------------------

export function logs(container, ctx, serviceName, replicaId) {
  const follow = h('input', { type: 'checkbox', checked: true, 'data-testid': 'follow' });
  const stateLine = h('span', { class: 'muted' });
  const output = h('div', { class: 'log', 'data-testid': 'log', tabindex: 0 });
  replaceChildren(container,
    h('p', {}, h('a', { href: `#/services/${encodeURIComponent(serviceName)}`, text: `← ${serviceName}` })),
    h('h1', { text: `Logs of ${replicaId}` }),
    h('div', { class: 'toolbar' }, h('label', {}, follow, ' follow'), ' ', stateLine),
    output);

  let controller = null;
  const start = () => {
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    output.replaceChildren();
    stateLine.textContent = follow.checked ? 'following…' : 'loading…';
    const query = new URLSearchParams({ service: serviceName, replica: replicaId, tail: '500', follow: String(follow.checked) });
    let lines = 0;
    ctx.streamNdjson(`/v1/logs?${query}`, record => {
      const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
      output.appendChild(h('div', { class: `line ${record.stream === 'stderr' ? 'stderr' : ''}` },
        h('span', { class: 'muted', text: record.time ? fmt.time(record.time) + ' ' : '' }), record.text ?? ''));
      if (++lines > MAX_LOG_LINES) {
        output.firstElementChild?.remove();
      }
      if (atBottom) {
        output.scrollTop = output.scrollHeight;
      }
    }, signal).then(found => {
      if (!found) {
        replaceChildren(output, notAvailable('Central logs are'));
        stateLine.textContent = '';
      } else if (!signal.aborted) {
        stateLine.textContent = follow.checked ? 'stream ended' : `${lines} lines`;
      }
    }, e => {
      if (!signal.aborted) {
        stateLine.textContent = `error: ${e.message}`;
      }
    });
  };
  follow.addEventListener('change', start);
  start();
  const update = () => {};
  update.dispose = () => controller?.abort();
  return update;
}

// --- events --------------------------------------------------------------------------------------------------

/** Most rows the events table shows (the newest of those kept). */
const SHOW_EVENTS = 500;

export function events(container, ctx) {
  const filter = h('input', { type: 'search', placeholder: 'filter: kind, subject, text, actor', 'aria-label': 'filter events' });
  const { el, tbody } = table([{ label: 'Time' }, { label: 'Kind' }, { label: 'Subject' }, { label: 'Message' }, { label: 'Actor' }], 'events');
  const summary = h('p', { class: 'muted' });
  replaceChildren(container, h('h1', { text: 'Events' }), h('div', { class: 'toolbar' }, filter, summary), el);
  const update = () => {
    const needle = filter.value.trim().toLowerCase();
    const all = ctx.state.events;
    const matching = all.filter(e => !needle || `${e.kind} ${e.subject} ${e.message} ${e.actor}`.toLowerCase().includes(needle));
    const list = matching.slice(-SHOW_EVENTS).reverse();
    const shown = list.length < matching.length ? ` · newest ${list.length} shown` : '';
    summary.textContent = needle
      ? `${matching.length} of the last ${all.length} events match${shown} · live`
      : `the last ${all.length} events${shown} · live`;
    // Keyed by the event's id: several events share one revision.
    syncRows(tbody, list, e => e.id, e => e.id, e => h('tr', {},
      cell(fmt.time(e.time), 'muted nowrap'), h('td', {}, h('code', { text: e.kind })), cell(e.subject, 'mono'), cell(e.message), cell(e.actor, 'muted')));
  };
  filter.addEventListener('input', update);
  return update;
}

// --- alarms --------------------------------------------------------------------------------------------------

export function alarms(container, ctx) {
  const body = h('div');
  const columns = [{ label: 'Severity' }, { label: 'Subject' }, { label: 'Message' }, { label: 'First seen' }, { label: 'Last seen' }, { label: 'State' }, ctx.canAct ? { label: '' } : null].filter(Boolean);
  const { el, tbody } = table(columns, 'alarms');
  replaceChildren(container, h('h1', { text: 'Alarms' }), body);
  return () => {
    const list = ctx.state.alarms;
    if (list === undefined) {
      return;
    }
    if (list === null) {
      replaceChildren(body, notAvailable('Alarms are'));
      return;
    }
    if (body.firstChild !== el) {
      replaceChildren(body, el);
    }
    const order = { critical: 0, warning: 1, info: 2 };
    const sorted = [...list].sort((a, b) => (b.active === false ? 0 : 1) - (a.active === false ? 0 : 1) || (order[fmt.lower(a.severity)] ?? 3) - (order[fmt.lower(b.severity)] ?? 3));
    syncRows(tbody, sorted, a => a.id, a => JSON.stringify(a), a => h('tr', { class: a.active === false ? 'cleared' : '' },
      h('td', {}, badge(fmt.lower(a.severity), severityKind(a.severity))),
      cell(a.subject, 'mono'),
      h('td', {}, h('div', { text: a.message }), h('div', { class: 'muted small', text: a.kind })),
      cell(fmt.time(a.first_seen), 'muted nowrap'),
      cell(fmt.ago(a.last_seen), 'muted nowrap'),
      cell(a.active === false ? 'cleared' : a.acknowledged ? `acknowledged by ${a.acknowledged_by ?? '?'}` : 'active'),
      ctx.canAct ? h('td', { class: 'actions', dataset: { keep: `${a.active}/${a.acknowledged}` } }, ackButton(ctx, a)) : null));
  };
}
