// The web demo, served by the real `latchkey` binary, in headless Chromium: live password verdicts
// with the npm package's web build, then an account registered through the page, an authenticator
// enrolled (QR and code preview drawn by the package, codes checked against an independent RFC 6238
// implementation), backup codes downloaded, a sign-in that asks for the second factor, and the
// session (the package's LatchkeyClient) surviving a reload and shared with a second tab; then the
// account's other flows (demo-account.mjs): e-mail verification, profile, password change, sessions,
// forgotten password. Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";
import { expectShown, load, openPage, PASSWORD, post, register, ROOT, startServer, textMatching, THROTTLED } from "./demo-helpers.mjs";
import { checkAccountFlows } from "./demo-account.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const SCREENSHOT = join(ROOT, "target/demo-enrollment.png");

// The independent TOTP must itself be right: RFC 6238 appendix B, SHA-1, truncated to 6 digits.
assert.equal(totpAtStep("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", stepAt(59)), "287082");
assert.equal(totpAtStep("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", stepAt(1111111109)), "081804");

const server = await startServer();
const { url } = server;

/**
 * Sends a code as a user told to wait would: after each failure the server refuses any code for
 * 2^(n-1) s with 429 + Retry-After, and the page keeps the button disabled until then.
 */
async function postPatiently(page, input, button, status, code) {
  for (let tries = 0; tries < 3; tries += 1) {
    await page.fill(input, code);
    const response = await post(page, button);
    if (response.status() !== 429) return response;
    await textMatching(page, status, THROTTLED);
    assert.ok(await page.isDisabled(button), "the button is usable during the wait the server asked for");
  }
  return assert.fail("still throttled after three waits");
}

async function addAuthenticator(page, name) {
  await page.fill("#device-name", name);
  await page.click("#add-device");
  await expectShown(page, "#enrollment", "#twofa-status");
  assert.ok(await page.$("#qr svg path"), "no QR code drawn");
  await page.waitForFunction(() => /^\d{6}$/.test(document.getElementById("code").textContent));
  const secret = await page.textContent("#secret");
  assert.match(secret, /^[A-Z2-7]{32}$/, "the secret is 160 bits of unpadded base32");
  return secret;
}

async function checkPasswordFeedback(page) {
  assert.match(await page.textContent("#fingerprint"), /^[0-9a-f]{16}$/);
  await page.fill("#password", "alice2024");
  const codes = await page.$$eval("#violations li", (items) => items.map((li) => li.dataset.code));
  assert.deepEqual(codes, ["password_too_similar", "password_too_short", "password_too_weak"]);
  assert.equal(await page.getAttribute("#verdict", "class"), "bad");

  await page.fill("#password", PASSWORD);
  assert.equal(await page.getAttribute("#verdict", "class"), "ok");
  assert.equal(await page.$$eval("#violations li", (items) => items.length), 0);
}

// Enrolls an authenticator and returns the step its confirmation used, and the backup codes.
async function enroll(page, secret) {
  assert.ok(await page.isHidden("#clock-warning"), "clock warning shown with a correct clock");
  // The preview refreshes every second, so it shows the code of some moment in the last ~2 s.
  const before = nowSeconds();
  const preview = await page.textContent("#code");
  const after = nowSeconds();
  const expected = [stepAt(before - 2), stepAt(after)].map((step) => totpAtStep(secret, step));
  assert.ok(expected.includes(preview), `preview ${preview}, expected one of ${expected}`);
  assert.match(await page.textContent("#countdown"), /^next code in \d+ seconds?$/);
  mkdirSync(join(ROOT, "target"), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  await page.fill("#confirm-code", "12345");
  await page.click("#confirm");
  assert.equal(await page.textContent("#confirm-status"), "Enter the 6 digits your app shows.");

  const step = stepAt(nowSeconds());
  await page.fill("#confirm-code", totpAtStep(secret, step));
  await page.click("#confirm");
  await expectShown(page, "#backup", "#confirm-status");
  assert.ok(await page.isHidden("#enrollment"), "the secret stays on screen after confirmation");
  const codes = await page.$$eval("#backup-codes li", (items) => items.map((li) => li.textContent));
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10, `backup codes repeat: ${codes}`);
  assert.ok(codes.every((c) => /^\S{6,}$/.test(c)), `odd backup codes: ${codes}`);
  assert.match(await page.textContent("#backup"), /not be shown again/);

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-codes")]);
  assert.equal(download.suggestedFilename(), "latchkey-backup-codes.txt");
  const text = readFileSync(await download.path(), "utf8");
  for (const code of codes) assert.ok(text.includes(code), `download lacks ${code}`);

  await page.waitForFunction(() => document.getElementById("mfa-enabled").textContent === "On");
  assert.match(await page.textContent("#twofa-summary"), /is on\. 10 backup codes left\./);
  assert.deepEqual(await page.$$eval("#devices li .badge", (items) => items.map((b) => b.textContent)), ["Active"]);
  return { step, codes };
}

// Signs out and in again: the password alone is not enough; the confirmation's step is refused
// (replay), the next step's code is accepted.
async function signInWithSecondFactor(page, email, secret, usedStep) {
  await page.click("#sign-out");
  await expectShown(page, "#auth-form", "#account-status");
  assert.equal(await page.textContent("#account-status"), "You are signed out.");
  assert.ok(await page.isHidden("#twofa-panel"));
  assert.ok(await page.isHidden("#backup"), "backup codes stay on screen after sign-out");

  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#sign-in");
  await expectShown(page, "#mfa-form", "#account-status");
  assert.ok(await page.isHidden("#signed-in"));

  const replay = await postPatiently(page, "#mfa-code", "#mfa-submit", "#account-status", totpAtStep(secret, usedStep));
  assert.equal(replay.status(), 401, "a replayed code was not refused");
  await textMatching(page, "#account-status", /^Invalid two-factor code\.$/);
  assert.ok(await page.isHidden("#signed-in"));

  const accepted = await postPatiently(page, "#mfa-code", "#mfa-submit", "#account-status", totpAtStep(secret, usedStep + 1));
  assert.equal(accepted.status(), 200);
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  await page.waitForFunction(() => document.getElementById("mfa-enabled").textContent === "On");
  assert.equal(await page.getAttribute("#mfa-enabled", "data-enabled"), "true");
  await expectShown(page, "#twofa-panel", "#twofa-status");
  assert.deepEqual(await page.$$eval("#devices li .badge", (items) => items.map((b) => b.textContent)), ["Active"]);
}

// The session lives in the HttpOnly refresh cookie, not in the page: a reload and a second tab of the
// same browser are signed in (`client.restore()`), on the same session, and signing out or in in
// one tab switches the other at once (the client's BroadcastChannel). Resolves the second tab.
async function checkTabs(page, email, backupCode) {
  await page.reload();
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  assert.equal(await page.textContent("#mfa-enabled"), "On");
  assert.equal(await page.textContent("#account-status"), "");
  await expectShown(page, "#sessions li", "#sessions-status");
  assert.equal(await page.$$eval("#sessions li", (items) => items.length), 1, "the reload opened another session");
  assert.deepEqual(await page.evaluate(() => [document.cookie, localStorage.length, sessionStorage.length]), ["", 0, 0]);

  const second = await openPage(page.context());
  await load(second, url);
  await expectShown(second, "#signed-in", "#account-status");
  assert.equal(await second.textContent("#who"), email);
  await expectShown(second, "#sessions li", "#sessions-status");
  assert.deepEqual(await second.$$eval("#sessions li", (items) => items.map((li) => li.dataset.current)), ["true"]);

  await second.click("#sign-out");
  await expectShown(second, "#auth-form", "#account-status");
  await textMatching(second, "#account-status", /^You are signed out\.$/);
  await expectShown(page, "#auth-form", "#account-status");
  await textMatching(page, "#account-status", /^You were signed out in another tab\.$/);
  assert.ok(await page.isHidden("#sessions-card"));
  assert.ok(await page.isHidden("#twofa-panel"));
  await load(page, url);
  assert.ok(await page.isVisible("#auth-form"), "signed in again after signing out");

  // Signing in (with a backup code for the second factor) in one tab signs the other in.
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#sign-in");
  await expectShown(page, "#mfa-form", "#account-status");
  assert.equal((await postPatiently(page, "#mfa-code", "#mfa-submit", "#account-status", backupCode)).status(), 200);
  await expectShown(page, "#signed-in", "#account-status");
  await expectShown(second, "#signed-in", "#account-status");
  assert.equal(await second.textContent("#who"), email);
  await expectShown(second, "#sessions li", "#sessions-status");
  return second;
}

// A browser whose clock runs a minute ahead is warned that codes may not match, and a wrong code
// is refused with the server's message.
async function checkClockWarning(page) {
  await page.clock.install({ time: Date.now() + 60_000 });
  await load(page, url);
  await register(page, `skewed-${Date.now()}@example.com`);
  const secret = await addAuthenticator(page, "");
  await expectShown(page, "#clock-warning", "#twofa-status");
  assert.match(await page.textContent("#clock-warning"), /clock is (59|60|61) seconds ahead of the server's/);

  const step = stepAt(nowSeconds());
  const wrong = ["000000", "111111", "222222"].find((c) => ![-1, 0, 1].some((d) => totpAtStep(secret, step + d) === c));
  await page.fill("#confirm-code", wrong);
  assert.equal((await post(page, "#confirm")).status(), 400);
  await textMatching(page, "#confirm-status", /^Code: Invalid two-factor code\.$/);

  // Wrong codes in a row meet the back-off: a 429 within at most three more quick tries.
  let response;
  for (let tries = 0; tries < 3 && response?.status() !== 429; tries += 1) {
    await page.fill("#confirm-code", wrong);
    response = await post(page, "#confirm");
  }
  assert.equal(response.status(), 429);
  assert.match(response.headers()["retry-after"] ?? "", /^\d+$/);
  await textMatching(page, "#confirm-status", THROTTLED);
  assert.ok(await page.isDisabled("#confirm"), "Confirm is usable during the wait");
  await page.waitForSelector("#confirm:enabled", { timeout: 10_000 });
  assert.ok(await page.isHidden("#backup"));
}

const browser = await chromium.launch(CHROMIUM);
try {
  const page = await openPage(await browser.newContext());
  await load(page, url);
  await checkPasswordFeedback(page);
  console.log("chromium: web demo password feedback ... ok");

  const email = `demo-${Date.now()}@example.com`;
  await register(page, email);
  const secret = await addAuthenticator(page, "Phone");
  const { step, codes } = await enroll(page, secret);
  console.log("chromium: web demo 2fa enrollment ... ok");
  await signInWithSecondFactor(page, email, secret, step);
  console.log("chromium: web demo sign-in with 2fa ... ok");
  const tab = await checkTabs(page, email, codes[0]);
  console.log("chromium: web demo reload and second tab (restore, sign out and in across tabs) ... ok");

  const skewed = await openPage(await browser.newContext());
  await checkClockWarning(skewed);
  console.log("chromium: web demo clock warning ... ok");

  const pages = await checkAccountFlows(browser, server);
  assert.deepEqual([page, tab, skewed, ...pages].flatMap((p) => p.errors), []);
} finally {
  await browser.close();
  await server.stop();
}
