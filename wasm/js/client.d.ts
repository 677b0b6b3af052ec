// `LatchkeyClient`: a browser front-end's session with a Latchkey server, in cookie mode (docs/api.md#tokens).
// `import { LatchkeyClient } from "latchkey/client"` with a bundler; in a plain browser module,
// `import init from "latchkey/web"` and `import { LatchkeyClient } from "latchkey/web/client"`, then
// `await init()` before the first call.

export interface LatchkeyClientOptions {
  /** The server's origin (and path prefix), e.g. `https://auth.example.com`; default: this page's origin. */
  baseUrl?: string;
  /**
   * Seconds before expiry at which `fetch` refreshes the access token first (default 30). At most half
   * the token's lifetime is used, so short-lived tokens are not refreshed before every request.
   */
  refreshMargin?: number;
  /** The `fetch` to send requests with (default: the global one). */
  fetch?: typeof fetch;
  /**
   * The Web Lock that lets one tab refresh at a time, and the BroadcastChannel that shares fresh tokens
   * between tabs (default `"latchkey-refresh"`). Clients of different servers need different names.
   */
  lockName?: string;
  /**
   * Sudo mode: called when a request through `fetch` is refused with 403 `reauthentication_required`
   * (a sensitive action, and the session's login is older than the server's `LATCHKEY_REAUTH_WINDOW`).
   * Ask the user and resolve their password or a current second-factor code (TOTP or backup code), or
   * `{passkey: true}` to have the browser ask for one of their passkeys; the client proves it to
   * `POST /api/auth/reauthenticate/` and sends the request once more. Resolve `null` (or `undefined`)
   * when the user cancels (a dismissed passkey prompt is a cancel too): `fetch` then rejects with the
   * 403 as a `LatchkeyError`. Requests refused while the question is open share it: one call for all of
   * them. Without this option, `fetch` resolves the 403 like any other answer.
   */
  onReauthenticate?: (request: ReauthenticationRequest) => ReauthenticationAnswer | Promise<ReauthenticationAnswer>;
}

/** What `onReauthenticate` is told: the refused request (the first one, when several were refused). */
export interface ReauthenticationRequest {
  /** The request's method, upper case (`"POST"`). */
  method: string;
  /** The request's absolute URL (`baseUrl` included; resolved against the page's address). */
  url: string;
  /** The refusal: status 403, code `"reauthentication_required"`, message `"Please confirm it is you."`. */
  error: LatchkeyError;
}

/** A proof that the user is who the session says: their password, or a current TOTP or backup code. */
export type ReauthenticationProof = { password: string; code?: never } | { code: string; password?: never };

/** Re-authentication with one of the user's passkeys: the browser asks for it. */
export type PasskeyProof = { passkey: true; password?: never; code?: never };

/** What `onReauthenticate` resolves: the user's proof, or `null` / `undefined` when they cancelled. */
export type ReauthenticationAnswer = ReauthenticationProof | PasskeyProof | null | undefined;

/** What `login` needs: a password and either an e-mail address or a username. */
export type LatchkeyCredentials =
  | { email: string; username?: string; password: string; otp?: string }
  | { username: string; email?: string; password: string; otp?: string };

/** A second factor the server accepts for an `mfa_required` login. */
export type MfaMethod = "totp" | "backup_code" | "webauthn";

export type LoginResult =
  /**
   * Signed in. `mfaEnrollmentRequired: true` (password, code and social sign-ins; absent otherwise): the server
   * requires this user to set up a second factor before anything else (see `LatchkeyClient.mfaEnrollmentRequired`).
   */
  | { status: "ok"; mfaEnrollmentRequired?: true }
  /**
   * A second factor is needed, within 5 minutes: pass `mfaToken` and the user's code to `verifyMfa`
   * (`methods` includes `"totp"` or `"backup_code"`), or `mfaToken` to `verifyMfaWithPasskey`
   * (`methods` includes `"webauthn"`: the account has a passkey).
   */
  | { status: "mfa_required"; mfaToken: string; methods: (MfaMethod | (string & {}))[] };

/**
 * What a passkey step resolves besides the server's answer: the user dismissed the browser's prompt
 * (or the `signal` was aborted), or this browser cannot do it (no WebAuthn; for a conditional request,
 * no passkeys in the autofill).
 */
export type PasskeyPromptResult = { status: "cancelled" } | { status: "unsupported" };

/** What `signInWithPasskey` resolves: as `login`, or cancelled / unsupported. */
export type PasskeyLoginResult = LoginResult | PasskeyPromptResult;

export interface PasskeySignInOptions {
  /** The account's e-mail address: the browser offers that account's passkeys only. Default: any passkey of this site. */
  email?: string;
  /**
   * Offer the passkeys in the autofill of an input marked `autocomplete="username webauthn"` instead of a
   * dialog; the promise waits until the user picks one. Abort it (`signal`) before any other passkey request.
   */
  conditional?: boolean;
  /** Aborting it ends the request: the promise resolves `{status: "cancelled"}`. */
  signal?: AbortSignal;
  /** An organization slug: the access tokens then carry `org` and `roles`. */
  org?: string;
}

/** One of the user's passkeys, as `GET /api/auth/passkeys/` lists it. */
export interface Passkey {
  id: number;
  name: string;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339; null until it signs in. */
  last_used_at: string | null;
  /** Synced to other devices by its provider (the backup-state flag). */
  backed_up: boolean;
  /** How the authenticator is reached, as the browser reported at registration: `"internal"`, `"usb"`, `"hybrid"`… */
  transports: string[];
}

/** A sign-in provider the server offers (`LATCHKEY_OIDC_PROVIDERS`): `id` for the calls, `name` for people. */
export interface SocialProvider {
  id: string;
  name: string;
}

export interface SocialSignInOptions {
  /**
   * Where the browser comes back with the outcome, for `completeSignIn`: an address on the server's public
   * URL or on one of its CORS origins. Default: this page without its query and fragment.
   */
  returnTo?: string;
  /** An organization slug, kept in this tab until the sign-in completes: the access tokens then carry `org` and `roles`. */
  org?: string;
}

/** Why a social sign-in did not complete, as the server's callback names it. */
export type SocialErrorCode =
  | "access_denied" | "provider_error" | "provider_unavailable" | "id_token_invalid" | "email_unverified"
  | "account_inactive" | "account_in_use" | (string & {});

/** What `completeSignIn` finds when the provider sent the browser back. */
export type SocialSignInResult =
  | LoginResult
  /**
   * An account with the provider's (verified) e-mail exists and is not linked to it: the user proves its
   * password with `confirmSocialLink(linkToken, password)` (within the token's lifetime) to link them.
   */
  | { status: "link_required"; linkToken: string; email: string; provider: string }
  /** `connectSocial` linked the provider's account to the signed-in user (call `restore()` to sign in again). */
  | { status: "connected"; provider: string }
  /** The sign-in ended without a session: the user refused at the provider, an unverified e-mail… */
  | { status: "error"; code: SocialErrorCode };

/** One of the user's linked provider accounts, as `GET /api/auth/social/accounts/` lists it. */
export interface SocialAccount {
  id: number;
  /** The provider's `id`. */
  provider: string;
  /** The e-mail address the provider last gave, if any. */
  email: string | null;
  /** RFC 3339. */
  created_at: string;
}

/** What `requestLoginCode` resolves: the sign-in it started, whatever the address. */
export interface LoginCodeRequest {
  /** The sign-in to finish: `signInWithCode(flowId, code)`. Tied to this page: the code alone is worth nothing. */
  flowId: string;
  /** The server's sentence, the same for every address ("If the address is registered, a code has been sent."). */
  detail: string;
}

export declare class LatchkeyClient {
  constructor(options?: LatchkeyClientOptions);

  /** The current access token, or null when signed out. Kept in memory only. */
  readonly accessToken: string | null;
  /** Whether the client holds an access token (it may be due for a refresh). */
  readonly authenticated: boolean;
  /**
   * Whether the server requires the user to set up a second factor before anything else (`LATCHKEY_REQUIRE_2FA`;
   * the access token's `mfa_enrollment_required`). Until a TOTP device or passkey is confirmed, every request
   * but the profile (GET), 2FA and passkey enrollment, re-authentication, sessions and logout throws a
   * `LatchkeyError` with `code === MFA_ENROLLMENT_REQUIRED`; after the confirmation, `refresh()` clears it.
   */
  readonly mfaEnrollmentRequired: boolean;

  /**
   * Signs in; the refresh token goes into the HttpOnly `latchkey_refresh` cookie. Throws a
   * `LatchkeyError` for any answer but success and `mfa_required`: 401 wrong credentials, 403
   * `password_expired` (see `body.password_change_token`), 429 with `retryAfter`.
   */
  login(credentials: LatchkeyCredentials): Promise<LoginResult>;
  /** Completes an `mfa_required` login with a TOTP code or a backup code. */
  verifyMfa(mfaToken: string, code: string): Promise<void>;
  /**
   * Completes an `mfa_required` login whose `methods` include `"webauthn"`: the browser asks for one of the
   * account's passkeys. Resolves `{status: "ok"}` once signed in, or cancelled / unsupported. Throws a
   * `LatchkeyError` when the server refuses (400 `passkey_invalid`, 401 `mfa_token_invalid`, 429), an
   * `Error` with a readable message when the browser fails otherwise.
   */
  verifyMfaWithPasskey(mfaToken: string, options?: { signal?: AbortSignal }): Promise<{ status: "ok" } | PasskeyPromptResult>;
  /**
   * Signs in with a passkey (cookie mode, as `login`). Resolves as `login` does, or `{status: "cancelled"}`
   * (the prompt dismissed, the signal aborted), or `{status: "unsupported"}`. Throws a `LatchkeyError` when
   * the server refuses (400 `passkey_invalid`, 404 `passkeys_unavailable`: passkeys are off on that
   * server, 429), an `Error` with a readable message when the browser fails otherwise.
   */
  signInWithPasskey(options?: PasskeySignInOptions): Promise<PasskeyLoginResult>;
  /**
   * Registers a new passkey for the signed-in user through `fetch` (sudo mode applies: with
   * `onReauthenticate` the user may be asked to confirm it is them first). Resolves the new passkey, or
   * null when the user dismissed the browser's prompt. Throws a `LatchkeyError` when the server refuses
   * (400 `passkey_invalid`, 403 `reauthentication_required`, 404 `passkeys_unavailable`), an `Error` when
   * the browser fails otherwise (e.g. the authenticator already holds a passkey for this account).
   */
  registerPasskey(name?: string): Promise<Passkey | null>;
  /** The providers the server offers for social login, in its order; empty when it has none. */
  providers(): Promise<SocialProvider[]>;
  /**
   * Social login: leaves this page for `provider`'s sign-in page (`location.assign`); the browser comes back
   * to `returnTo`, where `completeSignIn` finishes. A random binding kept in this tab's sessionStorage ties
   * the completion to this browser. Throws a `LatchkeyError` when the server refuses (404 unknown provider,
   * 400 a `returnTo` it does not allow, 429, 503 `provider_unavailable` with `retryAfter`).
   */
  signInWith(provider: string, options?: SocialSignInOptions): Promise<void>;
  /**
   * On page load, before `restore()`: reads the outcome of `signInWith` or `connectSocial` from `url`
   * (default: this page's address) and removes it from the address bar. Resolves null when there is none;
   * signs in when the provider's account is known or new (as `login`: ok or `mfa_required`); else
   * `link_required`, `connected` or `error`. Throws a `LatchkeyError` when the server refuses the login code
   * (401 `login_code_invalid`: spent, expired, or from another browser; 403 as `login`; 429).
   */
  completeSignIn(url?: string | URL): Promise<SocialSignInResult | null>;
  /**
   * Links the provider's account to the existing one `link_required` named, with that account's password,
   * then signs in as `login` does. Throws a `LatchkeyError`: 401 for a wrong password (the token stays
   * usable), 401 `link_token_invalid` (spent or expired), 409 `account_in_use`, 429.
   */
  confirmSocialLink(linkToken: string, password: string): Promise<LoginResult>;
  /**
   * Links an account of `provider` to the signed-in user: leaves for the provider's page through `fetch`
   * (sudo mode applies, as for `registerPasskey`); `completeSignIn` then resolves `connected` or `error`.
   */
  connectSocial(provider: string, options?: { returnTo?: string }): Promise<void>;
  /** The signed-in user's linked provider accounts, newest first. */
  socialAccounts(): Promise<SocialAccount[]>;
  /**
   * Unlinks one of them through `fetch` (sudo mode applies). Throws a `LatchkeyError`: 409
   * `last_sign_in_method` when it is the account's last way to sign in, 404 when it is not the user's.
   */
  unlinkSocial(id: number): Promise<void>;
  /**
   * Asks the server to e-mail `email` a 6-digit sign-in code and a link to `/login/code?flow=…&token=…`,
   * both valid 10 minutes. Resolves the sign-in's `flowId` whatever the address: the answer says nothing
   * about whether it has an account. Throws a `LatchkeyError`: 400 not an address, 404 codes are off on
   * that server (`LATCHKEY_LOGIN_CODES=off`), 429 too many requests for this address or from this client.
   */
  requestLoginCode(email: string): Promise<LoginCodeRequest>;
  /**
   * Signs in with the code from the message (cookie mode, as `login`), for the sign-in `requestLoginCode`
   * started; resolves as `login` does. Throws a `LatchkeyError`: 401 `code_invalid` with `attemptsLeft` (5
   * tries per sign-in; 0 when it is over: spent, expired or out of tries, ask for a new code), 400 not 6
   * digits, 401 without an active account, 429 with `retryAfter` (the account's lockout).
   */
  signInWithCode(flowId: string, code: string, options?: { org?: string }): Promise<LoginResult>;
  /**
   * Signs in with the `flow` and `token` of the message's link, read from the address of the page it opens;
   * call it when the user presses a button there, never on load (a mail scanner that fetches the link must
   * sign nobody in). Resolves and throws as `signInWithCode`.
   */
  signInWithLink(flowId: string, token: string, options?: { org?: string }): Promise<LoginResult>;
  /** On page load: signs in with the refresh cookie if there is a live one; resolves whether signed in. */
  restore(): Promise<boolean>;
  /**
   * A new access token from the refresh cookie, one refresh at a time across tabs. Resolves false when
   * the server refused the cookie (now signed out); throws on network errors, 429 and 5xx.
   */
  refresh(): Promise<boolean>;
  /**
   * `fetch` with the bearer token: refreshes first when the token is about to expire, and once more
   * after a 401, then repeats the request (its body must be reusable: a string, FormData,
   * URLSearchParams or Blob). Paths starting with `/` are resolved against `baseUrl`. Resolves the
   * server's response, whatever its status; but with `onReauthenticate`, a 403
   * `reauthentication_required` is answered by re-authenticating and repeating the request once, and
   * rejects with a `LatchkeyError` when the user cancelled (the 403, code `reauthentication_required`)
   * or the proof was refused (400 `reauthentication_failed`, 429 `throttled`).
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * Opens the server's window for sensitive actions again with the password or a current code
   * (what `onReauthenticate` does for `fetch`). Resolves when the window closes (ISO 8601); throws a
   * `LatchkeyError`: 400 `reauthentication_failed` (wrong password or code), 429 `throttled`.
   */
  reauthenticate(proof: ReauthenticationProof): Promise<{ expiresAt: string | null }>;
  /**
   * The same with one of the user's passkeys: the browser asks for it. Resolves null when the user
   * dismissed the prompt; throws a `LatchkeyError` (400 `reauthentication_failed` for a refused passkey,
   * with the server's `passkey_invalid` in `body.code`; 404 `passkeys_unavailable`; 429), or an `Error`
   * when the browser fails otherwise.
   */
  reauthenticate(proof: PasskeyProof): Promise<{ expiresAt: string | null } | null>;
  /** Revokes the session and deletes the refresh cookie; every tab's client signs out. */
  logout(): Promise<void>;
  /** Calls `listener` whenever the client signs in or out (in any tab); returns the unsubscriber. */
  onChange(listener: (authenticated: boolean) => void): () => void;
}

/** The `code` of the 403 every endpoint but enrollment's answers a user who must set up a second factor first. */
export declare const MFA_ENROLLMENT_REQUIRED: "mfa_enrollment_required";
/** The `code` of the 403 of a login or refresh naming an organization that requires 2FA, for a member without it. */
export declare const MFA_REQUIRED_BY_ORG: "mfa_required_by_org";

/** A refusal by the server, with its message (`detail`, or the field errors as sentences). */
export declare class LatchkeyError extends Error {
  constructor(
    message: string,
    details: { status: number; code?: string; body?: unknown; retryAfter?: number; attemptsLeft?: number },
  );
  name: "LatchkeyError";
  /** The HTTP status. */
  status: number;
  /**
   * The server's `code`, e.g. `"password_expired"`, `"mfa_invalid"`, `"throttled"`, `"token_not_valid"`,
   * `"reauthentication_required"`, `"passkey_invalid"`, `"passkeys_unavailable"`, `"last_sign_in_method"`,
   * `"login_code_invalid"`, `"link_token_invalid"`, `"provider_unavailable"`, `"code_invalid"`,
   * `"mfa_enrollment_required"`, `"mfa_required_by_org"`; or
   * `"reauthentication_failed"` for a wrong password, code or passkey given to `reauthenticate` (or by
   * `onReauthenticate`).
   */
  code?: string;
  /** The parsed JSON body (or text) of the answer. */
  body: unknown;
  /** Seconds to wait, from `Retry-After` (429 and 503). */
  retryAfter?: number;
  /** A wrong e-mailed code (401 `code_invalid`): the tries its sign-in has left; 0 when it is over. */
  attemptsLeft?: number;
}
