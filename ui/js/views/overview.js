// The store at a glance: files and bytes per visibility (from /metrics), the heartbeat, the newest batches.
import {el, replace, errorBox, formatBytes, table} from "../dom.js";
import {call, getText} from "../api.js";
import {batchList} from "./batchlist.js";

/** Reads one gauge of the Prometheus text, e.g. tooltool_files{visibility="public"}. */
function gauge(text, name, visibility) {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{visibility="${visibility}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

async function heartbeat() {
  try {
    await call("GET", "/__heartbeat__");
    return el("p", {class: "ok", id: "heartbeat"}, "Heartbeat: ok (the store takes writes, the index answers)");
  } catch (error) {
    return el("p", {class: "error", id: "heartbeat", role: "alert"}, `Heartbeat: ${error.description}`);
  }
}

/** Renders the overview. */
export async function renderOverview(main) {
  replace(main, el("h1", {}, "Overview"), el("p", {class: "muted"}, "Loading…"));
  const parts = [el("h1", {}, "Overview")];
  try {
    const metrics = await getText("/metrics");
    parts.push(table("Stored files", ["Visibility", "Files", "Bytes"], ["public", "internal"].map((v) => {
      const bytes = gauge(metrics, "tooltool_file_bytes", v);
      return el("tr", {}, el("td", {}, v), el("td", {}, String(gauge(metrics, "tooltool_files", v))),
        el("td", {title: `${bytes} bytes`}, formatBytes(bytes)));
    })));
  } catch (error) {
    parts.push(errorBox(error));
  }
  parts.push(await heartbeat());
  parts.push(el("h2", {}, "Recent uploads"));
  try {
    const {result} = await call("GET", "/upload?limit=10");
    parts.push(batchList(result), el("p", {}, el("a", {href: "#/batches"}, "All batches")));
  } catch (error) {
    parts.push(errorBox(error));
  }
  replace(main, parts);
}
