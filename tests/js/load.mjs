// Loading helpers for the Node tests: the Node build of the package and the shared vector files.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VECTOR_FILES } from "./checks.mjs";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(import.meta.url);

/** The `nodejs` target of the npm package, as built by scripts/build-wasm.sh. */
export function loadNode() {
  return require(`${ROOT}wasm/pkg/nodejs/latchkey.js`);
}

/** Every vector file, parsed, by name. */
export function loadVectors() {
  return Object.fromEntries(
    VECTOR_FILES.map((name) => [name, JSON.parse(readFileSync(`${ROOT}tests/vectors/${name}.json`, "utf8"))]),
  );
}
