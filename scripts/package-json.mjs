// Writes wasm/pkg/package.json: the npm package `latchkey` with its three builds behind
// conditional exports (Node gets the CommonJS build, bundlers the bundler build, and
// `latchkey/web` is the ES module for a plain <script type="module">). Copies the hand-written
// `LatchkeyClient` (wasm/js/) into each build, beside the `latchkey.js` it imports: `latchkey/client`
// and `latchkey/web/client`. The Node build is CommonJS, so its copy is an `.mjs` module.
import { readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
const client = join(out, "..", "js");
for (const target of ["web", "bundler"]) {
  copyFileSync(join(client, "client.js"), join(out, target, "client.js"));
  copyFileSync(join(client, "client.d.ts"), join(out, target, "client.d.ts"));
}
copyFileSync(join(client, "client.js"), join(out, "nodejs", "client.mjs"));
const cargo = readFileSync(join(out, "..", "..", "Cargo.toml"), "utf8");
const version = /^version = "([^"]+)"/m.exec(cargo)?.[1] ?? "0.0.0";
const pkg = {
  name: "latchkey",
  version,
  description: "Latchkey's auth rules in the browser and Node: password policy and strength, TOTP, tokens. The server's exact verdicts.",
  license: "MIT OR Apache-2.0",
  files: ["web/", "bundler/", "nodejs/", "README.md"],
  types: "./web/latchkey.d.ts",
  main: "./nodejs/latchkey.js",
  module: "./bundler/latchkey.js",
  sideEffects: ["./bundler/latchkey.js", "./bundler/snippets/*"],
  exports: {
    ".": {
      types: "./bundler/latchkey.d.ts",
      node: "./nodejs/latchkey.js",
      default: "./bundler/latchkey.js",
    },
    "./client": {
      types: "./bundler/client.d.ts",
      node: "./nodejs/client.mjs",
      default: "./bundler/client.js",
    },
    "./web": { types: "./web/latchkey.d.ts", default: "./web/latchkey.js" },
    "./web/client": { types: "./web/client.d.ts", default: "./web/client.js" },
    "./web/latchkey_bg.wasm": "./web/latchkey_bg.wasm",
    "./bundler": { types: "./bundler/latchkey.d.ts", default: "./bundler/latchkey.js" },
    "./nodejs": { types: "./nodejs/latchkey.d.ts", default: "./nodejs/latchkey.js" },
  },
};
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
copyFileSync(join(out, "..", "README.md"), join(out, "README.md"));
console.log(`wrote ${join(out, "package.json")} (latchkey ${version})`);
