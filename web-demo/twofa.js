// Two-factor enrollment: the server creates an unconfirmed authenticator and its secret; the page
// draws the QR code and previews the current code with the npm package (the same core the server
// verifies with), then the user proves their app works by typing its code, and receives backup codes.
// Adding, confirming and removing an authenticator and new backup codes are sensitive: past the
// server's re-authentication window, the client first asks the user to confirm it is them (reauth.js).
import { totpCode, totpQrSvg } from "./pkg/latchkey.js";
import { api, client, clockSkew, holdOffIfThrottled, markInvalid, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

/** Beyond this many seconds between the browser's clock and the server's, codes may not match. */
const MAX_SKEW = 15;
const PERIOD = 30;

let pending = null; // The authenticator being enrolled: `{id, secret}`.
let downloadUrl = "";
let timer = 0;
let onChange = () => {};

/** Wires the controls once; `onChange` runs after enrollment changes the account's state. */
export function setup(options) {
  onChange = options.onChange;
  $("add-form").addEventListener("submit", addDevice);
  $("confirm-form").addEventListener("submit", confirmDevice);
  $("copy-codes").addEventListener("click", copyCodes);
  $("backup-done").addEventListener("click", hideBackupCodes);
  $("new-backup-codes").addEventListener("click", newBackupCodes);
  $("confirm-code").addEventListener("input", (e) => { e.target.value = e.target.value.replace(/\D/g, "").slice(0, 6); });
}

/**
 * Signed in: shows the panel with the account's authenticators, once they are read. `required`: the server
 * holds this user to setting up a second factor before anything else (2FA enforcement), and the card says so.
 */
export async function open({ required = false } = {}) {
  $("twofa-required").hidden = !required;
  await refresh();
  // Signed out meanwhile (a 401): the page has closed this card already.
  if (!client.authenticated) return;
  $("twofa-signed-out").hidden = true;
  $("twofa-panel").hidden = false;
}

/** Signed out: hides everything, secrets and backup codes included. */
export function close() {
  stopEnrollment();
  hideBackupCodes();
  $("twofa-panel").hidden = true;
  $("twofa-required").hidden = true;
  $("twofa-signed-out").hidden = false;
  $("devices").replaceChildren();
  say($("twofa-summary"), "");
  say($("twofa-status"), "");
}

async function refresh() {
  const result = await api("GET", "/api/auth/2fa/");
  // A 401 has signed the client out already, and the page with it (app.js), closing this card.
  if (result.status === 401) return undefined;
  if (!result.ok) return say($("twofa-status"), problems(result), "bad");
  const { enabled, devices = [], backup_codes_remaining: remaining } = result.data;
  // A passkey alone turns it on too (passkeys.js lists them), without backup codes.
  const byPasskey = enabled && !devices.some((device) => device.confirmed) && !remaining;
  $("twofa-summary").textContent = !enabled
    ? "Two-factor authentication is off. Add an authenticator app to turn it on."
    : byPasskey ? "Two-factor authentication is on: your passkey is the second factor. An authenticator app can be one too."
      : `Two-factor authentication is on. ${plural(remaining ?? 0, "backup code")} left.`;
  $("twofa-summary").className = enabled ? "ok" : "";
  $("devices").replaceChildren(...devices.map(deviceItem));
  $("backup-actions").hidden = !enabled;
}

function deviceItem(device) {
  const li = document.createElement("li");
  li.dataset.id = device.id;
  const name = Object.assign(document.createElement("span"), { className: "device-name", textContent: device.name || "Authenticator" });
  const badge = Object.assign(document.createElement("span"), {
    className: device.confirmed ? "badge on" : "badge",
    textContent: device.confirmed ? "Active" : "Not confirmed",
  });
  const used = device.last_used_at ? `last used ${when(device.last_used_at)}` : "never used";
  const meta = Object.assign(document.createElement("span"), {
    className: "hint", textContent: `Added ${when(device.created_at)}, ${used}`,
  });
  const remove = Object.assign(document.createElement("button"), { type: "button", className: "secondary small push", textContent: "Remove" });
  remove.setAttribute("aria-label", `Remove ${device.name || "Authenticator"}`);
  remove.addEventListener("click", () => removeDevice(device, remove));
  li.append(name, badge, remove, meta);
  return li;
}

async function removeDevice(device, button) {
  const result = await whileBusy(button.parentElement, () => api("DELETE", `/api/auth/2fa/totp/${encodeURIComponent(device.id)}/`, {}));
  if (!result.ok) {
    holdOffIfThrottled(button, result);
    return say($("twofa-status"), problems(result), "bad");
  }
  if (pending?.id === device.id) stopEnrollment();
  say($("twofa-status"), `${device.name || "The authenticator"} is removed.`, "ok");
  await refresh();
  await onChange();
}

/** A new set of backup codes; the old set stops working. */
async function newBackupCodes() {
  const result = await whileBusy($("backup-actions"), () => api("POST", "/api/auth/2fa/backup-codes/", {}));
  if (!result.ok) {
    holdOffIfThrottled($("new-backup-codes"), result);
    return say($("twofa-status"), problems(result), "bad");
  }
  say($("twofa-status"), "Your new backup codes are below; the old ones no longer work.", "ok");
  showBackupCodes(Array.isArray(result.data.backup_codes) ? result.data.backup_codes : []);
  await refresh();
}

async function addDevice(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = $("device-name").value.trim();
  const result = await whileBusy(form, () => api("POST", "/api/auth/2fa/totp/", name ? { name } : {}));
  markInvalid(form, result.ok ? {} : result.data);
  if (!result.ok) {
    holdOffIfThrottled($("add-device"), result);
    return say($("twofa-status"), problems(result), "bad");
  }
  say($("twofa-status"), "");
  $("device-name").value = "";
  hideBackupCodes();
  startEnrollment(result.data);
  await refresh();
}

function startEnrollment({ id, secret, otpauth_uri: uri }) {
  let svg;
  try {
    svg = new DOMParser().parseFromString(totpQrSvg(uri), "image/svg+xml").documentElement;
  } catch (e) {
    return say($("twofa-status"), `The QR code could not be drawn: ${e.message}`, "bad");
  }
  pending = { id, secret };
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  $("qr").replaceChildren(document.adoptNode(svg));
  // Groups of four for the eye; the element's text stays exactly the secret, so copying it works.
  $("secret").replaceChildren(...(secret.match(/.{1,4}/g) ?? []).map((group) =>
    Object.assign(document.createElement("span"), { textContent: group })));
  $("confirm-code").value = "";
  say($("confirm-status"), "");
  showClockWarning();
  $("enrollment").hidden = false;
  tick();
  clearInterval(timer);
  timer = setInterval(tick, 1000);
  $("confirm-code").focus();
}

function stopEnrollment() {
  clearInterval(timer);
  pending = null;
  $("enrollment").hidden = true;
  $("qr").replaceChildren();
  $("secret").replaceChildren();
  $("code").textContent = "";
}

// The preview uses this computer's clock, as the authenticator app uses the phone's.
function tick() {
  if (!pending) return;
  const now = Date.now() / 1000;
  const left = PERIOD - (Math.floor(now) % PERIOD);
  try {
    // Two halves for the eye; the element's text stays exactly the code.
    const code = totpCode(pending.secret, now);
    $("code").replaceChildren(...[code.slice(0, 3), code.slice(3)].map((half) =>
      Object.assign(document.createElement("span"), { textContent: half })));
  } catch (e) {
    $("code").textContent = "";
    say($("confirm-status"), `The code could not be computed: ${e.message}`, "bad");
  }
  $("countdown").textContent = `next code in ${plural(left, "second")}`;
  $("countdown-bar").value = left;
}

function showClockWarning() {
  const skew = clockSkew();
  $("clock-warning").hidden = Math.abs(skew) <= MAX_SKEW;
  $("clock-warning").textContent = `This computer's clock is ${plural(Math.abs(skew), "second")} `
    + `${skew > 0 ? "ahead of" : "behind"} the server's, so the code shown here may not match your app's. `
    + "Set the clock automatically in your system settings, and check your phone's too.";
}

async function confirmDevice(event) {
  event.preventDefault();
  if (!pending) return;
  const form = event.currentTarget;
  const code = $("confirm-code").value.trim();
  if (!/^\d{6}$/.test(code)) {
    $("confirm-code").setAttribute("aria-invalid", "true");
    return say($("confirm-status"), "Enter the 6 digits your app shows.", "bad");
  }
  const result = await whileBusy(form, () => api("POST", `/api/auth/2fa/totp/${encodeURIComponent(pending.id)}/confirm/`, { code }));
  markInvalid(form, result.ok ? {} : result.data);
  if (!result.ok) {
    say($("confirm-status"), problems(result), "bad");
    holdOffIfThrottled($("confirm"), result);
    return $("confirm-code").select();
  }
  stopEnrollment();
  const codes = Array.isArray(result.data.backup_codes) ? result.data.backup_codes : [];
  say($("twofa-status"), "Your authenticator is confirmed.", "ok");
  if (codes.length > 0) showBackupCodes(codes);
  await refresh();
  await onChange();
}

function showBackupCodes(codes) {
  $("backup-codes").replaceChildren(...codes.map((code) =>
    Object.assign(document.createElement("li"), { textContent: code })));
  URL.revokeObjectURL(downloadUrl);
  const text = `Latchkey backup codes\nEach code signs you in once.\n\n${codes.join("\n")}\n`;
  downloadUrl = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  $("download-codes").href = downloadUrl;
  say($("backup-status"), "");
  $("backup").hidden = false;
  $("backup-title").scrollIntoView({ block: "nearest" });
}

function hideBackupCodes() {
  $("backup").hidden = true;
  $("backup-codes").replaceChildren();
  URL.revokeObjectURL(downloadUrl);
  downloadUrl = "";
  $("download-codes").href = "#";
}

async function copyCodes() {
  const codes = [...$("backup-codes").children].map((li) => li.textContent).join("\n");
  try {
    await navigator.clipboard.writeText(codes);
    say($("backup-status"), "Copied. Paste them somewhere safe.", "ok");
  } catch {
    getSelection()?.selectAllChildren($("backup-codes"));
    say($("backup-status"), "This browser did not allow copying: the codes are selected, press Ctrl+C (⌘C on a Mac), or use Download.", "bad");
  }
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function when(iso) {
  const date = new Date(iso ?? "");
  return Number.isNaN(date.getTime()) ? "at an unknown time" : date.toLocaleString();
}
