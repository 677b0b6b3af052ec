// The demo page: uses the web build of the npm package exactly as any front-end would, its
// `LatchkeyClient` for the session (api.js), and the server's API for the account. Sign-in and the
// account box here; live password verdicts in feedback.js; the signed-in cards in profile.js,
// password.js, sessions.js, twofa.js, invitations.js and delete-account.js; the "confirm it is you"
// dialog of sensitive actions in reauth.js; the pages e-mailed links open (reset, verification) in
// recovery.js; the passkeys card in passkeys.js; social login ("Continue with …", linking, the linked
// accounts card) in social.js; e-mailed sign-in codes and the page their link opens in codes.js.
// Passkeys also sign in here: with the button, or from the e-mail field's autofill (a conditional
// request, started when the page loads signed out), and as the second factor. The page follows the client (`client.onChange`): signing in or out here or in another
// tab, or a session the server ended, switches it, and a reload signs back in with the refresh cookie.
import init, { defaultPolicy } from "./pkg/latchkey.js";
import { api, client, confirmIdentityWith, failure, holdOffIfThrottled, markInvalid, problems, say, sessionRefused, whileBusy } from "./api.js";
import * as codes from "./codes.js";
import * as deleteAccount from "./delete-account.js";
import { showFeedback } from "./feedback.js";
import * as invitations from "./invitations.js";
import * as passkeys from "./passkeys.js";
import * as password from "./password.js";
import * as profile from "./profile.js";
import * as reauth from "./reauth.js";
import * as recovery from "./recovery.js";
import * as sessions from "./sessions.js";
import * as social from "./social.js";
import * as twofa from "./twofa.js";

const $ = (id) => document.getElementById(id);

/** The account box's states: one of these is shown at a time. */
const PANELS = ["auth-form", "forgot-form", "reset-form", "mfa-form", "link-form", "code-form", "code-link-form", "signed-in"];

const SESSION_ENDED = "Your session has ended: it was signed out, perhaps from another device. Sign in again.";
const SIGNED_OUT_ELSEWHERE = "You were signed out in another tab.";

function showPassword() {
  showFeedback($("password-feedback"), $("password").value, { email: $("email").value });
}

// The sign-in attempt waiting for its second factor (`client.login` answered `mfa_required`).
let mfaToken = "";
// The autofill's passkey request (`{controller, done}`) while it waits for the user; null otherwise. A
// browser runs one passkey request at a time: any other sign-in aborts this one first.
let autofill = null;
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
  await stopAutofill();
  say($("account-status"), registering ? "Creating your account…" : "Signing in…");
  const result = await whileBusy(form, () => (registering ? register(email, password) : logIn({ email, password })));
  markInvalid(form, result.ok ? {} : result.data);
  return signedInOrNot(result, event.submitter);
}

/** What a sign-in attempt (password or passkey) came to: the account, the second factor, or why not. */
function signedInOrNot(result, button) {
  if (result.mfaToken) return askForSecondFactor(result.mfaToken, result.methods);
  if (result.notice) return say($("account-status"), result.notice, "ok");
  if (result.ok) return entering; // The client signed in: `client.onChange` shows the account.
  if (result.cancelled) return say($("account-status"), "No passkey was used: the browser's prompt was closed.");
  if (result.unsupported) return say($("account-status"), "This browser cannot use passkeys. Sign in with your password.", "bad");
  say($("account-status"), result.sentences ?? problems(result), "bad");
  holdOffIfThrottled(button, result);
}

/**
 * Whether the server has no passkeys: 404 `passkeys_unavailable` (its address is an IP), or no such route
 * at all. Then the sign-in form's button goes, and the passkeys card knows.
 */
function passkeysOff(result) {
  if (result.status !== 404 && result.status !== 405) return false;
  $("passkey-sign-in").hidden = true;
  passkeys.unavailable();
  return true;
}

/** `client.signInWithPasskey` as `logIn` answers, plus `{cancelled}` and `{unsupported}`. */
async function passkeyLogIn(options) {
  try {
    const answer = await client.signInWithPasskey(options);
    if (answer.status === "mfa_required") return { ok: true, mfaToken: answer.mfaToken, methods: answer.methods };
    return answer.status === "ok" ? { ok: true } : { ok: false, [answer.status]: true };
  } catch (error) {
    return failure(error);
  }
}

/** The "Sign in with a passkey" button: the browser's own dialog, once the autofill's request is ended. */
async function passkeyButton() {
  await stopAutofill();
  say($("account-status"), "Follow your browser's prompt to use your passkey…");
  const result = await whileBusy($("auth-form"), () => passkeyLogIn({}));
  passkeysOff(result);
  signedInOrNot(result, $("passkey-sign-in"));
}

/** Signed out on page load: the e-mail field's autofill offers this site's passkeys; choosing one signs in. */
function offerPasskeysInAutofill() {
  if (client.authenticated || autofill !== null) return;
  const controller = new AbortController();
  const done = passkeyLogIn({ conditional: true, signal: controller.signal }).then((result) => {
    if (autofill?.controller === controller) autofill = null;
    // Nothing to say when the user never chose a passkey, or the page ended the request.
    if (result.cancelled || result.unsupported || controller.signal.aborted) return;
    if (!passkeysOff(result)) signedInOrNot(result, null);
  });
  autofill = { controller, done };
}

/** Ends the autofill's passkey request, and waits until the browser let go of it. */
async function stopAutofill() {
  const pending = autofill;
  autofill = null;
  if (pending === null) return;
  pending.controller.abort();
  await pending.done;
}

/** `client.login` as `api` answers; `{ok: true, mfaToken, methods}` when the second factor is asked for. */
async function logIn(credentials) {
  try {
    const answer = await client.login(credentials);
    return answer.status === "mfa_required" ? { ok: true, mfaToken: answer.mfaToken, methods: answer.methods } : { ok: true };
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

/** The second step: a code, or a passkey when `methods` include "webauthn" (a passkey only: no code field). */
function askForSecondFactor(token, methods = []) {
  mfaToken = token;
  const byPasskey = methods.includes("webauthn") && typeof window.PublicKeyCredential === "function";
  const byCode = !byPasskey || methods.some((method) => method !== "webauthn");
  $("mfa-passkey").hidden = !byPasskey;
  $("mfa-code-field").hidden = !byCode;
  $("mfa-submit").hidden = !byCode;
  show("mfa-form");
  say($("account-status"), byCode ? `Enter the code your authenticator app shows now${byPasskey ? ", or use a passkey" : ""}.`
    : "Use your passkey to finish signing in.");
  $("mfa-code").value = "";
  (byCode ? $("mfa-code") : $("mfa-passkey")).focus();
}

/** "Use a passkey" in the second step. */
async function secondFactorByPasskey() {
  say($("account-status"), "Follow your browser's prompt to use your passkey…");
  const result = await whileBusy($("mfa-form"), () => client.verifyMfaWithPasskey(mfaToken).then(
    (answer) => (answer.status === "ok" ? { ok: true } : { ok: false, [answer.status]: true }), failure));
  if (result.ok) return entering;
  if (result.cancelled) return say($("account-status"), "No passkey was used: the browser's prompt was closed.");
  say($("account-status"), result.unsupported ? "This browser cannot use passkeys." : problems(result), "bad");
  holdOffIfThrottled($("mfa-passkey"), result);
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
  stopAutofill(); // Not awaited: the autofill's own sign-in may be what brought us here.
  for (const id of ["password", "password-confirm", "mfa-code"]) $(id).value = "";
  showPassword();
  if (await showUser({ fill: true })) {
    say($("account-status"), "");
    // 2FA enforcement: until a second factor is set up, the server answers nothing else; the page shows only that.
    if (client.mfaEnrollmentRequired) return twofa.open({ required: true });
    for (const card of document.querySelectorAll("[data-signed-in]")) card.hidden = false;
    await Promise.all([twofa.open(), passkeys.open(), social.open(), sessions.open(), invitations.open()]);
  }
}

/**
 * After a change of second factors: the account's facts again. A user the server held to enrollment whose
 * authenticator is now confirmed refreshes the session (its next token no longer says so), then gets the whole page.
 */
async function secondFactorsChanged() {
  if (!client.authenticated) return undefined;
  if (client.mfaEnrollmentRequired && (await client.refresh()) && !client.mfaEnrollmentRequired) {
    entering = enter();
    return entering;
  }
  return showUser();
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
  passkeys.close();
  social.close();
  codes.close();
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
$("mfa-passkey").addEventListener("click", secondFactorByPasskey);
$("passkey-sign-in").addEventListener("click", passkeyButton);
$("passkey-sign-in").hidden = typeof window.PublicKeyCredential !== "function";
$("sign-out").addEventListener("click", signOutButton);
client.onChange((signedIn) => {
  if (signedIn) entering = enter();
  else leave();
});
reauth.setup();
confirmIdentityWith(reauth);
twofa.setup({ onChange: secondFactorsChanged });
passkeys.setup({ onChange: () => (client.authenticated ? showUser() : undefined), onCount: reauth.setPasskeys });
profile.setup({ onSaved: showAccount });
password.setup({ onChanged: () => sessions.refresh() });
sessions.setup({ onSignedOut: (message) => signOut(message, "ok") });
deleteAccount.setup({ signOut });
recovery.setup({ show, home, signOut, refreshAccount: async () => (await showUser()) && invitations.open() });
social.setup({ stopAutofill, askForSecondFactor, show, home });
codes.setup({ stopAutofill, signedInOrNot, show, home });
// Back from a provider: its outcome first (a login code becomes the session), then the cookie's session.
const waiting = await social.complete(restore);
await recovery.openLink();
// The e-mailed sign-in link's page: a button, never a sign-in on load.
const linkWaits = codes.openLink();
// No autofill while the link form or the second step waits: that step may need the passkey prompt.
if (!waiting && !linkWaits) offerPasskeysInAutofill();
document.body.dataset.ready = "1";
