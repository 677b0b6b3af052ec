// The web demo, served by the real `latchkey` binary, in headless Chromium: live password verdicts
// and TOTP enrollment work with the npm package's web build, as a user would see them.
// Needs target/debug/latchkey (cargo build) and wasm/pkg/web (scripts/build-wasm.sh).
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");

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
    LATCHKEY_LOG: "warn",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const firstLine = await new Promise((resolve) => createInterface({ input: server.stdout }).once("line", resolve));
const url = /^listening on (http:\/\/\S+)$/.exec(firstLine)?.[1];
assert.ok(url, `unexpected first line: ${firstLine}`);

const browser = await chromium.launch(CHROMIUM);
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready]");
  assert.match(await page.textContent("#fingerprint"), /^[0-9a-f]{16}$/);

  await page.fill("#password", "alice2024");
  const codes = await page.$$eval("#violations li", (items) => items.map((li) => li.dataset.code));
  assert.deepEqual(codes, ["password_too_similar", "password_too_short", "password_too_weak"]);
  assert.equal(await page.getAttribute("#verdict", "class"), "bad");

  await page.fill("#password", "correct horse battery staple");
  assert.equal(await page.getAttribute("#verdict", "class"), "ok");
  assert.equal(await page.$$eval("#violations li", (items) => items.length), 0);

  await page.click("#enroll");
  assert.ok(await page.$("#qr svg"), "no QR code");
  const code = await page.textContent("#code");
  assert.match(code, /^\d{6}$/);
  await page.fill("#otp", code);
  assert.match(await page.textContent("#otp-result"), /^Code accepted/);
  assert.deepEqual(errors, []);
  console.log("chromium: web demo ... ok");
} finally {
  await browser.close();
  server.kill();
}
