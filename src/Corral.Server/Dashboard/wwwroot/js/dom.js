// Building the page with DOM calls only: text goes in with textContent (never innerHTML), so data from the cluster
// cannot inject markup.

/**
 * Creates an element. attrs: class, text, on<event> handlers, dataset (data-*), hidden, and any other attribute.
 * children: nodes, strings (as text) or null/false (skipped), nested arrays flattened.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === 'class') {
      el.className = value;
    } else if (name === 'text') {
      el.textContent = String(value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** Replaces every child of el. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Keeps a tbody's rows in step with items without rebuilding what did not change: each row is keyed by key(item);
 * when signature(item) changed, a fresh row is built and only its cells that differ replace the old ones. A cell
 * marked with data-keep (an actions cell: a half-typed number, a button waiting for its confirming click) is kept as
 * long as its data-keep value is the same. Keeps the page cheap to update with a thousand rows.
 */
export function syncRows(tbody, items, key, signature, build) {
  const old = new Map();
  for (const row of tbody.children) {
    old.set(row.dataset.key, row);
  }
  let cursor = tbody.firstElementChild;
  for (const item of items) {
    const k = String(key(item));
    const sig = signature(item);
    let row = old.get(k);
    if (row && row.dataset.sig !== sig) {
      patchRow(row, label(build(item), tbody.labels));
    } else if (!row) {
      row = label(build(item), tbody.labels);
    }
    row.dataset.key = k;
    row.dataset.sig = sig;
    old.delete(k);
    if (row === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      tbody.insertBefore(row, cursor);
    }
  }
  for (const row of old.values()) {
    row.remove();
  }
}

/** Names each cell after its column (data-label), for the stacked layout on phones. */
function label(row, labels) {
  if (labels) {
    let i = 0;
    for (const td of row.children) {
      if (labels[i]) {
        td.dataset.label = labels[i];
      }
      i++;
    }
  }
  return row;
}

function patchRow(row, fresh) {
  row.className = fresh.className;
  const before = [...row.children];
  const after = [...fresh.children];
  if (before.length !== after.length) {
    row.replaceChildren(...after);
    return;
  }
  for (let i = 0; i < before.length; i++) {
    const o = before[i];
    const n = after[i];
    if (o.dataset.keep !== undefined && o.dataset.keep === n.dataset.keep) {
      continue;
    }
    if (o.outerHTML !== n.outerHTML) {
      o.replaceWith(n);
    }
  }
}

/** A two-step button for actions worth a second thought: the first click asks, the second (within 4 s) acts. */
export function confirmButton(label, confirmLabel, action, attrs = {}) {
  let armed = null;
  const button = h('button', { type: 'button', class: 'action', ...attrs, text: label });
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = confirmLabel;
      button.classList.add('armed');
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
    button.classList.remove('armed');
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
