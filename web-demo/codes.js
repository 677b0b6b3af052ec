// Signing in with a code or link e-mailed to the account's address: "E-mail me a code" on the sign-in form
// (`client.requestLoginCode`), the form the 6-digit code is typed into (`client.signInWithCode`), and the
// page the e-mailed link opens (`/login/code?flow=…&token=…`, which the server answers with this page). That
// page never signs in by itself: it shows a "Sign in" button, and only pressing it sends the token (by
// POST, `client.signInWithLink`), so a mail scanner or a browser that fetches the link signs nobody in and
// spends nothing. The link's token leaves the address bar as soon as the page has read it.
import { client, failure, holdOffIfThrottled, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

const EXPIRED_LINK = "This link has expired or was already used. Ask for a new code.";

let flowId = null; // The sign-in the code form finishes.
let link = null; // The link's `{flow, token}`, on its page, until the button is pressed.
let show = () => {};
let home = () => {};
let stopAutofill = async () => {};
let signedInOrNot = () => {};

/**
 * Wires the forms once. `show(panel)` switches the account box, `home()` shows its usual panel,
 * `stopAutofill()` ends the autofill's passkey request, `signedInOrNot(result, button)` shows what a
 * sign-in came to (the account, the second step, or why not).
 */
export function setup(options) {
  ({ show, home, stopAutofill, signedInOrNot } = options);
  $("code-request").addEventListener("click", () => requestCode($("code-request")));
  $("code-resend").addEventListener("click", () => requestCode($("code-resend")));
  $("code-form").addEventListener("submit", submitCode);
  $("code-cancel").addEventListener("click", cancel);
  $("code-link-form").addEventListener("submit", submitLink);
  $("code-link-cancel").addEventListener("click", cancel);
}

/** At `/login/code`: reads the link, clears the address bar and shows the button. Resolves true then. */
export function openLink() {
  if (location.pathname.replace(/\/+$/, "") !== "/login/code") return false;
  const params = new URLSearchParams(location.search);
  history.replaceState(null, "", "/");
  const flow = params.get("flow") ?? "";
  const token = params.get("token") ?? "";
  if (!flow || !token) {
    say($("account-status"), "This link is incomplete: copy the whole address from the e-mail.", "bad");
    return false;
  }
  link = { flow, token };
  show("code-link-form");
  say($("account-status"), "");
  $("code-link-submit").focus();
  return true;
}

/** Signed out or in: forgets the sign-in under way. */
export function close() {
  flowId = null;
  link = null;
  $("login-code").value = "";
}

/** "E-mail me a code" (or "Send a new code"): for the address in the sign-in form. */
async function requestCode(button) {
  const email = $("email").value.trim();
  if (!email) {
    show("auth-form");
    $("email").focus();
    return say($("account-status"), "Enter your e-mail address first, then ask for a code.", "bad");
  }
  await stopAutofill();
  const form = button.closest("form");
  const result = await whileBusy(form, () => client.requestLoginCode(email).then((value) => ({ ok: true, value }), failure));
  if (!result.ok) {
    say($("account-status"), problems(result), "bad");
    return holdOffIfThrottled(button, result);
  }
  flowId = result.value.flowId;
  $("code-explain").textContent = `${result.value.detail} It is for ${email}, and works for 10 minutes.`;
  $("login-code").value = "";
  $("code-submit").disabled = false;
  show("code-form");
  say($("account-status"), "Check your e-mail: type the code here, or open the link in it.", "ok");
  $("login-code").focus();
}

async function submitCode(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const code = $("login-code").value.trim();
  if (!code) return say($("account-status"), "Enter the code from the e-mail first.", "bad");
  if (flowId === null) return say($("account-status"), "Ask for a new code first.", "bad");
  const result = await whileBusy(form, () => signIn(client.signInWithCode(flowId, code)));
  if (result.ok) flowId = null;
  if (result.data?.code === "code_invalid") {
    const left = result.data.attempts_left ?? 0;
    $("login-code").setAttribute("aria-invalid", "true");
    $("login-code").select();
    if (left > 0) return say($("account-status"), `Wrong code: ${left} ${left === 1 ? "try" : "tries"} left.`, "bad");
    flowId = null;
    $("code-submit").disabled = true;
    return say($("account-status"), "This code can no longer be used. Send a new code.", "bad");
  }
  $("login-code").removeAttribute("aria-invalid");
  signedInOrNot(result, $("code-submit"));
}

/** The link page's button: the only thing that sends its token. */
async function submitLink(event) {
  event.preventDefault();
  if (link === null) return home();
  const { flow, token } = link;
  const result = await whileBusy(event.currentTarget, () => signIn(client.signInWithLink(flow, token)));
  if (result.data?.code === "code_invalid") {
    link = null;
    show("auth-form");
    return say($("account-status"), EXPIRED_LINK, "bad");
  }
  if (result.ok) link = null;
  signedInOrNot(result, $("code-link-submit"));
}

/** A sign-in by code or link, as app.js's `logIn` answers: `{ok, mfaToken, methods}` or the refusal. */
function signIn(promise) {
  return promise.then(
    (answer) => (answer.status === "mfa_required" ? { ok: true, mfaToken: answer.mfaToken, methods: answer.methods } : { ok: true }),
    failure,
  );
}

function cancel() {
  close();
  home();
  say($("account-status"), "");
}
