// Writes wasm/pkg/package.json: the npm package `latchkey` with its three builds behind
// conditional exports (Node gets the CommonJS build, bundlers the bundler build, and
// `latchkey/web` is the ES module for a plain <script type="module">). Copies the hand-written
// `LatchkeyClient` (wasm/js/: `client.js` and the `client-*.js` modules it imports) into each build,
// beside the `latchkey.js` it imports: `latchkey/client` and `latchkey/web/client`. The Node build is
// CommonJS, so its copies are `.mjs` modules, importing each other as such.
import { readdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
const client = join(out, "..", "js");
const modules = readdirSync(client).filter((name) => /^client(-[\w-]+)?\.js$/.test(name));
for (const target of ["web", "bundler"]) {
  for (const name of modules) copyFileSync(join(client, name), join(out, target, name));
  copyFileSync(join(client, "client.d.ts"), join(out, target, "client.d.ts"));
}
for (const name of modules) {
  const source = readFileSync(join(client, name), "utf8").replace(/(["']\.\/client(?:-[\w-]+)?)\.js(["'])/g, "$1.mjs$2");
  writeFileSync(join(out, "nodejs", name.replace(/\.js$/, ".mjs")), source);
}
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
