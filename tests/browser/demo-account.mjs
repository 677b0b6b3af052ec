// The web demo's account flows in headless Chromium, against the real server, as one person would
// go through them: verify the e-mail address (a real 429 on the second resend, then the mailed
// link, opened in the browser that stays signed in), edit the profile (field errors, then saved and
// still there after a reload), change the password (live verdict against the user's own names; no
// "confirm it is you" within the re-authentication window, see demo-reauth.mjs for past it), see
// and revoke the session of a second browser, sign out the other sessions, then everywhere, and
// reset a forgotten password through the mailed link.
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { expectShown, load, openPage, PASSWORD, post, register, ROOT, signIn, textMatching, THROTTLED } from "./demo-helpers.mjs";

/** The main signed-in screen, full page; `DEMO_SCREENSHOT=<path>` also writes the README's copy there. */
const SCREENSHOT = join(ROOT, "target/demo-screenshot.png");
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
  + "Version/17.5 Mobile/15E148 Safari/604.1";
const CHANGED = "analytical engine notes";
const RESET = "lighthouse keeper at dawn";

/** Runs every flow; resolves to the pages used, whose errors the caller checks. */
export async function checkAccountFlows(browser, { url, mail }) {
  const email = "ada@example.com"; // The database is new for each run.
  const desk = await openPage(await browser.newContext({ viewport: { width: 1160, height: 900 } }));
  await load(desk, url);
  await register(desk, email);
  await checkVerification(desk, url, mail, email);
  console.log("chromium: web demo e-mail verification (resend, 429, link) ... ok");
  await checkProfile(desk, url, email);
  console.log("chromium: web demo profile editing ... ok");
  await checkPasswordChange(desk, email);
  console.log("chromium: web demo password change ... ok");
  const phone = await openPage(await browser.newContext({ userAgent: IPHONE, viewport: { width: 390, height: 844 } }));
  await checkSessions(desk, phone, url, email);
  console.log("chromium: web demo sessions (revoke, sign out the others, sign out everywhere) ... ok");
  await checkForgottenPassword(desk, url, mail, email);
  console.log("chromium: web demo forgotten password ... ok");
  return [desk, phone];
}

async function checkVerification(page, url, mail, email) {
  assert.equal(await page.textContent("#verified"), "Not verified");
  assert.equal(await page.getAttribute("#verified", "data-verified"), "false");
  assert.equal((await post(page, "#resend-verification")).status(), 200);
  await textMatching(page, "#account-status", /^Verification e-mail sent\. Open the link in it to verify your address\.$/);

  // The server allows one resend per address and hour here: the page says when to try again.
  const throttled = await post(page, "#resend-verification");
  assert.equal(throttled.status(), 429);
  assert.match(throttled.headers()["retry-after"] ?? "", /^\d+$/);
  await textMatching(page, "#account-status", THROTTLED);
  assert.ok(await page.isDisabled("#resend-verification"), "resend is usable during the wait the server asked for");

  // The links open in the browser that is signed in: it stays signed in (the refresh cookie).
  await load(page, `${url}/verify-email?uid=MQ&token=not-a-token`);
  await textMatching(page, "#account-status", /^The link is invalid or has expired\. Send the verification e-mail again\.$/);
  await expectShown(page, "#signed-in", "#account-status");

  await load(page, await mail.link(email, /^Confirm your e-mail address$/, "verify-email"));
  await textMatching(page, "#account-status", /^E-mail address verified\.$/);
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, "/", "the token stays in the address bar");
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  assert.equal(await page.textContent("#verified"), "Verified");
  assert.ok(await page.isHidden("#resend-verification"));
}

const PROFILE = {
  first_name: "Ada", last_name: "Lovelace", username: "ada.lovelace", phone_number: "+44 20 7946 0958",
  birth_date: "1815-12-10", website: "https://example.com/ada", timezone: "Europe/London", language: "en-GB",
  bio: "Wrote the first published program, for Babbage's Analytical Engine.",
};
const PROFILE_INPUTS = {
  first_name: "#first-name", last_name: "#last-name", username: "#username", phone_number: "#phone-number",
  birth_date: "#birth-date", website: "#website", timezone: "#timezone", language: "#language", bio: "#bio",
};

async function checkProfile(page, url, email) {
  for (const [field, selector] of Object.entries(PROFILE_INPUTS)) await page.fill(selector, PROFILE[field]);
  await page.fill("#username", "ada lovelace");
  await page.fill("#website", "lovelace dot org");
  assert.equal((await post(page, "#save-profile", "PATCH")).status(), 400);
  await textMatching(page, "#website-error", /^Enter a valid URL\.$/);
  await textMatching(page, "#username-error", /^Enter a valid username\. This value may contain only letters/);
  assert.equal(await page.getAttribute("#website", "aria-invalid"), "true");
  assert.match(await page.getAttribute("#website", "aria-describedby"), /\bwebsite-error\b/);
  assert.equal(await page.getAttribute("#first-name", "aria-invalid"), null);
  assert.ok(await page.isHidden("#first-name-error"));
  assert.equal(await page.textContent("#profile-status"), "Please correct the fields marked above.");
  assert.equal(await page.evaluate(() => document.activeElement.id), "username", "focus is not on the first wrong field");

  await page.fill("#username", PROFILE.username);
  await page.fill("#website", PROFILE.website);
  assert.equal((await post(page, "#save-profile", "PATCH")).status(), 200);
  await textMatching(page, "#profile-status", /^Your profile is saved\.$/);
  assert.ok(await page.isHidden("#website-error"));
  assert.equal(await page.getAttribute("#website", "aria-invalid"), null);

  // A new page load signs in again with the refresh cookie: what the form shows is what the server kept.
  await load(page, url);
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  const shown = Object.fromEntries(await Promise.all(Object.entries(PROFILE_INPUTS)
    .map(async ([field, selector]) => [field, await page.inputValue(selector)])));
  assert.deepEqual(shown, PROFILE);
}

async function checkPasswordChange(page, email) {
  // The verdict compares with the user's own names, as the server's does.
  await page.fill("#new-password", "Lovelace1815");
  await textMatching(page, "#change-violations", /^The password is too similar to the username\./);
  await page.fill("#new-password", CHANGED);
  await textMatching(page, "#change-verdict", /^The password policy accepts this password\.$/);

  let sent = 0;
  const count = (request) => { if (request.url().endsWith("/api/auth/password/change/")) sent += 1; };
  page.on("request", count);
  await page.fill("#new-password-confirm", `${CHANGED}!`);
  await page.click("#change-password");
  await textMatching(page, "#new-password-confirm-error", /^Passwords do not match\.$/);
  page.off("request", count);
  assert.equal(sent, 0, "mismatched passwords were sent");

  // Signed in moments ago (within the server's 10-minute window): no need to confirm it is you.
  await page.fill("#new-password-confirm", CHANGED);
  assert.equal((await post(page, "#change-password")).status(), 200);
  await textMatching(page, "#change-status", /^New password has been saved\. Your other sessions were signed out\.$/);
  assert.ok(await page.isHidden("#reauth-dialog"), "the dialog asked within the window");
  assert.equal(await page.inputValue("#new-password"), "", "the form keeps the passwords");

  await page.click("#sign-out");
  await expectShown(page, "#auth-form", "#account-status");
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  assert.equal((await post(page, "#sign-in")).status(), 401);
  await textMatching(page, "#account-status", /^No active account found with the given credentials$/);
  await signIn(page, email, CHANGED);
}

async function checkSessions(desk, phone, url, email) {
  // A browser that is not signed in is told to sign in before asking for another verification e-mail.
  await load(phone, `${url}/verify-email?uid=MQ&token=not-a-token`);
  await textMatching(phone, "#account-status", /^The link is invalid or has expired\. Sign in and send the verification e-mail again\.$/);
  await signIn(phone, email, CHANGED);
  assert.equal((await post(desk, "#refresh-sessions", "GET")).status(), 200);
  await textMatching(desk, "#sessions-status", /^2 open sessions\.$/);
  const rows = await desk.$$eval("#sessions li", (items) => items.map((li) => ({
    created: li.dataset.created, current: li.dataset.current, name: li.querySelector(".session-name").textContent,
    badge: li.querySelector(".badge")?.textContent ?? null, revoke: li.querySelector("button.revoke")?.textContent ?? null,
  })));
  // Newest first; two sessions opened within one second may come in either order. Devices as the
  // server reads their User-Agent.
  assert.deepEqual(rows.map((r) => r.created), rows.map((r) => r.created).sort().reverse());
  assert.deepEqual(rows.map(({ created, ...row }) => row).sort((a, b) => a.current.localeCompare(b.current)), [
    { current: "false", name: "Safari on iPhone", badge: null, revoke: "Revoke" },
    { current: "true", name: "Chrome on Linux", badge: "This browser", revoke: null },
  ]);
  await screenshot(desk);
  await phone.screenshot({ path: join(ROOT, "target/demo-phone.png"), fullPage: true });

  assert.equal((await post(desk, "#sessions li[data-current='false'] button.revoke", "DELETE")).status(), 204);
  await textMatching(desk, "#sessions-status", /^The session of Safari on iPhone is revoked\.$/);
  await desk.waitForFunction(() => document.querySelectorAll("#sessions li").length === 1);

  // The revoked browser finds out at its next request.
  assert.equal((await post(phone, "#refresh-sessions", "GET")).status(), 401);
  await expectShown(phone, "#auth-form", "#account-status");
  await textMatching(phone, "#account-status", /^Your session has ended: it was signed out, perhaps from another device\./);
  assert.ok(await phone.isHidden("#sessions-card"));
  assert.ok(await phone.isHidden("#profile"));

  // "Sign out the other sessions" keeps this one.
  await signIn(phone, email, CHANGED);
  assert.equal((await post(desk, "#refresh-sessions", "GET")).status(), 200);
  assert.equal((await post(desk, "#logout-others")).status(), 200);
  await textMatching(desk, "#sessions-status", /^Signed out 1 other session; this browser stays signed in\.$/);
  await desk.waitForFunction(() => document.querySelectorAll("#sessions li").length === 1);
  assert.ok(await desk.isHidden("#logout-others"), "offered with no other session");
  assert.equal((await post(phone, "#refresh-sessions", "GET")).status(), 401);
  await expectShown(phone, "#auth-form", "#account-status");
  assert.ok(await desk.isVisible("#signed-in"));

  await signIn(phone, email, CHANGED);
  assert.equal((await post(desk, "#logout-all")).status(), 200);
  await expectShown(desk, "#auth-form", "#account-status");
  await textMatching(desk, "#account-status", /^You are signed out everywhere, in this browser too\.$/);
  assert.ok(await desk.isHidden("#sessions-card"));
  assert.equal((await post(phone, "#refresh-sessions", "GET")).status(), 401);
  await expectShown(phone, "#auth-form", "#account-status");
}

async function screenshot(page) {
  mkdirSync(join(ROOT, "target"), { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  const copy = process.env.DEMO_SCREENSHOT;
  if (copy) {
    await page.screenshot({ path: copy, fullPage: true });
    assert.ok(statSync(copy).size < 300_000, `${copy} is over 300 KB`);
  }
}

async function checkForgottenPassword(page, url, mail, email) {
  await page.fill("#email", email);
  await page.click("#forgot");
  await expectShown(page, "#forgot-form", "#account-status");
  assert.equal(await page.inputValue("#forgot-email"), email, "the address typed is not carried over");
  assert.equal((await post(page, "#forgot-submit")).status(), 200);
  await textMatching(page, "#account-status", /^If the address is registered, a reset link has been sent\./);

  const link = await mail.link(email, /^Reset your password$/, "password-reset");
  await load(page, link);
  await expectShown(page, "#reset-form", "#account-status");
  await page.fill("#reset-password", "password1234");
  await textMatching(page, "#reset-violations", /This password is too common\./);
  await page.fill("#reset-confirm", "password1234");
  assert.equal((await post(page, "#reset-submit")).status(), 400);
  await textMatching(page, "#reset-password-error", /This password is too common\./);
  await textMatching(page, "#account-status", /^Please correct the fields marked above\.$/);

  await page.fill("#reset-password", RESET);
  await page.fill("#reset-confirm", RESET);
  assert.equal((await post(page, "#reset-submit")).status(), 200);
  await expectShown(page, "#auth-form", "#account-status");
  await textMatching(page, "#account-status", /^Your password has been reset\. Sign in with your new password\.$/);
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, "/", "the token stays in the address bar");
  await signIn(page, email, RESET);

  // The link worked once: followed again, it offers to send a new one.
  await load(page, link);
  await page.fill("#reset-password", `${RESET} again`);
  await page.fill("#reset-confirm", `${RESET} again`);
  assert.equal((await post(page, "#reset-submit")).status(), 400);
  await expectShown(page, "#forgot-form", "#account-status");
  await textMatching(page, "#account-status", /^The link is invalid or has expired\. Ask for a new link here\.$/);
}
