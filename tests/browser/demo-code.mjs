// The web demo's e-mailed sign-in codes and links, served by the real `latchkey` binary, in headless
// Chromium, reading the messages the file mail backend writes: "E-mail me a code" and the code typed in
// (a wrong one first: the tries left are said), which also verifies the address; the same sentence for an
// address without an account; the link's page, which a scanner fetches (a plain GET) and a browser opens
// without pressing anything, and nothing is spent, then the user's browser signs in by pressing "Sign in",
// and the spent link says so; five wrong codes end the sign-in; and an account with 2FA that finishes with
// its authenticator. Run by scripts/test.sh on SQLite, and with LATCHKEY_BROWSER_DATABASE=postgres on
// PostgreSQL. Needs target/debug/latchkey (cargo build), wasm/pkg/web (scripts/build-wasm.sh) and
// tools/node_modules.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";
import { expectShown, load, openPage, parseMessage, post, ROOT, startServer, textMatching } from "./demo-helpers.mjs";
import { serverApi } from "./api-helpers.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";

const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");
const SUBJECT = "Your sign-in code";
const SENT = /^Check your e-mail: type the code here, or open the link in it\.$/;

mkdirSync(join(ROOT, "target"), { recursive: true });
const started = Date.now();
const server = await startServer();
const { url } = server;
const { register, enrollTotp } = serverApi(url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for an unread sign-in message to `to`, and resolves what it holds: `{code, flow, token, link}`,
 * the link pointed at the test server (the message names `LATCHKEY_PUBLIC_URL`).
 */
async function codeMail(to) {
  const { dir, read } = server.mail;
  for (let waited = 0; waited < 10_000; waited += 100) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".eml") && !read.has(n)).sort()) {
      const message = parseMessage(readFileSync(join(dir, name), "utf8"));
      if (message.to !== to || message.subject !== SUBJECT) continue;
      read.add(name);
      const code = /^\s*(\d{6})\s*$/m.exec(message.text)?.[1];
      const link = /https?:\/\/\S+?\/login\/code\?flow=([0-9a-f]{64})&token=([0-9a-f]{64})/.exec(message.text);
      assert.ok(code && link, `no code or link in:\n${message.text}`);
      const address = new URL(link[0]);
      return { code, flow: link[1], token: link[2], link: `${url}${address.pathname}${address.search}` };
    }
    await sleep(100);
  }
  return assert.fail(`no sign-in message to ${to}`);
}

/** A code that is not `code`. */
const wrongFor = (code) => (code === "000000" ? "111111" : "000000");

async function newTab(browser, address = url) {
  const page = await openPage(await browser.newContext());
  await load(page, address);
  return page;
}

/** "E-mail me a code" for `email`: the code form, and the server's answer. */
async function askForCode(page, email) {
  await page.fill("#email", email);
  const answer = await post(page, "#code-request");
  assert.equal(answer.url(), `${url}/api/auth/code/request/`);
  assert.equal(answer.status(), 200);
  await expectShown(page, "#code-form", "#account-status");
  await textMatching(page, "#account-status", SENT);
  return answer.json();
}

async function expectSignedIn(page, email) {
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  await expectShown(page, "#sessions li", "#sessions-status");
}

/** Types `code` and presses "Sign in": the server's answer. */
async function typeCode(page, code) {
  await page.fill("#login-code", code);
  return post(page, "#code-submit");
}

/** The code from the e-mail signs in (after a wrong one), and proves the address. */
async function byCode(browser) {
  const { email } = await register("code");
  const page = await newTab(browser);
  const asked = await askForCode(page, email);
  const mail = await codeMail(email);
  assert.equal(mail.flow, asked.flow_id, "the message is for the sign-in the page asked for");
  assert.match(await page.textContent("#code-explain"), new RegExp(`^If the address is registered, a code has been sent\\. It is for ${email.replace(".", "\\.")}, and works for 10 minutes\\.$`));
  assert.equal((await typeCode(page, wrongFor(mail.code))).status(), 401);
  await textMatching(page, "#account-status", /^Wrong code: 4 tries left\.$/);
  assert.equal(await page.getAttribute("#login-code", "aria-invalid"), "true");
  assert.equal((await typeCode(page, ` ${mail.code.slice(0, 3)} ${mail.code.slice(3)} `)).status(), 200);
  await expectSignedIn(page, email);
  assert.equal(await page.textContent("#verified"), "Verified", "a code proves the address");
  const methods = await page.$$eval("#sessions li", (items) => items.map((li) => li.textContent));
  assert.ok(methods.some((text) => /code/i.test(text)), `the session says how it signed in: ${methods}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

/** An address without an account: the same form and sentences, and no message. */
async function unknownAddress(browser) {
  const page = await newTab(browser);
  const asked = await askForCode(page, `nobody-${Date.now()}@example.com`);
  assert.deepEqual(Object.keys(asked).sort(), ["detail", "flow_id"]);
  assert.match(await page.textContent("#code-explain"), /^If the address is registered, a code has been sent\. /);
  await page.screenshot({ path: join(ROOT, "target/demo-code.png") });
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

/** The link: fetched by a scanner, opened without a press, then pressed; then spent. */
async function byLink(browser) {
  const { email } = await register("link");
  const asking = await newTab(browser);
  await askForCode(asking, email);
  await asking.context().close();
  const mail = await codeMail(email);
  // A mail scanner fetches the link: the page, and nothing else.
  for (let n = 0; n < 3; n += 1) {
    const scanned = await fetch(mail.link, { redirect: "manual" });
    assert.equal(scanned.status, 200);
    assert.match(await scanned.text(), /<script type="module" src="\/app\.js"><\/script>/);
  }
  // A browser (a preview, a security gateway running scripts) opens it and presses nothing.
  const preview = await newTab(browser, mail.link);
  await expectShown(preview, "#code-link-form", "#account-status");
  assert.equal(new URL(preview.url()).pathname + new URL(preview.url()).search, "/", "the token stays in the address bar");
  await sleep(1000);
  assert.ok(await preview.isHidden("#signed-in"), "the link's page signed in by itself");
  assert.deepEqual(preview.errors, []);
  await preview.context().close();
  // The user's browser: the button signs in, once.
  const page = await newTab(browser, mail.link);
  await expectShown(page, "#code-link-form", "#account-status");
  assert.ok(await page.isHidden("#auth-form"));
  const answer = await post(page, "#code-link-submit");
  assert.equal(answer.status(), 200, "the scanner or the preview spent the link");
  await expectSignedIn(page, email);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  const again = await newTab(browser, mail.link);
  await expectShown(again, "#code-link-form", "#account-status");
  assert.equal((await post(again, "#code-link-submit")).status(), 401);
  await textMatching(again, "#account-status", /^This link has expired or was already used\. Ask for a new code\.$/);
  await expectShown(again, "#auth-form", "#account-status");
  await again.context().close();
}

/** Five wrong codes: the tries count down, then the sign-in is over, even for the right code. */
async function fiveWrongCodes(browser) {
  const { email } = await register("wrong");
  const page = await newTab(browser);
  await askForCode(page, email);
  const mail = await codeMail(email);
  const wrong = wrongFor(mail.code);
  for (const left of [4, 3, 2, 1]) {
    assert.equal((await typeCode(page, wrong)).status(), 401);
    await textMatching(page, "#account-status", new RegExp(`^Wrong code: ${left} tr(y|ies) left\\.$`));
  }
  const last = await typeCode(page, wrong);
  assert.deepEqual([last.status(), (await last.json()).attempts_left], [401, 0]);
  await textMatching(page, "#account-status", /^This code can no longer be used\. Send a new code\.$/);
  assert.ok(await page.isDisabled("#code-submit"), "the dead sign-in can still be tried from the page");
  // The right code, straight to the server: the flow is dead (or the account's lockout answers first).
  const late = await fetch(`${url}/api/token/code/`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ flow_id: mail.flow, code: mail.code }),
  });
  const body = await late.json();
  assert.ok((late.status === 401 && body.attempts_left === 0) || late.status === 429, `${late.status} ${JSON.stringify(body)}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

/** An account with 2FA: the code, then the authenticator's code. */
async function withSecondFactor(browser) {
  const { email, access } = await register("twofa");
  const { secret, step } = await enrollTotp(access);
  const page = await newTab(browser);
  await askForCode(page, email);
  const mail = await codeMail(email);
  assert.equal((await typeCode(page, mail.code)).status(), 403);
  await expectShown(page, "#mfa-form", "#account-status");
  await page.fill("#mfa-code", totpAtStep(secret, Math.max(step + 1, stepAt(nowSeconds()))));
  assert.equal((await post(page, "#mfa-submit")).status(), 200);
  await expectSignedIn(page, email);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

const browser = await chromium.launch(CHROMIUM);
try {
  await byCode(browser);
  console.log("chromium: web demo sign-in with an e-mailed code ... ok");
  await unknownAddress(browser);
  console.log("chromium: web demo code for an unknown address (same answer) ... ok");
  await byLink(browser);
  console.log("chromium: web demo e-mailed link (fetched and opened spend nothing; the button signs in once) ... ok");
  await fiveWrongCodes(browser);
  console.log("chromium: web demo five wrong codes end the sign-in ... ok");
  await withSecondFactor(browser);
  console.log("chromium: web demo code then second factor ... ok");
} finally {
  await browser.close();
  await server.stop();
}
console.log(`demo-code: ${((Date.now() - started) / 1000).toFixed(1)} s`);
