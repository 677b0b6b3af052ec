// The web demo's social login, served by the real `latchkey` binary as http://localhost:<port> with a
// 4-second re-authentication window, in headless Chromium, with a real OpenID Connect provider
// (oidc-provider, tests/oidc/provider.mjs), a GitHub stand-in (tests/oidc/github.mjs) and a provider
// nobody answers for: the "Continue with …" buttons (names as text); a new user made through the
// provider's login form, whose only linked account cannot be unlinked; an unverified e-mail and a
// cancelled sign-in refused with their sentences, as every other `?error=` code and a spent login code;
// an unreachable provider; an existing password account with 2FA linked with its password (a wrong one
// first) and the second step; "Connect GitHub" and Unlink, each behind the "Confirm it is you" dialog.
// Run by scripts/test.sh on SQLite, and with LATCHKEY_BROWSER_DATABASE=postgres on PostgreSQL.
// Needs target/debug/latchkey (cargo build), wasm/pkg/web (scripts/build-wasm.sh) and tools/node_modules.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { expectShown, load, openPage, PASSWORD, post, ROOT, startServer, textMatching } from "./demo-helpers.mjs";
import { serverApi } from "./api-helpers.mjs";
import { totpAtStep } from "./totp.mjs";
import { startProvider } from "../oidc/provider.mjs";
import { startGithub } from "../oidc/github.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const WINDOW_MS = 4000;
const OFFLINE = "Offline <i>ID</i>"; // A name with markup: the page must show it as text.

mkdirSync(join(ROOT, "target"), { recursive: true });
const started = Date.now();
const oidc = await startProvider({});
const github = await startGithub({});
const config = mkdtempSync(join(tmpdir(), "latchkey-social-"));
writeFileSync(join(config, "providers.json"), JSON.stringify([
  { id: "test-oidc", name: "Test ID", issuer: oidc.issuer, client_id: "latchkey", client_secret: "s3cret" },
  { id: "github", name: "GitHub", kind: "github", client_id: "latchkey-github", client_secret: "s3cret-gh", github_url: github.url, api_url: github.url },
  // Port 9 (discard) on the loopback: nothing answers its discovery.
  { id: "offline", name: OFFLINE, issuer: "http://127.0.0.1:9", client_id: "latchkey", client_secret: "s3cret" },
]), { mode: 0o600 }); // it holds client secrets: the server warns otherwise
const server = await startServer({
  LATCHKEY_OIDC_PROVIDERS: join(config, "providers.json"), LATCHKEY_REAUTH_WINDOW: `${WINDOW_MS / 1000}s`,
}, { host: "localhost" });
const { url } = server;
oidc.setClients([{ client_id: "latchkey", client_secret: "s3cret", redirect_uris: [`${url}/api/auth/social/test-oidc/callback/`] }]);
github.setClients([{ client_id: "latchkey-github", client_secret: "s3cret-gh", redirect_uris: [`${url}/api/auth/social/github/callback/`] }]);
const { register, enrollTotp } = serverApi(url);

const HOME = `${url}/`;
const button = (name) => `#social-buttons button:text-is("Continue with ${name}")`;
const pastWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 1500));
const fresh = (name) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const texts = (page, selector) => page.$$eval(selector, (nodes) => nodes.map((node) => node.textContent));

/** The demo in a new browser context: the provider remembers who signed in per context. */
async function newTab(browser) {
  const page = await openPage(await browser.newContext());
  await load(page, url);
  return page;
}

/**
 * Clicks `selector` (the page leaves for a provider), answers the OpenID provider's login form as
 * `login` (or cancels there; neither: the provider must not ask), and waits for the demo to be loaded
 * again; resolves the address the provider sent it back to. The page's own document is marked first,
 * so that its `data-ready` is not mistaken for the new one's.
 */
async function viaProvider(page, selector, { login = null, cancel = false } = {}) {
  await page.evaluate(() => delete document.body.dataset.ready);
  const returned = page.waitForResponse((r) => r.request().resourceType() === "document" && r.url().startsWith(`${HOME}?`));
  await page.click(selector);
  if (login !== null || cancel) {
    await page.waitForURL((u) => u.origin === oidc.issuer && u.pathname.startsWith("/interaction/"));
    if (cancel) await page.click("a[href*=abort]");
    else {
      await page.fill("input[name=login]", login);
      await page.fill("input[name=password]", "any password: devInteractions takes it");
      await page.click("button.login-submit");
    }
  }
  const address = (await returned).url();
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  assert.equal(page.url(), HOME, "the outcome stayed in the address bar");
  return address;
}

async function expectSignedIn(page, email) {
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  await expectShown(page, "#social", "#social-status");
}

/** The linked accounts card: each item's provider name and e-mail. */
const linked = (page) => page.$$eval("#social-list li", (items) =>
  items.map((li) => [li.querySelector(".social-name").textContent, li.querySelector(".social-meta").textContent.split(",")[0]]));

/** The buttons: one per provider, its name as text (not markup). */
async function buttons(browser) {
  const page = await newTab(browser);
  await expectShown(page, "#social-buttons", "#account-status");
  assert.deepEqual(await texts(page, "#social-buttons button"), ["Continue with Test ID", "Continue with GitHub", `Continue with ${OFFLINE}`]);
  assert.equal(await page.$("#social-buttons i"), null);
  // Nobody answers for the offline provider: the server says 503, the page says so and stays.
  assert.equal((await post(page, button(OFFLINE))).status(), 503);
  await textMatching(page, "#account-status", new RegExp(`^${OFFLINE} cannot be reached right now\\. Try again in 30 seconds\\.$`));
  assert.ok(await page.isDisabled(button(OFFLINE)), "the button does not wait for Retry-After");
  assert.equal(page.url(), HOME);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

/** A new user through the provider's form: signed in, one linked account, which cannot be unlinked. */
async function newUser(browser) {
  const login = fresh("ada");
  const page = await newTab(browser);
  const address = await viaProvider(page, button("Test ID"), { login });
  assert.match(address, /\?login_code=[0-9a-f]{64}$/);
  await expectSignedIn(page, `${login}@example.test`);
  assert.equal(await page.textContent("#verified"), "Verified");
  assert.deepEqual(await linked(page), [["Test ID", `${login}@example.test`]]);
  assert.deepEqual(await texts(page, "#social-connect button"), ["Connect GitHub", `Connect ${OFFLINE}`]);
  assert.ok(await page.isHidden("#social-empty"));
  await (await page.$("#social")).screenshot({ path: join(ROOT, "target/demo-social.png") });
  // Within the window: no dialog, the server's refusal.
  assert.equal((await post(page, "#social-list li button.unlink", "DELETE")).status(), 409);
  await textMatching(page, "#social-status", /^This is your only way to sign in\. Set a password or add a passkey first\.$/);
  assert.equal((await linked(page)).length, 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

/** Refusals come back as sentences: an unverified address, a cancelled sign-in. */
async function refused(browser) {
  const page = await newTab(browser);
  const address = await viaProvider(page, button("Test ID"), { login: fresh("unverified") });
  assert.match(address, /\?error=email_unverified$/);
  await textMatching(page, "#account-status", /^Test ID did not confirm your e-mail address, so no account can be made from it\. Verify it there, or sign up with a password\.$/);
  assert.ok(await page.isVisible("#auth-form"));
  await page.context().close();

  const other = await newTab(browser);
  await viaProvider(other, button("Test ID"), { cancel: true });
  await textMatching(other, "#account-status", /^You cancelled signing in with Test ID\.$/);
  assert.deepEqual([...page.errors, ...other.errors], []);
  await other.context().close();
  console.log("chromium: web demo refuses an unverified e-mail and a cancelled sign-in with their sentences ... ok");
}

/** Every `?error=` code and a spent login code, as the page says them (the provider known from the trip). */
async function messages(browser) {
  const page = await newTab(browser);
  const expected = {
    access_denied: "You cancelled signing in with GitHub.",
    provider_error: "Signing in with GitHub failed. Try again.",
    provider_unavailable: "Signing in with GitHub failed. Try again.",
    id_token_invalid: "Signing in with GitHub failed. Try again.",
    email_unverified: "GitHub did not confirm your e-mail address, so no account can be made from it. Verify it there, or sign up with a password.",
    account_inactive: "This account is disabled.",
    account_in_use: "That GitHub account is already linked to another user.",
    rate_limited: "Too many sign-in attempts. Try again in a few minutes.",
    something_new: "Signing in with GitHub failed (something_new).",
  };
  for (const [code, sentence] of Object.entries(expected)) {
    await page.evaluate(() => sessionStorage.setItem("latchkey-demo.social", JSON.stringify({ id: "github", name: "GitHub" })));
    await load(page, `${url}/?error=${code}`);
    assert.equal(await page.textContent("#account-status"), sentence);
    assert.equal(page.url(), HOME);
  }
  await load(page, `${url}/?error=account_in_use`); // no trip: no name
  assert.equal(await page.textContent("#account-status"), "That account is already linked to another user.");
  await load(page, `${url}/?login_code=${"0".repeat(64)}`);
  assert.equal(await page.textContent("#account-status"), "That sign-in has expired or was already used. Start again.");
  assert.deepEqual(page.errors, []);
  await page.context().close();
  console.log("chromium: web demo says every ?error= code and a spent login code in words ... ok");
}

/**
 * A password account with 2FA and the provider's address: the link form (a wrong password, then the
 * right one), the second step, then "Connect GitHub" and Unlink, each after the dialog.
 */
async function linkAndConnect(browser) {
  const login = fresh("grace");
  const email = `${login}@example.test`;
  const { access } = await register("grace", email);
  const { secret, step } = await enrollTotp(access);
  const page = await newTab(browser);
  const address = await viaProvider(page, button("Test ID"), { login });
  assert.match(address, /\?link_token=[0-9a-f]{64}&email=[^&]+&provider=test-oidc$/);
  await expectShown(page, "#link-form", "#account-status");
  assert.equal(await page.textContent("#link-explain"), `An account with ${email} already exists. Enter its password to link Test ID to it.`);
  assert.equal(await page.inputValue("#link-email"), email);
  assert.equal(await page.evaluate(() => document.activeElement.id), "link-password");
  await page.fill("#link-password", "not the password");
  assert.equal((await post(page, "#link-submit")).status(), 401);
  await textMatching(page, "#account-status", /^Incorrect password\.$/);
  assert.equal(await page.getAttribute("#link-password", "aria-invalid"), "true");
  await page.fill("#link-password", PASSWORD);
  assert.equal((await post(page, "#link-submit")).status(), 403);
  await expectShown(page, "#mfa-form", "#account-status");
  await page.fill("#mfa-code", totpAtStep(secret, step + 1));
  assert.equal((await post(page, "#mfa-submit")).status(), 200);
  await expectSignedIn(page, email);
  await textMatching(page, "#social-status", /^Test ID is now linked: it signs you in too\.$/);
  assert.deepEqual(await linked(page), [["Test ID", email]]);
  console.log("chromium: web demo links a password account with 2FA (wrong password, then right, then the code) ... ok");

  // Connect GitHub past the window: the dialog first, then GitHub, then back, signed in.
  github.setUser({ id: 7_000_001, login: "grace", name: "Grace", emails: [{ email: "grace@github.example", primary: true, verified: true, visibility: "private" }] });
  await pastWindow();
  assert.equal((await post(page, "#social-connect button:text-is('Connect GitHub')")).status(), 403);
  await expectShown(page, "#reauth-dialog", "#reauth-why");
  await textMatching(page, "#reauth-why", /^To link an account, enter your password again/);
  await page.fill("#reauth-password", PASSWORD);
  await page.evaluate(() => delete document.body.dataset.ready);
  const returned = page.waitForResponse((r) => r.request().resourceType() === "document" && r.url().startsWith(`${HOME}?`));
  await page.click("#reauth-submit");
  assert.equal((await returned).url(), `${HOME}?linked=github`);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  assert.equal(page.url(), HOME);
  await expectSignedIn(page, email);
  await textMatching(page, "#social-status", /^GitHub is now linked: it signs you in too\.$/);
  await page.waitForFunction(() => document.querySelectorAll("#social-list li").length === 2);
  assert.deepEqual((await linked(page)).sort(), [["GitHub", "grace@github.example"], ["Test ID", email]]);
  assert.deepEqual(await texts(page, "#social-connect button"), [`Connect ${OFFLINE}`]);
  console.log("chromium: web demo connects GitHub after confirming it is you ... ok");

  // Unlink GitHub past the window: the dialog, then the list without it.
  await pastWindow();
  assert.equal((await post(page, "#social-list li[data-provider='github'] button.unlink", "DELETE")).status(), 403);
  await expectShown(page, "#reauth-dialog", "#reauth-why");
  await textMatching(page, "#reauth-why", /^To unlink an account, enter your password again/);
  await page.fill("#reauth-password", PASSWORD);
  const removed = page.waitForResponse((r) => r.request().method() === "DELETE" && r.status() !== 403);
  const [proved, gone] = await Promise.all([post(page, "#reauth-submit"), removed]);
  assert.deepEqual([proved.status(), gone.status()], [200, 204]);
  await textMatching(page, "#social-status", /^GitHub is unlinked: it no longer signs you in\.$/);
  assert.deepEqual(await linked(page), [["Test ID", email]]);
  assert.deepEqual(await texts(page, "#social-connect button"), ["Connect GitHub", `Connect ${OFFLINE}`]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  console.log("chromium: web demo unlinks GitHub after confirming it is you ... ok");
}

const browser = await chromium.launch(CHROMIUM);
try {
  await buttons(browser);
  console.log("chromium: web demo shows a button per provider, and says when one cannot be reached ... ok");
  await newUser(browser);
  console.log("chromium: web demo signs a new user up through the provider; its only link stays (409) ... ok");
  await refused(browser);
  await messages(browser);
  await linkAndConnect(browser);
  console.log(`demo-social: ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await server.stop();
  await oidc.close();
  await github.close();
  rmSync(config, { recursive: true, force: true });
}
