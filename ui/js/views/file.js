// A file: digest, size, visibility, whether it is stored, every batch that named it; for `manage` tokens,
// "Make internal"/"Make public" and "Delete instances" (PATCH /file/sha512/D), each confirmed first.
import {el, replace, errorBox, formatBytes, field, table} from "../dom.js";
import {call, get} from "../api.js";
import {can} from "../session.js";
import {confirmAction} from "../confirm.js";
import {downloadControl} from "./download.js";

/** Renders file `digest`. */
export async function renderFile(main, digest) {
  replace(main, el("h1", {}, "File"), el("p", {class: "muted"}, "Loading…"));
  try {
    show(main, await get(`/file/sha512/${digest}`), null);
  } catch (error) {
    replace(main, el("h1", {}, "File"), errorBox(error));
  }
}

/** The file's name for people: the newest batch's filename, else the start of its digest. */
function nameOf(file) {
  return file.batches.length ? file.batches[0].filename : `${file.digest.slice(0, 16)}…`;
}

function show(main, file, notice) {
  const name = nameOf(file);
  const problem = el("div", {id: "action-problem"});
  const act = async (question, action, operation) => {
    if (!(await confirmAction(question, action))) return;
    try {
      const {result} = await call("PATCH", `/file/sha512/${file.digest}`, {json: [operation]});
      show(main, result, `${action}: done. The file is now ${result.visibility}` +
        (result.has_instances ? "." : ", with no stored instance."));
    } catch (error) {
      replace(problem, errorBox(error));
    }
  };
  const other = file.visibility === "public" ? "internal" : "public";
  const actions = can("manage") ? el("div", {class: "actions"},
    el("button", {type: "button", onclick: () => act(`Make ${name} ${other}? ` +
      (other === "internal" ? "Only tokens with download.internal will be able to fetch it." :
        "Anyone who can reach the server will be able to fetch it."), `Make ${other}`,
    {op: "set_visibility", visibility: other})}, `Make ${other}`),
    el("button", {type: "button", class: "danger", disabled: !file.has_instances, onclick: () => act(
      `Delete the stored instances of ${name}? Its history stays; uploading it again restores it.`,
      "Delete instances", {op: "delete_instances"})}, "Delete instances"))
    : el("p", {class: "muted"}, "Changing visibility or deleting needs a token with the manage permission.");
  replace(main,
    el("h1", {}, name),
    notice ? el("p", {class: "ok", role: "status", id: "action-result"}, notice) : null,
    el("dl", {class: "facts"},
      field("Digest", el("code", {class: "digest", id: "file-digest"}, file.digest)),
      field("Size", el("span", {title: `${file.size} bytes`}, `${formatBytes(file.size)} (${file.size} bytes)`)),
      field("Visibility", el("span", {class: `badge ${file.visibility}`, id: "file-visibility"}, file.visibility)),
      field("Stored", el("span", {id: "file-stored"}, file.has_instances ? "yes (has_instances)" : "no (no instances)")),
      field("Download", file.has_instances ? downloadControl(file.digest, name, file.visibility) : "—")),
    actions,
    problem,
    el("h2", {}, "Batches that named it"),
    file.batches.length === 0 ? el("p", {class: "empty"}, "None you may see.") :
      table(null, ["Batch", "Filename", "Author", "Message", "Uploaded"], file.batches.map((b) =>
        el("tr", {},
          el("td", {}, el("a", {href: `#/batch/${b.id}`}, String(b.id))),
          el("td", {}, b.filename), el("td", {}, b.author), el("td", {}, b.message),
          el("td", {}, el("time", {datetime: b.uploaded}, b.uploaded.replace("T", " ").replace("Z", " UTC")))))));
}
