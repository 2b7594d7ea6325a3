// The JSON API, called with the signed-in token. Errors carry the server's own {name, description}.
import {token, whoami} from "./session.js";

/** A refused or failed request: `status`, the error body's `name` and `description`. */
export class ApiError extends Error {
  constructor(status, name, description) {
    super(description);
    this.status = status;
    this.name = name;
    this.description = description;
  }
}

function headers(extra = {}) {
  const all = {...extra};
  const value = token();
  if (value) all.Authorization = `Bearer ${value}`;
  return all;
}

async function failure(response) {
  let name = "Error";
  let description = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) { name = body.error.name; description = body.error.description; }
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, name, description);
}

/** A 401 during a signed-in session means the token stopped working (revoked): the page signs out (main.js). */
function refused(error) {
  if (error.status === 401 && whoami()) {
    window.dispatchEvent(new CustomEvent("tooltool:token-refused", {detail: error.description}));
  }
  return error;
}

/** Sends a request; `json` becomes the body. Resolves to {result, response}; rejects with ApiError. */
export async function call(method, path, {json} = {}) {
  const init = {method, headers: headers(json === undefined ? {} : {"Content-Type": "application/json"}),
    cache: "no-store", credentials: "omit"};
  if (json !== undefined) init.body = JSON.stringify(json);
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "NetworkError", `the server did not answer (${error.message})`);
  }
  if (!response.ok) throw refused(await failure(response));
  const text = await response.text();
  const body = text ? JSON.parse(text) : {};
  return {result: body.result, response};
}

/** GET and return the `result`. */
export async function get(path) {
  return (await call("GET", path)).result;
}

/** GET a text resource (a manifest, /metrics). */
export async function getText(path) {
  const response = await fetch(path, {headers: headers(), cache: "no-store", credentials: "omit"});
  if (!response.ok) throw refused(await failure(response));
  return response.text();
}

/** GET a blob with the token (for internal files, which a plain link cannot fetch). */
export async function getBlob(path) {
  const response = await fetch(path, {headers: headers(), credentials: "omit"});
  if (!response.ok) throw refused(await failure(response));
  return response.blob();
}

/** The `next` target of a `Link` header, or null. */
export function nextLink(response) {
  const link = response.headers.get("Link");
  const match = link && link.match(/<([^>]*)>\s*;\s*rel="next"/);
  return match ? match[1] : null;
}
