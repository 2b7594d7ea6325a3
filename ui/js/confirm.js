// A modal confirmation (<dialog>): focus moves into it, Escape cancels, the action button names what happens.
import {el} from "./dom.js";

/** Resolves true when the user pressed `action`, false on Cancel or Escape. */
export function confirmAction(question, action) {
  return new Promise((resolve) => {
    const yes = el("button", {type: "button", class: "danger", value: "yes"}, action);
    const no = el("button", {type: "button", value: "no"}, "Cancel");
    const dialog = el("dialog", {class: "confirm", "aria-labelledby": "confirm-question"},
      el("p", {id: "confirm-question"}, question),
      el("div", {class: "actions"}, no, yes));
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); finish(false); });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
