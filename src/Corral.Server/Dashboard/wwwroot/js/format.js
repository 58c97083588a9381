// Formatting of values for people. Every function returns plain text.

export function bytes(n) {
  if (n === null || n === undefined) {
    return '—';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function percent(p) {
  return p === null || p === undefined ? '—' : `${p.toFixed(p >= 10 ? 0 : 1)}%`;
}

export function lower(value) {
  return value === null || value === undefined ? '' : String(value).toLowerCase();
}

/** "12s ago", "3m ago", … from an ISO time; '—' when absent. */
export function ago(iso, now = Date.now()) {
  if (!iso) {
    return '—';
  }
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) {
    return `${seconds}s ago`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ago`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)}h ago`;
  }
  return `${Math.floor(seconds / 86400)}d ago`;
}

// Formatters are built once: toLocaleString with options builds a new one per call, which costs about a
// millisecond a row on a thousand-row page.
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium', hour12: false });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium', hour12: false });

export function time(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : '—';
}

/** Time of day (hh:mm:ss) for times of the last 12 hours, else date and time. */
export function clock(iso) {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  return Math.abs(Date.now() - d.getTime()) < 12 * 3600_000 ? timeFormat.format(d) : dateTimeFormat.format(d);
}

export function shortVersion(version) {
  return version ? String(version).slice(0, 12) : '—';
}

export function placement(spec) {
  const p = spec?.placement ?? {};
  const parts = [];
  if (spec?.mode && lower(spec.mode) === 'global') {
    parts.push('global');
  }
  if (p.node) {
    parts.push(`node=${p.node}`);
  }
  for (const [k, v] of Object.entries(p.labels ?? {})) {
    parts.push(`${k}=${v}`);
  }
  if (p.max_per_node) {
    parts.push(`≤${p.max_per_node}/node`);
  }
  return parts.length === 0 ? 'anywhere' : parts.join(', ');
}
