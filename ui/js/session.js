// The signed-in token lives in sessionStorage (this tab only, gone when it closes) and goes out as
// Authorization: Bearer. No cookies, so other sites cannot make the browser act with it.

const KEY = "tooltool.token";
let who = null;

/** The token, or null when signed out. */
export function token() {
  return sessionStorage.getItem(KEY);
}

/** Remembers a token and who it is (from GET /auth/whoami). */
export function signIn(value, whoami) {
  sessionStorage.setItem(KEY, value);
  who = whoami;
}

/** Forgets the token. */
export function signOut() {
  sessionStorage.removeItem(KEY);
  who = null;
}

/** `{id, user, permissions}` of the signed-in token, or null. */
export function whoami() {
  return who;
}

/** Sets who is signed in (after reloading the page with a remembered token). */
export function setWhoami(value) {
  who = value;
}

/** True when the signed-in token has `permission`. */
export function can(permission) {
  return Boolean(who && who.permissions.includes(permission));
}

/** True when the token may upload anything. */
export function canUpload() {
  return can("upload.public") || can("upload.internal");
}
