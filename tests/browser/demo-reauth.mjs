// The web demo's sudo mode, sessions and invitations, served by the real `latchkey` binary with a
// 3-second re-authentication window (`LATCHKEY_REAUTH_WINDOW=3s`), in headless Chromium. Past the
// window, changing the password, adding an authenticator, new backup codes and deleting the account
// open the "Confirm it is you" dialog: a wrong password asks again with the server's message,
// Cancel leaves everything as it was, the right password (or a backup code) completes the action.
// Within the window nothing is asked. Sessions show their device and sign-in method and can be
// renamed; invitations to organizations (made from Node by another account) are listed once the
// address is verified, marked when the e-mailed link opened the page, accepted or declined.
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";
import { expectShown, load, openPage, PASSWORD, post, register, ROOT, startServer, textMatching } from "./demo-helpers.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const WINDOW_MS = 3000;
const CHANGED = "a walk along the harbour";
const CANCELLED = /^Nothing was changed: this needs you to confirm it is you\.$/;

mkdirSync(join(ROOT, "target"), { recursive: true });
const server = await startServer({ LATCHKEY_REAUTH_WINDOW: `${WINDOW_MS / 1000}s` });
const { url, mail } = server;
const started = Date.now();

/** A JSON request from Node, outside the browser. */
async function api(path, { method = "GET", token, body } = {}) {
  const headers = { ...(token && { Authorization: `Bearer ${token}` }), ...(body && { "Content-Type": "application/json" }) };
  const response = await fetch(url + path, { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const login = (email, password) => api("/api/token/", { method: "POST", body: { email, password } });
/** Waits until the page's last proof (its sign-in, or the dialog) is older than the server's window. */
const pastWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 1500));

/** Waits for the dialog; checks what it says the confirmation is for. */
async function expectDialog(page, purpose) {
  await expectShown(page, "#reauth-dialog", "#reauth-why");
  assert.equal(await page.evaluate(() => document.getElementById("reauth-dialog").open), true);
  await textMatching(page, "#reauth-why", new RegExp(`^To ${purpose}, enter your (password|code) again`));
}

/** Types `password` into the dialog and confirms; resolves the reauthentication's status. */
async function answerDialog(page, password) {
  await page.fill("#reauth-password", password);
  return (await post(page, "#reauth-submit")).status();
}

/** A new password past the window: a wrong one asks again, the right one saves the change. */
async function changePassword(page, email) {
  await pastWindow();
  await page.fill("#new-password", CHANGED);
  await page.fill("#new-password-confirm", CHANGED);
  assert.equal((await post(page, "#change-password")).status(), 403);
  await expectDialog(page, "change your password");
  assert.equal(await answerDialog(page, "not my password"), 400);
  // The same dialog again, saying why; the change has not been made.
  await expectDialog(page, "change your password");
  await textMatching(page, "#reauth-error", /^Incorrect password\.$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "reauth-password");
  await page.screenshot({ path: join(ROOT, "target/demo-reauth-dialog.png") });
  assert.equal((await login(email, CHANGED)).status, 401, "changed after a wrong password");
  const saved = page.waitForResponse((r) => r.url().endsWith("/api/auth/password/change/") && r.status() === 200);
  assert.equal(await answerDialog(page, PASSWORD), 200);
  await saved;
  await textMatching(page, "#change-status", /^New password has been saved\. Your other sessions were signed out\.$/);
  assert.ok(await page.isHidden("#reauth-dialog"));
  assert.equal((await login(email, CHANGED)).status, 200);
}

/** Adding an authenticator past the window: Cancel adds nothing; the password lets it be added. */
async function addAuthenticator(page) {
  await pastWindow();
  await page.fill("#device-name", "Phone");
  assert.equal((await post(page, "#add-device")).status(), 403);
  await expectDialog(page, "add an authenticator");
  await page.click("#reauth-cancel");
  await textMatching(page, "#twofa-status", CANCELLED);
  assert.ok(await page.isHidden("#reauth-dialog"));
  assert.ok(await page.isHidden("#enrollment"));
  assert.equal(await page.$$eval("#devices li", (items) => items.length), 0, "a cancelled authenticator was added");

  // Escape is a cancel too.
  assert.equal((await post(page, "#add-device")).status(), 403);
  await expectDialog(page, "add an authenticator");
  await page.keyboard.press("Escape");
  await textMatching(page, "#twofa-status", CANCELLED);

  assert.equal((await post(page, "#add-device")).status(), 403);
  await expectDialog(page, "add an authenticator");
  const created = page.waitForResponse((r) => r.url().endsWith("/api/auth/2fa/totp/") && r.status() === 201);
  assert.equal(await answerDialog(page, CHANGED), 200);
  await created;
  await expectShown(page, "#enrollment", "#twofa-status");
  const secret = await page.textContent("#secret");
  // Within the window the dialog opened again: the confirmation needs no second question.
  await page.fill("#confirm-code", totpAtStep(secret, stepAt(nowSeconds())));
  assert.equal((await post(page, "#confirm")).status(), 200);
  await expectShown(page, "#backup", "#confirm-status");
  assert.ok(await page.isHidden("#reauth-dialog"));
  const codes = await page.$$eval("#backup-codes li", (items) => items.map((li) => li.textContent));
  assert.equal(codes.length, 10);
  await page.click("#backup-done");
  await expectShown(page, "#backup-actions", "#twofa-status");
  await (await page.$("#twofa")).screenshot({ path: join(ROOT, "target/demo-twofa.png") });
  return codes;
}

/** New backup codes past the window, proved with a backup code instead of the password. */
async function newBackupCodes(page, codes) {
  await page.waitForFunction(() => document.getElementById("mfa-enabled").textContent === "On");
  await pastWindow();
  assert.equal((await post(page, "#new-backup-codes")).status(), 403);
  await expectDialog(page, "get new backup codes");
  await page.click("#reauth-switch");
  await expectShown(page, "#reauth-code", "#reauth-why");
  assert.ok(await page.isHidden("#reauth-password"));
  await textMatching(page, "#reauth-why", /enter your code again/);
  await page.fill("#reauth-code", codes[0]);
  const renewed = page.waitForResponse((r) => r.url().endsWith("/api/auth/2fa/backup-codes/") && r.status() === 200);
  assert.equal((await post(page, "#reauth-submit")).status(), 200);
  await renewed;
  await expectShown(page, "#backup", "#twofa-status");
  const fresh = await page.$$eval("#backup-codes li", (items) => items.map((li) => li.textContent));
  assert.equal(fresh.length, 10);
  assert.ok(!fresh.includes(codes[1]), "the old codes came back");
  await page.click("#backup-done");

  // Within the window the code just opened, removing the authenticator asks nothing.
  assert.equal((await post(page, "#devices li button", "DELETE")).status(), 204);
  await textMatching(page, "#twofa-status", /^Phone is removed\.$/);
  assert.ok(await page.isHidden("#reauth-dialog"));
  await page.waitForFunction(() => document.getElementById("mfa-enabled").textContent === "Off");
  assert.ok(await page.isHidden("#backup-actions"));
}

/** The sessions list: device and sign-in method; renaming, kept across a reload. */
async function renameSession(page) {
  await expectShown(page, "#sessions li", "#sessions-status");
  const row = () => page.$eval("#sessions li[data-current='true']", (li) => ({
    name: li.querySelector(".session-name").textContent,
    device: li.querySelector(".device-name")?.textContent ?? null,
    meta: li.querySelector(".session-meta").textContent,
    ends: li.querySelector(".session-ends")?.textContent ?? null,
  }));
  const before = await row();
  assert.match(before.name, /Chrome.* on Linux$/);
  assert.equal(before.device, null);
  assert.match(before.meta, /signed in with password /);
  assert.match(before.ends ?? "", /^Ends /);

  await page.click("#sessions li[data-current='true'] button.rename");
  await page.fill("#sessions .rename-form input", "  Work laptop  ");
  const saved = page.waitForResponse((r) => r.request().method() === "PATCH");
  await page.click("#sessions .rename-form button[type='submit']");
  assert.equal((await saved).status(), 200);
  await textMatching(page, "#sessions-status", /^The session is now called Work laptop\.$/);
  await page.waitForFunction(() => !document.querySelector("#sessions .rename-form"));
  const after = await row();
  assert.equal(after.name, "Work laptop");
  assert.equal(after.device, before.name, "the device is no longer shown under the name");

  await load(page, url);
  await expectShown(page, "#sessions li", "#sessions-status");
  assert.equal((await row()).name, "Work laptop");
  await (await page.$("#sessions-card")).screenshot({ path: join(ROOT, "target/demo-sessions.png") });
}

/** Another account's organizations invite the user: listed once verified, accepted and declined. */
async function invitations(page, email) {
  const owner = await api("/api/auth/register/", { method: "POST", body: { email: "owner@example.com", password: PASSWORD, password_confirm: PASSWORD } });
  assert.equal(owner.status, 201, JSON.stringify(owner.body));
  const token = owner.body.tokens.access;
  for (const [slug, name] of [["harbour", "Harbour Works"], ["lighthouse", "Lighthouse Club"]]) {
    assert.equal((await api("/api/orgs/", { method: "POST", token, body: { slug, name } })).status, 201);
  }
  // Unverified, the user is told to verify first.
  assert.equal((await api("/api/orgs/harbour/invitations/", { method: "POST", token, body: { email, role: "viewer" } })).status, 202);
  const invited = () => mail.link(email, /invit/i, "", "invitation=\\d+");
  const harbour = new URL(await invited()).searchParams.get("invitation");
  await load(page, url);
  await expectShown(page, "#invitations-card", "#invitations-status");
  await textMatching(page, "#invitations-status", /^Verify your e-mail address first/);
  await load(page, await mail.link(email, /^Confirm your e-mail address$/, "verify-email"));
  await textMatching(page, "#account-status", /^E-mail address verified\.$/);
  await expectShown(page, "#invitations li", "#invitations-status");

  assert.equal((await api("/api/orgs/lighthouse/invitations/", { method: "POST", token, body: { email, role: "admin" } })).status, 202);
  const link = await invited();
  const id = new URL(link).searchParams.get("invitation");
  assert.notEqual(id, harbour);
  await load(page, link);
  assert.equal(new URL(page.url()).search, "", "the invitation stays in the address bar");
  await expectShown(page, `#invitations li[data-id="${id}"]`, "#invitations-status");
  const rows = await page.$$eval("#invitations li", (items) => items.map((li) => [li.querySelector(".invitation-org").textContent, li.dataset.highlight]));
  assert.deepEqual(rows, [["Lighthouse Club", "true"], ["Harbour Works", "false"]]);
  assert.match(await page.textContent(`#invitations li[data-id="${id}"] .hint`), /^Join as an admin\. Invited by owner@example\.com /);
  await (await page.$("#invitations-card")).screenshot({ path: join(ROOT, "target/demo-invitations.png") });

  assert.equal((await post(page, `#invitations li[data-id="${id}"] button.accept`)).status(), 200);
  await textMatching(page, "#invitations-status", /^You joined Lighthouse Club as an admin\.$/);
  await page.waitForFunction(() => document.querySelectorAll("#invitations li").length === 1);
  assert.equal((await post(page, "#invitations li button.decline")).status(), 204);
  await textMatching(page, "#invitations-status", /^You declined the invitation to Harbour Works\.$/);
  await expectShown(page, "#invitations-empty", "#invitations-status");
  const members = async (slug) => (await api(`/api/orgs/${slug}/members/`, { token })).body.map((m) => [m.email, m.role]);
  assert.deepEqual((await members("lighthouse")).filter(([e]) => e === email), [[email, "admin"]]);
  assert.deepEqual((await members("harbour")).filter(([e]) => e === email), []);
}

/** Deleting the account past the window: the password, then signed out, and the account is gone. */
async function deleteAccount(page, email) {
  await pastWindow();
  await page.check("#delete-confirm");
  assert.equal((await post(page, "#delete-account", "DELETE")).status(), 403);
  await expectDialog(page, "delete your account");
  const deleted = page.waitForResponse((r) => r.url().endsWith("/api/auth/me/") && r.request().method() === "DELETE" && r.status() === 204);
  await page.fill("#reauth-password", CHANGED);
  await page.click("#reauth-submit");
  await deleted;
  await expectShown(page, "#auth-form", "#account-status");
  await textMatching(page, "#account-status", /^Your account is deleted\. Goodbye\.$/);
  assert.equal((await login(email, CHANGED)).status, 401);
}

const browser = await chromium.launch(CHROMIUM);
try {
  const page = await openPage(await browser.newContext());
  await load(page, url);
  const email = `sudo-${Date.now()}@example.com`;
  await register(page, email);
  await renameSession(page);
  console.log("chromium: web demo sessions show their device and can be renamed ... ok");
  await invitations(page, email);
  console.log("chromium: web demo invitations (verify first, the e-mailed link, accept, decline) ... ok");
  await changePassword(page, email);
  console.log("chromium: web demo asks to confirm it is you before a password change (wrong, then right) ... ok");
  const codes = await addAuthenticator(page);
  console.log("chromium: web demo asks to confirm it is you before adding an authenticator (cancel, Escape, password) ... ok");
  await newBackupCodes(page, codes);
  console.log("chromium: web demo confirms it is you with a backup code for new backup codes, then removes the authenticator ... ok");
  await deleteAccount(page, email);
  console.log("chromium: web demo asks to confirm it is you before deleting the account ... ok");
  assert.deepEqual(page.errors, []);
  console.log(`demo-reauth: ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await server.stop();
}
