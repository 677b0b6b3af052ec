// The server's API as the demo calls it: JSON in and out, the tokens in memory only (never in
// storage a script could read later), and every failure turned into sentences a person can read.

let access = "";
let refresh = "";
let skew = 0;
let onSessionEnded = () => {};

/** Runs `handler` when the server stops accepting a sign-in (revoked elsewhere, or expired). */
export function whenSessionEnds(handler) {
  onSessionEnded = handler;
}

/** Keeps the tokens of a sign-in (`{access, refresh}`), or forgets them (`null`). */
export function setTokens(tokens) {
  access = tokens?.access ?? "";
  refresh = tokens?.refresh ?? "";
}

export const isSignedIn = () => access !== "";

/** Browser clock minus server clock, in seconds, as of the last response's `Date` header. */
export const clockSkew = () => skew;

/**
 * Calls the API and resolves to `{ok, status, data, retryAfter}`; never rejects. A network failure
 * is status 0. An expired access token is renewed once with the refresh token, then retried.
 */
export async function api(method, path, body) {
  const signedIn = isSignedIn();
  let result = await send(method, path, body);
  if (result.status === 401 && result.data.code === "token_not_valid" && refresh && (await renew())) {
    result = await send(method, path, body);
  }
  // Still refused: the session was revoked (from another device, or by a password change there).
  if (result.status === 401 && signedIn && isSignedIn()) {
    setTokens(null);
    onSessionEnded(result);
  }
  return result;
}

async function renew() {
  const result = await send("POST", "/api/token/refresh/", { refresh });
  if (!result.ok) return false;
  setTokens({ refresh, ...result.data });
  return true;
}

async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (access) headers.Authorization = `Bearer ${access}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0, data: {}, retryAfter: null };
  }
  noteServerTime(response.headers.get("Date"));
  const data = await response.json().catch(() => ({}));
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return {
    ok: response.ok,
    status: response.status,
    data: data !== null && typeof data === "object" ? data : {},
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
  };
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
  if (status === 0) return ["The server could not be reached. Check your connection and try again."];
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
