// The REST API under /v1, with the signed-in key sent as "Authorization: Bearer crl_…" (see docs/api.md).
// The key lives in sessionStorage: it is gone when the tab closes.

const KEY_ITEM = 'corral.key';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export function savedKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function saveKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

async function problem(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') {
      detail = body.detail;
    }
  } catch {
    // not a problem+json body: keep the status line
  }
  return new ApiError(response.status, detail);
}

/** Calls the API; resolves with the parsed JSON (null for 204), rejects with ApiError. */
export async function call(method, path, { body, signal, key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? savedKey() ?? ''}`, Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  if (!response.ok) {
    throw await problem(response);
  }
  return response.status === 204 ? null : response.json();
}

export const get = (path, options) => call('GET', path, options);
export const post = (path, body, options) => call('POST', path, { ...options, body });
export const put = (path, body, options) => call('PUT', path, { ...options, body });

/**
 * GET that resolves with null when the route does not exist on this server (a 404 without a problem detail, e.g. a
 * server from before that feature), so a page can show "not available".
 */
export async function getOptional(path, options) {
  try {
    return await get(path, options);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return null;
    }
    throw e;
  }
}

/**
 * Streams newline-delimited JSON records from path, calling onRecord for each, until the stream ends or signal aborts.
 * Resolves with false when the route does not exist (404).
 */
export async function streamNdjson(path, onRecord, signal) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${savedKey() ?? ''}`, Accept: 'application/x-ndjson' }, signal, cache: 'no-store' });
  if (response.status === 404) {
    const error = await problem(response);
    if (error.message.startsWith('404')) {
      return false;
    }
    throw error;
  }
  if (!response.ok) {
    throw await problem(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      break;
    }
    buffered += value;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line.length > 0) {
        onRecord(JSON.parse(line));
      }
    }
  }
  if (buffered.trim().length > 0) {
    onRecord(JSON.parse(buffered));
  }
  return true;
}
