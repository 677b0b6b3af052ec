// `LatchkeyClient`'s social login against the real `latchkey` binary served as http://localhost:<port>,
// in headless Chromium, with two providers on loopback ports: a real OpenID Connect provider
// (oidc-provider, tests/oidc/provider.mjs: its login form takes any login, `<login>@example.test`,
// unverified for "unverified…") and a GitHub stand-in (tests/oidc/github.mjs). `signInWith` leaves for
// the provider's form, the provider sends the browser to the server's callback and on to the page, and
// `completeSignIn` signs in: a new user, the same user returning (the provider remembers them: no form),
// the outcome stripped from the address bar; refusals: a replayed callback (400 `social_state_invalid`),
// a login code used twice or without the tab's binding (401 `login_code_invalid`), a foreign
// `returnTo` (400), an unverified e-mail, a cancelled sign-in; an existing password account
// (`link_required`: `confirmSocialLink`, a wrong then the right password), a TOTP account
// (`mfa_required`: `verifyMfa`), `connectSocial` behind `onReauthenticate`, `socialAccounts` and
// `unlinkSocial` (409 `last_sign_in_method` for a social-only account); and README.md's
// `<!-- example:social -->` block run as written (its import pointed at the page's copy).
// Run by scripts/test.sh on SQLite, and with LATCHKEY_BROWSER_DATABASE=postgres on PostgreSQL.
// Needs target/debug/latchkey (cargo build), wasm/pkg/web (scripts/build-wasm.sh) and tools/node_modules.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { PASSWORD, ROOT, startServer } from "./demo-helpers.mjs";
import { readmeExample, recordErrors, serverApi } from "./api-helpers.mjs";
import { totpAtStep } from "./totp.mjs";
import { startProvider } from "../oidc/provider.mjs";
import { startGithub } from "../oidc/github.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const WINDOW_MS = 3000;

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>LatchkeyClient social login</title><script type="module" src="client-test.js"></script></head>
<body></body></html>
`;
const PAGE_JS = `import init from "./pkg/latchkey.js";
import { LatchkeyClient, LatchkeyError } from "./pkg/client.js";
await init();
window.hookCalls = [];
window.client = new LatchkeyClient({ onReauthenticate: ({ method, url }) => (hookCalls.push(method + " " + new URL(url).pathname), { password: ${JSON.stringify(PASSWORD)} }) });
/** A promise's outcome as plain data: {value} or {error: {name, status, code, body}}. */
window.outcome = (promise) => promise.then((value) => ({ value }), (e) => ({
  error: { name: e.name, status: e.status ?? null, code: e.code ?? null, body: e.body ?? null, latchkey: e instanceof LatchkeyError },
}));
/** \`client.fetch\` of JSON, as plain data: {status, body}. */
window.call = (path, method = "GET") => client.fetch(path, { method }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
document.body.dataset.ready = "";
`;

const started = Date.now();
const errors = [];
const oidc = await startProvider({});
const github = await startGithub({});
const config = mkdtempSync(join(tmpdir(), "latchkey-social-"));
writeFileSync(join(config, "providers.json"), JSON.stringify([
  { id: "test-oidc", name: "Test ID", issuer: oidc.issuer, client_id: "latchkey", client_secret: "s3cret", scopes: ["openid", "email", "profile"] },
  { id: "github", name: "GitHub", kind: "github", client_id: "latchkey-github", client_secret: "s3cret-gh", github_url: github.url, api_url: github.url },
]), { mode: 0o600 }); // it holds client secrets: the server warns otherwise
const server = await startServer({
  LATCHKEY_OIDC_PROVIDERS: join(config, "providers.json"), LATCHKEY_RATE_LIMITS: "off", LATCHKEY_REAUTH_WINDOW: `${WINDOW_MS / 1000}s`,
}, {
  host: "localhost",
  files: { "client-test.html": PAGE_HTML, "client-test.js": PAGE_JS, "readme-social.js": readmeExample("social", ["client"]) },
});
const { url } = server;
// The redirect URIs name the server's port, known only now; the providers read them at the first sign-in.
oidc.setClients([{ client_id: "latchkey", client_secret: "s3cret", redirect_uris: [`${url}/api/auth/social/test-oidc/callback/`] }]);
github.setClients([{ client_id: "latchkey-github", client_secret: "s3cret-gh", redirect_uris: [`${url}/api/auth/social/github/callback/`] }]);
const { register, enrollTotp } = serverApi(url);
const PAGE = `${url}/client-test.html`;

const run = (page, fn, arg) => page.evaluate(fn, arg);
const complete = (page) => run(page, () => outcome(client.completeSignIn()));
const me = (page) => run(page, () => call("/api/auth/me/"));
const pastWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 1500));
/** A login nobody used yet at the OpenID provider; its e-mail is `<login>@example.test`. */
const fresh = (name) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** The test page in a new browser context (the provider remembers who signed in per context). */
async function openTab(browser) {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15_000);
  recordErrors(page, errors);
  page.callbacks = []; // The provider's answers to the server's callback, as the browser requested them.
  page.sent = [];
  page.answers = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/api/")) page.answers.push(`${response.request().method()} ${path} ${response.status()}`);
  });
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/api\/auth\/social\/[^/]+\/callback\/$/.test(path)) page.callbacks.push(request.url());
    if (path.startsWith("/api/") && request.postData()) page.sent.push({ path, body: request.postDataJSON() });
  });
  await page.goto(PAGE);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  return page;
}

/**
 * Runs `start(arg)` in the page (it leaves for a provider without waiting), answers the OpenID provider's
 * login form as `login` (null: the provider must not ask), or cancels there, and waits until the page is
 * back with the outcome in its address; resolves that address.
 */
async function viaProvider(page, [start, arg], { login = null, cancel = false } = {}) {
  const back = (u) => u.origin === url && u.pathname === "/client-test.html" && u.search !== "";
  const atForm = (u) => u.origin === oidc.issuer && u.pathname.startsWith("/interaction/");
  await Promise.all([page.waitForURL((u) => back(u) || atForm(u)), run(page, start, arg)]);
  assert.equal(atForm(new URL(page.url())), login !== null || cancel, `at ${page.url()}`);
  if (cancel) await page.click("a[href*=abort]");
  else if (login !== null) {
    await page.fill("input[name=login]", login);
    await page.fill("input[name=password]", "any password: devInteractions takes it");
    await page.click("button.login-submit");
  }
  await page.waitForURL(back);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  return page.url();
}
/** `client.signInWith(provider)`, as `viaProvider` starts it. */
const startAt = (provider) => [(id) => { window.leaving = outcome(client.signInWith(id)); }, provider];

/** A new user through the form; the URL stripped; the account made from the provider's verified e-mail. */
async function newUser(browser) {
  const login = fresh("alice");
  const page = await openTab(browser);
  const address = await viaProvider(page, startAt("test-oidc"), { login });
  const code = new URL(address).searchParams.get("login_code");
  assert.match(code ?? "", /^[0-9a-f]{64}$/, address);
  assert.deepEqual([...new URL(address).searchParams.keys()], ["login_code"]);
  const binding = await run(page, () => sessionStorage.getItem("latchkey.social"));
  assert.deepEqual(await complete(page), { value: { status: "ok" } });
  assert.equal(page.url(), PAGE, "completeSignIn left the outcome in the address bar");
  const user = (await me(page)).body;
  assert.deepEqual([user.email, user.is_verified], [`${login}@example.test`, true]);
  const sessions = (await run(page, () => call("/api/auth/sessions/"))).body;
  assert.equal(sessions.find((s) => s.current)?.auth_method, "social:test-oidc", JSON.stringify(sessions));
  const [exchange] = page.sent.filter((s) => s.path === "/api/token/social/").map((s) => s.body);
  assert.deepEqual(Object.keys(exchange).sort(), ["binding", "cookie", "login_code"]);
  assert.match(exchange.binding, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(exchange.cookie, true);
  assert.equal(await run(page, () => sessionStorage.getItem("latchkey.social")), null);
  console.log("chromium: LatchkeyClient signs a new user in with an OpenID provider; the address bar is clean ... ok");

  // The same user again in the same browser: the provider remembers them and asks nothing.
  await run(page, () => client.logout());
  await viaProvider(page, startAt("test-oidc"));
  assert.deepEqual(await complete(page), { value: { status: "ok" } });
  assert.equal((await me(page)).body.id, user.id);
  const accounts = await run(page, () => outcome(client.socialAccounts()));
  assert.deepEqual(accounts.value.map((a) => [a.provider, a.email]), [["test-oidc", `${login}@example.test`]]);
  console.log("chromium: LatchkeyClient signs the same user in again (the provider's session, no form) ... ok");

  // Replays: the provider's callback (its state is spent) and the login code (spent).
  const replayed = await fetch(page.callbacks.at(-1), { redirect: "manual" });
  assert.equal(replayed.status, 400);
  assert.equal((await replayed.json()).code, "social_state_invalid");
  await run(page, () => client.logout());
  await page.goto(address);
  // The page's module (the wasm package first) defines its helpers after the load event may fire.
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  await run(page, (kept) => sessionStorage.setItem("latchkey.social", kept), binding); // the same tab's binding
  const reused = await complete(page);
  assert.deepEqual([reused.error?.status, reused.error?.code], [401, "login_code_invalid"], JSON.stringify(reused));
  assert.equal(page.url(), PAGE);
  assert.equal(await run(page, () => client.authenticated), false);
  console.log("chromium: LatchkeyClient: a replayed callback is 400 social_state_invalid, a reused login code 401 ... ok");

  // The last way into a social-only account cannot be unlinked (within the window: no question asked).
  await viaProvider(page, startAt("test-oidc"));
  assert.deepEqual(await complete(page), { value: { status: "ok" } });
  const [{ id }] = (await run(page, () => outcome(client.socialAccounts()))).value;
  const last = await run(page, (id) => outcome(client.unlinkSocial(id)), id);
  assert.deepEqual([last.error?.status, last.error?.code], [409, "last_sign_in_method"], JSON.stringify(last));
  assert.equal((await run(page, () => outcome(client.socialAccounts()))).value.length, 1);
  await page.context().close();
  console.log("chromium: LatchkeyClient cannot unlink a social-only account's last sign-in (409) ... ok");
}

/** The binding: a login code that reaches another tab (or a log) is useless there. */
async function bound(browser) {
  const page = await openTab(browser);
  await viaProvider(page, startAt("test-oidc"), { login: fresh("bound") });
  await run(page, () => sessionStorage.removeItem("latchkey.social"));
  const refused = await complete(page);
  assert.deepEqual([refused.error?.status, refused.error?.code], [401, "login_code_invalid"], JSON.stringify(refused));
  assert.equal(await run(page, () => client.authenticated), false);
  await page.context().close();
  console.log("chromium: LatchkeyClient: a login code without the tab's binding is 401 ... ok");
}

/** Refusals before and after the provider: a foreign returnTo, an unverified e-mail, a cancelled sign-in. */
async function refusals(browser) {
  const page = await openTab(browser);
  const foreign = await run(page, () => outcome(client.signInWith("test-oidc", { returnTo: "https://attacker.example/" })));
  assert.deepEqual([foreign.error?.status, foreign.error?.latchkey], [400, true], JSON.stringify(foreign));
  assert.deepEqual(Object.keys(foreign.error.body), ["return_to"]);
  const unknown = await run(page, () => outcome(client.signInWith("nope")));
  assert.equal(unknown.error?.status, 404);
  assert.equal(page.url(), PAGE, "the page left after a refusal");

  await viaProvider(page, startAt("test-oidc"), { login: fresh("unverified") });
  assert.deepEqual(await complete(page), { value: { status: "error", code: "email_unverified" } });
  assert.equal(page.url(), PAGE);
  assert.equal(await run(page, () => client.authenticated), false);
  await page.context().close();

  const other = await openTab(browser);
  const address = await viaProvider(other, startAt("test-oidc"), { cancel: true });
  assert.equal(new URL(address).searchParams.get("error"), "access_denied");
  assert.deepEqual(await complete(other), { value: { status: "error", code: "access_denied" } });
  assert.equal(other.url(), PAGE);
  await other.context().close();
  console.log("chromium: LatchkeyClient: foreign returnTo 400, unverified e-mail, cancelled at the provider ... ok");
}

/** An account with the provider's e-mail: link_required, then its password (wrong, then right) links them. */
async function linking(browser) {
  const login = fresh("linda");
  const { email } = await register("linda", `${login}@example.test`);
  const page = await openTab(browser);
  await viaProvider(page, startAt("test-oidc"), { login });
  const asked = await complete(page);
  assert.deepEqual({ ...asked.value, linkToken: "…" }, { status: "link_required", linkToken: "…", email, provider: "test-oidc" });
  assert.match(asked.value.linkToken, /^[0-9a-f]{64}$/);
  assert.equal(page.url(), PAGE);
  assert.equal(await run(page, () => client.authenticated), false);
  const wrong = await run(page, (token) => outcome(client.confirmSocialLink(token, "not the password")), asked.value.linkToken);
  assert.deepEqual([wrong.error?.status, wrong.error?.latchkey], [401, true], JSON.stringify(wrong));
  const right = await run(page, ([token, password]) => outcome(client.confirmSocialLink(token, password)), [asked.value.linkToken, PASSWORD]);
  assert.deepEqual(right, { value: { status: "ok" } });
  assert.equal((await me(page)).body.email, email);
  assert.deepEqual((await run(page, () => outcome(client.socialAccounts()))).value.map((a) => a.provider), ["test-oidc"]);
  const spent = await run(page, ([token, password]) => outcome(client.confirmSocialLink(token, password)), [asked.value.linkToken, PASSWORD]);
  assert.deepEqual([spent.error?.status, spent.error?.code], [401, "link_token_invalid"], JSON.stringify(spent));

  // Linked: the provider alone signs in now (its session remembers the login: no form).
  await run(page, () => client.logout());
  await viaProvider(page, startAt("test-oidc"));
  assert.deepEqual(await complete(page), { value: { status: "ok" } });
  assert.equal((await me(page)).body.email, email);
  await page.context().close();
  console.log("chromium: LatchkeyClient links an existing account with its password (wrong, then right) ... ok");
}

/** A TOTP account: the link's sign-in and the linked account's next sign-in both ask for the code. */
async function secondFactor(browser) {
  const login = fresh("tom");
  const { access } = await register("tom", `${login}@example.test`);
  const { secret, step, backupCodes } = await enrollTotp(access);
  const page = await openTab(browser);
  await viaProvider(page, startAt("test-oidc"), { login });
  const asked = await complete(page);
  assert.equal(asked.value?.status, "link_required", JSON.stringify(asked));
  const linked = await run(page, ([token, password]) => outcome(client.confirmSocialLink(token, password)), [asked.value.linkToken, PASSWORD]);
  assert.equal(linked.value?.status, "mfa_required", JSON.stringify(linked));
  assert.deepEqual(linked.value.methods, ["totp", "backup_code"]);
  assert.equal(await run(page, () => client.authenticated), false);
  await run(page, ([token, code]) => client.verifyMfa(token, code), [linked.value.mfaToken, totpAtStep(secret, step + 1)]);
  assert.equal((await me(page)).body.mfa_enabled, true);

  await run(page, () => client.logout());
  await viaProvider(page, startAt("test-oidc"));
  const again = await complete(page);
  assert.equal(again.value?.status, "mfa_required", JSON.stringify(again));
  assert.equal(await run(page, () => client.authenticated), false);
  // The code's step is spent (a replay): a backup code this time.
  await run(page, ([token, code]) => client.verifyMfa(token, code), [again.value.mfaToken, backupCodes[0]]);
  assert.equal((await me(page)).status, 200);
  await page.context().close();
  console.log("chromium: LatchkeyClient: a TOTP account's social sign-in asks for the code (mfa_required) ... ok");
}

/** Connect GitHub to a password account past the window (onReauthenticate first), then unlink it. */
async function connecting(browser) {
  const { email } = await register("connie");
  const page = await openTab(browser);
  assert.deepEqual(await run(page, (email) => outcome(client.login({ email, password: "correct horse battery staple" })), email), { value: { status: "ok" } });
  await pastWindow();
  page.answers.length = 0;
  github.setUser({ id: 9_000_001, login: "connie", name: "Connie", emails: [{ email: "connie@github.example", primary: true, verified: true, visibility: "private" }] });
  const address = await viaProvider(page, [() => { window.leaving = outcome(client.connectSocial("github")); }]);
  // The page asked its hook before it left (the answers of the page that left, then the callback's).
  assert.deepEqual(page.answers, ["POST /api/auth/social/github/authorize/ 403", "POST /api/auth/reauthenticate/ 200",
    "POST /api/auth/social/github/authorize/ 200", "GET /api/auth/social/github/callback/ 302"]);
  assert.deepEqual([...new URL(address).searchParams], [["linked", "github"]]);
  assert.deepEqual(await complete(page), { value: { status: "connected", provider: "github" } });
  assert.equal(page.url(), PAGE);
  assert.equal(await run(page, () => client.restore()), true);
  const [account, ...more] = (await run(page, () => outcome(client.socialAccounts()))).value;
  assert.deepEqual([account.provider, account.email, more], ["github", "connie@github.example", []]);
  assert.ok(Math.abs(Date.parse(account.created_at) - Date.now()) < 60_000, account.created_at);
  // GitHub now signs this account in.
  await run(page, () => client.logout());
  await viaProvider(page, startAt("github"));
  assert.deepEqual(await complete(page), { value: { status: "ok" } });
  assert.equal((await me(page)).body.email, email);
  // The account has a password: unlinking is allowed (past the window, after the hook).
  await pastWindow();
  const unlinked = await run(page, (id) => outcome(client.unlinkSocial(id)), account.id);
  assert.equal(unlinked.error, undefined, JSON.stringify(unlinked));
  assert.equal((await run(page, () => hookCalls)).at(-1), `DELETE /api/auth/social/accounts/${account.id}/`);
  assert.deepEqual((await run(page, () => outcome(client.socialAccounts()))).value, []);
  await page.context().close();
  console.log("chromium: LatchkeyClient connects GitHub past the window (onReauthenticate), signs in with it, unlinks it ... ok");
}

/**
 * README.md's example, with its free variables defined by the page (`addButton` records the buttons,
 * `askForPassword`/`askForCode` answer, `showError` records): loaded signed out it offers the providers;
 * back from the provider, loaded again, it signs in (a new user), or links an existing account.
 */
async function readmeRuns(browser) {
  const load = (page, answers) => run(page, async ({ password }) => {
    window.calls = [];
    Object.assign(window, {
      addButton: (label, onClick) => calls.push(["addButton", label]) && (window[`click ${label}`] = onClick),
      askForPassword: async (email) => (calls.push(["askForPassword", email]), password),
      askForCode: async () => (calls.push(["askForCode"]), ""),
      showError: (message) => calls.push(["showError", message]),
    });
    const { client: example } = await import("/readme-social.js");
    return { calls, authenticated: example.authenticated };
  }, answers);
  for (const existing of [false, true]) {
    const login = fresh("readme");
    if (existing) await register("readme", `${login}@example.test`);
    const page = await openTab(browser);
    assert.deepEqual(await load(page, { password: PASSWORD }), {
      calls: [["addButton", "Continue with Test ID"], ["addButton", "Continue with GitHub"]], authenticated: false,
    });
    await viaProvider(page, [() => { window["click Continue with Test ID"](); }], { login });
    const after = await load(page, { password: PASSWORD });
    const asked = existing ? [["askForPassword", `${login}@example.test`]] : [];
    assert.deepEqual(after, { calls: asked, authenticated: true });
    assert.equal(page.url(), PAGE);
    assert.equal(await run(page, () => client.restore()), true);
    assert.equal((await me(page)).body.email, `${login}@example.test`);
    await page.context().close();
  }
}

const browser = await chromium.launch(CHROMIUM);
try {
  await newUser(browser);
  await bound(browser);
  await refusals(browser);
  await linking(browser);
  await secondFactor(browser);
  await connecting(browser);
  await readmeRuns(browser);
  console.log("chromium: the README's social example runs (a new user; an existing account linked) ... ok");
  assert.deepEqual(errors, []);
  console.log(`client-social: ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await server.stop();
  await oidc.close();
  await github.close();
  rmSync(config, { recursive: true, force: true });
}
