// What the web demo's browser tests share: the real `latchkey` binary serving the demo with its
// mail written to files, pages that record their errors, waits that fail with what the page said,
// and the e-mailed links read back from the .eml files.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PASSWORD = "correct horse battery staple";

/**
 * Starts the server on a free port with the demo as scripts/run.sh prepares it (the page plus the
 * package's web build in pkg/), a fresh database, and mail as .eml files in `mail`. Request limits
 * are off but one: a second verification e-mail to one address within an hour is refused, so the
 * page's answer to a real 429 can be checked. `env` adds or overrides settings (e.g. a short
 * `LATCHKEY_REAUTH_WINDOW`). `host: "localhost"` serves it as `http://localhost:<port>` (its
 * `LATCHKEY_PUBLIC_URL`), as passkeys need: an IP address cannot be a WebAuthn relying party, so on the
 * default 127.0.0.1 the server has passkeys off. `files` (name → text) are written beside the demo's,
 * e.g. a test page. The database is a SQLite file, or with `LATCHKEY_BROWSER_DATABASE=postgres` a fresh
 * database on the PostgreSQL server of `LATCHKEY_TEST_POSTGRES_URL` (scripts/test.sh runs the passkey
 * scripts both ways). Resolves to `{url, mail, stop}`; `stop()` also removes the files and the database.
 */
export async function startServer(env = {}, { host = "127.0.0.1", files = {} } = {}) {
  const demo = mkdtempSync(join(tmpdir(), "latchkey-demo-"));
  cpSync(join(ROOT, "web-demo"), demo, { recursive: true });
  cpSync(join(ROOT, "wasm/pkg/web"), join(demo, "pkg"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(demo, name), text);
  const mail = join(demo, "mail");
  mkdirSync(mail);
  // The public URL names the port, so it is chosen first (a free one, closed again at once).
  const port = host === "127.0.0.1" ? 0 : await freePort();
  const database = freshDatabase(demo);
  const server = spawn(join(ROOT, "target/debug/latchkey"), [], {
    env: {
      ...process.env,
      LATCHKEY_BIND: `127.0.0.1:${port}`,
      ...(port !== 0 && { LATCHKEY_PUBLIC_URL: `http://${host}:${port}` }),
      LATCHKEY_DEMO_DIR: demo,
      LATCHKEY_DATABASE_URL: database.url,
      LATCHKEY_SECRET_KEY: "demo-test-secret-demo-test-secret-demo",
      LATCHKEY_ENCRYPTION_KEY: "demo-test-encryption-key",
      LATCHKEY_EMAIL_BACKEND: `file:${mail}`,
      LATCHKEY_RATE_LIMITS: "resend:email=1/1h",
      LATCHKEY_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const firstLine = await new Promise((resolve) => createInterface({ input: server.stdout }).once("line", resolve));
  const listening = /^listening on (http:\/\/\S+)$/.exec(firstLine)?.[1];
  assert.ok(listening, `unexpected first line: ${firstLine}`);
  const url = port === 0 ? listening : `http://${host}:${port}`;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  const stop = async () => {
    server.kill();
    await exited;
    database.drop();
    rmSync(demo, { recursive: true, force: true });
  };
  return { url, mail: new Mailbox(mail, url), stop };
}

/**
 * The database of one server: a SQLite file in `dir`, or a new PostgreSQL database (named
 * `latchkey_test_…`, which scripts/postgres.sh drops if a run leaves one behind) created and dropped
 * with `psql`. `{url, drop}`.
 */
function freshDatabase(dir) {
  if (process.env.LATCHKEY_BROWSER_DATABASE !== "postgres") {
    return { url: `sqlite://${join(dir, "latchkey.db")}?mode=rwc`, drop() {} };
  }
  const admin = process.env.LATCHKEY_TEST_POSTGRES_URL;
  assert.ok(admin, "LATCHKEY_BROWSER_DATABASE=postgres needs LATCHKEY_TEST_POSTGRES_URL (scripts/test.sh sets it)");
  const name = `latchkey_test_browser_${randomBytes(6).toString("hex")}`;
  execFileSync("psql", [admin, "-qc", `CREATE DATABASE ${name}`]);
  return {
    url: `${admin.slice(0, admin.lastIndexOf("/"))}/${name}`,
    drop: () => execFileSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]),
  };
}

/** A TCP port nothing listens on at the moment, on the loopback address. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A page that records uncaught errors and console errors (a CSP violation is one). */
export async function openPage(context) {
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

/** Opens `address` and waits for the page's script to be ready. */
export async function load(page, address) {
  await page.goto(address);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
}

/** Waits for `selector` to be shown; on timeout, fails with what the page said in `status`. */
export async function expectShown(page, selector, status) {
  try {
    await page.waitForSelector(selector, { state: "visible" });
  } catch {
    assert.fail(`${selector} was not shown; ${status} says: ${JSON.stringify(await page.textContent(status))}`);
  }
}

/**
 * Clicks `button` and resolves to the API's answer to the request it sends (POST unless told). The
 * passkey options the page asks for by itself on load (for the autofill) are not a click's answer.
 */
export async function post(page, button, method = "POST") {
  const answer = page.waitForResponse((r) => {
    const path = new URL(r.url()).pathname;
    return r.request().method() === method && path.startsWith("/api/") && path !== "/api/token/passkey/options/";
  });
  await page.click(button);
  return answer;
}

/** Waits until `selector`'s text matches `pattern`, so assertions see the page's answer, not its previous one. */
export async function textMatching(page, selector, pattern) {
  try {
    await page.waitForFunction(([s, p, f]) => new RegExp(p, f).test(document.querySelector(s)?.textContent ?? ""),
      [selector, pattern.source, pattern.flags]);
  } catch {
    assert.fail(`${selector} says ${JSON.stringify(await page.textContent(selector))}, expected ${pattern}`);
  }
}

/** Creates an account through the page; it is signed in, without 2FA. */
export async function register(page, email) {
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.fill("#password-confirm", PASSWORD);
  await page.click("#register");
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  assert.equal(await page.textContent("#mfa-enabled"), "Off");
  await expectShown(page, "#twofa-panel", "#twofa-status");
}

/** Signs in through the page (no second factor) and waits for the signed-in cards. */
export async function signIn(page, email, password) {
  await page.fill("#email", email);
  await page.fill("#password", password);
  assert.equal((await post(page, "#sign-in")).status(), 200);
  await expectShown(page, "#signed-in", "#account-status");
  assert.equal(await page.textContent("#who"), email);
  await expectShown(page, "#sessions li", "#sessions-status");
}

/** The page's answer to a 429: `Retry-After` in words. */
export const THROTTLED = /^Too many attempts\. Try again in \d+ (seconds?|minutes?|hours?)\.$/;

/** The .eml files the server's `file:` mail backend writes, read as a person's mailbox. */
class Mailbox {
  constructor(dir, url) {
    this.dir = dir;
    this.url = url;
    this.read = new Set();
  }

  /**
   * Waits for an unread message to `to` whose subject matches, and returns the link to `page` in
   * it, pointed at the test server (the e-mail names `LATCHKEY_PUBLIC_URL`, unknown before the
   * server chose its port). `query` is the pattern of the link's query string.
   */
  async link(to, subject, page, query = "uid=[\\w-]+&token=[\\w-]+") {
    for (let waited = 0; waited < 10_000; waited += 100) {
      for (const name of readdirSync(this.dir).filter((n) => n.endsWith(".eml") && !this.read.has(n)).sort()) {
        const message = parseMessage(readFileSync(join(this.dir, name), "utf8"));
        if (message.to !== to || !subject.test(message.subject)) continue;
        this.read.add(name);
        const found = new RegExp(`https?://\\S+?/${page}\\?${query}`).exec(message.text)?.[0];
        assert.ok(found, `no /${page} link in:\n${message.text}`);
        const link = new URL(found);
        return `${this.url}${link.pathname}${link.search}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return assert.fail(`no message to ${to} matching ${subject} in ${this.dir}`);
  }
}

/** The `To`, `Subject` and text part of an RFC 5322 message (multipart, quoted-printable). */
export function parseMessage(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = Object.fromEntries(head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/).map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  }));
  const body = rest.join("\n\n");
  const boundary = /boundary="?([^";]+)"?/.exec(headers["content-type"] ?? "")?.[1];
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [`Content-Type: text/plain\n\n${body}`];
  const text = parts.map((part) => part.replace(/^\r?\n/, "")).find((part) => /^content-type:\s*text\/plain/im.test(part));
  assert.ok(text, "the message has no text/plain part");
  const [partHead, ...partBody] = text.split(/\r?\n\r?\n/);
  const content = partBody.join("\n\n");
  return {
    to: headers.to,
    subject: headers.subject,
    text: /quoted-printable/i.test(partHead) ? decodeQuotedPrintable(content) : content,
  };
}

/** RFC 2045 quoted-printable: soft line breaks go, `=XX` is a byte; the bytes are UTF-8. */
export function decodeQuotedPrintable(text) {
  const bytes = text.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

assert.equal(decodeQuotedPrintable("a=3Db=\r\nc =C3=A9"), "a=bc é");
