// The npm package as a Vite user meets it: tests/vite is an app that depends on wasm/pkg
// (`"latchkey": "file:../../wasm/pkg"`), imports it by name and is built by `vite build`; the
// result is served as static files and run in headless Chromium, which must compute the known
// answers. Installs the pinned Vite with `npm ci` when node_modules is missing or older than the
// lockfile. Needs wasm/pkg (scripts/build-wasm.sh) and Chromium (scripts/setup.sh).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { CHROMIUM } from "../browser/chromium.mjs";
import { serveStatic } from "../browser/serve.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const APP = join(ROOT, "tests/vite");
const PKG = join(ROOT, "wasm/pkg");
const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");

/** Runs a command in the app's directory; its output goes to ours; fails the test when it fails. */
function run(command, args) {
  const started = Date.now();
  const { status, error } = spawnSync(command, args, { cwd: APP, stdio: ["ignore", "inherit", "inherit"] });
  assert.ok(!error && status === 0, `${command} ${args.join(" ")} failed: ${error?.message ?? `exit status ${status}`}`);
  return (Date.now() - started) / 1000;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -1);

// scripts/build-wasm.sh deletes wasm/pkg and writes it again: wait until a complete package has
// stood still for a few seconds, so a concurrent build does not make this test flaky.
async function waitForPackage() {
  const files = ["package.json", "bundler/latchkey.js", "bundler/latchkey_bg.js", "bundler/latchkey_bg.wasm",
                 "nodejs/latchkey.js", "nodejs/latchkey_bg.wasm"].map((f) => join(PKG, f));
  for (let waited = 0; waited < 600; waited += 2) {
    const newest = Math.max(...files.map(mtime));
    if (files.every(existsSync) && Date.now() - newest > 3000) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  assert.fail(`${PKG} is missing or still being written: run ./scripts/build-wasm.sh first`);
}

await waitForPackage();

// npm ci writes node_modules/.package-lock.json: missing, or older than package-lock.json, means stale.
const installed = join(APP, "node_modules/.package-lock.json");
if (mtime(installed) < mtime(join(APP, "package-lock.json")) || !existsSync(join(APP, "node_modules/latchkey"))) {
  // No install scripts: the only one (esbuild's) checks the binary its platform package ships.
  const seconds = run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"]);
  console.log(`vite: npm ci in ${seconds.toFixed(1)} s`);
}
run(join(APP, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"]);

// What the page must compute: RFC 6238's first SHA-1 vector, the README's verdicts, and the same
// policy fingerprint as the package's Node build.
const { defaultPolicy } = createRequire(import.meta.url)(join(PKG, "nodejs/latchkey.js"));
const expected = {
  totp: "287082",
  weakValid: false,
  weakCodes: ["password_too_similar", "password_too_short", "password_too_weak"],
  strongValid: true,
  fingerprint: defaultPolicy().fingerprint,
};

const server = await serveStatic(join(APP, "dist"));
const browser = await chromium.launch(CHROMIUM);
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()}`));
  const wasm = page.waitForResponse((r) => r.url().endsWith(".wasm"));
  await page.goto(`${server.url}/index.html`);
  const wasmResponse = await wasm;
  assert.equal(wasmResponse.status(), 200);
  assert.equal(wasmResponse.headers()["content-type"], "application/wasm");
  await page.waitForSelector("body[data-result], body[data-error]", { state: "attached", timeout: 10_000 });
  assert.equal(await page.getAttribute("body", "data-error"), null);
  assert.deepEqual(JSON.parse(await page.getAttribute("body", "data-result")), expected);
  assert.deepEqual(errors, []);
  console.log("chromium: latchkey imported by a Vite app (vite build, vite-plugin-wasm) ... ok");
} finally {
  await browser.close();
  server.close();
}
