// Social login: a "Continue with <name>" button per provider the server offers (`client.providers()`);
// the return from the provider, read on page load before the refresh cookie is tried
// (`client.completeSignIn()`, which removes the outcome from the address bar); the password form that
// links a provider's account to an existing account with the same e-mail address (`confirmSocialLink`);
// and the "Linked accounts" card: the user's linked accounts (`socialAccounts`), Unlink (`unlinkSocial`)
// and "Connect <name>" (`connectSocial`), both sensitive, so past the re-authentication window the
// user confirms it is them first (reauth.js). The server refuses to unlink the account's last way to
// sign in. Provider names come from the server's configuration: they are set as text, never as HTML.
import { client, confirming, duration, failure, holdOffIfThrottled, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

/**
 * The provider this tab left for, `{id, name}`, kept in sessionStorage for the trip: the
 * error the provider's answer comes back with does not name it.
 */
const TRIP = "latchkey-demo.social";

const EXPIRED = "That sign-in has expired or was already used. Start again.";
const LAST = "This is your only way to sign in. Set a password or add a passkey first.";

let providers = Promise.resolve([]); // `[{id, name}]`, read once; empty when the server has none.
let stopAutofill = async () => {};
let askForSecondFactor = () => {};
let show = () => {};
let home = () => {};
let link = null; // The link waiting for the password: `{token, name}`.
let notice = null; // `[message, kind]`: what the return from the provider came to, not shown yet.

/**
 * Wires the controls once and reads the providers. `stopAutofill()` ends the autofill's passkey request,
 * `askForSecondFactor(mfaToken, methods)` shows the second step, `show(panel)` switches the account box
 * and `home()` shows its usual panel.
 */
export function setup(options) {
  ({ stopAutofill, askForSecondFactor, show, home } = options);
  providers = client.providers().then((list) => (Array.isArray(list) ? list : []), () => []);
  providers.then(showButtons);
  $("link-form").addEventListener("submit", confirmLink);
  $("link-cancel").addEventListener("click", () => {
    link = null;
    home();
    say($("account-status"), "");
  });
}

/**
 * On page load: what the provider's return came to, then `restore()` (the refresh cookie's session).
 * A login code signs in before that; a connected account (or a failed connect) is said in the card
 * once signed in, anything else in the account box. Resolves true while the sign-in waits for the
 * user (the link form, the second factor).
 */
export async function complete(restore) {
  let waiting = false;
  try {
    waiting = await handle(await client.completeSignIn());
  } catch (error) {
    const result = failure(error);
    notice = [result.data.code === "login_code_invalid" ? EXPIRED : problems(result), "bad"];
  }
  await restore();
  // Still unsaid: the page is signed out (a signed-in page said it in the card).
  if (notice !== null) say($("account-status"), ...notice);
  notice = null;
  return waiting;
}

/** Signed in: lists the linked accounts and the providers to connect. */
export async function open() {
  say($("social-status"), "");
  await refresh();
  if (notice !== null) say($("social-status"), ...notice);
  notice = null;
}

/** Signed out: forgets the list and hides the card. */
export function close() {
  link = null;
  notice = null;
  $("social").hidden = true;
  $("social-list").replaceChildren();
  $("social-connect").replaceChildren();
  say($("social-status"), "");
}

/** What `completeSignIn` resolved, shown; true when the user has a step left. */
async function handle(outcome) {
  if (outcome === null) return false;
  const trip = takeTrip();
  if (outcome.status === "ok") return false; // The client signed in: `client.onChange` shows the account.
  // An error does not name the provider: the trip does, if this tab left for it.
  const name = (await nameOf(outcome.provider ?? trip.id)) ?? trip.name ?? outcome.provider ?? null;
  switch (outcome.status) {
    case "mfa_required":
      askForSecondFactor(outcome.mfaToken, outcome.methods);
      return true;
    case "link_required":
      openLinkForm(outcome, name);
      return true;
    case "connected":
      notice = [`${name} is now linked: it signs you in too.`, "ok"];
      return false;
    default:
      notice = [errorMessage(outcome.code, name), "bad"];
      return false;
  }
}

/** The sentence for the callback's `error`; `name` is the provider's, or null when unknown. */
function errorMessage(code, name) {
  const by = name === null ? "" : ` with ${name}`;
  switch (code) {
    case "access_denied": return `You cancelled signing in${by}.`;
    case "email_unverified":
      return `${name ?? "The provider"} did not confirm your e-mail address, so no account can be made from it. `
        + "Verify it there, or sign up with a password.";
    case "account_inactive": return "This account is disabled.";
    case "account_in_use": return `That ${name === null ? "" : `${name} `}account is already linked to another user.`;
    case "rate_limited": return "Too many sign-in attempts. Try again in a few minutes.";
    case "provider_error":
    case "provider_unavailable":
    case "id_token_invalid": return `Signing in${by} failed. Try again.`;
    default: return `Signing in${by} failed (${code}).`;
  }
}

function showButtons(list) {
  $("social-buttons").replaceChildren(...list.map((provider) => {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "secondary" });
    button.textContent = `Continue with ${provider.name}`;
    button.dataset.provider = provider.id;
    button.addEventListener("click", () => signInWith(provider, button));
    return button;
  }));
  $("social-buttons").hidden = list.length === 0;
}

/** "Continue with <name>": leaves for the provider, once the autofill's passkey request is ended. */
async function signInWith(provider, button) {
  await stopAutofill();
  say($("account-status"), `Taking you to ${provider.name}…`);
  keepTrip(provider);
  const result = await whileBusy($("auth-form"), () => client.signInWith(provider.id).then(() => ({ ok: true }), failure));
  if (result.ok) return; // The browser is on its way.
  takeTrip();
  say($("account-status"), refusal(result, provider.name), "bad");
  holdOff(button, result);
}

function openLinkForm({ linkToken, email }, name) {
  link = { token: linkToken, name };
  $("link-explain").textContent = `An account with ${email} already exists. Enter its password to link ${name} to it.`;
  $("link-email").value = email;
  $("link-password").value = "";
  $("link-password").removeAttribute("aria-invalid");
  show("link-form");
  say($("account-status"), "");
  $("link-password").focus();
}

/** "Link and sign in": the existing account's password links the provider's account, and signs in. */
async function confirmLink(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const password = $("link-password").value;
  if (!password || link === null) return say($("account-status"), "Enter your password first.", "bad");
  const { token, name } = link;
  // Said in the card once signed in (the client signs in before this resolves).
  notice = [`${name} is now linked: it signs you in too.`, "ok"];
  const result = await whileBusy(form, () => client.confirmSocialLink(token, password).then((value) => ({ ok: true, value }), failure));
  if (result.ok) {
    link = null;
    if (result.value.status === "mfa_required") askForSecondFactor(result.value.mfaToken, result.value.methods);
    return;
  }
  notice = null;
  if (result.data.code === "link_token_invalid") {
    link = null;
    home();
    return say($("account-status"), `This link request has expired. Continue with ${name} again.`, "bad");
  }
  $("link-password").setAttribute("aria-invalid", "true");
  // A wrong password: the link token stays usable.
  say($("account-status"), result.status === 401 ? "Incorrect password." : problems(result), "bad");
  holdOffIfThrottled($("link-submit"), result);
  $("link-password").select();
}

async function refresh() {
  const [list, result] = await Promise.all([providers, client.socialAccounts().then((value) => ({ ok: true, value }), failure)]);
  // A 401 has signed the page out already; a 404 is a server without social login.
  if (!result.ok && [401, 404, 405].includes(result.status)) return close();
  const accounts = result.ok && Array.isArray(result.value) ? result.value : [];
  $("social").hidden = list.length === 0 && accounts.length === 0;
  if (!result.ok) return say($("social-status"), problems(result), "bad");
  const names = new Map(list.map((provider) => [provider.id, provider.name]));
  $("social-list").replaceChildren(...accounts.map((account) => accountItem(account, names.get(account.provider) ?? account.provider)));
  $("social-empty").hidden = accounts.length > 0;
  const linked = new Set(accounts.map((account) => account.provider));
  $("social-connect").replaceChildren(...list.filter((provider) => !linked.has(provider.id)).map(connectButton));
}

function accountItem(account, name) {
  const li = document.createElement("li");
  li.dataset.id = account.id;
  li.dataset.provider = account.provider;
  const title = Object.assign(document.createElement("span"), { className: "device-name social-name", textContent: name });
  const unlink = Object.assign(document.createElement("button"), { type: "button", className: "secondary small unlink push", textContent: "Unlink" });
  unlink.setAttribute("aria-label", `Unlink ${name}`);
  unlink.addEventListener("click", () => unlinkAccount(account, name, unlink));
  const linked = new Date(account.created_at ?? "");
  const since = Number.isNaN(linked.getTime()) ? "" : `, linked on ${linked.toLocaleDateString()}`;
  const meta = Object.assign(document.createElement("span"), { className: "hint social-meta", textContent: `${account.email ?? "No e-mail address"}${since}` });
  li.append(title, unlink, meta);
  return li;
}

async function unlinkAccount(account, name, button) {
  const result = await whileBusy(button.parentElement, () => confirming(() => client.unlinkSocial(account.id)));
  if (result.data?.code === "last_sign_in_method") return say($("social-status"), LAST, "bad");
  if (!result.ok && result.status !== 404) {
    holdOffIfThrottled(button, result);
    return say($("social-status"), problems(result), "bad");
  }
  // The list first, then the sentence: whoever reads the sentence sees the list it describes.
  await refresh();
  if (result.ok) say($("social-status"), `${name} is unlinked: it no longer signs you in.`, "ok");
  else say($("social-status"), `That ${name} account had already been unlinked.`);
}

function connectButton(provider) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "secondary" });
  button.textContent = `Connect ${provider.name}`;
  button.dataset.provider = provider.id;
  button.addEventListener("click", () => connect(provider, button));
  return button;
}

/** "Connect <name>": leaves for the provider (after confirming it is you, past the window). */
async function connect(provider, button) {
  say($("social-status"), `Taking you to ${provider.name}…`);
  keepTrip(provider);
  const result = await whileBusy($("social"), () => confirming(() => client.connectSocial(provider.id)));
  if (result.ok) return;
  takeTrip();
  say($("social-status"), refusal(result, provider.name), "bad");
  holdOff(button, result);
}

/** Why the server would not send the browser to the provider. */
function refusal(result, name) {
  if (result.status !== 503) return problems(result);
  return `${name} cannot be reached right now. Try again ${result.retryAfter ? `in ${duration(result.retryAfter)}` : "in a minute"}.`;
}

/** After a 429, or a 503 with `Retry-After`, the button waits that long. */
function holdOff(button, result) {
  holdOffIfThrottled(button, result.status === 503 && result.retryAfter ? { ...result, status: 429 } : result);
}

async function nameOf(id) {
  return (await providers).find((provider) => provider.id === id)?.name;
}

function keepTrip(provider) {
  try {
    sessionStorage.setItem(TRIP, JSON.stringify({ id: provider.id, name: provider.name }));
  } catch {
    // No storage: the messages say "the provider".
  }
}

/** The trip, forgotten: `{id, name}` or `{}`. */
function takeTrip() {
  try {
    const trip = JSON.parse(sessionStorage.getItem(TRIP) ?? "{}");
    sessionStorage.removeItem(TRIP);
    return trip !== null && typeof trip === "object" ? trip : {};
  } catch {
    return {};
  }
}
