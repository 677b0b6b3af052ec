// "Confirm it is you": the dialog behind the client's `onReauthenticate` hook (sudo mode). A
// sensitive action (a password change, 2FA changes, deleting the account) made once the sign-in is
// older than the server's re-authentication window is refused with 403 `reauthentication_required`;
// the client then asks here, sends the password (or a two-factor code) to
// `POST /api/auth/reauthenticate/` and repeats the action. With passkeys on the account, "Use a passkey"
// answers `{passkey: true}`: the client has the browser ask for one instead. Cancelling (or dismissing
// the passkey prompt) resolves null: the action is not done, and the page says so.
import { say } from "./api.js";

const $ = (id) => document.getElementById(id);

/** What each sensitive request does, as the dialog names it ("To <purpose>, …"). */
const PURPOSES = [
  ["POST", /\/api\/auth\/password\/change\/$/, "change your password"],
  ["POST", /\/api\/auth\/2fa\/totp\/$/, "add an authenticator"],
  ["POST", /\/api\/auth\/2fa\/totp\/[^/]+\/confirm\/$/, "confirm your authenticator"],
  ["DELETE", /\/api\/auth\/2fa\/totp\/[^/]+\/$/, "remove an authenticator"],
  ["POST", /\/api\/auth\/2fa\/backup-codes\/$/, "get new backup codes"],
  ["POST", /\/api\/auth\/api-keys\/$/, "create an API key"],
  ["POST", /\/api\/auth\/passkeys\/register\/(options\/)?$/, "add a passkey"],
  ["DELETE", /\/api\/auth\/passkeys\/[^/]+\/$/, "remove a passkey"],
  ["POST", /\/api\/auth\/social\/[^/]+\/authorize\/$/, "link an account"],
  ["DELETE", /\/api\/auth\/social\/accounts\/[^/]+\/$/, "unlink an account"],
  ["DELETE", /\/api\/auth\/me\/$/, "delete your account"],
];

let answer = null; // Resolves the open question: `{password}`, `{code}`, `{passkey: true}` or null.
let byCode = false;
let failure = ""; // Why the last answer was refused, shown when the dialog opens again.

/** Wires the dialog once. */
export function setup() {
  $("reauth-form").addEventListener("submit", submit);
  $("reauth-cancel").addEventListener("click", () => finish(null));
  $("reauth-switch").addEventListener("click", () => useCode(!byCode));
  $("reauth-passkey").addEventListener("click", () => finish({ passkey: true }));
  // Escape closes a modal dialog: that is a cancel.
  $("reauth-dialog").addEventListener("cancel", (event) => {
    event.preventDefault();
    finish(null);
  });
}

/** Whether the account has 2FA: then the dialog also offers a code instead of the password. */
export function setMfa(enabled) {
  $("reauth-switch").hidden = !enabled;
  if (!enabled) useCode(false);
}

/** Whether the account has passkeys (and this browser can use them): then the dialog offers them too. */
export function setPasskeys(count) {
  $("reauth-passkey").hidden = !(count > 0 && typeof window.PublicKeyCredential === "function");
}

/** The last answer was refused (a wrong password or code): the next question says so. */
export function refused(message) {
  failure = message;
}

/** The client's `onReauthenticate` hook: asks, and resolves the answer, or null when cancelled. */
export function ask({ method, url }) {
  // The password first, unless asking again after a wrong code.
  if (!failure) useCode(false);
  const purpose = PURPOSES.find(([m, path]) => m === method && path.test(new URL(url, location.href).pathname))?.[2];
  $("reauth-why").textContent = `${purpose ? `To ${purpose}` : "To continue"}, enter your ${byCode ? "code" : "password"} again: `
    + "it has been a while since you signed in.";
  $("reauth-form").reset();
  say($("reauth-error"), failure, "bad");
  for (const input of [$("reauth-password"), $("reauth-code")]) {
    if (failure) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  failure = "";
  $("reauth-dialog").showModal();
  (byCode ? $("reauth-code") : $("reauth-password")).focus();
  return new Promise((resolve) => {
    answer = resolve;
  });
}

/** Signed out: an open question is cancelled. */
export function close() {
  failure = "";
  if (answer) finish(null);
}

function useCode(on) {
  byCode = on;
  $("reauth-password-field").hidden = on;
  $("reauth-code-field").hidden = !on;
  $("reauth-switch").textContent = on ? "Use your password instead" : "Use a two-factor code instead";
  $("reauth-why").textContent = $("reauth-why").textContent.replace(/your (password|code) again/, `your ${on ? "code" : "password"} again`);
  if ($("reauth-dialog").open) (on ? $("reauth-code") : $("reauth-password")).focus();
}

function submit(event) {
  event.preventDefault();
  const value = byCode ? $("reauth-code").value.trim() : $("reauth-password").value;
  if (!value) {
    const input = byCode ? $("reauth-code") : $("reauth-password");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return say($("reauth-error"), byCode ? "Enter a code first." : "Enter your password first.", "bad");
  }
  finish(byCode ? { code: value } : { password: value });
}

function finish(result) {
  const resolve = answer;
  answer = null;
  $("reauth-form").reset();
  if ($("reauth-dialog").open) $("reauth-dialog").close();
  resolve?.(result);
}
