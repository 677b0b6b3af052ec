// Social login (OpenID Connect, GitHub) for `LatchkeyClient`. Signing in leaves the page for the provider,
// whose answer goes to the server, which sends the browser back to `return_to` with the outcome in the
// address: `login_code` (exchanged here for the session, as `login` gets it), `link_token` with `email` and
// `provider` (an account with that e-mail exists: its password links the two), `linked` (an account was
// connected) or `error`. `completeSignIn` reads the outcome and removes it from the address bar, so a reload
// or a bookmark does not replay it. A random `binding`, kept in this tab's sessionStorage from the start of
// the sign-in to its end, ties the completion to the browser that started it: a login code or link token
// that leaks (a log, a link sent to a victim) is useless alone. Hand-written, dependency-free; copied into
// the package's builds beside `client.js`, which imports it.
import { errorFrom, LatchkeyError, readBody } from "./client-errors.js";
import { jsonInit } from "./client-http.js";
import { base64url } from "./client-webauthn.js";

/** Where a sign-in under way in this tab keeps `{binding, org, provider}` between leaving and coming back. */
const STORAGE_KEY = "latchkey.social";

/**
 * The social methods of one `LatchkeyClient`, given its ways to reach the server: `request(path, init)`
 * (anonymous, cookie mode), `signIn(path, body)` (a cookie-mode POST whose answer signs in as `login`'s
 * does, resolving `{status: "ok"}` or `mfa_required`) and `fetch(path, init)` (the client's own, with the
 * access token and sudo mode).
 */
export class SocialLogin {
  #request;
  #signIn;
  #fetch;

  constructor({ request, signIn, fetch }) {
    this.#request = request;
    this.#signIn = signIn;
    this.#fetch = fetch;
  }

  /** The providers the server offers, `[{id, name}]` in its order (empty without any). */
  async providers() {
    return answer(await this.#request("/api/auth/providers/", { headers: { Accept: "application/json" } }));
  }

  /**
   * Leaves for `provider`'s sign-in page. `returnTo` (default: this page without query and fragment) must
   * be on the server's public URL or one of its CORS origins. Throws a `LatchkeyError` when the server
   * refuses (404 unknown provider, 400 `return_to`, 429, 503 `provider_unavailable`).
   */
  async signInWith(provider, { returnTo, org } = {}) {
    const binding = randomBinding();
    const kept = remember({ binding, org, provider });
    const body = { process: "login", return_to: returnTo ?? here(), binding: kept ? binding : undefined };
    const { authorization_url: url } = await answer(await this.#request(authorizePath(provider), jsonInit(body)));
    leaveFor(url);
  }

  /**
   * On the page `return_to` names: the sign-in's outcome in `url` (default: this page's address), removed
   * from the address bar. Resolves null when there is none; exchanges a login code for the session.
   */
  async completeSignIn(url = globalThis.location?.href) {
    if (url === undefined) throw new TypeError("completeSignIn needs the address the provider came back to");
    const address = new URL(url);
    const params = address.searchParams;
    const read = (...names) => {
      const values = names.map((name) => params.get(name) ?? "");
      strip(address, names);
      return values;
    };
    if (params.has("login_code")) {
      const [code] = read("login_code");
      const { binding, org } = pending();
      try {
        return await this.#signIn("/api/token/social/", { login_code: code, cookie: true, org, binding });
      } finally {
        forget(); // the code is spent, whatever the answer
      }
    }
    if (params.has("link_token")) {
      // The binding stays for `confirmSocialLink`.
      const [linkToken, email, provider] = read("link_token", "email", "provider");
      return { status: "link_required", linkToken, email, provider: provider || (pending().provider ?? "") };
    }
    if (params.has("linked")) return { status: "connected", provider: read("linked")[0] };
    if (params.has("error")) {
      forget();
      return { status: "error", code: read("error")[0] };
    }
    return null;
  }

  /**
   * Proves the password of the existing account `completeSignIn` named (`link_required`): links the
   * provider's account to it, then signs in as `login` does. A wrong password throws a 401 `LatchkeyError`
   * and the link token stays usable; a dead one throws 401 `link_token_invalid`.
   */
  async confirmSocialLink(linkToken, password) {
    const { binding, org } = pending();
    const body = { link_token: linkToken, password, cookie: true, org, binding };
    const result = await this.#signIn("/api/auth/social/link/confirm/", body);
    forget();
    return result;
  }

  /** Leaves for `provider` to link one of its accounts to the signed-in user (privileged: sudo mode applies). */
  async connectSocial(provider, { returnTo } = {}) {
    const body = { process: "connect", return_to: returnTo ?? here() };
    const { authorization_url: url } = await answer(await this.#fetch(authorizePath(provider), jsonInit(body)));
    leaveFor(url);
  }

  /** The signed-in user's linked accounts, `[{id, provider, email, created_at}]`, newest first. */
  async socialAccounts() {
    return answer(await this.#fetch("/api/auth/social/accounts/", { headers: { Accept: "application/json" } }));
  }

  /** Unlinks one (privileged); the account's last way to sign in throws 409 `last_sign_in_method`. */
  async unlinkSocial(id) {
    await answer(await this.#fetch(`/api/auth/social/accounts/${encodeURIComponent(id)}/`, { method: "DELETE" }));
  }
}

/** The answer's body, or its refusal thrown as a `LatchkeyError`. */
async function answer(response) {
  const data = await readBody(response);
  if (!response.ok) throw errorFrom(response, data);
  return data;
}

function authorizePath(provider) {
  if (typeof provider !== "string" || provider === "") throw new TypeError("provider must be a provider's id");
  return `/api/auth/social/${encodeURIComponent(provider)}/authorize/`;
}

/** This page without its query and fragment: where the outcome comes back by default. */
function here() {
  return `${location.origin}${location.pathname}`;
}

/** Navigates to the provider; only http(s) addresses, whatever the server's answer holds. */
function leaveFor(url) {
  let target = null;
  try {
    target = new URL(url);
  } catch {
    // Not an address: refused below.
  }
  if (target?.protocol !== "https:" && target?.protocol !== "http:") {
    throw new LatchkeyError("The server's answer has no provider address.", { status: 200, body: url });
  }
  location.assign(target.href);
}

/** 32 random bytes, base64url: what `binding` must be (32 to 128 such characters). */
function randomBinding() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Removes `names` from the address bar when `address` is this page's. Without a page (or for another
 * address) only `address` changes.
 */
function strip(address, names) {
  const onPage = address.href === globalThis.location?.href;
  for (const name of names) address.searchParams.delete(name);
  if (onPage && typeof globalThis.history?.replaceState === "function") {
    history.replaceState(history.state, "", address.href);
  }
}

/** This tab's session storage, or null where there is none or it is refused (a sandboxed frame). */
function storage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** Keeps the sign-in under way; false when it cannot be kept (the sign-in then goes without a binding). */
function remember(state) {
  try {
    storage()?.setItem(STORAGE_KEY, JSON.stringify(state));
    return storage() !== null;
  } catch {
    return false;
  }
}

/** The sign-in under way in this tab, or `{}`. */
function pending() {
  try {
    const state = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? "{}");
    return state !== null && typeof state === "object" ? state : {};
  } catch {
    return {};
  }
}

function forget() {
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    // Nothing kept, nothing to forget.
  }
}
