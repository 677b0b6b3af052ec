// `LatchkeyClient` (the npm package's `web/client.js`) against the real `latchkey` binary, in headless
// Chromium: cookie-mode login, requests with the bearer token, refresh before expiry and after a 401,
// two tabs whose 4-second access tokens expire at once (with Web Locks and BroadcastChannel, with
// locks only, and with neither), the second factor, errors, logout across tabs, and README.md's
// `<!-- example:client -->` block run as written (its import pointed at the page's copy). After every
// concurrent refresh the session must still be alive: the server revokes a session whose rotated
// refresh cookie is presented again after its grace window.
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { readmeExample, serverApi } from "./api-helpers.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const PASSWORD = "correct horse battery staple";

// The page: the package's web build in pkg/, and a module that exposes the client to the test.
// The server's Content-Security-Policy allows no inline script, so the module is a file.
const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>LatchkeyClient</title><script type="module" src="page.js"></script></head>
<body></body></html>
`;
const PAGE_JS = `import init, { decodeToken, tokenSecondsLeft } from "./pkg/latchkey.js";
import { LatchkeyClient, LatchkeyError } from "./pkg/client.js";
await init();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A promise's outcome as plain data: {value} or {error: {name, message, status, code, latchkey}}. */
const outcome = (promise) => promise.then((value) => ({ value }), (e) => ({
  error: { name: e.name, message: e.message, status: e.status, code: e.code ?? null, latchkey: e instanceof LatchkeyError },
}));
/**
 * The page's client; its fetch can spoil the next \`spoil\` bearer tokens it sends, as a server would
 * see a bad one, and notes when each refresh request was sent and answered (\`refreshSpans\`, ms).
 */
function start(options = {}) {
  window.spoil = 0;
  window.changes = [];
  window.refreshSpans = [];
  window.client = new LatchkeyClient({
    ...options,
    fetch: async (input, init = {}) => {
      const headers = new Headers(init.headers);
      if (window.spoil > 0 && headers.has("Authorization")) {
        window.spoil -= 1;
        headers.set("Authorization", headers.get("Authorization").slice(0, -6) + "AAAAAA");
      }
      const sent = Date.now();
      try {
        return await fetch(input, { ...init, headers });
      } finally {
        if (new URL(input, location.href).pathname === "/api/token/refresh/") refreshSpans.push([sent, Date.now()]);
      }
    },
  });
  client.onChange((signedIn) => changes.push(signedIn));
}
Object.assign(window, { LatchkeyClient, LatchkeyError, decodeToken, tokenSecondsLeft, sleep, outcome, start });
document.body.dataset.ready = "";
`;

const demo = mkdtempSync(join(tmpdir(), "latchkey-client-"));
cpSync(join(ROOT, "wasm/pkg/web"), join(demo, "pkg"), { recursive: true });
writeFileSync(join(demo, "index.html"), PAGE_HTML);
writeFileSync(join(demo, "page.js"), PAGE_JS);
mkdirSync(join(demo, "mail"));

const server = spawn(join(ROOT, "target/debug/latchkey"), [], {
  env: {
    ...process.env,
    LATCHKEY_BIND: "127.0.0.1:0",
    LATCHKEY_DEMO_DIR: demo,
    LATCHKEY_DATABASE_URL: `sqlite://${join(demo, "latchkey.db")}?mode=rwc`,
    LATCHKEY_SECRET_KEY: "client-test-secret-client-test-secret",
    LATCHKEY_ENCRYPTION_KEY: "client-test-encryption-key",
    LATCHKEY_EMAIL_BACKEND: `file:${join(demo, "mail")}`,
    LATCHKEY_ACCESS_TOKEN_LIFETIME: "4s",
    LATCHKEY_RATE_LIMITS: "off",
    LATCHKEY_LOG: "warn",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const firstLine = await new Promise((resolve) => createInterface({ input: server.stdout }).once("line", resolve));
const url = /^listening on (http:\/\/\S+)$/.exec(firstLine)?.[1];
assert.ok(url, `unexpected first line: ${firstLine}`);
const { api, register, enrollTotp } = serverApi(url);


const errors = [];

/**
 * A tab with the test page and a started client. `locks: false` / `broadcast: false` take Web Locks /
 * BroadcastChannel away, as in older browsers. `page.answers` records every API answer it got.
 */
async function openTab(context, { locks = true, broadcast = true, started = true } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // Chromium logs every 4xx answer to fetch; those are the API's answers, not faults.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
  page.answers = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (!path.startsWith("/api/")) return;
    const detail = response.json().then((body) => body?.detail ?? null, () => null);
    page.answers.push({ path, status: response.status(), detail });
  });
  if (!locks) await page.addInitScript(() => Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined }));
  if (!broadcast) await page.addInitScript(() => delete window.BroadcastChannel);
  await page.goto(`${url}/index.html`);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  assert.equal(await page.evaluate(() => typeof navigator.locks?.request), locks ? "function" : "undefined");
  if (started) await page.evaluate(() => start());
  return page;
}

const login = (page, credentials) => page.evaluate((c) => outcome(client.login(c)), credentials);
const me = (page) => page.evaluate(async () => {
  const response = await client.fetch("/api/auth/me/");
  return { status: response.status, body: await response.json() };
});
const statuses = (answers, path) => answers.filter((a) => a.path === path).map((a) => a.status);

/** Waits in the page until its access token has at most `seconds` left by the page's clock. */
const untilSecondsLeft = (page, seconds) =>
  page.evaluate(async (s) => {
    while (tokenSecondsLeft(client.accessToken) > s) await sleep(50);
  }, seconds);

async function signInAndUse(browser) {
  const { email } = await register("client");
  const context = await browser.newContext();
  const page = await openTab(context);

  const wrong = await login(page, { email, password: "not the password" });
  assert.deepEqual(wrong.error, {
    name: "LatchkeyError", message: "No active account found with the given credentials", status: 401, code: null, latchkey: true,
  });
  const incomplete = await login(page, { email });
  assert.equal(incomplete.error?.message, "Password: This field is required.");
  assert.equal(incomplete.error?.status, 400);

  assert.deepEqual(await login(page, { email, password: PASSWORD }), { value: { status: "ok" } });
  const mine = await me(page);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.email, email);
  assert.deepEqual(await page.evaluate(() => changes), [true]);
  // The refresh token is out of the page's reach, and the access token is in no storage.
  assert.deepEqual(await page.evaluate(() => [document.cookie, localStorage.length, sessionStorage.length]), ["", 0, 0]);
  const [cookie] = (await context.cookies()).filter((c) => c.name === "latchkey_refresh");
  assert.deepEqual([cookie?.httpOnly, cookie?.path, cookie?.sameSite], [true, "/api/token/", "Strict"]);
  console.log("chromium: LatchkeyClient login, errors and fetch ... ok");

  // 4-second tokens and the default 30 s margin: refreshed at 2 s left, not before every request.
  page.answers.length = 0;
  await me(page);
  assert.deepEqual(statuses(page.answers, "/api/token/refresh/"), []);
  // With about a second left, the token still works, but the client refreshes before using it.
  await untilSecondsLeft(page, 1);
  const before = await page.evaluate(() => [client.accessToken, tokenSecondsLeft(client.accessToken)]);
  assert.equal(before[1], 1);
  page.answers.length = 0;
  assert.equal((await me(page)).status, 200);
  assert.deepEqual(page.answers.map((a) => [a.path, a.status]), [["/api/token/refresh/", 200], ["/api/auth/me/", 200]]);
  assert.notEqual(await page.evaluate(() => client.accessToken), before[0]);
  console.log("chromium: LatchkeyClient refreshes before expiry ... ok");

  // The server refuses the bearer token: the client refreshes and sends the request once more.
  page.answers.length = 0;
  assert.equal(await page.evaluate(async () => {
    window.spoil = 1;
    return (await client.fetch("/api/auth/me/")).status;
  }), 200);
  assert.deepEqual(page.answers.map((a) => [a.path, a.status]),
    [["/api/auth/me/", 401], ["/api/token/refresh/", 200], ["/api/auth/me/", 200]]);
  console.log("chromium: LatchkeyClient retries once after a 401 ... ok");
  await context.close();
}

/**
 * The most refresh requests under way at once in `pages`, as their clients' fetch saw them: from
 * sending to the answer's headers, which a client holding the Web Lock reaches before it lets go.
 * (Playwright's request events are no measure: those of two pages may arrive out of order.)
 */
async function mostRefreshesAtOnce(pages) {
  const spans = (await Promise.all(pages.map((page) => page.evaluate(() => refreshSpans)))).flat();
  // At the same millisecond, an answer comes before a sending.
  const events = spans.flatMap(([sent, answered]) => [[sent, 1], [answered, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let underWay = 0;
  let most = 0;
  for (const [, change] of events) most = Math.max(most, (underWay += change));
  return most;
}

/** Holds the next two refresh requests until both are sent, so that they race on one cookie. */
async function holdTwoRefreshes(context) {
  let held = [];
  await context.route("**/api/token/refresh/", async (route) => {
    if (held === null) return route.continue();
    held.push(route);
    if (held.length < 2) return undefined;
    const both = held;
    held = null;
    return Promise.all(both.map((r) => r.continue()));
  });
}

/** Each page's `client.fetch("/api/auth/me/")` status, the calls started at the same moment. */
function fetchAtOnce(pages) {
  const at = Date.now() + 300;
  return Promise.all(pages.map((page) =>
    page.evaluate(async (t) => {
      await sleep(t - Date.now());
      return (await client.fetch("/api/auth/me/")).status;
    }, at)));
}

/** The session is alive: listed, used, and refreshable again from either tab; no reuse was detected. */
async function expectSessionAlive(first, second) {
  const sessions = await first.evaluate(async () => (await client.fetch("/api/auth/sessions/")).json());
  assert.equal(sessions.filter((s) => s.current).length, 1, JSON.stringify(sessions));
  const audit = await second.evaluate(async () => (await client.fetch("/api/auth/audit/?limit=100")).json());
  assert.deepEqual(audit.results.filter((e) => e.event === "refresh_reuse_detected"), []);
  assert.deepEqual(await Promise.all([first, second].map((page) => page.evaluate(() => client.refresh()))), [true, true]);
  assert.deepEqual((await Promise.all([first, second].map(me))).map((m) => m.status), [200, 200]);
}

/**
 * Two tabs sharing the cookie, each with its own client (the second restored from the cookie),
 * whose access tokens have expired, call `client.fetch` at the same moment: both must succeed and the
 * session must stay alive. Without Web Locks the refresh requests are made to collide on purpose.
 */
async function twoTabs(browser, { locks, broadcast }) {
  const { email } = await register("tabs");
  const context = await browser.newContext();
  const [first, second] = [await openTab(context, { locks, broadcast }), await openTab(context, { locks, broadcast })];
  assert.deepEqual(await login(first, { email, password: PASSWORD }), { value: { status: "ok" } });
  assert.equal(await second.evaluate(() => client.restore()), true);
  await Promise.all([first, second].map((page) => untilSecondsLeft(page, 0)));

  if (!locks) await holdTwoRefreshes(context);
  for (const page of [first, second]) page.answers.length = 0;
  await Promise.all([first, second].map((page) => page.evaluate(() => { refreshSpans.length = 0; })));
  assert.deepEqual(await fetchAtOnce([first, second]), [200, 200]);

  const answers = [...first.answers, ...second.answers];
  const refreshes = statuses(answers, "/api/token/refresh/").sort();
  if (locks) {
    // One refresh at a time: no refusal at all, and a second refresh only when no token was shared.
    assert.deepEqual(answers.filter((a) => a.status !== 200), []);
    assert.equal(await mostRefreshesAtOnce([first, second]), 1, "two refresh requests were under way at once");
    if (broadcast) assert.ok([1, 2].includes(refreshes.length), `${refreshes.length} refreshes`);
    else assert.deepEqual(refreshes, [200, 200]);
  } else {
    // The race lost within the grace window: 401 without revocation, then a retry with the new cookie.
    assert.equal(await mostRefreshesAtOnce([first, second]), 2);
    assert.deepEqual(refreshes, [200, 200, 401]);
    const refusals = await Promise.all(answers.filter((a) => a.status === 401).map((a) => a.detail));
    assert.deepEqual(refusals, ["Token is blacklisted"]);
    await context.unroute("**/api/token/refresh/");
  }
  await expectSessionAlive(first, second);
  return { context, first, second };
}

/** Logout in one tab signs every tab out; the session's tokens stop working at once. */
async function logOutEverywhere({ context, first, second }) {
  const access = await first.evaluate(() => client.accessToken);
  await first.evaluate(() => client.logout());
  await second.waitForFunction(() => !client.authenticated);
  for (const page of [first, second]) {
    assert.deepEqual(await page.evaluate(() => changes.slice(-1)), [false]);
    assert.equal((await me(page)).status, 401);
    assert.equal(await page.evaluate(() => client.restore()), false);
  }
  assert.equal((await api("/api/auth/me/", { token: access })).status, 401, "the session outlived the logout");
  assert.deepEqual((await context.cookies()).filter((c) => c.name === "latchkey_refresh"), []);
  await context.close();
}

/** Without an access token, logout revokes the cookie's session; the other tab's token dies with it. */
async function logOutWithCookie({ context, first, second }) {
  await second.evaluate(() => new LatchkeyClient({ lockName: "another" }).logout());
  assert.deepEqual((await context.cookies()).filter((c) => c.name === "latchkey_refresh"), []);
  assert.equal((await me(first)).status, 401);
  assert.equal(await first.evaluate(() => client.authenticated), false);
  await context.close();
}

async function secondFactor(browser) {
  const { email, access } = await register("mfa");
  const { secret, step, backupCodes } = await enrollTotp(access);
  const context = await browser.newContext();
  const page = await openTab(context);

  const challenge = await login(page, { email, password: PASSWORD });
  assert.equal(challenge.value?.status, "mfa_required", JSON.stringify(challenge));
  assert.deepEqual(challenge.value.methods, ["totp", "backup_code"]);
  assert.equal(await page.evaluate(() => client.authenticated), false);
  // The confirmation's step is spent (replay); the next step's code is accepted.
  const code = totpAtStep(secret, step + 1);
  await page.evaluate(([token, c]) => client.verifyMfa(token, c), [challenge.value.mfaToken, code]);
  assert.equal(await page.evaluate(() => decodeToken(client.accessToken).claims.mfa), true);
  assert.equal((await me(page)).body.mfa_enabled, true);
  await page.evaluate(() => client.logout());

  // In one step, with a backup code.
  assert.deepEqual(await login(page, { email, password: PASSWORD, otp: backupCodes[0] }), { value: { status: "ok" } });
  assert.equal((await me(page)).status, 200);
  await page.evaluate(() => client.logout());

  const again = await login(page, { email, password: PASSWORD });
  const near = [-1, 0, 1].map((d) => totpAtStep(secret, stepAt(nowSeconds()) + d));
  const wrong = ["000000", "111111", "222222"].find((c) => !near.includes(c));
  const refused = await page.evaluate(([token, c]) => outcome(client.verifyMfa(token, c)), [again.value.mfaToken, wrong]);
  assert.deepEqual(refused.error, { name: "LatchkeyError", message: "Invalid two-factor code.", status: 401, code: "mfa_invalid", latchkey: true });
  assert.equal(await page.evaluate(() => client.authenticated), false);
  await context.close();
}

/**
 * The README's example with its free variables defined by the page: a registered user with 2FA
 * (`askForCode` gives the authenticator's current code), `render` and `showError` recording their
 * calls. It must sign in (restore finds no cookie), read the user, and sign out.
 */
async function readmeRuns(browser) {
  const { email, access } = await register("readme");
  const { secret, step } = await enrollTotp(access);
  writeFileSync(join(demo, "readme-client.js"), readmeExample("client", ["client", "me"]));
  const context = await browser.newContext();
  const page = await openTab(context, { started: false });
  const result = await page.evaluate(async ({ email, password, code }) => {
    const calls = [];
    Object.assign(window, {
      email,
      password,
      render: (signedIn) => calls.push(["render", signedIn]),
      askForCode: async () => (calls.push(["askForCode"]), code),
      showError: (message) => calls.push(["showError", message]),
    });
    const { client, me } = await import("/readme-client.js");
    const after = await client.fetch("/api/auth/me/");
    return { calls, me, authenticated: client.authenticated, afterStatus: after.status };
  }, { email, password: PASSWORD, code: totpAtStep(secret, step + 1) });
  assert.deepEqual(result.calls, [["askForCode"], ["render", true], ["render", false]]);
  assert.equal(result.me.email, email);
  assert.equal(result.me.mfa_enabled, true);
  // `client.logout()` closed the example's session: signed out, the cookie gone, one session left
  // (the registration's, from Node).
  assert.equal(result.authenticated, false);
  assert.equal(result.afterStatus, 401);
  assert.deepEqual((await context.cookies()).filter((c) => c.name === "latchkey_refresh"), []);
  const open = await api("/api/auth/sessions/", { token: access });
  assert.deepEqual(open.body.map((s) => s.current), [true], JSON.stringify(open.body));
  await context.close();
}

const browser = await chromium.launch(CHROMIUM);
try {
  await signInAndUse(browser);
  await logOutEverywhere(await twoTabs(browser, { locks: true, broadcast: true }));
  console.log("chromium: LatchkeyClient two tabs refresh at once (Web Locks, BroadcastChannel) ... ok");
  console.log("chromium: LatchkeyClient logout signs every tab out ... ok");
  await logOutWithCookie(await twoTabs(browser, { locks: true, broadcast: false }));
  console.log("chromium: LatchkeyClient two tabs refresh at once (Web Locks only) ... ok");
  await logOutWithCookie(await twoTabs(browser, { locks: false, broadcast: false }));
  console.log("chromium: LatchkeyClient two tabs refresh at once (neither: a lost race retried) ... ok");
  await secondFactor(browser);
  console.log("chromium: LatchkeyClient second factor ... ok");
  await readmeRuns(browser);
  console.log("chromium: the README's client example runs ... ok");
  assert.deepEqual(errors, []);
} finally {
  await browser.close();
  server.kill();
}
