// A batch: its files (size, visibility, download) and the batch as a tooltool manifest to copy or download.
import {el, replace, errorBox, formatBytes, field, table, copyText, saveAs} from "../dom.js";
import {get, getText} from "../api.js";
import {downloadControl} from "./download.js";

/** Renders batch `id`. */
export async function renderBatch(main, id) {
  replace(main, el("h1", {}, `Batch ${id}`), el("p", {class: "muted"}, "Loading…"));
  try {
    const [batch, manifest] = await Promise.all([get(`/upload/${id}`), getText(`/upload/${id}/manifest`)]);
    const files = Object.entries(batch.files);
    const text = el("pre", {id: "manifest", class: "manifest", tabindex: "0"}, manifest);
    const copied = el("span", {role: "status", class: "muted"});
    replace(main,
      el("h1", {}, `Batch ${batch.id}`),
      el("p", {class: "message"}, batch.message),
      el("dl", {class: "facts"},
        field("Author", batch.author),
        field("Uploaded", el("time", {datetime: batch.uploaded}, batch.uploaded.replace("T", " ").replace("Z", " UTC")))),
      table("Files", ["Name", "Size", "Visibility", "Download"], files.map(([name, file]) =>
        el("tr", {},
          el("td", {}, el("a", {href: `#/file/${file.digest}`}, name)),
          el("td", {title: `${file.size} bytes`}, formatBytes(file.size)),
          el("td", {}, el("span", {class: `badge ${file.visibility}`}, file.visibility)),
          el("td", {}, downloadControl(file.digest, name, file.visibility))))),
      el("h2", {}, "Manifest"),
      el("p", {class: "muted"}, "Save it as manifest.tt and run ", el("code", {}, "tooltool fetch"), "."),
      text,
      el("div", {class: "actions"},
        el("button", {type: "button", onclick: async () => {
          copied.textContent = (await copyText(manifest)) ? "Copied." : "Select the text above and copy it.";
        }}, "Copy manifest"),
        el("button", {type: "button", onclick: () => saveAs(manifest, "manifest.tt", "application/json")},
          "Download manifest"),
        copied));
  } catch (error) {
    replace(main, el("h1", {}, `Batch ${id}`), errorBox(error));
  }
}
