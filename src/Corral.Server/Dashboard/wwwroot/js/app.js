// The dashboard's shell: sign-in, routing (#/…), and live data. Two sources keep the page current without reloads:
// a blocking query on /v1/events (returns as soon as anything is recorded, so a change shows within a round trip)
// and a refresh every second for what events do not cover (heartbeat stats, CPU, memory).

import { ApiError, call, get, getOptional, savedKey, saveKey, forgetKey, streamNdjson } from './api.js';
import { h } from './dom.js';
import * as views from './views.js';

const REFRESH_MS = 1000;
const EVENT_WAIT = '25s';
const KEEP_EVENTS = 1000;

const $ = id => document.getElementById(id);

const state = {
  me: null,
  status: null,
  services: null,
  service: null,
  serviceMissing: false,
  nodeReplicas: null,
  alarms: undefined, // undefined: not loaded yet; null: this server has no alarms API
  events: [],
  eventIndex: 0,
};

let route = { name: 'overview', args: [] };
let update = null;
let generation = 0; // bumped on sign-out and route change so late answers are dropped
let refreshing = null;
let refreshAgain = false;
let eventsController = null;
let timer = null;

const ctx = {
  state,
  canAct: false,
  streamNdjson,
  act: async (path, method, body, done) => {
    try {
      await call(method, path, { body });
      toast(done, 'ok');
      await refresh();
    } catch (e) {
      toast(e instanceof ApiError ? `${e.status === 403 ? 'refused' : 'failed'}: ${e.message}` : `failed: ${e.message}`, 'bad');
      handleAuthError(e);
    }
  },
};

function toast(text, kind) {
  const el = h('div', { class: `toast ${kind}`, text });
  $('toasts').appendChild(el);
  setTimeout(() => el.remove(), 5000);
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(p => p.length > 0).map(decodeURIComponent);
  const [first, ...rest] = parts;
  switch (first) {
    case undefined: return { name: 'overview', args: [] };
    case 'nodes': return rest.length > 0 ? { name: 'node', args: [rest[0]] } : { name: 'nodes', args: [] };
    case 'services': return rest.length > 0 ? { name: 'service', args: [rest[0]] } : { name: 'services', args: [] };
    case 'logs': return { name: 'logs', args: [rest[0] ?? '', rest[1] ?? ''] };
    case 'events': return { name: 'events', args: [] };
    case 'alarms': return { name: 'alarms', args: [] };
    default: return { name: 'overview', args: [] };
  }
}

function mount() {
  update?.dispose?.();
  route = parseRoute();
  generation++;
  state.service = null;
  state.serviceMissing = false;
  state.nodeReplicas = null;
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.dataset.route === route.name || `${link.dataset.route}` === `${route.name}s`;
    link.classList.toggle('current', current);
    if (current) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  const view = $('view');
  update = views[route.name](view, ctx, ...route.args);
  update();
  refresh();
}

/**
 * How long the last refreshes took (fetch and parse, then render), for the performance budget: read by the browser
 * tests and visible in the console as corralStats. Bounded.
 */
const stats = { loads: [] };
window.corralStats = stats;

function recordLoad(name, fetchMs, renderMs) {
  stats.loads.push({ route: name, fetchMs, renderMs, at: performance.now() });
  if (stats.loads.length > 300) {
    stats.loads.splice(0, stats.loads.length - 300);
  }
}

/** What the current page reads, besides the event stream. */
async function load(gen) {
  const tasks = [];
  switch (route.name) {
    case 'overview':
      tasks.push(get('/v1/status').then(s => { state.status = s; }));
      tasks.push(getOptional('/v1/alarms').then(a => { state.alarms = a; }));
      break;
    case 'nodes':
      tasks.push(get('/v1/status').then(s => { state.status = s; }));
      break;
    case 'node':
      tasks.push(get('/v1/status').then(s => { state.status = s; }));
      tasks.push(get(`/v1/replicas?node=${encodeURIComponent(route.args[0])}`).then(r => { state.nodeReplicas = r; }));
      break;
    case 'services':
      tasks.push(get('/v1/services').then(s => { state.services = s; }));
      break;
    case 'service':
      tasks.push(get(`/v1/services/${encodeURIComponent(route.args[0])}`).then(s => { state.service = s; state.serviceMissing = false; }, e => {
        if (e instanceof ApiError && e.status === 404) {
          state.serviceMissing = true;
          return;
        }
        throw e;
      }));
      break;
    case 'alarms':
      // Cleared alarms too, for history (the overview reads only the active ones).
      tasks.push(getOptional('/v1/alarms?all=true').then(a => { state.alarms = a; }));
      break;
    default:
      break;
  }
  const started = performance.now();
  await Promise.all(tasks);
  if (gen === generation) {
    const fetched = performance.now();
    update?.();
    // Style and layout would run before the next paint anyway: run them here so the render time includes them.
    void document.body.offsetHeight;
    recordLoad(route.name, fetched - started, performance.now() - fetched);
    // For the first-load budget: when the first page with data was on screen, relative to navigation start.
    if (performance.getEntriesByName('corral:first-data').length === 0) {
      performance.mark('corral:first-data');
    }
  }
}

/** Refreshes the current page; a call while one is in flight makes one more run after it, not a second in parallel. */
async function refresh() {
  if (!state.me) {
    return;
  }
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        await load(generation);
        setLive(true);
      } catch (e) {
        setLive(false, e.message);
        handleAuthError(e);
      }
    } while (refreshAgain && state.me);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

function setLive(ok, why) {
  const live = $('live');
  live.className = `live ${ok ? 'ok' : 'bad'}`;
  live.textContent = ok ? 'live' : 'offline';
  live.title = ok ? 'live updates' : `cannot reach the API: ${why}`;
}

async function followEvents(controller) {
  const signal = controller.signal;
  let first = true;
  while (!signal.aborted) {
    try {
      // The first read takes the newest KEEP_EVENTS at once; then blocking queries from the index. One revision can
      // hold several events (a scale by several replicas): each event is known by its id, never by its revision.
      const query = first ? `tail=${KEEP_EVENTS}&limit=${KEEP_EVENTS}` : `limit=1000&wait=${EVENT_WAIT}`;
      const page = await get(`/v1/events?index=${state.eventIndex}&${query}`, { signal });
      first = false;
      const known = new Set(state.events.map(e => e.id));
      const fresh = page.events.filter(e => !known.has(e.id));
      if (fresh.length > 0) {
        state.events.push(...fresh);
        if (state.events.length > KEEP_EVENTS) {
          state.events.splice(0, state.events.length - KEEP_EVENTS);
        }
        refresh();
        update?.();
      }
      state.eventIndex = page.index;
    } catch (e) {
      if (signal.aborted) {
        return;
      }
      handleAuthError(e);
      setLive(false, e.message);
      await new Promise(resolve => setTimeout(resolve, 2000));
    }
  }
}

function handleAuthError(e) {
  if (e instanceof ApiError && e.status === 401) {
    signOut(`Signed out: ${e.message}`);
  }
}

function showSignIn(message) {
  $('sign-in').hidden = false;
  $('view').hidden = true;
  $('nav').hidden = true;
  $('who').hidden = true;
  $('sign-in-error').textContent = message ?? '';
  $('key').focus();
}

function signedIn(me) {
  state.me = me;
  ctx.canAct = me.role === 'operator' || me.role === 'admin';
  document.body.dataset.role = me.role;
  $('who-name').textContent = `${me.name} (${me.role})`;
  $('sign-in').hidden = true;
  $('view').hidden = false;
  $('nav').hidden = false;
  $('who').hidden = false;
  state.events = [];
  state.eventIndex = 0;
  eventsController = new AbortController();
  followEvents(eventsController);
  timer = setInterval(() => {
    if (!document.hidden) {
      refresh();
    }
  }, REFRESH_MS);
  mount();
}

function signOut(message) {
  forgetKey();
  state.me = null;
  generation++;
  eventsController?.abort();
  clearInterval(timer);
  update?.dispose?.();
  update = null;
  $('view').replaceChildren();
  delete document.body.dataset.role;
  showSignIn(message);
}

async function signIn(key) {
  try {
    const me = await get('/v1/whoami', { key });
    saveKey(key);
    $('key').value = '';
    signedIn(me);
  } catch (e) {
    forgetKey();
    showSignIn(e instanceof ApiError ? `Refused: ${e.message}` : `Cannot reach the API: ${e.message}`);
  }
}

$('sign-in-form').addEventListener('submit', e => {
  e.preventDefault();
  signIn($('key').value.trim());
});
$('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => {
  if (state.me) {
    mount();
  }
});

const key = savedKey();
if (key) {
  signIn(key);
} else {
  showSignIn();
}
