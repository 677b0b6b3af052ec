// The demo page: uses the web build of the npm package exactly as any front-end would, and the
// server's API for the account. Sign-in and the account box here; live password verdicts in
// feedback.js; the signed-in cards in profile.js, password.js, sessions.js and twofa.js; the pages
// e-mailed links open (reset, verification) in recovery.js.
import init, { defaultPolicy } from "./pkg/latchkey.js";
import { api, holdOffIfThrottled, isSignedIn, markInvalid, problems, say, setTokens, whenSessionEnds, whileBusy } from "./api.js";
import { showFeedback } from "./feedback.js";
import * as password from "./password.js";
import * as profile from "./profile.js";
import * as recovery from "./recovery.js";
import * as sessions from "./sessions.js";
import * as twofa from "./twofa.js";

const $ = (id) => document.getElementById(id);

/** The account box's states: one of these is shown at a time. */
const PANELS = ["auth-form", "forgot-form", "reset-form", "mfa-form", "signed-in"];

function showPassword() {
  showFeedback($("password-feedback"), $("password").value, { email: $("email").value });
}

// The sign-in attempt waiting for its second factor (`POST /api/token/` answered `mfa_required`).
let mfaToken = "";

async function submitCredentials(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const registering = event.submitter?.value === "register";
  const email = $("email").value.trim();
  const password = $("password").value;
  say($("account-status"), registering ? "Creating your account…" : "Signing in…");
  const result = await whileBusy(form, () => (registering
    ? api("POST", "/api/auth/register/", { email, password, password_confirm: $("password-confirm").value })
    : api("POST", "/api/token/", { email, password })));
  markInvalid(form, result.ok ? {} : result.data);
  if (result.ok) return signedIn(registering ? result.data.tokens : result.data);
  if (result.status === 403 && result.data.code === "mfa_required") return askForSecondFactor(result.data.mfa_token);
  say($("account-status"), problems(result), "bad");
  holdOffIfThrottled(event.submitter, result);
}

function askForSecondFactor(token) {
  mfaToken = token;
  show("mfa-form");
  say($("account-status"), "Enter the code your authenticator app shows now.");
  $("mfa-code").value = "";
  $("mfa-code").focus();
}

async function submitSecondFactor(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const code = $("mfa-code").value.trim();
  if (!code) return say($("account-status"), "Enter a code first.", "bad");
  const result = await whileBusy(form, () => api("POST", "/api/token/mfa/", { mfa_token: mfaToken, code }));
  markInvalid(form, result.ok ? {} : result.data);
  if (result.ok) return signedIn(result.data);
  say($("account-status"), problems(result), "bad");
  holdOffIfThrottled($("mfa-submit"), result);
  $("mfa-code").select();
}

async function signedIn(tokens) {
  mfaToken = "";
  setTokens(tokens);
  for (const id of ["password", "password-confirm", "mfa-code"]) $(id).value = "";
  showPassword();
  if (await showUser({ fill: true })) {
    say($("account-status"), "");
    for (const card of document.querySelectorAll("[data-signed-in]")) card.hidden = false;
    await Promise.all([twofa.open(), sessions.open()]);
  }
}

/**
 * Shows who is signed in (and, with `fill`, their profile in its form); false, and signed out,
 * when that fails. A 401 has already signed the page out (`whenSessionEnds`).
 */
async function showUser({ fill = false } = {}) {
  const result = await api("GET", "/api/auth/me/");
  if (!result.ok) {
    if (result.status !== 401) signedOut(problems(result), "bad");
    return false;
  }
  showAccount(result.data);
  if (fill) profile.fill(result.data);
  show("signed-in");
  return true;
}

/** The account box's facts, and the names the password rules compare new passwords with. */
function showAccount(user) {
  $("who").textContent = user.email ?? "";
  badge($("verified"), user.is_verified === true, "Verified", "Not verified", "badge warn");
  $("verified").dataset.verified = String(user.is_verified === true);
  $("resend-verification").hidden = user.is_verified === true;
  badge($("mfa-enabled"), user.mfa_enabled === true, "On", "Off");
  $("mfa-enabled").dataset.enabled = String(user.mfa_enabled === true);
  password.setUser(user);
}

function badge(element, on, yes, no, offClass = "badge") {
  element.textContent = on ? yes : no;
  element.className = on ? "badge on" : offClass;
}

async function signOut() {
  const result = await whileBusy($("signed-in"), () => api("POST", "/api/auth/logout/", {}));
  forget();
  // A 401 means the session had already ended: signed out all the same.
  const closed = result.ok || result.status === 401;
  say($("account-status"), closed ? "You are signed out."
    : ["Signed out on this page, but the server did not close the session:", ...problems(result)], closed ? "ok" : "bad");
}

/** Forgets the sign-in and everything shown for it. */
function forget() {
  setTokens(null);
  mfaToken = "";
  twofa.close();
  sessions.close();
  profile.close();
  password.close();
  for (const card of document.querySelectorAll("[data-signed-in]")) card.hidden = true;
  show("auth-form");
}

function cancelSecondFactor() {
  forget();
  say($("account-status"), "");
  $("password").focus();
}

/** Shows one of the account box's panels. */
function show(id) {
  for (const panel of PANELS) $(panel).hidden = panel !== id;
}

/** Signed out by the server or from another card: back to the sign-in form with `message`. */
function signedOut(message, kind) {
  forget();
  say($("account-status"), message, kind);
  $("email").focus();
}

await init();
$("fingerprint").textContent = defaultPolicy().fingerprint;
for (const id of ["password", "email"]) $(id).addEventListener("input", showPassword);
$("auth-form").addEventListener("submit", submitCredentials);
$("mfa-form").addEventListener("submit", submitSecondFactor);
$("mfa-cancel").addEventListener("click", cancelSecondFactor);
$("sign-out").addEventListener("click", signOut);
whenSessionEnds(() => signedOut("Your session has ended: it was signed out, perhaps from another device. Sign in again.", "bad"));
twofa.setup({ onChange: () => (isSignedIn() ? showUser() : undefined) });
profile.setup({ onSaved: showAccount });
password.setup({ onChanged: () => sessions.refresh() });
sessions.setup({ onSignedOut: (message) => signedOut(message, "ok") });
recovery.setup({ show, signedOut });
await recovery.openLink();
document.body.dataset.ready = "1";
