// `LatchkeyClient`'s passkeys against the real `latchkey` binary served as http://localhost:<port> (a
// WebAuthn relying party needs a domain), in headless Chromium with virtual authenticators (the DevTools
// protocol's WebAuthn domain): registration after a password login (the credential resident on the
// authenticator, its transports as the authenticator reports them), sign-in without a username, with an
// e-mail address and from the autofill (a conditional request), the `mfa` claim with and without user
// verification, the passkey as the second factor of a password login, and as the proof of sudo mode;
// refusals (400 `passkey_invalid`): a bogus signature, no user presence, a replayed assertion, a
// signature counter gone backwards (audited as `passkey_counter_regressed`), an assertion made for
// another origin; and the browser's side: a cancelled request, a browser without WebAuthn, a browser
// without the JSON helpers (the client converts by hand), an authenticator that already holds the
// account's passkey, and a server without passkeys (404 `passkeys_unavailable`); and README.md's
// `<!-- example:passkey -->` block run as written (its import pointed at the page's copy).
// SQLite only: the browser tests have no PostgreSQL variant (demo-helpers.mjs starts SQLite).
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { PASSWORD, ROOT, startServer } from "./demo-helpers.mjs";
import { readmeExample, recordErrors, serverApi } from "./api-helpers.mjs";
import { addAuthenticator, setSignCount, toBase64url } from "./passkey-helpers.mjs";
import { serveStatic } from "./serve.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const WINDOW_MS = 3000;

// The test page: the package's web build, an input the autofill offers passkeys in, and a client whose
// sudo hook answers `hookAnswer` (the password unless a test says otherwise), noting each question.
const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>LatchkeyClient passkeys</title><script type="module" src="client-test.js"></script></head>
<body><input id="login" autocomplete="username webauthn"></body></html>
`;
const PAGE_JS = `import init, { decodeToken } from "./pkg/latchkey.js";
import { LatchkeyClient, LatchkeyError } from "./pkg/client.js";
await init();
window.hookAnswer = { password: ${JSON.stringify(PASSWORD)} };
window.hookCalls = [];
window.client = new LatchkeyClient({ onReauthenticate: ({ method, url }) => (hookCalls.push(method + " " + new URL(url).pathname), hookAnswer) });
/** A promise's outcome as plain data: {value} or {error: {name, message, status, code, bodyCode, latchkey}}. */
window.outcome = (promise) => promise.then((value) => ({ value }), (e) => ({
  error: { name: e.name, message: e.message, status: e.status ?? null, code: e.code ?? null, bodyCode: e.body?.code ?? null,
    latchkey: e instanceof LatchkeyError },
}));
window.claims = (of = client) => decodeToken(of.accessToken).claims;
/** \`client.fetch\` of JSON, as plain data: {status, body}, or {error} as \`outcome\` has it. */
window.call = (path, method = "GET", body) =>
  client.fetch(path, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }), (e) => outcome(Promise.reject(e)));
document.body.dataset.ready = "";
`;

const server = await startServer({ LATCHKEY_RATE_LIMITS: "off", LATCHKEY_REAUTH_WINDOW: `${WINDOW_MS / 1000}s` }, {
  host: "localhost",
  files: { "client-test.html": PAGE_HTML, "client-test.js": PAGE_JS, "readme-passkey.js": readmeExample("passkey", ["client", "passkey"]) },
});
const { url } = server;
const { api, register } = serverApi(url);
const started = Date.now();
const errors = [];


/**
 * A tab of `context` on the test page with a virtual authenticator (`options` over a laptop's), recording
 * the API's answers (`page.answers`) and the JSON bodies the page sent (`page.sent`). `init` runs before
 * the page's scripts (to take WebAuthn features away).
 */
async function openTab(context, { options = {}, init, base = url } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  recordErrors(page, errors);
  page.answers = [];
  page.sent = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/api/")) page.answers.push(`${response.request().method()} ${path} ${response.status()}`);
  });
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith("/api/") && request.postData()) page.sent.push({ path, body: request.postDataJSON() });
  });
  if (init) await page.addInitScript(init);
  page.authenticator = await addAuthenticator(page, options);
  await page.goto(`${base}/client-test.html`);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  return page;
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const login = (page, email) => run(page, (email) => outcome(client.login({ email, password: "correct horse battery staple" })), email);
const signIn = (page, options = {}) => run(page, (o) => outcome(client.signInWithPasskey(o)), options);
const logout = (page) => run(page, () => client.logout());
const sentTo = (page, path) => page.sent.filter((s) => s.path === path).map((s) => s.body);
const pastWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 1500));
const INVALID = { name: "LatchkeyError", status: 400, code: "passkey_invalid", latchkey: true };

/** A password login, then a passkey named `name`; resolves the passkey object the client resolved. */
async function addPasskey(page, email, name) {
  assert.deepEqual(await login(page, email), { value: { status: "ok" } });
  const added = await run(page, (name) => outcome(client.registerPasskey(name)), name);
  assert.ok(added.value, JSON.stringify(added));
  return added.value;
}

/** Registration: the passkey object, the resident credential behind it, and the transports of a USB key. */
async function registers(browser) {
  const { email } = await register("passkey");
  const context = await browser.newContext();
  const page = await openTab(context);
  const passkey = await addPasskey(page, email, "Laptop");
  assert.equal(typeof passkey.id, "number");
  assert.deepEqual([passkey.name, passkey.last_used_at, passkey.transports, typeof passkey.backed_up], ["Laptop", null, ["internal"], "boolean"]);
  assert.ok(Math.abs(Date.parse(passkey.created_at) - Date.now()) < 60_000, passkey.created_at);
  assert.deepEqual(page.answers.filter((a) => a.includes("passkeys")),
    ["POST /api/auth/passkeys/register/options/ 200", "POST /api/auth/passkeys/register/ 201"]);
  // The authenticator holds one discoverable credential for "localhost": the one the client sent.
  const [held, ...more] = await page.authenticator.credentials();
  assert.deepEqual(more, []);
  assert.deepEqual([held.rpId, held.isResidentCredential], ["localhost", true]);
  const [registered] = sentTo(page, "/api/auth/passkeys/register/");
  assert.equal(registered.credential.id, toBase64url(held.credentialId));
  assert.equal(registered.name, "Laptop");
  const listed = await run(page, () => call("/api/auth/passkeys/"));
  assert.deepEqual(listed, { status: 200, body: [passkey] });

  // A second tab of the same browser (the same session) whose authenticator is a USB security key.
  const usb = await openTab(context, { options: { transport: "usb" } });
  assert.equal(await run(usb, () => client.restore()), true);
  const key = await run(usb, () => outcome(client.registerPasskey("Security key")));
  assert.deepEqual(key.value?.transports, ["usb"], JSON.stringify(key));
  await usb.close();
  // The same authenticator twice: the browser refuses (the server listed its passkey to exclude).
  const again = await run(page, () => outcome(client.registerPasskey("Laptop again")));
  assert.equal(again.error?.latchkey, false, JSON.stringify(again));
  assert.equal(again.error.message.startsWith("This authenticator already holds a passkey for this account."), true, again.error.message);
  assert.equal((await run(page, () => call("/api/auth/passkeys/"))).body.length, 2);
  return { email, context, page };
}

/** Sign-in without a username, with the e-mail address, and from the autofill: each a `mfa` session. */
async function signsIn({ email, page }) {
  await logout(page);
  assert.deepEqual(await signIn(page), { value: { status: "ok" } });
  assert.equal(await run(page, () => claims().mfa), true);
  const sessions = await run(page, () => call("/api/auth/sessions/"));
  const current = sessions.body.find((s) => s.current);
  assert.deepEqual([current?.auth_method, current?.mfa], ["passkey", true], JSON.stringify(sessions.body));
  const used = (await run(page, () => call("/api/auth/passkeys/"))).body.find((p) => p.name === "Laptop");
  assert.ok(used.last_used_at !== null, "last_used_at was not set by the sign-in");
  const [discoverable] = sentTo(page, "/api/token/passkey/options/");
  assert.deepEqual(discoverable, {});
  assert.equal(sentTo(page, "/api/token/passkey/")[0]?.cookie, true);

  await logout(page);
  page.sent.length = 0;
  assert.deepEqual(await signIn(page, { email }), { value: { status: "ok" } });
  assert.deepEqual(sentTo(page, "/api/token/passkey/options/"), [{ email }]);
  assert.equal(await run(page, () => claims().mfa), true);
  console.log("chromium: LatchkeyClient signs in with a passkey (discoverable, by e-mail) ... ok");

  await logout(page);
  assert.deepEqual(await signIn(page, { conditional: true }), { value: { status: "ok" } });
  assert.equal(await run(page, () => client.authenticated), true);
  console.log("chromium: LatchkeyClient signs in from the autofill (conditional request) ... ok");
}

/** With the passkey, the password alone is not enough: the second factor is the passkey. */
async function secondFactor({ email, page }) {
  await logout(page);
  const challenge = await login(page, email);
  assert.equal(challenge.value?.status, "mfa_required", JSON.stringify(challenge));
  assert.ok(challenge.value.methods.includes("webauthn"), JSON.stringify(challenge.value.methods));
  assert.equal(await run(page, () => client.authenticated), false);
  const verified = await run(page, (token) => outcome(client.verifyMfaWithPasskey(token)), challenge.value.mfaToken);
  assert.deepEqual(verified, { value: { status: "ok" } });
  assert.equal(await run(page, () => claims().mfa), true);
  assert.deepEqual(page.answers.slice(-2), ["POST /api/token/mfa/webauthn/options/ 200", "POST /api/token/mfa/ 200"]);
  const [sent] = sentTo(page, "/api/token/mfa/").slice(-1);
  assert.deepEqual(Object.keys(sent).sort(), ["cookie", "credential", "mfa_token"]);
  console.log("chromium: LatchkeyClient completes a password login with a passkey (methods include webauthn) ... ok");
}

/** Sudo mode: `onReauthenticate` answers `{passkey: true}`; `reauthenticate({passkey: true})` directly. */
async function reauthenticates({ page }) {
  await pastWindow();
  page.answers.length = 0;
  const created = await run(page, () => {
    hookAnswer = { passkey: true };
    hookCalls.length = 0;
    return call("/api/auth/api-keys/", "POST", { name: "by passkey" });
  });
  assert.equal(created.status, 201, JSON.stringify(created));
  assert.deepEqual(await run(page, () => hookCalls), ["POST /api/auth/api-keys/"]);
  assert.deepEqual(page.answers, ["POST /api/auth/api-keys/ 403", "POST /api/auth/reauthenticate/passkey/options/ 200",
    "POST /api/auth/reauthenticate/ 200", "POST /api/auth/api-keys/ 201"]);
  const [proof] = sentTo(page, "/api/auth/reauthenticate/").slice(-1);
  assert.deepEqual(Object.keys(proof).sort(), ["ceremony_id", "credential"]);

  const direct = await run(page, () => outcome(client.reauthenticate({ passkey: true })));
  assert.ok(typeof direct.value?.expiresAt === "string" && Date.parse(direct.value.expiresAt) > Date.now(), JSON.stringify(direct));
  // A bad signature: refused as a wrong password is, the server's code kept in the body.
  await page.authenticator.set({ isBogusSignature: true });
  const refused = await run(page, () => outcome(client.reauthenticate({ passkey: true })));
  await page.authenticator.set();
  assert.deepEqual([refused.error?.status, refused.error?.code, refused.error?.bodyCode], [400, "reauthentication_failed", "passkey_invalid"],
    JSON.stringify(refused));
  console.log("chromium: LatchkeyClient re-authenticates with a passkey (sudo mode) ... ok");
}

/** Without user verification the passkey is one factor: signed in, `mfa` false. Converted by hand here. */
async function withoutVerification(browser) {
  const { email } = await register("passkey-nouv");
  const context = await browser.newContext();
  // A browser without the JSON helpers of WebAuthn Level 3: the client converts options and credentials itself.
  const init = () => {
    delete PublicKeyCredential.parseCreationOptionsFromJSON;
    delete PublicKeyCredential.parseRequestOptionsFromJSON;
    delete PublicKeyCredential.prototype.toJSON;
  };
  const page = await openTab(context, { options: { hasUserVerification: false, isUserVerified: false }, init });
  assert.equal(await run(page, () => typeof PublicKeyCredential.parseRequestOptionsFromJSON), "undefined");
  await addPasskey(page, email, "Old key");
  await logout(page);
  // By e-mail: Chromium asks no authenticator for a discoverable credential without user verification.
  assert.deepEqual(await signIn(page, { email }), { value: { status: "ok" } });
  assert.equal(await run(page, () => claims().mfa), false);
  const [sent] = sentTo(page, "/api/token/passkey/");
  assert.deepEqual(Object.keys(sent.credential.response).sort(), ["authenticatorData", "clientDataJSON", "signature", "userHandle"]);
  assert.equal(sent.credential.id, sent.credential.rawId);
  await context.close();
  console.log("chromium: LatchkeyClient passkey without user verification: signed in, mfa false (options converted by hand) ... ok");
}

/** The server's refusals: 400 `passkey_invalid` each time, and nobody signed in. */
async function refusals(browser) {
  const { email, access } = await register("passkey-refused");
  const context = await browser.newContext();
  const page = await openTab(context);
  await addPasskey(page, email, "Laptop");
  await logout(page);

  for (const bits of [{ isBogusSignature: true }, { isBadUP: true }]) {
    await page.authenticator.set(bits);
    const refused = await signIn(page);
    await page.authenticator.set();
    assert.deepEqual({ ...refused.error, message: undefined, bodyCode: undefined }, { ...INVALID, message: undefined, bodyCode: undefined },
      `${JSON.stringify(bits)}: ${JSON.stringify(refused)}`);
    assert.equal(await run(page, () => client.authenticated), false);
  }

  // A replayed assertion: the same body again, and the same credential with a fresh ceremony.
  page.sent.length = 0;
  assert.deepEqual(await signIn(page), { value: { status: "ok" } });
  await logout(page);
  const [used] = sentTo(page, "/api/token/passkey/");
  const again = await api("/api/token/passkey/", { method: "POST", body: used });
  assert.deepEqual([again.status, again.body?.code], [400, "passkey_invalid"], JSON.stringify(again));
  const fresh = await api("/api/token/passkey/options/", { method: "POST", body: {} });
  assert.equal(fresh.status, 200, JSON.stringify(fresh));
  const replayed = await api("/api/token/passkey/", { method: "POST", body: { ...used, ceremony_id: fresh.body.ceremony_id } });
  assert.deepEqual([replayed.status, replayed.body?.code], [400, "passkey_invalid"], JSON.stringify(replayed));

  await foreignOrigin(browser, page, email);

  // The signature counter: moved ahead, accepted; then behind the last one seen, refused and audited.
  const [credential] = await page.authenticator.credentials();
  await setSignCount(page.authenticator, credential, 100);
  assert.deepEqual(await signIn(page), { value: { status: "ok" } });
  await logout(page);
  await setSignCount(page.authenticator, (await page.authenticator.credentials())[0], 5);
  const regressed = await signIn(page);
  assert.deepEqual([regressed.error?.status, regressed.error?.code], [400, "passkey_invalid"], JSON.stringify(regressed));
  const audit = await api("/api/auth/audit/?limit=100", { token: access });
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  assert.ok(audit.body.results.some((e) => e.event === "passkey_counter_regressed"), JSON.stringify(audit.body.results.map((e) => e.event)));
  await context.close();
  console.log("chromium: LatchkeyClient passkey refusals: bogus signature, no presence, replay, foreign origin, counter regressed ... ok");
}

/**
 * The same credential on another origin (another localhost port: the RP ID "localhost" is valid there
 * too): its assertion, posted by Node to the server, is refused; the origin is in the signed client data.
 */
async function foreignOrigin(browser, page, email) {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-foreign-"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>Another site</title>\n");
  const other = await serveStatic(dir);
  try {
    const context = await browser.newContext();
    const foreign = await context.newPage();
    const authenticator = await addAuthenticator(foreign);
    const [credential] = await page.authenticator.credentials();
    await authenticator.cdp.send("WebAuthn.addCredential", { authenticatorId: authenticator.id, credential });
    const origin = other.url.replace("127.0.0.1", "localhost");
    await foreign.goto(`${origin}/index.html`);
    const options = await api("/api/token/passkey/options/", { method: "POST", body: { email } });
    assert.equal(options.status, 200, JSON.stringify(options));
    const assertion = await foreign.evaluate(async (publicKey) => {
      const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey) });
      return credential.toJSON();
    }, options.body.publicKey);
    const client = JSON.parse(Buffer.from(assertion.response.clientDataJSON, "base64url").toString("utf8"));
    assert.equal(client.origin, origin);
    const refused = await api("/api/token/passkey/", { method: "POST", body: { ceremony_id: options.body.ceremony_id, credential: assertion } });
    assert.deepEqual([refused.status, refused.body?.code], [400, "passkey_invalid"], JSON.stringify(refused));
    await context.close();
  } finally {
    other.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The browser's side: a request aborted or dismissed, no WebAuthn, no autofill for passkeys. */
async function browserSide(browser) {
  const context = await browser.newContext();
  // An authenticator with no passkey: the autofill waits until the page aborts it.
  const empty = await openTab(context);
  assert.deepEqual(await run(empty, async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    return outcome(client.signInWithPasskey({ conditional: true, signal: controller.signal }));
  }), { value: { status: "cancelled" } });
  assert.deepEqual(await run(empty, () => outcome(client.signInWithPasskey({ signal: AbortSignal.timeout(5000) }))),
    { value: { status: "cancelled" } });
  const none = await openTab(context, { init: () => { delete window.PublicKeyCredential; } });
  assert.deepEqual(await signIn(none), { value: { status: "unsupported" } });
  assert.deepEqual(await run(none, () => outcome(client.verifyMfaWithPasskey("token"))), { value: { status: "unsupported" } });
  const noAutofill = await openTab(context, { init: () => { PublicKeyCredential.isConditionalMediationAvailable = async () => false; } });
  assert.deepEqual(await signIn(noAutofill, { conditional: true }), { value: { status: "unsupported" } });
  assert.deepEqual(none.answers.concat(noAutofill.answers), [], "an unsupported browser asked the server");
  await context.close();
  console.log("chromium: LatchkeyClient passkey requests cancelled, and unsupported without WebAuthn or autofill ... ok");
}

/** A server on an IP address has passkeys off: 404 `passkeys_unavailable`. */
async function unavailable(browser) {
  const plain = await startServer({ LATCHKEY_RATE_LIMITS: "off" }, { files: { "client-test.html": PAGE_HTML, "client-test.js": PAGE_JS } });
  try {
    const context = await browser.newContext();
    const page = await openTab(context, { base: plain.url });
    const refused = await signIn(page);
    assert.deepEqual([refused.error?.status, refused.error?.code, refused.error?.latchkey], [404, "passkeys_unavailable", true], JSON.stringify(refused));
    await context.close();
  } finally {
    await plain.stop();
  }
  console.log("chromium: LatchkeyClient on a server without passkeys: 404 passkeys_unavailable ... ok");
}

/**
 * The README's example with its free variables defined by the page (a new account's address and password,
 * `render` and `showError` recording their calls), on an authenticator holding nothing yet: the autofill's
 * request ended, a password login, a passkey added, signed out, and signed in again with it.
 */
async function readmeRuns(browser) {
  const { email } = await register("passkey-readme");
  const context = await browser.newContext();
  const page = await openTab(context);
  const result = await run(page, async ({ email, password }) => {
    const calls = [];
    Object.assign(window, {
      email,
      password,
      render: (signedIn) => calls.push(["render", signedIn]),
      showError: (message) => calls.push(["showError", message]),
    });
    const { client: example, passkey } = await import("/readme-passkey.js");
    return { calls, name: passkey?.name, authenticated: example.authenticated, mfa: claims(example).mfa };
  }, { email, password: PASSWORD });
  assert.deepEqual(result, { calls: [["render", true]], name: "Laptop", authenticated: true, mfa: true });
  assert.deepEqual(sentTo(page, "/api/token/passkey/options/"), [{}], "one request for options: the button's");
  assert.equal((await page.authenticator.credentials()).length, 1);
  await context.close();
}

const browser = await chromium.launch(CHROMIUM);
try {
  const account = await registers(browser);
  console.log("chromium: LatchkeyClient registers passkeys (resident, transports, excluded twice) ... ok");
  await signsIn(account);
  await secondFactor(account);
  await reauthenticates(account);
  await account.context.close();
  await withoutVerification(browser);
  await refusals(browser);
  await browserSide(browser);
  await unavailable(browser);
  await readmeRuns(browser);
  console.log("chromium: the README's passkey example runs ... ok");
  assert.deepEqual(errors, []);
  console.log(`client-passkeys: ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await server.stop();
}
