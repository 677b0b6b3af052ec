// `LatchkeyClient`'s passkeys in Node against a scripted fake server and a fake WebAuthn (the browser's
// `PublicKeyCredential` and `navigator.credentials`): what it sends, the options and credentials converted
// by hand where the browser lacks the JSON helpers (or by the helpers where it has them), a closed prompt
// as a cancel, the browser's other refusals as readable errors, and sudo mode answered with a passkey.
// Offline and fast; a real browser, authenticator and server are in tests/browser/client-passkeys.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

const scratch = mkdtempSync(join(tmpdir(), "latchkey-client-passkeys-"));
mkdirSync(join(scratch, "node_modules"));
symlinkSync(join(ROOT, "wasm", "pkg"), join(scratch, "node_modules", "latchkey"), "dir");
writeFileSync(join(scratch, "client.mjs"), 'export * from "latchkey/client";\n');
const { LatchkeyClient, LatchkeyError } = await import(join(scratch, "client.mjs"));

const BASE = "https://auth.example.com";
const b64 = (value) => Buffer.from(value).toString("base64url");
const bytes = (text) => new Uint8Array(Buffer.from(text)).buffer;
const text = (buffer) => Buffer.from(buffer).toString();
let serial = 0;

function token() {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { token_type: "access", exp: iat + 300, iat, jti: String((serial += 1)), user_id: "1" };
  return `${b64(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64(JSON.stringify(claims))}.c2ln`;
}

const json = (status, body) => new Response(JSON.stringify(body), { status });
const PASSKEY = { id: 7, name: "Key", created_at: "2030-01-01T00:00:00Z", last_used_at: null, backed_up: false, transports: ["usb"] };
const REQUEST = { challenge: b64("challenge"), rpId: "example.com", allowCredentials: [{ type: "public-key", id: b64("cred-1") }], hints: null };
const CREATION = {
  challenge: b64("challenge"), rp: { id: "example.com", name: "Example" },
  user: { id: b64("user-handle"), name: "ada@example.com", displayName: "Ada" },
  pubKeyCredParams: [{ type: "public-key", alg: -7 }], excludeCredentials: [{ type: "public-key", id: b64("cred-0") }],
  authenticatorSelection: { residentKey: "required", userVerification: "preferred", authenticatorAttachment: null },
};

/** An assertion as a browser without `toJSON` gives it. */
const assertion = () => ({
  id: b64("cred-1"), rawId: bytes("cred-1"), type: "public-key", authenticatorAttachment: "platform",
  getClientExtensionResults: () => ({}),
  response: { clientDataJSON: bytes("client-data"), authenticatorData: bytes("auth-data"), signature: bytes("sig"), userHandle: bytes("user-handle") },
});

/** A new key's credential as a browser without `toJSON` gives it. */
const attestation = () => ({
  id: b64("cred-2"), rawId: bytes("cred-2"), type: "public-key", authenticatorAttachment: null,
  getClientExtensionResults: () => ({ credProps: { rk: true } }),
  response: { clientDataJSON: bytes("client-data"), attestationObject: bytes("attestation"), getTransports: () => ["usb"] },
});

/**
 * Installs a fake WebAuthn: `get` and `create` answer with `browser.get(options)` / `browser.create(options)`
 * (what they were given is in `browser.seen`); `helpers` adds the JSON helpers of WebAuthn Level 3.
 */
function fakeBrowser({ get = assertion, create = attestation, helpers = false, conditional = true } = {}) {
  const browser = { seen: [] };
  class PublicKeyCredential {}
  if (conditional !== null) PublicKeyCredential.isConditionalMediationAvailable = async () => conditional;
  if (helpers) {
    PublicKeyCredential.parseRequestOptionsFromJSON = (json) => ({ parsed: "request", json });
    PublicKeyCredential.parseCreationOptionsFromJSON = (json) => ({ parsed: "creation", json });
  }
  const answer = (make) => async (options) => {
    browser.seen.push(options);
    const credential = await make(options);
    return helpers && credential ? Object.assign(credential, { toJSON: () => ({ browser: "json" }) }) : credential;
  };
  globalThis.PublicKeyCredential = PublicKeyCredential;
  Object.defineProperty(globalThis, "navigator", {
    configurable: true, writable: true, value: { credentials: { get: answer(get), create: answer(create) } },
  });
  return browser;
}

function noBrowser() {
  delete globalThis.PublicKeyCredential;
  Object.defineProperty(globalThis, "navigator", { configurable: true, writable: true, value: undefined });
}

/** A client of `handler(call)` (default: an empty 200), signed in unless `signedIn: false`. */
async function setup(handler = () => json(200, {}), { signedIn = true, ...options } = {}) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    if (init.signal?.aborted) throw init.signal.reason;
    const call = { path: new URL(url).pathname, body: init.body ? JSON.parse(init.body) : undefined, signal: init.signal };
    calls.push(call);
    if (call.path === "/api/token/") return json(200, { access: token() });
    return handler(call, calls);
  };
  const client = new LatchkeyClient({ baseUrl: BASE, fetch, lockName: `passkeys-${(serial += 1)}`, ...options });
  if (signedIn) await client.login({ email: "ada@example.com", password: "pw" });
  calls.length = 0;
  return { client, calls };
}

const route = (calls) => calls.map((c) => c.path);

test("passkey sign-in: options and credential converted by hand, cookie mode", async () => {
  const browser = fakeBrowser();
  const { client, calls } = await setup((call) => (call.path === "/api/token/passkey/options/"
    ? json(200, { ceremony_id: "c1", publicKey: REQUEST }) : json(200, { access: token() })), { signedIn: false });
  assert.deepEqual(await client.signInWithPasskey({ email: "ada@example.com", org: "acme" }), { status: "ok" });
  assert.equal(client.authenticated, true);
  assert.deepEqual(route(calls), ["/api/token/passkey/options/", "/api/token/passkey/"]);
  assert.deepEqual(calls[0].body, { email: "ada@example.com" });
  const [{ publicKey, mediation }] = browser.seen;
  assert.equal(mediation, undefined);
  assert.deepEqual([text(publicKey.challenge), text(publicKey.allowCredentials[0].id), publicKey.rpId], ["challenge", "cred-1", "example.com"]);
  assert.ok(!("hints" in publicKey), "a null member reached the browser");
  assert.deepEqual(calls[1].body, {
    ceremony_id: "c1", cookie: true, org: "acme",
    credential: {
      id: b64("cred-1"), rawId: b64("cred-1"), type: "public-key", authenticatorAttachment: "platform", clientExtensionResults: {},
      response: { clientDataJSON: b64("client-data"), authenticatorData: b64("auth-data"), signature: b64("sig"), userHandle: b64("user-handle") },
    },
  });
});

test("the browser's JSON helpers, when it has them; the conditional request", async () => {
  const browser = fakeBrowser({ helpers: true });
  const { client, calls } = await setup((call) => (call.path === "/api/token/passkey/options/"
    ? json(200, { ceremony_id: "c2", publicKey: REQUEST }) : json(200, { access: token() })), { signedIn: false });
  assert.deepEqual(await client.signInWithPasskey({ conditional: true }), { status: "ok" });
  const { hints, ...given } = REQUEST;
  assert.equal(hints, null);
  assert.deepEqual(browser.seen[0].publicKey, { parsed: "request", json: given });
  assert.equal(browser.seen[0].mediation, "conditional");
  assert.deepEqual(calls[0].body, {});
  assert.deepEqual(calls[1].body, { ceremony_id: "c2", cookie: true, credential: { browser: "json" } });
});

test("cancelled, unsupported, and the browser's other refusals", async () => {
  const answers = { "/api/token/passkey/options/": () => json(200, { ceremony_id: "c", publicKey: REQUEST }) };
  const { client, calls } = await setup((call) => answers[call.path]?.() ?? json(500, {}), { signedIn: false });
  for (const name of ["NotAllowedError", "AbortError"]) {
    fakeBrowser({ get: () => { throw new DOMException("closed", name); } });
    assert.deepEqual(await client.signInWithPasskey(), { status: "cancelled" }, name);
  }
  // Aborted before the options: nothing is sent; while they are fetched: cancelled all the same.
  calls.length = 0;
  assert.deepEqual(await client.signInWithPasskey({ signal: AbortSignal.abort() }), { status: "cancelled" });
  assert.deepEqual(calls, []);
  const controller = new AbortController();
  answers["/api/token/passkey/options/"] = () => { controller.abort(); throw controller.signal.reason; };
  assert.deepEqual(await client.signInWithPasskey({ signal: controller.signal }), { status: "cancelled" });

  fakeBrowser({ conditional: null });
  calls.length = 0;
  assert.deepEqual(await client.signInWithPasskey({ conditional: true }), { status: "unsupported" });
  fakeBrowser({ conditional: false });
  assert.deepEqual(await client.signInWithPasskey({ conditional: true }), { status: "unsupported" });
  noBrowser();
  assert.deepEqual(await client.signInWithPasskey(), { status: "unsupported" });
  assert.deepEqual(await client.verifyMfaWithPasskey("m"), { status: "unsupported" });
  await assert.rejects(client.registerPasskey("Key"), (e) => !(e instanceof LatchkeyError) && /does not support passkeys/.test(e.message));
  assert.deepEqual(calls, [], "an unsupported browser asked the server");

  answers["/api/token/passkey/options/"] = () => json(200, { ceremony_id: "c", publicKey: REQUEST });
  fakeBrowser({ get: () => { throw new DOMException("The origin is not allowed.", "SecurityError"); } });
  const security = await client.signInWithPasskey().then(() => null, (e) => e);
  assert.ok(security instanceof Error && !(security instanceof LatchkeyError));
  assert.match(security.message, /^Passkeys cannot be used on this page: .+ \(SecurityError: The origin is not allowed\.\)$/);
  assert.equal(security.cause.name, "SecurityError");
  answers["/api/token/passkey/options/"] = () => json(404, { detail: "Passkeys are not available on this server.", code: "passkeys_unavailable" });
  const off = await client.signInWithPasskey().then(() => null, (e) => e);
  assert.deepEqual([off instanceof LatchkeyError, off.status, off.code], [true, 404, "passkeys_unavailable"]);
});

test("registration through fetch: options decoded, the credential encoded, a refusal, a closed prompt", async () => {
  const browser = fakeBrowser();
  let registered = json(201, PASSKEY);
  const { client, calls } = await setup((call) => (call.path === "/api/auth/passkeys/register/options/"
    ? json(200, { ceremony_id: "r1", publicKey: CREATION }) : registered));
  assert.deepEqual(await client.registerPasskey("Key"), PASSKEY);
  assert.deepEqual(route(calls), ["/api/auth/passkeys/register/options/", "/api/auth/passkeys/register/"]);
  assert.deepEqual(calls[0].body, { name: "Key" });
  const { publicKey } = browser.seen[0];
  assert.deepEqual([text(publicKey.challenge), text(publicKey.user.id), text(publicKey.excludeCredentials[0].id)], ["challenge", "user-handle", "cred-0"]);
  assert.deepEqual(publicKey.authenticatorSelection, { residentKey: "required", userVerification: "preferred" });
  assert.deepEqual(calls[1].body, {
    ceremony_id: "r1", name: "Key",
    credential: {
      id: b64("cred-2"), rawId: b64("cred-2"), type: "public-key", clientExtensionResults: { credProps: { rk: true } },
      response: { clientDataJSON: b64("client-data"), attestationObject: b64("attestation"), transports: ["usb"] },
    },
  });
  registered = json(400, { detail: "This passkey is registered already.", code: "passkey_invalid" });
  const refused = await client.registerPasskey().then(() => null, (e) => e);
  assert.deepEqual([refused.status, refused.code, refused.message], [400, "passkey_invalid", "This passkey is registered already."]);
  assert.deepEqual(calls.at(-2).body, {});
  fakeBrowser({ create: () => { throw new DOMException("excluded", "InvalidStateError"); } });
  await assert.rejects(client.registerPasskey("Again"), (e) => /^This authenticator already holds a passkey for this account\./.test(e.message));
  fakeBrowser({ create: () => { throw new DOMException("closed", "NotAllowedError"); } });
  assert.equal(await client.registerPasskey("Closed"), null);
});

test("the second factor with a passkey", async () => {
  const browser = fakeBrowser();
  const { client, calls } = await setup((call) => (call.path === "/api/token/mfa/webauthn/options/"
    ? json(200, { publicKey: REQUEST }) : json(200, { access: token() })), { signedIn: false });
  assert.deepEqual(await client.verifyMfaWithPasskey("m1"), { status: "ok" });
  assert.equal(client.authenticated, true);
  assert.deepEqual(route(calls), ["/api/token/mfa/webauthn/options/", "/api/token/mfa/"]);
  assert.deepEqual(calls[0].body, { mfa_token: "m1" });
  assert.deepEqual(Object.keys(calls[1].body).sort(), ["cookie", "credential", "mfa_token"]);
  assert.equal(browser.seen.length, 1);
});

test("sudo mode answered with a passkey: proved, refused, or the prompt closed", async () => {
  let proved = false;
  let proof = () => json(200, { expires_at: "2030-01-01T00:00:00Z" });
  const { client, calls } = await setup((call) => {
    if (call.path === "/api/auth/reauthenticate/passkey/options/") return json(200, { ceremony_id: "s1", publicKey: REQUEST });
    if (call.path === "/api/auth/reauthenticate/") {
      const answer = proof();
      proved = answer.ok;
      return answer;
    }
    return proved ? json(201, {}) : json(403, { detail: "Please confirm it is you.", code: "reauthentication_required" });
  }, { onReauthenticate: () => ({ passkey: true }) });
  fakeBrowser();
  assert.equal((await client.fetch("/api/auth/api-keys/", { method: "POST", body: "{}" })).status, 201);
  assert.deepEqual(route(calls), ["/api/auth/api-keys/", "/api/auth/reauthenticate/passkey/options/", "/api/auth/reauthenticate/", "/api/auth/api-keys/"]);
  assert.deepEqual(Object.keys(calls[2].body).sort(), ["ceremony_id", "credential"]);

  proof = () => json(400, { detail: "The passkey's signature is not valid.", code: "passkey_invalid" });
  const refused = await client.reauthenticate({ passkey: true }).then(() => null, (e) => e);
  assert.deepEqual([refused.status, refused.code, refused.body.code, refused.message],
    [400, "reauthentication_failed", "passkey_invalid", "The passkey's signature is not valid."]);
  // The prompt closed: a cancel, so `fetch` rejects with the 403 and nothing is sent again.
  proved = false;
  fakeBrowser({ get: () => { throw new DOMException("closed", "NotAllowedError"); } });
  assert.equal(await client.reauthenticate({ passkey: true }), null);
  calls.length = 0;
  const cancelled = await client.fetch("/api/auth/api-keys/", { method: "POST", body: "{}" }).then(() => null, (e) => e);
  assert.deepEqual([cancelled.status, cancelled.code], [403, "reauthentication_required"]);
  assert.deepEqual(route(calls), ["/api/auth/api-keys/", "/api/auth/reauthenticate/passkey/options/"]);
  noBrowser();
});
