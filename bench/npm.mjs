// Reports the npm package's size (what a page loads: web build .wasm + JS glue, raw and gzip -9) and
// the median time of validatePassword for a 16-character password in Node.
// Run after scripts/build-wasm.sh:  node bench/npm.mjs
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const web = ["wasm/pkg/web/latchkey_bg.wasm", "wasm/pkg/web/latchkey.js"];
let raw = 0, gz = 0;
for (const file of web) {
  const bytes = readFileSync(`${ROOT}${file}`);
  const zipped = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gz += zipped;
  console.log(`${file}: ${bytes.length} B raw, ${zipped} B gzip`);
}
console.log(`page load (web .wasm + glue): ${raw} B raw, ${gz} B gzip (${(gz / 1024).toFixed(1)} KiB)`);

const lib = createRequire(import.meta.url)(`${ROOT}wasm/pkg/nodejs/latchkey.js`);
const passwords = ["Tr0ub4dor&3xyzw!", "correcthorsebatt", "qwertyuiop123456", "Jd8#kq!Lm2@pXz9v"];
const user = { email: "alice@example.com", username: "alice" };
lib.validatePassword(passwords[0], user); // first call builds the dictionaries once
for (const password of passwords) {
  const samples = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    lib.validatePassword(password, user);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const median = samples[samples.length >> 1];
  const p99 = samples[Math.floor(samples.length * 0.99)];
  console.log(`validatePassword(${JSON.stringify(password)}): median ${(median * 1000).toFixed(1)} µs, p99 ${(p99 * 1000).toFixed(1)} µs`);
}
