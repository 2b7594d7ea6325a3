// Tokens (manage only): list them (never a secret), make one with chosen permissions (its secret shown once, with
// a copy button), revoke one. The server answers 403 to other tokens and the page shows its words.
import {el, replace, errorBox, table, copyText} from "../dom.js";
import {call, get} from "../api.js";
import {confirmAction} from "../confirm.js";

const PERMISSIONS = ["download.public", "download.internal", "upload.public", "upload.internal", "manage"];

/** Renders the tokens page. */
export async function renderTokens(main) {
  replace(main, el("h1", {}, "Tokens"), el("p", {class: "muted"}, "Loading…"));
  let tokens;
  try {
    tokens = await get("/tokens");
  } catch (error) {
    replace(main, el("h1", {}, "Tokens"), errorBox(error));
    return;
  }
  const created = el("div", {id: "created-token"});
  const problem = el("div", {});
  replace(main, el("h1", {}, "Tokens"), createForm(main, created), created, problem,
    table("Every token", ["ID", "User", "Permissions", "Created", "Last used", "Revoked", ""], tokens.map((t) =>
      el("tr", {class: t.revoked ? "revoked" : null},
        el("td", {}, String(t.id)), el("td", {}, t.user), el("td", {}, t.permissions.join(", ")),
        el("td", {}, t.created), el("td", {}, t.last_used || "never"), el("td", {}, t.revoked || "no"),
        el("td", {}, t.revoked ? null : el("button", {type: "button", class: "danger",
          "aria-label": `Revoke token ${t.id} of ${t.user}`, onclick: async () => {
            if (!(await confirmAction(`Revoke token ${t.id} of ${t.user}? It stops working at once.`, "Revoke"))) return;
            try {
              await call("DELETE", `/tokens/${t.id}`);
              await renderTokens(main);
            } catch (error) {
              replace(problem, errorBox(error));
            }
          }}, "Revoke"))))));
}

function createForm(main, created) {
  const user = el("input", {id: "new-user", type: "text", required: true, autocomplete: "off"});
  const boxes = PERMISSIONS.map((name) => el("input", {type: "checkbox", id: `perm-${name}`, value: name}));
  const problem = el("div", {});
  return el("form", {class: "card", onsubmit: async (event) => {
    event.preventDefault();
    const permissions = boxes.filter((box) => box.checked).map((box) => box.value);
    try {
      const {result} = await call("POST", "/tokens", {json: {user: user.value, permissions}});
      await renderTokens(main);
      showSecret(document.getElementById("created-token"), result);
    } catch (error) {
      replace(problem, errorBox(error));
    }
  }},
  el("h2", {}, "New token"),
  el("label", {for: "new-user"}, "User"), user,
  el("fieldset", {}, el("legend", {}, "Permissions"),
    boxes.map((box) => el("label", {class: "check"}, box, box.value))),
  el("button", {type: "submit"}, "Create token"),
  problem);
}

function showSecret(holder, result) {
  const secret = el("input", {id: "new-token", type: "text", readonly: true, value: result.token,
    "aria-label": "New token"});
  const status = el("span", {role: "status", class: "muted"});
  replace(holder, el("div", {class: "card secret"},
    el("p", {}, `Token ${result.id} for ${result.user}. Copy it now: it is shown this once and only its hash is kept.`),
    secret,
    el("button", {type: "button", onclick: async () => {
      status.textContent = (await copyText(result.token, secret)) ? "Copied." : "Select it and copy it.";
    }}, "Copy token"),
    status));
  secret.focus();
  secret.select();
}
