// The demo page: uses the web build of the npm package exactly as any front-end would, its
// `LatchkeyClient` for the session (api.js), and the server's API for the account. Sign-in and the
// account box here; live password verdicts in feedback.js; the signed-in cards in profile.js,
// password.js, sessions.js, twofa.js, invitations.js and delete-account.js; the "confirm it is you"
// dialog of sensitive actions in reauth.js; the pages e-mailed links open (reset, verification) in
// recovery.js. The page follows the client (`client.onChange`): signing in or out here or in another
// tab, or a session the server ended, switches it, and a reload signs back in with the refresh cookie.
import init, { defaultPolicy } from "./pkg/latchkey.js";
import { api, client, confirmIdentityWith, failure, holdOffIfThrottled, markInvalid, problems, say, sessionRefused, whileBusy } from "./api.js";
import * as deleteAccount from "./delete-account.js";
import { showFeedback } from "./feedback.js";
import * as invitations from "./invitations.js";
import * as password from "./password.js";
import * as profile from "./profile.js";
import * as reauth from "./reauth.js";
import * as recovery from "./recovery.js";
import * as sessions from "./sessions.js";
import * as twofa from "./twofa.js";

const $ = (id) => document.getElementById(id);

/** The account box's states: one of these is shown at a time. */
const PANELS = ["auth-form", "forgot-form", "reset-form", "mfa-form", "signed-in"];

const SESSION_ENDED = "Your session has ended: it was signed out, perhaps from another device. Sign in again.";
const SIGNED_OUT_ELSEWHERE = "You were signed out in another tab.";

function showPassword() {
  showFeedback($("password-feedback"), $("password").value, { email: $("email").value });
}

// The sign-in attempt waiting for its second factor (`client.login` answered `mfa_required`).
let mfaToken = "";
// What the account box says after a sign-out this page asked for (`[message, kind]`); null when the
// client signs out on its own: another tab signed out, or the server refused the session.
let leaving = null;
// The signed-in cards being filled since the client last signed in.
let entering = Promise.resolve();

async function submitCredentials(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const registering = event.submitter?.value === "register";
  const email = $("email").value.trim();
  const password = $("password").value;
  say($("account-status"), registering ? "Creating your account…" : "Signing in…");
  const result = await whileBusy(form, () => (registering ? register(email, password) : logIn({ email, password })));
  markInvalid(form, result.ok ? {} : result.data);
  if (result.mfaToken) return askForSecondFactor(result.mfaToken);
  if (result.notice) return say($("account-status"), result.notice, "ok");
  if (result.ok) return entering; // The client signed in: `client.onChange` shows the account.
  say($("account-status"), result.sentences ?? problems(result), "bad");
  holdOffIfThrottled(event.submitter, result);
}

/** `client.login` as `api` answers; `{ok: true, mfaToken}` when the second factor is asked for. */
async function logIn(credentials) {
  try {
    const answer = await client.login(credentials);
    return answer.status === "mfa_required" ? { ok: true, mfaToken: answer.mfaToken } : { ok: true };
  } catch (error) {
    return failure(error);
  }
}

/**
 * Registration answers the new session's tokens in its body, not in the cookie, and the page holds
 * no token itself: it closes that session at once and signs in with the same password through the
 * client, in cookie mode, so the account has one session, this browser's.
 */
async function register(email, password) {
  const created = await api("POST", "/api/auth/register/", { email, password, password_confirm: $("password-confirm").value });
  if (!created.ok) return created;
  const refresh = created.data.tokens?.refresh;
  if (typeof refresh !== "string") {
    // The server wants the address verified before the first sign-in.
    return { ok: true, notice: "Your account is created. Open the link we e-mailed you to verify your address, then sign in." };
  }
  await api("POST", "/api/token/blacklist/", { refresh });
  const signedIn = await logIn({ email, password });
  if (signedIn.ok) return signedIn;
  return { ...signedIn, sentences: ["Your account is created, but signing in failed:", ...problems(signedIn)] };
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
  const result = await whileBusy(form, () => client.verifyMfa(mfaToken, code).then(() => ({ ok: true }), failure));
  markInvalid(form, result.ok ? {} : result.data);
  if (result.ok) return entering;
  say($("account-status"), problems(result), "bad");
  holdOffIfThrottled($("mfa-submit"), result);
  $("mfa-code").select();
}

/** The client signed in (here, from the cookie on page load, or in another tab): shows the account. */
async function enter() {
  mfaToken = "";
  for (const id of ["password", "password-confirm", "mfa-code"]) $(id).value = "";
  showPassword();
  if (await showUser({ fill: true })) {
    say($("account-status"), "");
    for (const card of document.querySelectorAll("[data-signed-in]")) card.hidden = false;
    await Promise.all([twofa.open(), sessions.open(), invitations.open()]);
  }
}

/** The client signed out: as this page asked (`leaving`), in another tab, or the server refused the session. */
function leave() {
  const refused = sessionRefused();
  const [message, kind] = leaving ?? (refused ? [SESSION_ENDED, "bad"] : [SIGNED_OUT_ELSEWHERE, "ok"]);
  signedOut(message, kind);
}

/**
 * Shows who is signed in (and, with `fill`, their profile in its form); false, and signed out,
 * when that fails. A 401 has already signed the client out, and so the page.
 */
async function showUser({ fill = false } = {}) {
  const result = await api("GET", "/api/auth/me/");
  if (!result.ok) {
    if (result.status !== 401) await signOut(problems(result), "bad");
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
  reauth.setMfa(user.mfa_enabled === true);
}

function badge(element, on, yes, no, offClass = "badge") {
  element.textContent = on ? yes : no;
  element.className = on ? "badge on" : offClass;
}

/**
 * Signs out through the client, which revokes the session (if the server still has it) and signs
 * every tab out; the account box then says `message`. Resolves the server's refusal, if any.
 */
async function signOut(message, kind) {
  const wasSignedIn = client.authenticated;
  leaving = [message, kind];
  try {
    await client.logout();
    return null;
  } catch (error) {
    return failure(error);
  } finally {
    leaving = null;
    // Signed out already, the client had nothing to announce: the page says so all the same.
    if (!wasSignedIn) signedOut(message, kind);
  }
}

async function signOutButton() {
  const refused = await whileBusy($("signed-in"), () => signOut("Signing out…", ""));
  if (refused) say($("account-status"), ["Signed out on this page, but the server did not close the session:", ...problems(refused)], "bad");
  else say($("account-status"), "You are signed out.", "ok");
}

/** Forgets what was shown for the sign-in (or the sign-in attempt). */
function forget() {
  mfaToken = "";
  reauth.close();
  twofa.close();
  sessions.close();
  invitations.close();
  profile.close();
  password.close();
  deleteAccount.close();
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

/** The account box's usual panel: the account when signed in, else the sign-in form. */
function home() {
  show(client.authenticated ? "signed-in" : "auth-form");
}

/** Signed out: back to the sign-in form with `message`. */
function signedOut(message, kind) {
  forget();
  say($("account-status"), message, kind);
  $("email").focus();
}

/** On page load: signs in with the refresh cookie's session, if it is still open. */
async function restore() {
  try {
    await client.restore();
  } catch (error) {
    say($("account-status"), ["Your session could not be restored:", ...problems(failure(error))], "bad");
  }
  await entering;
}

await init();
$("fingerprint").textContent = defaultPolicy().fingerprint;
for (const id of ["password", "email"]) $(id).addEventListener("input", showPassword);
$("auth-form").addEventListener("submit", submitCredentials);
$("mfa-form").addEventListener("submit", submitSecondFactor);
$("mfa-cancel").addEventListener("click", cancelSecondFactor);
$("sign-out").addEventListener("click", signOutButton);
client.onChange((signedIn) => {
  if (signedIn) entering = enter();
  else leave();
});
reauth.setup();
confirmIdentityWith(reauth);
twofa.setup({ onChange: () => (client.authenticated ? showUser() : undefined) });
profile.setup({ onSaved: showAccount });
password.setup({ onChanged: () => sessions.refresh() });
sessions.setup({ onSignedOut: (message) => signOut(message, "ok") });
deleteAccount.setup({ signOut });
recovery.setup({ show, home, signOut, refreshAccount: async () => (await showUser()) && invitations.open() });
await restore();
await recovery.openLink();
document.body.dataset.ready = "1";
