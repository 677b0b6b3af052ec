// The JavaScript example in README.md runs as written, importing the package by its npm name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

test("the README's JavaScript example runs", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const example = /<!-- example:js -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, "README.md has no <!-- example:js --> block");
  // A scratch project where `import ... from "latchkey"` resolves to the freshly built package.
  const dir = mkdtempSync(join(tmpdir(), "latchkey-readme-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(ROOT, "wasm", "pkg"), join(dir, "node_modules", "latchkey"), "dir");
  writeFileSync(join(dir, "example.mjs"), example);
  const output = execFileSync(process.execPath, [join(dir, "example.mjs")], { encoding: "utf8" });
  assert.match(output, /^ok$/m);
});
