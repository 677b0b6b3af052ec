// The web demo's passkeys, served by the real `latchkey` binary as http://localhost:<port> (a WebAuthn
// relying party needs a domain) with a 3-second re-authentication window, in headless Chromium with a
// virtual authenticator: a passkey added in the Passkeys card after the "Confirm it is you" dialog,
// renamed; "Sign in with a passkey"; a reload signed out signs in from the e-mail field's autofill (a
// conditional request); a password login asks for the passkey as the second factor ("Use a passkey");
// the passkey removed after confirming with that passkey in the dialog. On a server without passkeys
// (an IP address) the card stays hidden and the button goes away. SQLite only, as every browser test.
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { expectShown, load, openPage, PASSWORD, post, register, ROOT, startServer, textMatching } from "./demo-helpers.mjs";
import { addAuthenticator } from "./passkey-helpers.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const WINDOW_MS = 3000;

mkdirSync(join(ROOT, "target"), { recursive: true });
const server = await startServer({ LATCHKEY_REAUTH_WINDOW: `${WINDOW_MS / 1000}s` }, { host: "localhost" });
const { url } = server;
const started = Date.now();

/** Waits until the page's last proof (its sign-in, or the dialog) is older than the server's window. */
const pastWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 1500));
/** Resolves the answer to the next request to `path` (by `method`), once `action` ran. */
async function answerTo(page, method, path, action) {
  const answer = page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path);
  await action();
  return answer;
}
const rows = (page) => page.$$eval("#passkey-list li", (items) => items.map((li) => li.querySelector(".passkey-name").textContent));

/** Signed in as `email`, as the account box and the sessions card say; resolves the current session's line. */
async function expectSignedIn(page, email) {
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  await expectShown(page, "#sessions li[data-current='true']", "#sessions-status");
  return page.textContent("#sessions li[data-current='true'] .session-meta");
}

async function signOut(page) {
  await page.click("#sign-out");
  await expectShown(page, "#auth-form", "#account-status");
  await textMatching(page, "#account-status", /^You are signed out\.$/);
  assert.ok(await page.isHidden("#passkeys"), "the passkeys card stays after signing out");
}

/** Past the window, the card's Add asks to confirm it is you (password: there is no passkey yet). */
async function addPasskey(page, authenticator) {
  await expectShown(page, "#passkeys", "#passkeys-status");
  await expectShown(page, "#passkeys-empty", "#passkeys-status");
  await pastWindow();
  await page.fill("#passkey-name", "Laptop");
  assert.equal((await post(page, "#add-passkey")).status(), 403);
  await expectShown(page, "#reauth-dialog", "#reauth-why");
  await textMatching(page, "#reauth-why", /^To add a passkey, enter your password again/);
  assert.ok(await page.isHidden("#reauth-passkey"), "the dialog offers a passkey the account does not have");
  await page.fill("#reauth-password", PASSWORD);
  const registered = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/passkeys/register/");
  const [proved, created] = await Promise.all([post(page, "#reauth-submit"), registered]);
  assert.deepEqual([proved.status(), created.status()], [200, 201]);
  await textMatching(page, "#passkeys-status", /^Laptop is added: use it to sign in next time\.$/);
  await page.waitForFunction(() => document.querySelectorAll("#passkey-list li").length === 1);
  assert.deepEqual(await rows(page), ["Laptop"]);
  assert.match(await page.textContent("#passkey-list li .passkey-meta"), /^Added .+, never used$/);
  assert.ok(await page.isHidden("#passkeys-empty"));
  assert.equal((await authenticator.credentials()).length, 1);
  assert.equal(await page.inputValue("#passkey-name"), "");
}

async function renamePasskey(page) {
  await page.click("#passkey-list li button.rename");
  await page.fill("#passkey-list .rename-form input", "  Work laptop  ");
  const id = await page.getAttribute("#passkey-list li", "data-id");
  const saved = await answerTo(page, "PATCH", `/api/auth/passkeys/${id}/`, () => page.click("#passkey-list .rename-form button[type='submit']"));
  assert.equal(saved.status(), 200);
  await textMatching(page, "#passkeys-status", /^The passkey is now called Work laptop\.$/);
  await page.waitForFunction(() => !document.querySelector("#passkey-list .rename-form"));
  assert.deepEqual(await rows(page), ["Work laptop"]);
  await (await page.$("#passkeys")).screenshot({ path: join(ROOT, "target/demo-passkeys.png") });
}

/** Signed out, the button signs in with the passkey: the browser's dialog, answered by the authenticator. */
async function signInWithButton(page, email) {
  await signOut(page);
  const signedIn = await answerTo(page, "POST", "/api/token/passkey/", () => page.click("#passkey-sign-in"));
  assert.equal(signedIn.status(), 200);
  assert.match(await expectSignedIn(page, email), /signed in with passkey and a second factor /);
  await page.waitForFunction(() => /last used/.test(document.querySelector("#passkey-list li .passkey-meta")?.textContent ?? ""));
}

/** A reload signed out: the e-mail field's autofill offers the passkey, and (headless) takes it at once. */
async function signInFromAutofill(page, email) {
  await signOut(page);
  assert.equal(await page.getAttribute("#email", "autocomplete"), "username webauthn");
  const signedIn = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/token/passkey/");
  const [answer] = await Promise.all([signedIn, load(page, url)]);
  assert.equal(answer.status(), 200);
  await expectSignedIn(page, email);
}

/** The password alone is not enough now: the second step offers the passkey, which signs in. */
async function secondFactor(page, email) {
  await signOut(page);
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  assert.equal((await post(page, "#sign-in")).status(), 403);
  await expectShown(page, "#mfa-form", "#account-status");
  await expectShown(page, "#mfa-passkey", "#account-status");
  assert.equal(await page.textContent("#mfa-passkey"), "Use a passkey");
  const verified = await answerTo(page, "POST", "/api/token/mfa/", () => page.click("#mfa-passkey"));
  assert.equal(verified.status(), 200);
  assert.match(await expectSignedIn(page, email), /signed in with password and a second factor /);
}

/** Past the window, Remove asks to confirm it is you; "Use a passkey" in the dialog does, and it is removed. */
async function removePasskey(page, authenticator) {
  await pastWindow();
  assert.equal((await post(page, "#passkey-list li button.remove", "DELETE")).status(), 403);
  await expectShown(page, "#reauth-dialog", "#reauth-why");
  await textMatching(page, "#reauth-why", /^To remove a passkey, enter your password again/);
  await expectShown(page, "#reauth-passkey", "#reauth-why");
  const proved = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/reauthenticate/");
  const removed = page.waitForResponse((r) => r.request().method() === "DELETE" && r.status() !== 403);
  const answers = await Promise.all([proved, removed, page.click("#reauth-passkey")]);
  assert.deepEqual(answers.slice(0, 2).map((a) => a.status()), [200, 204]);
  await textMatching(page, "#passkeys-status", /^Work laptop is removed\./);
  assert.ok(await page.isHidden("#reauth-dialog"));
  await expectShown(page, "#passkeys-empty", "#passkeys-status");
  assert.deepEqual(await rows(page), []);
  // The authenticator still holds it; the server no longer takes it.
  assert.equal((await authenticator.credentials()).length, 1);
}

/** A server on an IP address has no passkeys: no card once signed in, and no passkey button. */
async function withoutPasskeys(browser) {
  const plain = await startServer();
  try {
    const page = await openPage(await browser.newContext());
    await addAuthenticator(page);
    await load(page, plain.url);
    await page.waitForSelector("#passkey-sign-in", { state: "hidden" });
    await register(page, `plain-${Date.now()}@example.com`);
    await expectShown(page, "#sessions li", "#sessions-status");
    assert.ok(await page.isHidden("#passkeys"), "the passkeys card is shown by a server without passkeys");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await plain.stop();
  }
}

const browser = await chromium.launch(CHROMIUM);
try {
  const page = await openPage(await browser.newContext());
  const authenticator = await addAuthenticator(page);
  await load(page, url);
  assert.ok(await page.isVisible("#passkey-sign-in"));
  const email = `passkey-${Date.now()}@example.com`;
  await register(page, email);
  await addPasskey(page, authenticator);
  console.log("chromium: web demo adds a passkey after confirming it is you ... ok");
  await renamePasskey(page);
  console.log("chromium: web demo renames a passkey ... ok");
  await signInWithButton(page, email);
  console.log("chromium: web demo signs in with the passkey button ... ok");
  await signInFromAutofill(page, email);
  console.log("chromium: web demo signs in from the autofill after a reload (conditional request) ... ok");
  await secondFactor(page, email);
  console.log("chromium: web demo password login asks for the passkey as the second factor ... ok");
  await removePasskey(page, authenticator);
  console.log("chromium: web demo removes the passkey, confirming with it in the dialog ... ok");
  assert.deepEqual(page.errors, []);
  await withoutPasskeys(browser);
  console.log("chromium: web demo without passkeys on the server: no card, no button ... ok");
  console.log(`demo-passkeys: ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await server.stop();
}
