// The web demo, served by the real `latchkey` binary, in headless Chromium: live password verdicts
// with the npm package's web build, then an account registered through the page, an authenticator
// enrolled (QR and code preview drawn by the package, codes checked against an independent RFC 6238
// implementation), backup codes downloaded, and a sign-in that asks for the second factor.
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const SCREENSHOT = join(ROOT, "target/demo-enrollment.png");
const PASSWORD = "correct horse battery staple";

// The independent TOTP must itself be right: RFC 6238 appendix B, SHA-1, truncated to 6 digits.
assert.equal(totpAtStep("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", stepAt(59)), "287082");
assert.equal(totpAtStep("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", stepAt(1111111109)), "081804");

// The demo directory as scripts/run.sh prepares it: the page plus the package's web build in pkg/.
const demo = mkdtempSync(join(tmpdir(), "latchkey-demo-"));
cpSync(join(ROOT, "web-demo"), demo, { recursive: true });
cpSync(join(ROOT, "wasm/pkg/web"), join(demo, "pkg"), { recursive: true });

const server = spawn(join(ROOT, "target/debug/latchkey"), [], {
  env: {
    ...process.env,
    LATCHKEY_BIND: "127.0.0.1:0",
    LATCHKEY_DEMO_DIR: demo,
    LATCHKEY_DATABASE_URL: `sqlite://${join(demo, "latchkey.db")}?mode=rwc`,
    LATCHKEY_SECRET_KEY: "demo-test-secret-demo-test-secret-demo",
    LATCHKEY_ENCRYPTION_KEY: "demo-test-encryption-key",
    LATCHKEY_LOG: "warn",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const firstLine = await new Promise((resolve) => createInterface({ input: server.stdout }).once("line", resolve));
const url = /^listening on (http:\/\/\S+)$/.exec(firstLine)?.[1];
assert.ok(url, `unexpected first line: ${firstLine}`);

/** A page that records uncaught errors and console errors (a CSP violation is one). */
async function openPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // Chromium logs every 4xx answer to fetch; those are the API's answers the page shows, not faults.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.errors.push(`console: ${m.text()}`);
  });
  return page;
}

/** Waits for `selector` to be shown; on timeout, fails with what the page said in `status`. */
async function expectShown(page, selector, status) {
  try {
    await page.waitForSelector(selector, { state: "visible" });
  } catch {
    assert.fail(`${selector} was not shown; ${status} says: ${JSON.stringify(await page.textContent(status))}`);
  }
}

/** Clicks `button` and resolves to the API's answer to the POST it sends. */
async function post(page, button) {
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith("/api/"));
  await page.click(button);
  return answer;
}

/** Waits until `selector`'s text matches `pattern`, so assertions see the page's answer, not its previous one. */
async function textMatching(page, selector, pattern) {
  try {
    await page.waitForFunction(([s, p]) => new RegExp(p).test(document.querySelector(s).textContent), [selector, pattern.source]);
  } catch {
    assert.fail(`${selector} says ${JSON.stringify(await page.textContent(selector))}, expected ${pattern}`);
  }
}

const THROTTLED = /^Request was throttled\. Expected available in \d+ seconds?\.$/;

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

async function register(page, email) {
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.fill("#password-confirm", PASSWORD);
  await page.click("#register");
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  assert.equal(await page.textContent("#mfa-enabled"), "Off");
  await expectShown(page, "#twofa-panel", "#twofa-status");
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

// A browser whose clock runs a minute ahead is warned that codes may not match, and a wrong code
// is refused with the server's message.
async function checkClockWarning(page) {
  await page.clock.install({ time: Date.now() + 60_000 });
  await page.goto(url);
  await page.waitForSelector("body[data-ready]");
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
  await page.goto(url);
  await page.waitForSelector("body[data-ready]");
  await checkPasswordFeedback(page);
  console.log("chromium: web demo password feedback ... ok");

  const email = `demo-${Date.now()}@example.com`;
  await register(page, email);
  const secret = await addAuthenticator(page, "Phone");
  const { step } = await enroll(page, secret);
  console.log("chromium: web demo 2fa enrollment ... ok");
  await signInWithSecondFactor(page, email, secret, step);
  console.log("chromium: web demo sign-in with 2fa ... ok");

  const skewed = await openPage(await browser.newContext());
  await checkClockWarning(skewed);
  console.log("chromium: web demo clock warning ... ok");

  assert.deepEqual([...page.errors, ...skewed.errors], []);
} finally {
  await browser.close();
  server.kill();
}
