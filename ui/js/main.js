// Start-up, the header (navigation, search, who is signed in) and the hash router: #/, #/batches, #/batch/ID,
// #/file/DIGEST, #/search?q=, #/upload, #/tokens. Each view is a module that renders into <main>.
import {el, replace} from "./dom.js";
import {get} from "./api.js";
import * as session from "./session.js";
import {renderSignIn} from "./views/signin.js";
import {renderOverview} from "./views/overview.js";
import {renderBatches} from "./views/batches.js";
import {renderBatch} from "./views/batch.js";
import {renderFile} from "./views/file.js";
import {renderSearch} from "./views/search.js";
import {renderTokens} from "./views/tokens.js";
import {renderUpload} from "./views/upload.js";

let main = document.getElementById("main");

const routes = [
  [/^\/$/, () => renderOverview(main)],
  [/^\/batches$/, (_, query) => renderBatches(main, query)],
  [/^\/batch\/(\d+)$/, (match) => renderBatch(main, match[1])],
  [/^\/file\/([0-9a-f]{128})$/, (match) => renderFile(main, match[1])],
  [/^\/search$/, (_, query) => renderSearch(main, query.get("q") || "")],
  [/^\/upload$/, () => renderUpload(main)],
  [/^\/tokens$/, () => renderTokens(main)],
];

/** Renders the view for the current hash, into a fresh <main>: answers still on their way to the view being left
 * land in the detached old one instead of over this one (a quick click would otherwise show the old page). */
async function route() {
  freshMain();
  renderHeader();
  if (!session.token()) { renderSignIn(main, signedIn); return; }
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, queryText] = hash.split("?", 2);
  const query = new URLSearchParams(queryText || "");
  for (const [pattern, render] of routes) {
    const match = path.match(pattern);
    if (match) {
      document.title = "tooltool";
      await render(match, query);
      main.focus({preventScroll: true});
      return;
    }
  }
  replace(main, el("h1", {}, "Not found"), el("p", {}, "No page here. ", el("a", {href: "#/"}, "Go to the overview.")));
}

function signedIn() {
  renderHeader();
  route();
}

/** Swaps in an empty <main> (a new view, or a session's end): answers still on their way to the old view land in a
 * detached element instead of over what comes next. */
function freshMain() {
  const fresh = main.cloneNode(false);
  main.replaceWith(fresh);
  main = fresh;
}

/** The server refused the token mid-session: back to the sign-in form, saying why. */
function tokenRefused(event) {
  session.signOut();
  renderHeader();
  freshMain();
  renderSignIn(main, signedIn, `Signed out: the server refused the token (${event.detail}).`);
}

function signOut() {
  session.signOut();
  freshMain();
  location.hash = "#/";
  route();
}

/** Navigation (what this token may use), the search box, and who is signed in. */
function renderHeader() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const me = session.whoami();
  if (!session.token() || !me) { replace(nav); replace(who); delete nav.dataset.token; return; }
  if (nav.dataset.token === String(me.id)) return;  // already drawn for this token: keep the search box's state
  nav.dataset.token = String(me.id);
  const search = el("input", {type: "search", id: "search", name: "q", "aria-label": "Search",
    placeholder: "filename, digest, author, message"});
  const form = el("form", {class: "search", role: "search", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(search.value.trim())}`;
  }}, search, el("button", {type: "submit"}, "Search"));
  replace(nav,
    el("a", {href: "#/"}, "Overview"),
    el("a", {href: "#/batches"}, "Batches"),
    session.canUpload() ? el("a", {href: "#/upload"}, "Upload") : null,
    session.can("manage") ? el("a", {href: "#/tokens"}, "Tokens") : null,
    form);
  replace(who,
    el("span", {class: "user", title: "Signed in as"}, me.user),
    el("span", {class: "perms"}, me.permissions.join(", ")),
    el("button", {type: "button", onclick: signOut}, "Sign out"));
}

async function start() {
  if (session.token()) {
    try {
      session.setWhoami(await get("/auth/whoami"));
    } catch (error) {
      session.signOut();
      if (error.status !== 401) console.error(error);
    }
  }
  window.addEventListener("hashchange", route);
  window.addEventListener("tooltool:token-refused", tokenRefused);
  route();
}

start();
