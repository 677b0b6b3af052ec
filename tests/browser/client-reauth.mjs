// `LatchkeyClient`'s sudo mode against the real `latchkey` binary, in headless Chromium. The server
// runs with a 2-second re-authentication window (`LATCHKEY_REAUTH_WINDOW=2s`): past it, a sensitive
// request answers 403 `reauthentication_required`, and the client's `onReauthenticate` hook is asked
// (once for concurrent requests), its answer proved to `POST /api/auth/reauthenticate/`, and the
// request sent once more. Cancelled, or with a wrong password, the error surfaces and the action is
// not done; a backup code works as well as the password; too many wrong answers surface the 429;
// and README.md's `<!-- example:reauth -->` block runs as written.
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { readmeExample, recordErrors, serverApi } from "./api-helpers.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const PASSWORD = "correct horse battery staple";
const WINDOW_MS = 2000;
const REQUIRED = { status: 403, code: "reauthentication_required", message: "Please confirm it is you." };

// The page: the package's web build, and a client whose hook answers from `hookAnswers` (after
// `hookDelay` ms, as a person typing) and records each question in `hookCalls`.
const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>LatchkeyClient sudo mode</title><script type="module" src="page.js"></script></head>
<body></body></html>
`;
const PAGE_JS = `import init from "./pkg/latchkey.js";
import { LatchkeyClient, LatchkeyError } from "./pkg/client.js";
await init();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
window.hookAnswers = [];
window.hookCalls = [];
window.hookDelay = 0;
window.client = new LatchkeyClient({
  onReauthenticate: async ({ method, url, error }) => {
    hookCalls.push({ method, path: new URL(url).pathname, status: error.status, code: error.code, message: error.message,
      latchkey: error instanceof LatchkeyError });
    await sleep(hookDelay);
    return hookAnswers.shift();
  },
});
/** \`client.fetch\` of JSON, as plain data: {status, body} or {error: {status, code, message, latchkey, retryAfter}}. */
window.call = (path, method = "GET", body) =>
  client.fetch(path, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }),
      (e) => ({ error: { name: e.name, status: e.status, code: e.code ?? null, message: e.message, latchkey: e instanceof LatchkeyError,
        retryAfter: e.retryAfter ?? null } }));
document.body.dataset.ready = "";
`;

const dir = mkdtempSync(join(tmpdir(), "latchkey-client-reauth-"));
cpSync(join(ROOT, "wasm/pkg/web"), join(dir, "pkg"), { recursive: true });
writeFileSync(join(dir, "index.html"), PAGE_HTML);
writeFileSync(join(dir, "page.js"), PAGE_JS);

const server = spawn(join(ROOT, "target/debug/latchkey"), [], {
  env: {
    ...process.env,
    LATCHKEY_BIND: "127.0.0.1:0",
    LATCHKEY_DEMO_DIR: dir,
    LATCHKEY_DATABASE_URL: `sqlite://${join(dir, "latchkey.db")}?mode=rwc`,
    LATCHKEY_SECRET_KEY: "reauth-test-secret-reauth-test-secret",
    LATCHKEY_ENCRYPTION_KEY: "reauth-test-encryption-key",
    LATCHKEY_EMAIL_BACKEND: "console",
    LATCHKEY_REAUTH_WINDOW: `${WINDOW_MS / 1000}s`,
    LATCHKEY_RATE_LIMITS: "off",
    LATCHKEY_LOG: "warn",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const firstLine = await new Promise((resolve) => createInterface({ input: server.stdout }).once("line", resolve));
const url = /^listening on (http:\/\/\S+)$/.exec(firstLine)?.[1];
assert.ok(url, `unexpected first line: ${firstLine}`);
const { api, register } = serverApi(url);
server.stdout.resume(); // The console mail backend writes here: keep it flowing.


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until the session's proof is older than the server's window (whole seconds, plus one). */
const pastWindow = () => sleep(WINDOW_MS + 1500);

const errors = [];

/** A fresh browser signed in as `email` (its login opens the window, which then passes). */
async function signedInPage(browser, email, { mfaCode } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  recordErrors(page, errors);
  page.answers = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/api/") && path !== "/api/token/" && path !== "/api/token/mfa/") page.answers.push(`${response.request().method()} ${path} ${response.status()}`);
  });
  await page.goto(`${url}/index.html`);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  const login = await page.evaluate((email) => client.login({ email, password: "correct horse battery staple" }), email);
  if (login.status === "mfa_required") await page.evaluate(([token, code]) => client.verifyMfa(token, code), [login.mfaToken, mfaCode]);
  assert.equal(await page.evaluate(() => client.authenticated), true);
  return page;
}

const keyNames = async (page) => (await page.evaluate(() => call("/api/auth/api-keys/"))).body.map((k) => k.name).sort();

/** Past the window: the hook is asked once, the password proved, the request sent again and done. */
async function reauthenticatesAndRetries(page) {
  // Within the window of the login: no question.
  assert.equal((await page.evaluate(() => call("/api/auth/api-keys/", "POST", { name: "fresh" }))).status, 201);
  assert.deepEqual(await page.evaluate(() => hookCalls), []);

  await pastWindow();
  page.answers.length = 0;
  const created = await page.evaluate(() => {
    hookAnswers.push({ password: "correct horse battery staple" });
    return call("/api/auth/api-keys/", "POST", { name: "after a while" });
  });
  assert.equal(created.status, 201, JSON.stringify(created));
  assert.match(created.body.key, /^lk_/);
  assert.deepEqual(await page.evaluate(() => hookCalls), [{ method: "POST", path: "/api/auth/api-keys/", ...REQUIRED, latchkey: true }]);
  assert.deepEqual(page.answers, ["POST /api/auth/api-keys/ 403", "POST /api/auth/reauthenticate/ 200", "POST /api/auth/api-keys/ 201"]);
  // The window is open again: the next sensitive request goes straight through.
  assert.equal((await page.evaluate(() => call("/api/auth/api-keys/", "POST", { name: "right after" }))).status, 201);
  assert.equal(await page.evaluate(() => hookCalls.length), 1);
  assert.deepEqual(await keyNames(page), ["after a while", "fresh", "right after"]);
}

/** The user cancels: the 403 surfaces as a LatchkeyError, nothing else is sent, no key is made. */
async function cancelled(page) {
  await pastWindow();
  await page.evaluate(() => { hookCalls.length = 0; });
  page.answers.length = 0;
  const outcome = await page.evaluate(() => {
    hookAnswers.push(null);
    return call("/api/auth/api-keys/", "POST", { name: "cancelled" });
  });
  assert.deepEqual(outcome, { error: { name: "LatchkeyError", ...REQUIRED, latchkey: true, retryAfter: null } });
  assert.equal(await page.evaluate(() => hookCalls.length), 1);
  assert.deepEqual(page.answers, ["POST /api/auth/api-keys/ 403"]);
  assert.ok(!(await keyNames(page)).includes("cancelled"));
  assert.equal(await page.evaluate(() => client.authenticated), true, "cancelling signed the client out");
}

/** A wrong password: the reauthentication's 400 surfaces, and the password is not changed. */
async function wrongPassword(page, email) {
  await pastWindow();
  await page.evaluate(() => { hookCalls.length = 0; });
  page.answers.length = 0;
  const outcome = await page.evaluate(() => {
    hookAnswers.push({ password: "not my password" });
    return call("/api/auth/password/change/", "POST", { new_password: "a brand new passphrase" });
  });
  assert.deepEqual(outcome, { error: {
    name: "LatchkeyError", status: 400, code: "reauthentication_failed", message: "Incorrect password.", latchkey: true, retryAfter: null,
  } });
  assert.equal(await page.evaluate(() => hookCalls.length), 1);
  assert.deepEqual(page.answers, ["POST /api/auth/password/change/ 403", "POST /api/auth/reauthenticate/ 400"]);
  const login = (password) => api("/api/token/", { method: "POST", body: { email, password } });
  assert.equal((await login("a brand new passphrase")).status, 401, "the password was changed");
  assert.equal((await login(PASSWORD)).status, 200);
}

/** Two sensitive requests at once, both refused: one question, one reauthentication, both done. */
async function concurrent(page) {
  await pastWindow();
  await page.evaluate(() => { hookCalls.length = 0; });
  page.answers.length = 0;
  const outcomes = await page.evaluate(() => {
    hookDelay = 500;
    hookAnswers.push({ password: "correct horse battery staple" }, { password: "correct horse battery staple" });
    return Promise.all(["twin one", "twin two"].map((name) => call("/api/auth/api-keys/", "POST", { name })));
  });
  assert.deepEqual(outcomes.map((o) => o.status), [201, 201], JSON.stringify(outcomes));
  assert.equal(await page.evaluate(() => hookCalls.length), 1, "the hook was asked once per request");
  assert.deepEqual(page.answers.filter((a) => a.includes("reauthenticate")), ["POST /api/auth/reauthenticate/ 200"]);
  assert.deepEqual(page.answers.filter((a) => a.includes("api-keys")).sort(),
    ["POST /api/auth/api-keys/ 201", "POST /api/auth/api-keys/ 201", "POST /api/auth/api-keys/ 403", "POST /api/auth/api-keys/ 403"]);
  const names = await keyNames(page);
  assert.ok(names.includes("twin one") && names.includes("twin two"), names.join(", "));
  await page.evaluate(() => { hookDelay = 0; hookAnswers.length = 0; });
}

/** An account with 2FA: a backup code answers the question as well as the password. */
async function backupCode(browser) {
  const { email, access } = await register("reauth-mfa");
  const device = await api("/api/auth/2fa/totp/", { method: "POST", token: access, body: { name: "Phone" } });
  assert.equal(device.status, 201, JSON.stringify(device.body));
  const step = stepAt(nowSeconds());
  const confirmed = await api(`/api/auth/2fa/totp/${device.body.id}/confirm/`, { method: "POST", token: access, body: { code: totpAtStep(device.body.secret, step) } });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  const [first, second] = confirmed.body.backup_codes;
  const page = await signedInPage(browser, email, { mfaCode: first });
  await pastWindow();
  page.answers.length = 0;
  const renewed = await page.evaluate((code) => {
    hookAnswers.push({ code });
    return call("/api/auth/2fa/backup-codes/", "POST", {});
  }, second);
  assert.equal(renewed.status, 200, JSON.stringify(renewed));
  assert.equal(renewed.body.backup_codes.length, 10);
  assert.deepEqual(page.answers, ["POST /api/auth/2fa/backup-codes/ 403", "POST /api/auth/reauthenticate/ 200", "POST /api/auth/2fa/backup-codes/ 200"]);
  await page.context().close();
}

/** Five wrong passwords, then the server's lockout: the 429 surfaces with its code and Retry-After. */
async function throttled(browser) {
  const { email } = await register("reauth-throttled");
  const page = await signedInPage(browser, email);
  await pastWindow();
  const outcomes = await page.evaluate(async () => {
    const results = [];
    for (let i = 0; i < 6; i += 1) {
      hookAnswers.push({ password: `wrong ${i}` });
      results.push((await call("/api/auth/api-keys/", "POST", { name: `try ${i}` })).error);
    }
    return results;
  });
  assert.deepEqual(outcomes.slice(0, 5).map((e) => [e.status, e.code]), Array(5).fill([400, "reauthentication_failed"]));
  const [status, code, retryAfter] = [outcomes[5].status, outcomes[5].code, outcomes[5].retryAfter];
  assert.deepEqual([status, code], [429, "throttled"], JSON.stringify(outcomes[5]));
  assert.ok(retryAfter > 0, `Retry-After ${retryAfter}`);
  assert.equal(await page.evaluate(() => hookCalls.length), 6);
  assert.deepEqual(await keyNames(page), []);
  await page.context().close();
}

/**
 * The README's example run as written, with its free variables defined by the page: past the window,
 * the password change asks `askForPassword` once and is saved; run again, cancelled, it changes nothing.
 */
async function readmeRuns(browser) {
  writeFileSync(join(dir, "readme-reauth.js"), readmeExample("reauth"));
  const { email } = await register("reauth-readme");
  const page = await signedInPage(browser, email);
  const run = (answer, newPassword, run) => page.evaluate(async ({ answer, newPassword, run }) => {
    const calls = [];
    Object.assign(window, {
      newPassword,
      askForPassword: async (prompt) => (calls.push(["askForPassword", prompt]), answer),
      showMessage: (message) => calls.push(["showMessage", message]),
    });
    await import(`/readme-reauth.js?run=${run}`);
    return calls;
  }, { answer, newPassword, run });
  await pastWindow();
  assert.deepEqual(await run(PASSWORD, "harbour lights at midnight", 1),
    [["askForPassword", "Please confirm it is you"], ["showMessage", "Your new password is saved."]]);
  const login = (password) => api("/api/token/", { method: "POST", body: { email, password } });
  assert.equal((await login("harbour lights at midnight")).status, 200, "the README's example did not change the password");
  await pastWindow();
  assert.deepEqual(await run(null, "never saved at all", 2),
    [["askForPassword", "Please confirm it is you"], ["showMessage", "Nothing was changed."]]);
  assert.equal((await login("never saved at all")).status, 401);
  await page.context().close();
}

const browser = await chromium.launch(CHROMIUM);
const started = Date.now();
try {
  const { email } = await register("reauth");
  const page = await signedInPage(browser, email);
  await reauthenticatesAndRetries(page);
  console.log("chromium: LatchkeyClient asks onReauthenticate once, reauthenticates and retries ... ok");
  await cancelled(page);
  console.log("chromium: LatchkeyClient cancelled reauthentication surfaces the 403 ... ok");
  await wrongPassword(page, email);
  console.log("chromium: LatchkeyClient wrong password surfaces the 400, nothing changed ... ok");
  await concurrent(page);
  console.log("chromium: LatchkeyClient two concurrent sensitive requests share one question ... ok");
  await page.context().close();
  await backupCode(browser);
  console.log("chromium: LatchkeyClient reauthenticates with a backup code ... ok");
  await throttled(browser);
  console.log("chromium: LatchkeyClient throttled reauthentication surfaces the 429 ... ok");
  await readmeRuns(browser);
  console.log("chromium: the README's onReauthenticate example runs ... ok");
  assert.deepEqual(errors, []);
  console.log(`client-reauth: ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
