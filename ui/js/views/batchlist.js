// A list of upload batches: id, time, author, message and files, each linking to its page.
import {el, formatBytes} from "../dom.js";

/** One card per batch. */
export function batchList(batches) {
  if (batches.length === 0) return el("p", {class: "empty"}, "No batches.");
  return el("ol", {class: "batches"}, batches.map((batch) => {
    const files = Object.entries(batch.files);
    return el("li", {class: "batch"},
      el("div", {class: "batch-head"},
        el("a", {href: `#/batch/${batch.id}`, class: "batch-link"}, `Batch ${batch.id}`),
        el("time", {datetime: batch.uploaded}, batch.uploaded.replace("T", " ").replace("Z", " UTC")),
        el("span", {class: "author"}, batch.author)),
      el("p", {class: "message"}, batch.message),
      el("ul", {class: "files"}, files.map(([name, file]) =>
        el("li", {},
          el("a", {href: `#/file/${file.digest}`}, name), " ",
          el("span", {class: "muted"}, formatBytes(file.size)), " ",
          el("span", {class: `badge ${file.visibility}`}, file.visibility)))));
  }));
}
