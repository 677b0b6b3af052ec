// `LatchkeyClient`: a browser front-end's session with a Latchkey server, in cookie mode.
//
// The refresh token lives only in the server's HttpOnly `latchkey_refresh` cookie (path /api/token/),
// out of reach of scripts; the access token lives only in this object's memory, never in storage.
// Requests through `client.fetch` carry the access token, refresh it shortly before it expires and
// once more after a 401. Refreshing rotates the cookie, and the server revokes the whole session
// when a rotated token is presented again after its grace window, so tabs must not refresh with the
// same cookie at once: a Web Lock lets one tab refresh at a time, and a BroadcastChannel hands the
// fresh access token to the others. Sensitive actions ("sudo mode") answer 403
// `reauthentication_required` once the session's login is older than the server's re-authentication
// window: with an `onReauthenticate` hook, the client asks the application for the password or a code,
// proves it to `POST /api/auth/reauthenticate/` and sends the request once more; concurrent refusals
// share one question. Passkeys (WebAuthn) sign in, complete a second factor, re-authenticate and are
// registered through `client-webauthn.js`; social login (OpenID Connect, GitHub) goes through
// `client-social.js`, e-mailed sign-in codes and links through `client-code.js`, 2FA enforcement's claim
// (`mfaEnrollmentRequired`) through `client-enrollment.js`. Hand-written, dependency-free; copied into the
// package's builds beside `latchkey.js`, whose token functions it uses.
import { decodeToken, tokenSecondsLeft } from "./latchkey.js";
import { errorFrom, LatchkeyError, readBody, reauthenticationError } from "./client-errors.js";
import { absolute, isSameOrigin, jsonInit, proofBody } from "./client-http.js";
import { CodeLogin } from "./client-code.js";
import { enrollmentRequired } from "./client-enrollment.js";
import { SocialLogin } from "./client-social.js";
import { CANCELLED, conditionalMediationAvailable, createCredential, getCredential, hasWebAuthn } from "./client-webauthn.js";

export { LatchkeyError };
export { MFA_ENROLLMENT_REQUIRED, MFA_REQUIRED_BY_ORG } from "./client-enrollment.js";

const DEFAULT_LOCK_NAME = "latchkey-refresh";
const REAUTHENTICATE_PATH = "/api/auth/reauthenticate/";
const REAUTHENTICATION_REQUIRED = "reauthentication_required";

/**
 * Without Web Locks two tabs may refresh with the same cookie at once. The loser is told
 * `Token is blacklisted` (the server does not revoke within its 10 s reuse grace window); by the time
 * it asks again, the browser holds the winner's rotated cookie.
 */
const RACE_RETRY_DELAY_MS = 1000;

export class LatchkeyClient {
  #base;
  #margin;
  #fetch;
  #lockName;
  #credentials;
  #channel = null;
  #token = null;
  /** Browser clock minus server clock (seconds), measured when the token arrived. */
  #skew = 0;
  /** The token's lifetime (`exp - iat`), which bounds the refresh margin. */
  #lifetime = Infinity;
  #refreshing = null;
  #listeners = new Set();
  #onReauthenticate;
  /** The hook's question under way (one for all the requests refused meanwhile), or null. */
  #question = null;
  /** The last question asked, and how many were: a request refused by then shares its answer. */
  #lastQuestion = null;
  #questions = 0;
  /** How many re-authentications succeeded: a request sent before the last one is sent again at once. */
  #proofs = 0;
  /** Social login and e-mailed codes, through this client's anonymous requests, its login answers and its `fetch`. */
  #ways = {
    request: (path, init) => this.#fetch(this.#url(path), { ...init, credentials: this.#credentials }),
    signIn: (path, body) => this.#post(path, body).then((answer) => this.#loginResult(answer)),
    fetch: (path, init) => this.fetch(path, init),
  };
  #social = new SocialLogin(this.#ways);
  #code = new CodeLogin(this.#ways);

  /**
   * @param {{baseUrl?: string, refreshMargin?: number, fetch?: typeof fetch, lockName?: string,
   *   onReauthenticate?: (request: {method: string, url: string, error: LatchkeyError}) =>
   *     ({password: string} | {code: string} | {passkey: true} | null | undefined
   *       | Promise<{password: string} | {code: string} | {passkey: true} | null | undefined>)}} [options]
   */
  constructor({ baseUrl = "", refreshMargin = 30, fetch, lockName = DEFAULT_LOCK_NAME, onReauthenticate } = {}) {
    if (typeof refreshMargin !== "number" || !(refreshMargin >= 0)) {
      throw new TypeError("refreshMargin must be a non-negative number of seconds");
    }
    if (onReauthenticate !== undefined && typeof onReauthenticate !== "function") {
      throw new TypeError("onReauthenticate must be a function");
    }
    this.#onReauthenticate = onReauthenticate ?? null;
    this.#base = String(baseUrl).replace(/\/+$/, "");
    this.#margin = refreshMargin;
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#lockName = String(lockName);
    this.#credentials = isSameOrigin(this.#base) ? "same-origin" : "include";
    if (typeof BroadcastChannel === "function") {
      this.#channel = new BroadcastChannel(this.#lockName);
      this.#channel.onmessage = (event) => this.#receive(event.data);
      this.#channel.unref?.(); // Node: the channel alone must not keep the process alive.
    }
  }

  /** The current access token, or null when signed out. Kept in memory only. */
  get accessToken() {
    return this.#token;
  }

  /** Whether the client holds an access token (it may be due for a refresh). */
  get authenticated() {
    return this.#token !== null;
  }

  /** Whether the user must set up a second factor before anything else (the token's `mfa_enrollment_required`). */
  get mfaEnrollmentRequired() {
    return enrollmentRequired(this.#token);
  }

  /** Calls `listener(authenticated)` whenever the client signs in or out; returns the unsubscriber. */
  onChange(listener) {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Signs in with a password (and optionally a TOTP or backup code). Resolves `{status: "ok"}`, or
   * `{status: "mfa_required", mfaToken, methods}` when a second factor is needed: `methods` lists what
   * the account can use, among `"totp"`, `"backup_code"` (see `verifyMfa`) and `"webauthn"` (a passkey,
   * see `verifyMfaWithPasskey`). Any other answer throws a `LatchkeyError`, e.g. 401 for wrong credentials,
   * 403 `password_expired` (its `body.password_change_token` opens the password change), 429 with `retryAfter`.
   */
  async login({ email, username, password, otp } = {}) {
    return this.#loginResult(await this.#post("/api/token/", { email, username, password, otp, cookie: true }));
  }

  /** Completes a login that answered `mfa_required`, with a TOTP code or a backup code. */
  async verifyMfa(mfaToken, code) {
    const { response, data } = await this.#post("/api/token/mfa/", { mfa_token: mfaToken, code, cookie: true });
    this.#signedIn(response, data);
  }

  /**
   * Completes a login that answered `mfa_required` with `"webauthn"` among its `methods`: the browser asks
   * for one of the account's passkeys. Resolves `{status: "ok"}` once signed in, `{status: "cancelled"}`
   * when the user dismissed the prompt, `{status: "unsupported"}` without WebAuthn. Throws a `LatchkeyError`
   * when the server refuses (400 `passkey_invalid`, 401 `mfa_token_invalid`, 429), an `Error` when the
   * browser fails otherwise.
   */
  async verifyMfaWithPasskey(mfaToken, { signal } = {}) {
    if (!hasWebAuthn()) return { status: "unsupported" };
    const options = await this.#post("/api/token/mfa/webauthn/options/", { mfa_token: mfaToken }, signal);
    if (options === CANCELLED) return { status: "cancelled" };
    if (!options.response.ok) throw errorFrom(options.response, options.data);
    const credential = await getCredential(options.data?.publicKey, { signal });
    if (credential === CANCELLED) return { status: "cancelled" };
    const { response, data } = await this.#post("/api/token/mfa/", { mfa_token: mfaToken, credential, cookie: true });
    this.#signedIn(response, data);
    return { status: "ok" };
  }

  /**
   * Signs in with a passkey: without `email` any the browser holds for this site, with it the account's.
   * `conditional: true` offers them in the autofill of an input marked `autocomplete="username webauthn"`
   * and waits until one is chosen; abort it with `signal` before any other passkey request (a browser runs
   * one at a time). Resolves as `login` does, or `{status: "cancelled"}` (the prompt dismissed, `signal`
   * aborted), or `{status: "unsupported"}` (no WebAuthn; no autofill for passkeys when `conditional`).
   * Throws a `LatchkeyError` when the server refuses (400 `passkey_invalid`, 404 `passkeys_unavailable`,
   * 429), an `Error` with a readable message when the browser fails otherwise.
   */
  async signInWithPasskey({ email, conditional = false, signal, org } = {}) {
    if (!hasWebAuthn() || (conditional && !(await conditionalMediationAvailable()))) return { status: "unsupported" };
    const options = await this.#post("/api/token/passkey/options/", email ? { email } : {}, signal);
    if (options === CANCELLED) return { status: "cancelled" };
    if (!options.response.ok) throw errorFrom(options.response, options.data);
    const mediation = conditional ? "conditional" : undefined;
    const credential = await getCredential(options.data?.publicKey, { mediation, signal });
    if (credential === CANCELLED) return { status: "cancelled" };
    const body = { ceremony_id: options.data.ceremony_id, credential, cookie: true, org };
    return this.#loginResult(await this.#post("/api/token/passkey/", body));
  }

  /**
   * Registers a new passkey for the signed-in user, named `name` (optional), through `fetch` (so sudo mode
   * asks `onReauthenticate`). Resolves the passkey (`{id, name, created_at, last_used_at, backed_up,
   * transports}`), or null when the user dismissed the browser's prompt. Throws a `LatchkeyError` when the
   * server refuses (400 `passkey_invalid`, 403 `reauthentication_required`, 404 `passkeys_unavailable`), an
   * `Error` when the browser fails otherwise (e.g. the authenticator already holds a passkey for the account).
   */
  async registerPasskey(name) {
    if (!hasWebAuthn()) throw new Error("This browser does not support passkeys.");
    const named = typeof name === "string" ? { name } : {};
    const options = await this.#fetchJSON("/api/auth/passkeys/register/options/", named);
    const credential = await createCredential(options?.publicKey);
    if (credential === CANCELLED) return null;
    return this.#fetchJSON("/api/auth/passkeys/register/", { ceremony_id: options.ceremony_id, credential, ...named });
  }

  // Social login, then e-mailed codes (client-social.js and client-code.js say what each does, client.d.ts too).
  providers() { return this.#social.providers(); }
  signInWith(provider, options) { return this.#social.signInWith(provider, options); }
  completeSignIn(url) { return this.#social.completeSignIn(url); }
  confirmSocialLink(linkToken, password) { return this.#social.confirmSocialLink(linkToken, password); }
  connectSocial(provider, options) { return this.#social.connectSocial(provider, options); }
  socialAccounts() { return this.#social.socialAccounts(); }
  unlinkSocial(id) { return this.#social.unlinkSocial(id); }
  requestLoginCode(email) { return this.#code.requestLoginCode(email); }
  signInWithCode(flowId, code, options) { return this.#code.signInWithCode(flowId, code, options); }
  signInWithLink(flowId, token, options) { return this.#code.signInWithLink(flowId, token, options); }

  /** On page load: signs in with the refresh cookie, if there is a live one. Resolves whether signed in. */
  async restore() {
    if (this.#token !== null && !this.#due()) return true;
    return this.refresh();
  }

  /**
   * Gets a new access token with the refresh cookie (rotating it). One refresh at a time, in this tab
   * and across tabs. Resolves true when signed in, false when the server refused the cookie (signed
   * out); throws on other failures (network, 429, 5xx) and keeps the current token.
   */
  refresh() {
    this.#refreshing ??= this.#refreshAcrossTabs().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /**
   * `fetch` with `Authorization: Bearer <access token>`. Refreshes first when the token has less than
   * `refreshMargin` seconds left, and after a 401 refreshes and sends the request once more (so a body
   * must be reusable: a string, FormData, URLSearchParams or Blob). Paths starting with `/` are
   * resolved against `baseUrl`. Resolves the server's Response, whatever its status, with one
   * exception: with an `onReauthenticate` hook, a 403 `reauthentication_required` asks the hook, proves
   * its answer to the server and sends the request once more (its answer is the Response); when the
   * hook gives nothing (the user cancelled) or the proof is refused, this rejects with a
   * `LatchkeyError`: the 403's (`code` `reauthentication_required`), or the re-authentication's
   * (`reauthentication_failed` for a wrong password or code, `throttled` after too many).
   */
  async fetch(input, init = {}) {
    const proofs = this.#proofs;
    // Questions asked since this request left (the one under way counts), whose answer it may use.
    const questions = this.#questions - (this.#question === null ? 0 : 1);
    const response = await this.#fetchAuthorized(input, init);
    if (response.status !== 403 || this.#onReauthenticate === null) return response;
    const data = await readBody(response.clone());
    if (data?.code !== REAUTHENTICATION_REQUIRED) return response;
    // Proved since this request left (by a concurrent request, or `reauthenticate`): no need to ask.
    if (this.#proofs === proofs) {
      const request = {
        method: String(init?.method ?? input?.method ?? "GET").toUpperCase(),
        url: absolute(typeof input?.url === "string" ? input.url : String(this.#url(input))),
        error: errorFrom(response, data),
      };
      const question = this.#questions > questions ? this.#lastQuestion : this.#ask(request);
      if (!(await question)) throw request.error;
    }
    return this.#fetchAuthorized(input, init);
  }

  /**
   * Re-authenticates the session with the user's password, a current second-factor code (TOTP or backup
   * code) or, with `{passkey: true}`, one of their passkeys, opening the server's window for sensitive
   * actions again. Resolves `{expiresAt}` (ISO 8601, when the window closes), or null when the user
   * dismissed the passkey prompt; throws a `LatchkeyError` when refused: status 400 and code
   * `reauthentication_failed` for a wrong password, code or passkey, 429 `throttled` after too many.
   */
  async reauthenticate(proof) {
    if (proof?.passkey === true) return this.#reauthenticateWithPasskey();
    const body = proofBody(proof);
    if (body === null) throw new TypeError("reauthenticate needs {password}, {code} or {passkey: true}");
    return this.#prove(body);
  }

  async #reauthenticateWithPasskey() {
    if (!hasWebAuthn()) throw new Error("This browser does not support passkeys.");
    const response = await this.#fetchAuthorized(`${REAUTHENTICATE_PATH}passkey/options/`, jsonInit({}));
    const options = await readBody(response);
    if (!response.ok) throw errorFrom(response, options);
    const credential = await getCredential(options?.publicKey);
    if (credential === CANCELLED) return null;
    return this.#prove({ ceremony_id: options.ceremony_id, credential });
  }

  async #prove(body) {
    const response = await this.#fetchAuthorized(REAUTHENTICATE_PATH, jsonInit(body));
    const data = await readBody(response);
    if (!response.ok) throw reauthenticationError(response, data);
    this.#proofs += 1;
    return { expiresAt: typeof data?.expires_at === "string" ? data.expires_at : null };
  }

  /**
   * Asks the hook and proves its answer, once for every request refused meanwhile: resolves true
   * once the server accepted the answer, false when the hook gave none (the user cancelled); rejects
   * with the re-authentication's refusal, or with what the hook threw.
   */
  #ask(request) {
    if (this.#question !== null) return this.#question;
    const question = (async () => {
      const proof = await this.#onReauthenticate(request);
      if (proof === null || proof === undefined) return false;
      if (proofBody(proof) === null && proof?.passkey !== true) {
        throw new TypeError("onReauthenticate must resolve {password}, {code}, {passkey: true}, or null to cancel");
      }
      // A dismissed passkey prompt is a cancel.
      return (await this.reauthenticate(proof)) !== null;
    })();
    this.#question = question;
    this.#lastQuestion = question;
    this.#questions += 1;
    const done = () => {
      if (this.#question === question) this.#question = null;
    };
    question.then(done, done);
    return question;
  }

  /** `fetch` with the bearer token, refreshed before expiry and once after a 401. */
  async #fetchAuthorized(input, init) {
    if (this.#token !== null && this.#due()) {
      try {
        await this.refresh();
      } catch (error) {
        // The token still works for a while: let the request go, the next one refreshes again.
        if (this.#token === null || this.#secondsLeft() <= 0) throw error;
      }
    }
    const sent = this.#token;
    const response = await this.#send(input, init, sent);
    if (response.status !== 401 || sent === null) return response;
    // Refused before expiry by our reckoning (a clock jump, a slept laptop): refresh unless another
    // call already did while this request was under way.
    if (this.#token === sent && !(await this.refresh())) return response;
    if (this.#token === null) return response;
    return this.#send(input, init, this.#token);
  }

  /**
   * Signs out: the server revokes the session and deletes the refresh cookie; every tab's client
   * forgets its token. Without an access token, the cookie's session is revoked instead.
   */
  async logout() {
    try {
      if (this.#token !== null) {
        const response = await this.fetch("/api/auth/logout/", { ...jsonInit({}), credentials: this.#credentials });
        // 401: the session was already closed, which is what logging out wants.
        if (!response.ok && response.status !== 401) throw errorFrom(response, await readBody(response));
      } else {
        const { response, data } = await this.#post("/api/token/blacklist/", {});
        // 400: no cookie; 401: its session is already closed.
        if (!response.ok && response.status !== 400 && response.status !== 401) throw errorFrom(response, data);
      }
    } finally {
      this.#forget(true);
    }
  }

  async #refreshAcrossTabs() {
    const before = this.#token;
    const locks = globalThis.navigator?.locks;
    if (typeof locks?.request !== "function") return this.#refreshRacing(before);
    let entered = false;
    try {
      return await locks.request(this.#lockName, () => {
        entered = true;
        return this.#refreshOnce(before);
      });
    } catch (error) {
      // An opaque origin (a sandboxed frame) has no locks: carry on as without them.
      if (entered) throw error;
      return this.#refreshRacing(before);
    }
  }

  /** Without Web Locks: one refresh, and one more after a lost race within the grace window. */
  async #refreshRacing(before) {
    const first = await this.#refreshOnce(before, true);
    if (first !== "raced") return first;
    await new Promise((resolve) => setTimeout(resolve, RACE_RETRY_DELAY_MS));
    return (await this.#refreshOnce(before)) === true;
  }

  /** One refresh request, unless another tab refreshed meanwhile and shared its token. */
  async #refreshOnce(before, reportRace = false) {
    if (this.#token !== null && this.#token !== before && !this.#due()) return true;
    const { response, data } = await this.#post("/api/token/refresh/", {});
    if (response.ok) {
      this.#accept(data?.access, true);
      return true;
    }
    if (reportRace && response.status === 401 && data?.detail === "Token is blacklisted") return "raced";
    // No cookie (400), a dead or reused one (401), or a refused cookie request (403): signed out.
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      this.#forget(false);
      return false;
    }
    throw errorFrom(response, data);
  }

  /** A login's answer: `mfa_required` as a result, a success signs in, anything else throws. */
  #loginResult({ response, data }) {
    if (response.status === 403 && data?.code === "mfa_required") {
      return { status: "mfa_required", mfaToken: data.mfa_token, methods: data.methods ?? [] };
    }
    this.#signedIn(response, data);
    return this.mfaEnrollmentRequired ? { status: "ok", mfaEnrollmentRequired: true } : { status: "ok" };
  }

  #signedIn(response, data) {
    if (!response.ok) throw errorFrom(response, data);
    this.#accept(data?.access, true);
  }

  #accept(access, share) {
    if (typeof access !== "string") {
      throw new LatchkeyError("The server's answer has no access token.", { status: 200, body: access });
    }
    const { claims } = decodeToken(access);
    const wasSignedIn = this.#token !== null;
    this.#token = access;
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    // Measured against the token's own issue time, so a browser clock minutes off neither refreshes
    // before every request nor lets tokens expire unnoticed.
    this.#skew = Number.isFinite(iat) ? Date.now() / 1000 - iat : 0;
    this.#lifetime = Number.isFinite(iat) && Number.isFinite(exp) ? exp - iat : Infinity;
    if (share) this.#channel?.postMessage({ type: "token", access });
    if (!wasSignedIn) this.#emit(true);
  }

  #forget(share) {
    const wasSignedIn = this.#token !== null;
    this.#token = null;
    if (share) this.#channel?.postMessage({ type: "signed-out" });
    if (wasSignedIn) this.#emit(false);
  }

  /** A message from another tab's client: its fresh token, or that it signed out. */
  #receive(message) {
    try {
      if (message?.type === "signed-out") {
        this.#forget(false);
      } else if (message?.type === "token" && typeof message.access === "string") {
        const expires = (jwt) => Number(decodeToken(jwt).claims.exp);
        if (this.#token === null || expires(message.access) >= expires(this.#token)) this.#accept(message.access, false);
      }
    } catch {
      // Not a token this client can read (e.g. the web build before `init()`): keep what it has.
    }
  }

  #emit(authenticated) {
    for (const listener of [...this.#listeners]) {
      try {
        listener(authenticated);
      } catch (error) {
        // A faulty listener must not break signing in or out; its error is still reported.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  #secondsLeft() {
    return tokenSecondsLeft(this.#token, Math.max(0, Date.now() / 1000 - this.#skew));
  }

  /** Due for a refresh: within the margin of expiry, the margin being at most half the lifetime. */
  #due() {
    return this.#secondsLeft() <= Math.min(this.#margin, this.#lifetime / 2);
  }

  #send(input, init, token) {
    const headers = new Headers(init?.headers);
    if (token !== null) headers.set("Authorization", `Bearer ${token}`);
    return this.#fetch(this.#url(input), { ...init, headers });
  }

  /** A cookie-mode POST; with `signal`, resolves `CANCELLED` once it is aborted. */
  async #post(path, body, signal) {
    try {
      if (signal?.aborted) return CANCELLED;
      const response = await this.#fetch(this.#url(path), { ...jsonInit(body), credentials: this.#credentials, ...(signal && { signal }) });
      const data = await readBody(response);
      return signal?.aborted ? CANCELLED : { response, data };
    } catch (error) {
      if (signal?.aborted) return CANCELLED;
      throw error;
    }
  }

  /** A JSON POST through `fetch` (bearer token, sudo mode); resolves the answer's body, throws a refusal. */
  async #fetchJSON(path, body) {
    const response = await this.fetch(path, jsonInit(body));
    const data = await readBody(response);
    if (!response.ok) throw errorFrom(response, data);
    return data;
  }

  #url(input) {
    return typeof input === "string" && input.startsWith("/") ? this.#base + input : input;
  }
}
