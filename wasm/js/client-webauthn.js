// Passkeys (WebAuthn) for `LatchkeyClient`: the server's options, JSON with base64url strings, turned into
// what `navigator.credentials.create` / `get` take; the browser's credential turned back into JSON for the
// server; and the browser's refusals sorted into "the user cancelled" and errors a person can read.
// Browsers with `PublicKeyCredential.parseCreationOptionsFromJSON`, `parseRequestOptionsFromJSON` and
// `toJSON` do the conversions themselves; older ones get the same result by hand. Hand-written,
// dependency-free; copied into the package's builds beside `client.js`, which imports it.

/** What a ceremony resolves when the user dismissed the browser's prompt, or the page aborted it. */
export const CANCELLED = Symbol("cancelled");

/** Whether this browser can use passkeys at all (WebAuthn, in a secure context). */
export function hasWebAuthn() {
  return typeof globalThis.PublicKeyCredential === "function" && typeof globalThis.navigator?.credentials?.get === "function";
}

/** Whether the browser offers passkeys in the autofill of an input marked `autocomplete="… webauthn"`. */
export async function conditionalMediationAvailable() {
  if (!hasWebAuthn() || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return false;
  try {
    return (await PublicKeyCredential.isConditionalMediationAvailable()) === true;
  } catch {
    return false;
  }
}

/**
 * Registration: makes a new passkey from the server's `publicKey` (PublicKeyCredentialCreationOptionsJSON).
 * Resolves the credential as JSON (`PublicKeyCredential.toJSON()`), or `CANCELLED`.
 */
export function createCredential(publicKey, { signal } = {}) {
  return ceremony("create", signal, () => navigator.credentials.create({ publicKey: creationOptions(publicKey), signal }));
}

/**
 * Authentication: an assertion for the server's `publicKey` (PublicKeyCredentialRequestOptionsJSON);
 * `mediation: "conditional"` offers the passkeys in the autofill instead of a dialog. Resolves the
 * credential as JSON, or `CANCELLED`.
 */
export function getCredential(publicKey, { mediation, signal } = {}) {
  return ceremony("get", signal, () =>
    navigator.credentials.get({ publicKey: requestOptions(publicKey), signal, ...(mediation && { mediation }) }));
}

async function ceremony(kind, signal, start) {
  if (signal?.aborted) return CANCELLED;
  let credential;
  try {
    credential = await start();
  } catch (error) {
    // The user closed the prompt, it timed out, or no passkey was chosen: all "not allowed". The page's
    // AbortSignal rejects with its reason, which need not be an AbortError.
    if (signal?.aborted || error?.name === "NotAllowedError" || error?.name === "AbortError") return CANCELLED;
    throw readableError(kind, error);
  }
  if (credential === null) return CANCELLED;
  return credentialJSON(credential);
}

/** A browser refusal other than a cancel, as an `Error` whose message says what to do; `cause` is the original. */
function readableError(kind, error) {
  const messages = {
    InvalidStateError: kind === "create"
      ? "This authenticator already holds a passkey for this account."
      : "The passkey request could not start.",
    SecurityError: "Passkeys cannot be used on this page: its address does not match the server's "
      + "(a passkey needs the site's domain name, over https except on localhost).",
    NotSupportedError: "This browser or authenticator does not support what the server asks of a passkey.",
    ConstraintError: "This authenticator cannot verify you as the server asks (set up a PIN or biometrics first).",
    TypeError: "The server's passkey options are not valid.",
    SyntaxError: "The server's passkey options are not valid.",
  };
  const what = messages[error?.name] ?? "The browser could not use the passkey.";
  const detail = typeof error?.message === "string" && error.message ? ` (${error.name}: ${error.message})` : "";
  return new Error(`${what}${detail}`, { cause: error });
}

function creationOptions(json) {
  const options = withoutNulls(json);
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: bytes(options.challenge),
    user: { ...options.user, id: bytes(options.user?.id) },
    ...(options.excludeCredentials && { excludeCredentials: options.excludeCredentials.map((c) => ({ ...c, id: bytes(c.id) })) }),
  };
}

function requestOptions(json) {
  const options = withoutNulls(json);
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: bytes(options.challenge),
    ...(options.allowCredentials && { allowCredentials: options.allowCredentials.map((c) => ({ ...c, id: bytes(c.id) })) }),
  };
}

/**
 * The options without their `null` members: WebIDL takes a missing member for "absent" but refuses
 * `null` where it wants a list or an enum value, and servers serialize absent options either way.
 */
function withoutNulls(value) {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

/** `PublicKeyCredential.toJSON()`, or the same built by hand where the browser lacks it. */
function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const { response } = credential;
  const json = {
    id: credential.id,
    rawId: base64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults?.() ?? {},
    response: { clientDataJSON: base64url(response.clientDataJSON) },
  };
  if (credential.authenticatorAttachment) json.authenticatorAttachment = credential.authenticatorAttachment;
  if (response.attestationObject) {
    json.response.attestationObject = base64url(response.attestationObject);
    json.response.transports = response.getTransports?.() ?? [];
  } else {
    json.response.authenticatorData = base64url(response.authenticatorData);
    json.response.signature = base64url(response.signature);
    if (response.userHandle) json.response.userHandle = base64url(response.userHandle);
  }
  return json;
}

/** The bytes of a base64url string (padding optional), as the ArrayBuffer WebAuthn takes. */
function bytes(text) {
  if (typeof text !== "string") throw new TypeError("The server's passkey options lack a base64url value.");
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0)).buffer;
}

/** Unpadded base64url of an ArrayBuffer (or view), as `toJSON()` writes it (and `client-social.js` its bindings). */
export function base64url(buffer) {
  const view = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
