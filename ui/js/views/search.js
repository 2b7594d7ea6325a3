// One search over batches (author, message) and files (filename, digest prefix).
import {el, replace, errorBox, formatBytes, shortDigest, table} from "../dom.js";
import {get} from "../api.js";
import {batchList} from "./batchlist.js";

/** How many file results get their name looked up. */
const NAMED = 20;

/** Renders the results for `text`. */
export async function renderSearch(main, text) {
  const box = document.getElementById("search");
  if (box) box.value = text;
  const title = el("h1", {}, "Search: ", el("q", {}, text));
  if (!text) { replace(main, el("h1", {}, "Search"), el("p", {}, "Type in the search box above.")); return; }
  replace(main, title, el("p", {class: "muted"}, "Searching…"));
  const q = encodeURIComponent(text);
  try {
    const [batches, files] = await Promise.all([get(`/upload?q=${q}`), get(`/file?q=${q}`)]);
    // FILE search results carry no filename: the first few are looked up (GET /file/sha512/D names its batches).
    const names = await Promise.all(files.map((file, i) => i < NAMED ? get(`/file/sha512/${file.digest}`)
      .then((d) => (d.batches.length ? d.batches[0].filename : ""), () => "") : Promise.resolve("")));
    replace(main, title,
      el("h2", {}, `Files (${files.length})`),
      files.length === 0 ? el("p", {class: "empty"}, "No files.") :
        table(null, ["Name", "Digest", "Size", "Visibility", "Stored"], files.map((file, i) =>
          el("tr", {},
            el("td", {}, names[i] ? el("a", {href: `#/file/${file.digest}`}, names[i]) : "—"),
            el("td", {}, el("a", {href: `#/file/${file.digest}`, title: file.digest, class: "digest"}, shortDigest(file.digest))),
            el("td", {}, formatBytes(file.size)),
            el("td", {}, el("span", {class: `badge ${file.visibility}`}, file.visibility)),
            el("td", {}, file.has_instances ? "yes" : "no")))),
      el("h2", {}, `Batches (${batches.length})`),
      batchList(batches));
  } catch (error) {
    replace(main, title, errorBox(error));
  }
}
