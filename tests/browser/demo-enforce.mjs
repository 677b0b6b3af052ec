// The web demo under 2FA enforcement (LATCHKEY_REQUIRE_2FA=all), served by the real `latchkey` binary, in
// headless Chromium: a new account signs up and is walked straight into setting up an authenticator (the
// card says it is required; the profile, password, sessions and other cards stay hidden, and the API refuses
// them with 403 `mfa_enrollment_required`); confirming the authenticator's code (computed by tests/browser/
// totp.mjs, not by the package) shows the backup codes and then the whole account, whose requests work.
// Run by scripts/test.sh on SQLite, and with LATCHKEY_BROWSER_DATABASE=postgres on PostgreSQL. Needs
// target/debug/latchkey (cargo build), wasm/pkg/web (scripts/build-wasm.sh) and tools/node_modules.
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { expectShown, load, openPage, PASSWORD, ROOT, startServer } from "./demo-helpers.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");

const started = Date.now();
const server = await startServer({ LATCHKEY_REQUIRE_2FA: "all" });
const { url } = server;

/** What the page's client answers for `path` with its current token (in the page, as the demo would ask). */
const ask = (page, path) => page.evaluate(async (p) => {
  const { client } = await import("./api.js");
  const response = await client.fetch(p);
  return { status: response.status, body: await response.json() };
}, path);

async function walkedIntoEnrollment(browser) {
  const page = await openPage(await browser.newContext());
  await load(page, url);
  const email = "enforced@example.com";
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.fill("#password-confirm", PASSWORD);
  await page.click("#register");
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  assert.equal(await page.textContent("#mfa-enabled"), "Off");
  // Straight into enrollment: the card says why, the rest of the account stays hidden.
  await expectShown(page, "#twofa-required", "#twofa-status");
  assert.match(await page.textContent("#twofa-required"), /requires two-factor authentication/);
  for (const card of ["#profile", "#password-card", "#sessions-card", "#delete-card", "#invitations-card"]) {
    assert.ok(await page.isHidden(card), `${card} is shown before enrollment`);
  }
  assert.equal(await page.evaluate(async () => (await import("./api.js")).client.mfaEnrollmentRequired), true);
  assert.deepEqual(await ask(page, "/api/orgs/"), {
    status: 403,
    body: { detail: "Set up two-factor authentication to continue.", code: "mfa_enrollment_required" },
  });

  await page.fill("#device-name", "Phone");
  await page.click("#add-device");
  await expectShown(page, "#enrollment", "#twofa-status");
  const secret = await page.textContent("#secret");
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.fill("#confirm-code", totpAtStep(secret, stepAt(nowSeconds())));
  await page.click("#confirm");
  await expectShown(page, "#backup", "#confirm-status");
  assert.equal(await page.$$eval("#backup-codes li", (items) => items.length), 10);

  // Confirmed: the session is refreshed without the claim, and the whole account opens.
  await expectShown(page, "#sessions li", "#sessions-status");
  await page.waitForFunction(() => document.getElementById("mfa-enabled").textContent === "On");
  assert.ok(await page.isHidden("#twofa-required"), "the card still says 2FA is required");
  for (const card of ["#profile", "#password-card", "#sessions-card", "#delete-card"]) {
    assert.ok(await page.isVisible(card), `${card} is hidden after enrollment`);
  }
  assert.equal(await page.evaluate(async () => (await import("./api.js")).client.mfaEnrollmentRequired), false);
  assert.equal((await ask(page, "/api/orgs/")).status, 200);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

const browser = await chromium.launch(CHROMIUM);
try {
  await walkedIntoEnrollment(browser);
  console.log("chromium: web demo under LATCHKEY_REQUIRE_2FA=all walks a new account into enrollment ... ok");
} finally {
  await browser.close();
  await server.stop();
}
console.log(`demo-enforce: ${((Date.now() - started) / 1000).toFixed(1)} s`);
