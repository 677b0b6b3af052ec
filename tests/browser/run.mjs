// Replays the shared vectors through the web build of the npm package in Debian's headless Chromium
// (driven by playwright-core, which never downloads a browser of its own).
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { serveStatic } from "./serve.mjs";
import { CHROMIUM } from "./chromium.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { chromium } = createRequire(`${ROOT}tools/`)("playwright-core");

const server = await serveStatic(ROOT);
const browser = await chromium.launch(CHROMIUM);
let failed = 0;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => { console.error(`page error: ${e.message}`); failed++; });
  await page.goto(`${server.url}/tests/browser/index.html`);
  await page.waitForSelector("body[data-done]", { timeout: 60_000 });
  const results = JSON.parse(await page.textContent("#results"));
  for (const [name, failures] of Object.entries(results)) {
    const status = failures.length === 0 ? "ok" : `FAILED (${failures.length})`;
    console.log(`chromium: ${name} ... ${status}`);
    for (const f of failures.slice(0, 20)) console.log(`    ${f}`);
    failed += failures.length;
  }
} finally {
  await browser.close();
  server.close();
}
if (failed) {
  console.error(`${failed} failures in Chromium`);
  process.exit(1);
}
