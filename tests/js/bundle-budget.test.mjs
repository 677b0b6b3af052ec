// The npm bundle budget: what a front-end ships from the package's `web` build (the .wasm, the
// wasm-bindgen JavaScript glue and the LatchkeyClient module), gzipped, must fit in 200 KB.
// Gzip is node:zlib at level 9, as `node bench/npm.mjs` measures it (its "gzip -9" figures).
// Needs the package built by scripts/build-wasm.sh; a missing build fails, it is not skipped.
// LATCHKEY_BUNDLE_BUDGET_BYTES lowers the budget (to see the test fail); it cannot raise it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "./load.mjs";

/** The budget: 200 KB, where 1 KB = 1024 bytes. The one place this number lives. */
const BUDGET_BYTES = 200 * 1024; // 204,800 bytes
const GZIP_LEVEL = 9;

const PKG = join(ROOT, "wasm", "pkg");
const fmt = (n) => n.toLocaleString("en-US");

function budget() {
  const raw = process.env.LATCHKEY_BUNDLE_BUDGET_BYTES;
  if (raw === undefined || raw === "") return BUDGET_BYTES;
  assert.match(raw, /^[1-9][0-9]*$/, `LATCHKEY_BUNDLE_BUDGET_BYTES must be a positive whole number of bytes, not ${JSON.stringify(raw)}`);
  // It can only tighten the budget: the gate cannot be loosened from the environment.
  assert.ok(Number(raw) <= BUDGET_BYTES, `LATCHKEY_BUNDLE_BUDGET_BYTES=${raw} is above the budget of ${BUDGET_BYTES} bytes; it can only lower it`);
  return Number(raw);
}

/** Every file under `dir`, recursively, as paths relative to the package root. */
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [relative(PKG, path)];
  });
}

/**
 * The web build's WebAssembly and its glue: what the package's `files` lists under `web/`
 * (wasm/pkg/package.json, written by scripts/package-json.mjs; the per-target package.json files
 * are removed by scripts/build-wasm.sh), less TypeScript declarations, package.json, READMEs and
 * `client.js` with its `client-*.js` modules. The budget is the core's (wasm + glue), as bench/npm.mjs
 * reports it; `LatchkeyClient` is plain JavaScript a front-end may leave out or minify, and is not counted.
 */
function shippedWebFiles() {
  const manifest = join(PKG, "package.json");
  const missing = `run scripts/build-wasm.sh first (the test command builds it before the Node tests)`;
  assert.ok(existsSync(manifest), `the npm package is not built: ${manifest} is missing; ${missing}`);
  const { files } = JSON.parse(readFileSync(manifest, "utf8"));
  assert.ok(Array.isArray(files), `${manifest} has no "files" list`);
  const entries = files.filter((f) => f === "web" || f.startsWith("web/"));
  assert.ok(entries.length > 0, `${manifest} "files" lists nothing under web/: ${JSON.stringify(files)}`);
  const shipped = entries.flatMap((entry) => {
    const path = join(PKG, entry);
    assert.ok(existsSync(path), `the web build is missing: ${path} does not exist; ${missing}`);
    return statSync(path).isDirectory() ? walk(path) : [relative(PKG, path)];
  });
  const kept = shipped
    .filter((f) => !f.endsWith(".d.ts") && !/(^|\/)(package\.json|README[^/]*|client(-[\w-]+)?\.js)$/i.test(f))
    .sort();
  for (const needed of ["web/latchkey_bg.wasm", "web/latchkey.js"]) {
    assert.ok(kept.includes(needed), `the web build is incomplete: wasm/pkg/${needed} is missing; ${missing}`);
  }
  return kept;
}

test("bundle budget: the web build (wasm + glue), gzip -9, fits in 200 KB", (t) => {
  const limit = budget();
  const sizes = shippedWebFiles().map((file) => {
    const bytes = readFileSync(join(PKG, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: GZIP_LEVEL }).length };
  });
  const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
  const raw = sizes.reduce((sum, s) => sum + s.raw, 0);
  const width = Math.max(...sizes.map((s) => s.file.length));
  const lines = [
    ...sizes.map((s) => `  wasm/pkg/${s.file.padEnd(width)}  ${fmt(s.gzip).padStart(9)} B gzip  (${fmt(s.raw)} B raw)`),
    `  ${"total".padEnd(width + 9)}  ${fmt(total).padStart(9)} B gzip  (${fmt(raw)} B raw)`,
  ];
  const budgetText = limit === BUDGET_BYTES
    ? `200 KB (200 × 1024 = ${fmt(BUDGET_BYTES)} bytes)`
    : `${fmt(limit)} bytes (from LATCHKEY_BUNDLE_BUDGET_BYTES; the real budget is 200 KB = 200 × 1024 = ${fmt(BUDGET_BYTES)} bytes)`;
  assert.ok(
    total <= limit,
    `the npm web build is over its budget: ${fmt(total)} B gzip (level ${GZIP_LEVEL}) > ${budgetText}, ` +
      `over by ${fmt(total - limit)} B\n${lines.join("\n")}`,
  );
  for (const line of lines) t.diagnostic(line);
  t.diagnostic(`budget: ${budgetText}; ${fmt(limit - total)} B to spare`);
});
