// Getting back in and proving the address: "Forgot your password?" (`POST /api/auth/password/reset/`),
// the pages the e-mailed links open (`/password-reset?uid=…&token=…` and `/verify-email?uid=…&token=…`,
// which the server answers with this page, signed in or not), and "send the verification e-mail again".
import { api, client, holdOffIfThrottled, problems, say, showFieldErrors, whileBusy } from "./api.js";
import { showFeedback } from "./feedback.js";
import { MISMATCH } from "./password.js";

const $ = (id) => document.getElementById(id);

let link = null; // The reset link being used: `{uid, token}`.
let show = () => {};
let home = () => {};
let signOut = async () => {};
let refreshAccount = async () => {};

/**
 * Wires the forms once. `show(panel)` switches the account box, `home()` shows its usual panel (the
 * account or the sign-in form); `signOut(message, kind)` signs the client out; `refreshAccount()`
 * shows the signed-in user's facts again.
 */
export function setup(options) {
  ({ show, home, signOut, refreshAccount } = options);
  $("forgot").addEventListener("click", () => {
    $("forgot-email").value = $("email").value.trim();
    openForgotForm("");
  });
  $("forgot-cancel").addEventListener("click", () => backToSignIn(""));
  $("forgot-form").addEventListener("submit", requestReset);
  $("reset-password").addEventListener("input", () => showFeedback($("reset-feedback"), $("reset-password").value));
  $("reset-form").addEventListener("submit", confirmReset);
  $("reset-cancel").addEventListener("click", () => backToSignIn(""));
  $("resend-verification").addEventListener("click", resendVerification);
}

/** At `/password-reset` or `/verify-email`, acts on the link the page was opened with. */
export async function openLink() {
  const page = location.pathname.replace(/\/+$/, "");
  if (page !== "/password-reset" && page !== "/verify-email") return;
  const params = new URLSearchParams(location.search);
  const uid = params.get("uid") ?? "";
  const token = params.get("token") ?? "";
  if (!uid || !token) {
    leaveLinkPage();
    return say($("account-status"), "This link is incomplete: copy the whole address from the e-mail.", "bad");
  }
  if (page === "/verify-email") return verifyEmail(uid, token);
  link = { uid, token };
  show("reset-form");
  showFeedback($("reset-feedback"), "");
  $("reset-password").focus();
}

/** The address bar stops showing the link (and its token) once the page has read it. */
function leaveLinkPage() {
  history.replaceState(null, "", "/");
}

function backToSignIn(message, kind = "") {
  link = null;
  if (location.pathname !== "/") leaveLinkPage();
  $("reset-form").reset();
  showFieldErrors($("reset-form"), null);
  home();
  say($("account-status"), message, kind);
  if (!client.authenticated) $("email").focus();
}

function openForgotForm(message, kind = "") {
  show("forgot-form");
  say($("account-status"), message, kind);
  $("forgot-email").focus();
}

async function requestReset(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const email = $("forgot-email").value.trim();
  if (!email) return say($("account-status"), showFieldErrors(form, { ok: false, status: 400, data: { email: ["Enter your e-mail address."] } }), "bad");
  const result = await whileBusy(form, () => api("POST", "/api/auth/password/reset/", { email }));
  const leftover = showFieldErrors(form, result);
  if (!result.ok) {
    holdOffIfThrottled($("forgot-submit"), result);
    return say($("account-status"), leftover, "bad");
  }
  say($("account-status"), [result.data.detail, "The link works once, for a limited time."].filter(Boolean).join(" "), "ok");
}

async function confirmReset(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!link) return backToSignIn("");
  const password = $("reset-password").value;
  if (password !== $("reset-confirm").value) {
    return say($("account-status"), showFieldErrors(form, { ok: false, status: 400, data: { new_password_confirm: [MISMATCH] } }), "bad");
  }
  const result = await whileBusy(form, () => api("POST", "/api/auth/password/reset/confirm/", { ...link, new_password: password }));
  const leftover = showFieldErrors(form, result);
  if (result.ok) {
    // The reset closed every session, this browser's too, if it was signed in.
    if (client.authenticated) await signOut("", "");
    return backToSignIn("Your password has been reset. Sign in with your new password.", "ok");
  }
  // A dead link cannot be retried: offer to send a new one.
  const dead = [result.data.token, result.data.uid].flat().find((m) => typeof m === "string");
  if (dead) {
    link = null;
    leaveLinkPage();
    $("reset-form").reset();
    return openForgotForm(`${dead} Ask for a new link here.`, "bad");
  }
  holdOffIfThrottled($("reset-submit"), result);
  say($("account-status"), leftover, "bad");
  form.querySelector("[aria-invalid='true']")?.focus();
}

async function verifyEmail(uid, token) {
  say($("account-status"), "Verifying your e-mail address…");
  const result = await api("POST", "/api/auth/email/verify/", { uid, token });
  leaveLinkPage();
  const signedIn = client.authenticated;
  if (result.ok) {
    const verified = result.data.detail ?? "Your e-mail address is verified.";
    if (!signedIn) return backToSignIn(`${verified} Sign in to continue.`, "ok");
    await refreshAccount();
    return say($("account-status"), verified, "ok");
  }
  const dead = [result.data.token, result.data.uid].flat().find((m) => typeof m === "string");
  const again = signedIn ? "Send the verification e-mail again." : "Sign in and send the verification e-mail again.";
  say($("account-status"), dead ? `${dead} ${again}` : problems(result), "bad");
}

async function resendVerification() {
  const button = $("resend-verification");
  const result = await whileBusy($("signed-in"), () => api("POST", "/api/auth/email/verify/resend/", {}));
  if (result.ok) return say($("account-status"), `${result.data.detail ?? "Sent."} Open the link in it to verify your address.`, "ok");
  say($("account-status"), problems(result), "bad");
  holdOffIfThrottled(button, result);
}
