// The server's API as the demo calls it: every request goes through the npm package's
// `LatchkeyClient`, which keeps the session in cookie mode (the refresh token in the server's HttpOnly
// cookie, the access token in the client's memory only) and refreshes it; this module turns every
// answer into `{ok, status, data, retryAfter}` and every failure into sentences a person can read.
import { LatchkeyClient, LatchkeyError } from "./pkg/client.js";

/** Who answers the client's "confirm it is you" questions: reauth.js's dialog, once `confirmIdentityWith` set it. */
let identity = { ask: async () => null, refused: () => {} };

/**
 * This page's session. The page signs in and out through it and follows it with `client.onChange`;
 * a sensitive request refused for want of a recent sign-in asks `identity` (sudo mode).
 */
export const client = new LatchkeyClient({ fetch: watch, onReauthenticate: (request) => identity.ask(request) });

/**
 * Sets the dialog that answers the client's re-authentication questions: `ask(request)` resolves
 * `{password}`, `{code}`, `{passkey: true}` or null; `refused(message)` hears that the last answer was wrong.
 */
export function confirmIdentityWith(hooks) {
  identity = hooks;
}

let skew = 0;
let refused = false;

/** Browser clock minus server clock, in seconds, as of the last response's `Date` header. */
export const clockSkew = () => skew;

/**
 * Whether, since the last call, the server refused the refresh cookie while this page was signed in
 * (its session was revoked elsewhere, or expired): then that, not this page or another tab, is what
 * signed the client out.
 */
export function sessionRefused() {
  const was = refused;
  refused = false;
  return was;
}

/** The client's `fetch`: notes the server's clock, and the refresh cookie's refusal. */
async function watch(input, init) {
  const response = await fetch(input, init);
  noteServerTime(response.headers.get("Date"));
  if (new URL(response.url, location.href).pathname === "/api/token/refresh/") {
    refused = [400, 401, 403].includes(response.status) && client.authenticated;
  }
  return response;
}

/**
 * Calls the API and resolves to `{ok, status, data, retryAfter}`; never rejects. A network failure
 * is status 0. The client adds the access token, and renews it first when it is about to expire
 * or once after a 401; a session the server no longer accepts signs the page out (`client.onChange`).
 * A sensitive request asks the user to confirm it is them when the server wants it; a wrong password
 * there asks again (the server refused the request before doing anything, and answers 429 after a
 * few wrong ones), and cancelling answers `{ok: false, status: 403, cancelled: true}`.
 */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  for (;;) {
    try {
      response = await client.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      break;
    } catch (error) {
      if (!(error instanceof LatchkeyError) || error.code !== "reauthentication_failed") return failure(error);
      identity.refused(error.message);
    }
  }
  const data = await response.json().catch(() => ({}));
  return {
    ok: response.ok,
    status: response.status,
    data: data !== null && typeof data === "object" ? data : {},
    retryAfter: retryAfterOf(response.headers.get("Retry-After")),
  };
}

/**
 * Runs `work`, a call of the client that may ask the user to confirm it is them (`registerPasskey`), as
 * `api` sends a request: a wrong answer asks again. Resolves `{ok: true, value}` or `failure`'s answer.
 */
export async function confirming(work) {
  for (;;) {
    try {
      return { ok: true, value: await work() };
    } catch (error) {
      if (!(error instanceof LatchkeyError) || error.code !== "reauthentication_failed") return failure(error);
      identity.refused(error.message);
    }
  }
}

/**
 * What `client.login`, `verifyMfa`, a passkey call or `logout` threw, as `api` answers: a `LatchkeyError`
 * carries the server's status, body and `Retry-After`; the client's own `Error` (a passkey the browser
 * could not use) its message as `detail`, with status 0; anything else is a network failure (status 0).
 */
export function failure(error) {
  if (error?.constructor === Error) return { ok: false, status: 0, data: { detail: error.message }, retryAfter: null };
  if (!(error instanceof LatchkeyError)) return { ok: false, status: 0, data: {}, retryAfter: null };
  if (error.code === "reauthentication_required") {
    return { ok: false, status: 403, cancelled: true, data: { detail: CANCELLED }, retryAfter: null };
  }
  const data = error.body !== null && typeof error.body === "object" ? error.body : {};
  return { ok: false, status: error.status, data, retryAfter: error.retryAfter ?? null };
}

/** What the page says when the user closed the "confirm it is you" dialog. */
export const CANCELLED = "Nothing was changed: this needs you to confirm it is you.";

function retryAfterOf(header) {
  const seconds = Number.parseInt(header ?? "", 10);
  return Number.isFinite(seconds) ? seconds : null;
}

// `Date` has whole seconds, so the skew is known to about a second: plenty for a 30-second code.
function noteServerTime(header) {
  const server = Date.parse(header ?? "");
  if (Number.isFinite(server)) skew = Math.round((Date.now() - server) / 1000);
}

const FIELD_LABELS = {
  email: "E-mail", password: "Password", password_confirm: "Confirm password", code: "Code", name: "Name",
  mfa_token: "Sign-in attempt", old_password: "Current password", new_password: "New password",
  uid: "Link", token: "Link",
};

/** What went wrong, as sentences: `detail` when the server gave one, else each field's messages. */
export function problems({ status, data, retryAfter }) {
  if (status === 0 && typeof data.detail !== "string") return ["The server could not be reached. Check your connection and try again."];
  if (status === 429) return [`Too many attempts. ${retryAfter ? `Try again in ${duration(retryAfter)}.` : "Try again later."}`];
  if (typeof data.detail === "string") return [data.detail];
  const sentences = Object.entries(data).flatMap(([field, messages]) =>
    [messages].flat().filter((m) => typeof m === "string").map((message) =>
      field === "non_field_errors" ? message : `${FIELD_LABELS[field] ?? field.replaceAll("_", " ")}: ${message}`));
  if (sentences.length > 0) return sentences;
  return [`The server answered with an unexpected error (HTTP ${status}).`];
}

/** `Retry-After` seconds in words: "20 seconds", "15 minutes", "2 hours" (rounded up). */
export function duration(seconds) {
  const [count, unit] = seconds < 90 ? [seconds, "second"]
    : seconds < 90 * 60 ? [Math.ceil(seconds / 60), "minute"] : [Math.ceil(seconds / 3600), "hour"];
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/**
 * Shows each field's messages from a DRF error body under its control (`#<id>-error`, created on
 * first use and tied to the control with aria-describedby) and marks it invalid; clears the
 * others. Returns the sentences no control of `form` shows (non-field errors, `detail`, unknown fields).
 */
export function showFieldErrors(form, result) {
  const data = result?.ok === false ? result.data : {};
  const shown = new Set();
  for (const control of form.querySelectorAll("input[name][id], textarea[name][id], select[name][id]")) {
    const messages = [data[control.name] ?? []].flat().filter((m) => typeof m === "string");
    const error = errorElement(control);
    error.textContent = messages.join(" ");
    error.hidden = messages.length === 0;
    if (messages.length > 0) {
      control.setAttribute("aria-invalid", "true");
      shown.add(control.name);
    } else {
      control.removeAttribute("aria-invalid");
    }
  }
  if (result?.ok !== false) return [];
  const rest = Object.fromEntries(Object.entries(data).filter(([field]) => !shown.has(field)));
  if (shown.size > 0 && Object.keys(rest).length === 0) return ["Please correct the fields marked above."];
  return problems({ ...result, data: rest });
}

function errorElement(control) {
  const id = `${control.id}-error`;
  let error = document.getElementById(id);
  if (!error) {
    error = Object.assign(document.createElement("p"), { id, className: "field-error", hidden: true });
    control.after(error);
    const described = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
    control.setAttribute("aria-describedby", [...described, id].join(" "));
  }
  return error;
}

/** Marks the inputs of `form` named in a DRF error body, so assistive technology announces them. */
export function markInvalid(form, data = {}) {
  for (const input of form.querySelectorAll("input")) {
    if (input.name && input.name in data) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** Shows one sentence, or a list of them, in a status element; `kind` is "ok", "bad" or "". */
export function say(element, sentences, kind = "") {
  const list = [sentences].flat().filter(Boolean);
  if (list.length > 1) {
    const ul = document.createElement("ul");
    ul.append(...list.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
    element.replaceChildren(ul);
  } else {
    element.textContent = list[0] ?? "";
  }
  element.className = `message ${kind}`.trim();
}

/**
 * After a 429, keeps `button` disabled until `Retry-After` has passed: a try during the wait is
 * refused again, even with the right code. Other answers leave it alone.
 */
export function holdOffIfThrottled(button, { status, retryAfter }) {
  if (status !== 429 || !button) return;
  button.disabled = true;
  setTimeout(() => { button.disabled = false; }, Math.max(1, retryAfter ?? 1) * 1000);
}

/** Disables a form's controls while its request runs, so a double click sends one request. */
export async function whileBusy(form, work) {
  const controls = [...form.querySelectorAll("button, input")].filter((c) => !c.disabled);
  form.setAttribute("aria-busy", "true");
  controls.forEach((c) => { c.disabled = true; });
  try {
    return await work();
  } finally {
    controls.forEach((c) => { c.disabled = false; });
    form.removeAttribute("aria-busy");
  }
}
