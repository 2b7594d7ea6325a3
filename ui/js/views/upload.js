// Upload (upload.* tokens): choose or drop files, a message and a visibility; SHA-512 in the browser (WebCrypto),
// POST /upload, a PUT per new file with a progress bar, /upload/complete, then the batch's manifest.
import {el, replace, append, errorBox, formatBytes} from "../dom.js";
import {call, getText} from "../api.js";
import {can} from "../session.js";

const MAX_BROWSER_HASH = 2 * 1024 * 1024 * 1024;

/** Renders the upload form. */
export function renderUpload(main) {
  const chosen = [];
  const list = el("ul", {class: "chosen", id: "chosen"});
  const input = el("input", {type: "file", id: "files", multiple: true});
  const message = el("textarea", {id: "message", rows: "2", required: true});
  const visibilities = ["internal", "public"].filter((v) => can(`upload.${v}`));
  const visibility = el("select", {id: "visibility"}, visibilities.map((v) => el("option", {value: v}, v)));
  const progress = el("div", {id: "progress"});
  const submit = el("button", {type: "submit"}, "Upload");

  const add = (files) => {
    for (const file of files) {
      if (chosen.some((f) => f.name === file.name)) continue;
      chosen.push(file);
    }
    replace(list, chosen.map((file) => el("li", {}, file.name, " ", el("span", {class: "muted"}, formatBytes(file.size)),
      file.size > MAX_BROWSER_HASH ? el("span", {class: "error"}, " too large for the browser: use tooltool upload") : null)));
  };
  input.addEventListener("change", () => add(input.files));
  const drop = el("div", {class: "drop", id: "drop"}, "Drop files here, or choose them above.");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); add(event.dataTransfer.files); });

  if (visibilities.length === 0) {
    replace(main, el("h1", {}, "Upload"), el("p", {class: "error", role: "alert"},
      "This token has neither upload.public nor upload.internal."));
    return;
  }
  const form = el("form", {class: "card", onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await upload(chosen, message.value, visibility.value, progress);
    } catch (error) {
      append(progress, errorBox(error));
    } finally {
      submit.disabled = false;
    }
  }},
  el("label", {for: "files"}, "Files"), input, drop, list,
  el("label", {for: "message"}, "Message"), message,
  el("label", {for: "visibility"}, "Visibility"), visibility,
  submit);
  replace(main, el("h1", {}, "Upload"),
    el("p", {class: "muted"}, "Files are hashed here in the browser (up to 2 GiB each; above that use ",
      el("code", {}, "tooltool upload"), "), then sent straight to the server."),
    form, progress);
}

async function sha512(file) {
  if (!(crypto && crypto.subtle)) {
    throw new Error("this browser cannot hash here (WebCrypto needs HTTPS or localhost); use tooltool upload");
  }
  const digest = await crypto.subtle.digest("SHA-512", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** PUTs `file` to the signed URL (it needs no token) with XMLHttpRequest, which reports upload progress. */
function put(url, file, bar) {
  return new Promise((resolve, reject) => {
    const target = new URL(url, location.href);
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", target.pathname + target.search);  // same server as the page (CSP: connect-src 'self')
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => { if (event.lengthComputable) bar.value = event.loaded / event.total; });
    xhr.addEventListener("load", () => {
      if (xhr.status === 200) { bar.value = 1; resolve(); return; }
      let text = `${xhr.status}`;
      try { text = `${xhr.status} ${JSON.parse(xhr.responseText).error.description}`; } catch { /* keep the status */ }
      reject(new Error(`PUT of ${file.name} failed: ${text}`));
    });
    xhr.addEventListener("error", () => reject(new Error(`PUT of ${file.name} failed: the connection broke`)));
    xhr.send(file);
  });
}

async function complete(digest) {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      await call("GET", `/upload/complete/sha512/${digest}`);
      return;
    } catch (error) {
      if (error.status !== 409) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error(`the server still reports an upload of ${digest.slice(0, 16)}… in progress`);
}

async function upload(files, message, visibility, out) {
  replace(out);
  if (files.length === 0) throw new Error("choose at least one file");
  if (!message.trim()) throw new Error("write a message (what these files are, and why)");
  const tooLarge = files.filter((f) => f.size > MAX_BROWSER_HASH);
  if (tooLarge.length) throw new Error(`${tooLarge.map((f) => f.name).join(", ")}: over 2 GiB; use tooltool upload`);
  const rows = files.map((file) => {
    const bar = el("progress", {max: "1", value: "0", "aria-label": `Upload of ${file.name}`});
    const state = el("span", {class: "muted"}, "hashing…");
    append(out, el("div", {class: "progress-row"}, el("span", {}, file.name), bar, state));
    return {file, bar, state};
  });
  const entries = {};
  for (const row of rows) {
    row.digest = await sha512(row.file);
    row.state.textContent = "hashed";
    entries[row.file.name] = {size: row.file.size, digest: row.digest, algorithm: "sha512", visibility};
  }
  const {result: batch} = await call("POST", "/upload", {json: {message, files: entries}});
  for (const row of rows) {
    const putURL = batch.files[row.file.name].put_url;
    if (putURL) {
      row.state.textContent = "sending…";
      await put(putURL, row.file, row.bar);
    } else {
      row.bar.value = 1;
    }
    await complete(row.digest);
    row.state.textContent = putURL ? "uploaded" : "already stored";
  }
  const manifest = await getText(`/upload/${batch.id}/manifest`);
  append(out, el("p", {class: "ok", role: "status", id: "upload-done"}, `Batch ${batch.id} uploaded. `,
    el("a", {href: `#/batch/${batch.id}`}, "Open the batch")),
  el("pre", {class: "manifest", id: "upload-manifest", tabindex: "0"}, manifest));
}
