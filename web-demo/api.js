// The server's API as the demo calls it: JSON in and out, the tokens in memory only (never in
// storage a script could read later), and every failure turned into sentences a person can read.

let access = "";
let refresh = "";
let skew = 0;

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
  let result = await send(method, path, body);
  if (result.status === 401 && result.data.code === "token_not_valid" && refresh && (await renew())) {
    result = await send(method, path, body);
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
  mfa_token: "Sign-in attempt",
};

/** What went wrong, as sentences: `detail` when the server gave one, else each field's messages. */
export function problems({ status, data, retryAfter }) {
  if (status === 0) return ["The server could not be reached. Check your connection and try again."];
  if (typeof data.detail === "string") return [data.detail];
  const sentences = Object.entries(data).flatMap(([field, messages]) =>
    [messages].flat().filter((m) => typeof m === "string").map((message) =>
      field === "non_field_errors" ? message : `${FIELD_LABELS[field] ?? field.replaceAll("_", " ")}: ${message}`));
  if (sentences.length > 0) return sentences;
  if (status === 429) return [`Too many attempts. Try again in ${retryAfter ?? "a few"} seconds.`];
  return [`The server answered with an unexpected error (HTTP ${status}).`];
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
