// Building the page without ever parsing HTML: every piece of text goes in as a text node (textContent), so a
// message like <img src=x onerror=alert(1)> shows as those characters.

/** An element: `el("a", {href: "#/", class: "x", onclick: f}, "text", otherNode)`. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "value") node.value = value;
    else if (key === "checked") node.checked = Boolean(value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

/** Appends children: nodes as they are, strings and numbers as text, arrays flattened, null skipped. */
export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, ...children);
}

/** 1234567 -> "1.2 MB" (and the exact count in a title elsewhere). */
export function formatBytes(count) {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = Number(count);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A digest shortened for tables; the whole one is in the title and on the file page. */
export function shortDigest(digest) {
  return `${digest.slice(0, 12)}…${digest.slice(-6)}`;
}

/** An alert box with the server's (or our) error text. */
export function errorBox(error) {
  const text = error && error.description ? error.description : String(error && error.message ? error.message : error);
  const name = error && error.name && error.status ? `${error.status} ${error.name}: ` : "";
  return el("p", {class: "error", role: "alert"}, name + text);
}

/** A labelled value row for a definition list. */
export function field(label, ...value) {
  return [el("dt", {}, label), el("dd", {}, ...value)];
}

/** A table that scrolls sideways on narrow screens instead of squeezing. */
export function table(caption, headings, rows) {
  return el("div", {class: "table-wrap"},
    el("table", {},
      caption ? el("caption", {}, caption) : null,
      el("thead", {}, el("tr", {}, headings.map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, rows)));
}

/** Copies text to the clipboard; falls back to selecting it where the Clipboard API is not available (plain http). */
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackInput) { fallbackInput.focus(); fallbackInput.select(); }
    return document.execCommand && document.execCommand("copy");
  }
}

/** Saves `text` (or a Blob) as a download named `filename`. */
export function saveAs(data, filename, type = "application/octet-stream") {
  const blob = data instanceof Blob ? data : new Blob([data], {type});
  const url = URL.createObjectURL(blob);
  const link = el("a", {href: url, download: filename, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
