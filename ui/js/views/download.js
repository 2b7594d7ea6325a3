// A download control for a blob: public blobs are a plain link (the browser streams them to disk); internal
// ones need the token, which a link cannot send, so they are fetched with it and saved from memory.
import {el, errorBox, saveAs} from "../dom.js";
import {getBlob} from "../api.js";

/** A link or button that downloads `digest` as `filename`. */
export function downloadControl(digest, filename, visibility) {
  const path = `/sha512/${digest}`;
  if (visibility === "public") {
    return el("a", {href: path, download: filename, "aria-label": `Download ${filename}`}, "Download");
  }
  const holder = el("span", {});
  const button = el("button", {type: "button", "aria-label": `Download ${filename}`, onclick: async () => {
    button.disabled = true;
    try {
      saveAs(await getBlob(path), filename);
    } catch (error) {
      holder.append(errorBox(error));
    } finally {
      button.disabled = false;
    }
  }}, "Download");
  holder.append(button);
  return holder;
}
