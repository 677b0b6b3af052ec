// The shared vectors through the Node build of the npm package (wasm/pkg/nodejs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNode, loadVectors } from "./load.mjs";
import { CHECKS } from "./checks.mjs";

const lib = loadNode();
const vectors = loadVectors();

for (const [name, check] of Object.entries(CHECKS)) {
  test(`vectors: ${name}`, () => {
    const failures = check(lib, vectors[name]);
    assert.deepEqual(failures, [], `${failures.length} failures:\n${failures.slice(0, 20).join("\n")}`);
  });
}
