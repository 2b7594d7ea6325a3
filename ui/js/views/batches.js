// Every batch, newest first, a page at a time (GET /upload?before=ID&limit=N and its Link header).
import {el, replace, errorBox} from "../dom.js";
import {call, nextLink} from "../api.js";
import {batchList} from "./batchlist.js";

const PAGE = 20;

/** Renders one page of batches; `query` may hold `before`. */
export async function renderBatches(main, query) {
  const before = query.get("before");
  replace(main, el("h1", {}, "Batches"), el("p", {class: "muted"}, "Loading…"));
  try {
    const target = `/upload?limit=${PAGE}` + (before ? `&before=${encodeURIComponent(before)}` : "");
    const {result, response} = await call("GET", target);
    const next = nextLink(response);
    const nextBefore = next && new URLSearchParams(next.split("?")[1]).get("before");
    replace(main,
      el("h1", {}, "Batches"),
      before ? el("p", {class: "muted"}, `Batches before ${before}`) : null,
      batchList(result),
      el("nav", {class: "pager", "aria-label": "Pages"},
        before ? el("a", {href: "#/batches"}, "Newest") : null,
        nextBefore ? el("a", {href: `#/batches?before=${nextBefore}`, rel: "next"}, "Older batches") : null));
  } catch (error) {
    replace(main, el("h1", {}, "Batches"), errorBox(error));
  }
}
