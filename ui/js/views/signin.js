// Sign in by pasting a token; GET /auth/whoami checks it and says who it is.
import {el, replace, errorBox} from "../dom.js";
import {get} from "../api.js";
import * as session from "../session.js";

/** The sign-in form; `done` runs once a token checked out; `notice` says why the last session ended. */
export function renderSignIn(main, done, notice) {
  const input = el("input", {id: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true});
  const problem = el("div", {id: "signin-problem"});
  const form = el("form", {class: "card signin", onsubmit: async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    session.signIn(value, null);
    try {
      session.setWhoami(await get("/auth/whoami"));
      done();
    } catch (error) {
      session.signOut();
      replace(problem, errorBox(error));
      input.focus();
    }
  }},
  el("h1", {}, "Sign in"),
  notice ? el("p", {class: "error", role: "alert", id: "signin-notice"}, notice) : null,
  el("p", {}, "Paste a token made with ", el("code", {}, "tooltool-server token create"),
    " or on the Tokens page. It stays in this tab only and is forgotten when you sign out or close it."),
  el("label", {for: "token"}, "Token"), input,
  el("button", {type: "submit"}, "Sign in"),
  problem);
  replace(main, form);
  input.focus();
}
