// The demo page: uses the web build of the npm package exactly as any front-end would, and the
// server's API for the account. Live password verdicts here; two-factor enrollment in twofa.js.
import init, { defaultPolicy, validatePassword, passwordStrength } from "./pkg/latchkey.js";
import { api, holdOffIfThrottled, isSignedIn, markInvalid, problems, say, setTokens, whileBusy } from "./api.js";
import * as twofa from "./twofa.js";

const $ = (id) => document.getElementById(id);

function showPassword() {
  const password = $("password").value;
  const user = { email: $("email").value };
  const verdict = validatePassword(password, user);
  const strength = passwordStrength(password, [user.email]);
  $("score").value = verdict.score;
  $("verdict").textContent = verdict.valid ? "The server will accept this password." : "The server will refuse this password:";
  $("verdict").className = verdict.valid ? "ok" : "bad";
  $("violations").replaceChildren(...verdict.violations.map((v) => {
    const li = document.createElement("li");
    li.textContent = v.message;
    li.dataset.code = v.code;
    return li;
  }));
  const sentences = [strength.warning, ...strength.suggestions].filter(Boolean);
  $("warning").textContent = sentences.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(" ");
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
  if (await showUser()) {
    say($("account-status"), "");
    await twofa.open();
  }
}

/** Shows who is signed in; false (and signed out) when the server no longer knows the token. */
async function showUser() {
  const result = await api("GET", "/api/auth/me/");
  if (!result.ok) {
    forget();
    say($("account-status"), problems(result), "bad");
    return false;
  }
  const on = result.data.mfa_enabled === true;
  $("who").textContent = result.data.email ?? "";
  $("mfa-enabled").textContent = on ? "On" : "Off";
  $("mfa-enabled").dataset.enabled = String(on);
  $("mfa-enabled").className = on ? "badge on" : "badge";
  show("signed-in");
  return true;
}

async function signOut() {
  const result = await whileBusy($("signed-in"), () => api("POST", "/api/auth/logout/", {}));
  forget();
  say($("account-status"), result.ok ? "You are signed out."
    : ["Signed out on this page, but the server did not close the session:", ...problems(result)], result.ok ? "ok" : "bad");
}

function forget() {
  setTokens(null);
  mfaToken = "";
  twofa.close();
  show("auth-form");
}

function cancelSecondFactor() {
  forget();
  say($("account-status"), "");
  $("password").focus();
}

/** One of the account box's three states: the sign-in form, the second-factor step, signed in. */
function show(id) {
  for (const panel of ["auth-form", "mfa-form", "signed-in"]) $(panel).hidden = panel !== id;
}

await init();
$("fingerprint").textContent = defaultPolicy().fingerprint;
for (const id of ["password", "email"]) $(id).addEventListener("input", showPassword);
$("auth-form").addEventListener("submit", submitCredentials);
$("mfa-form").addEventListener("submit", submitSecondFactor);
$("mfa-cancel").addEventListener("click", cancelSecondFactor);
$("sign-out").addEventListener("click", signOut);
twofa.setup({ onChange: () => (isSignedIn() ? showUser() : undefined) });
document.body.dataset.ready = "1";
