// The passkeys card: the signed-in user's passkeys (`GET /api/auth/passkeys/`), each with its name
// (Rename: `PATCH /api/auth/passkeys/{id}/`), when it was added and last used, and Remove
// (`DELETE /api/auth/passkeys/{id}/`; the server refuses to remove the account's last way to sign in);
// and a form that adds one: the client's `registerPasskey` asks the server for options, the browser
// (or the phone, or the security key) makes the passkey, and the server checks and keeps it. Adding and
// removing are sensitive: past the re-authentication window, the user confirms it is them first
// (reauth.js). A server with passkeys off (its public address is an IP address, which cannot carry
// passkeys) still lists them but answers their ceremonies 404 `passkeys_unavailable`: once the page heard
// that (from the sign-in form, or from Add), the card offers no Add, and is hidden when the list is empty.
import { api, client, confirming, holdOffIfThrottled, markInvalid, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

let onChange = () => {};
let onCount = () => {};
let available = true; // False once the server answered 404 `passkeys_unavailable`.
let count = 0; // How many passkeys the list showed last.

/**
 * Wires the controls once; `onChange` runs after a passkey was added or removed (the account's facts may
 * change), `onCount(n)` whenever the list was read (the "confirm it is you" dialog offers passkeys then).
 */
export function setup(options) {
  ({ onChange, onCount } = options);
  $("add-passkey-form").addEventListener("submit", addPasskey);
}

/** The server has passkeys off (a ceremony answered 404 `passkeys_unavailable`). */
export function unavailable() {
  available = false;
  showAvailability();
}

/** Signed in: lists the passkeys, if the server has them. */
export async function open() {
  say($("passkeys-status"), "");
  await refresh();
}

/** Signed out: forgets the list and hides the card. */
export function close() {
  $("passkeys").hidden = true;
  $("passkey-list").replaceChildren();
  $("add-passkey-form").reset();
  say($("passkeys-status"), "");
  onCount(0);
}

async function refresh() {
  const result = await api("GET", "/api/auth/passkeys/");
  // No passkeys on this server: no card. A 401 has signed the page out already (app.js closes the cards).
  if (result.status === 404 || result.status === 405 || result.status === 401) return close();
  $("passkeys").hidden = false;
  if (!result.ok) return say($("passkeys-status"), problems(result), "bad");
  const list = Array.isArray(result.data) ? result.data : [];
  $("passkey-list").replaceChildren(...list.map(passkeyItem));
  $("passkeys-empty").hidden = list.length > 0;
  count = list.length;
  showAvailability();
  onCount(available ? count : 0);
}

function showAvailability() {
  if (available || !client.authenticated) return;
  $("add-passkey-form").hidden = true;
  $("passkeys-empty").hidden = true;
  $("passkeys").hidden = count === 0;
  say($("passkeys-status"), "Passkeys are off on this server: these can be renamed and removed, not used.");
}

function passkeyItem(passkey) {
  const li = document.createElement("li");
  li.dataset.id = passkey.id;
  const name = Object.assign(document.createElement("span"), { className: "device-name passkey-name", textContent: label(passkey) });
  const rename = Object.assign(document.createElement("button"), { type: "button", className: "secondary small rename push", textContent: "Rename" });
  rename.setAttribute("aria-label", `Rename ${label(passkey)}`);
  rename.addEventListener("click", () => startRenaming(li, passkey));
  const remove = Object.assign(document.createElement("button"), { type: "button", className: "secondary small remove", textContent: "Remove" });
  remove.setAttribute("aria-label", `Remove ${label(passkey)}`);
  remove.addEventListener("click", () => removePasskey(passkey, remove));
  const used = passkey.last_used_at ? `last used ${when(passkey.last_used_at)}` : "never used";
  const meta = Object.assign(document.createElement("span"), { className: "hint passkey-meta", textContent: `Added ${when(passkey.created_at)}, ${used}` });
  li.append(name);
  if (passkey.backed_up) li.append(Object.assign(document.createElement("span"), { className: "badge on", textContent: "Synced" }));
  li.append(rename, remove, meta);
  return li;
}

const label = (passkey) => passkey.name || "Passkey";

/** Makes a passkey: the browser's prompt, then the server's check; the new one is listed. */
async function addPasskey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = $("passkey-name").value.trim();
  say($("passkeys-status"), "Follow your browser's prompt to create the passkey…");
  const result = await whileBusy(form, () => confirming(() => client.registerPasskey(name || undefined)));
  markInvalid(form, result.ok ? {} : result.data);
  if (result.data?.code === "passkeys_unavailable") return unavailable();
  if (!result.ok) {
    holdOffIfThrottled($("add-passkey"), result);
    return say($("passkeys-status"), problems(result), "bad");
  }
  if (result.value === null) return say($("passkeys-status"), "No passkey was created: the browser's prompt was closed.");
  $("add-passkey-form").reset();
  say($("passkeys-status"), `${label(result.value)} is added: use it to sign in next time.`, "ok");
  await refresh();
  await onChange();
}

/** Replaces the passkey's name with a form for a new one. */
function startRenaming(li, passkey) {
  const form = Object.assign(document.createElement("form"), { className: "rename-form", noValidate: true });
  const input = Object.assign(document.createElement("input"), { name: "name", value: passkey.name ?? "", maxLength: 64, autocomplete: "off" });
  input.setAttribute("aria-label", "Passkey name");
  const save = Object.assign(document.createElement("button"), { type: "submit", className: "small", textContent: "Save" });
  const cancel = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "Cancel" });
  form.append(input, save, cancel);
  for (const child of li.children) child.hidden = true;
  li.prepend(form);
  cancel.addEventListener("click", () => refresh());
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const name = input.value.trim();
    if (!name) {
      input.setAttribute("aria-invalid", "true");
      return say($("passkeys-status"), "Give the passkey a name.", "bad");
    }
    const result = await whileBusy(form, () => api("PATCH", `/api/auth/passkeys/${encodeURIComponent(passkey.id)}/`, { name }));
    if (result.ok) say($("passkeys-status"), `The passkey is now called ${label(result.data)}.`, "ok");
    else if (result.status === 404) say($("passkeys-status"), "That passkey had already been removed.");
    else return say($("passkeys-status"), problems(result), "bad");
    await refresh();
  });
  input.focus();
  input.select();
}

async function removePasskey(passkey, button) {
  const result = await whileBusy(button.parentElement, () => api("DELETE", `/api/auth/passkeys/${encodeURIComponent(passkey.id)}/`));
  if (result.ok) say($("passkeys-status"), `${label(passkey)} is removed. Remove it from your device's passkeys too.`, "ok");
  else if (result.status === 404) say($("passkeys-status"), "That passkey had already been removed.");
  else {
    // 409 `last_sign_in_method`: the server's sentence says to set a password (or add a passkey) first.
    holdOffIfThrottled(button, result);
    return say($("passkeys-status"), problems(result), "bad");
  }
  await refresh();
  await onChange();
}

function when(iso) {
  const date = new Date(iso ?? "");
  return Number.isNaN(date.getTime()) ? "at an unknown time"
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
