// Random input never panics the module: each call returns or throws a JavaScript Error, and the
// module keeps working afterwards. Seeded, so a failure reproduces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNode } from "./load.mjs";

const lib = loadNode();

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const PIECES = ["a", "Z", "0", "9", "@", ".", "-", " ", "\t", "é", "İ", "Σ", "ß", "ﬁ", "١", "²", "½", "😀", "\u0301",
  "\u200b", "\ud800", "%", "%3A", ":", "=", "?", "&", "otpauth://totp/", "secret=", "issuer=", "eyJ", "e30", "_", "\u0000"];

function randomString(next) {
  const length = Math.floor(next() * 60);
  let out = "";
  for (let i = 0; i < length; i++) out += PIECES[Math.floor(next() * PIECES.length)];
  return out;
}

const CALLS = [
  (s) => lib.validatePassword(s, { email: s.slice(0, 20), username: s.slice(3) }),
  (s) => lib.passwordStrength(s, [s.slice(1, 8)]),
  (s) => lib.parseOtpauthUri(s),
  (s) => lib.totpQrSvg(s),
  (s) => lib.decodeToken(s),
  (s) => lib.tokenSecondsLeft(`${s}.${s}.${s}`, 0),
  (s) => lib.normalizeBackupCode(s),
  (s) => lib.verifyTotp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", s, 59),
  (s) => lib.totpCode(s, 59),
];

test("2,000 random inputs: results or Errors, never a panic", () => {
  const next = rng(20261122);
  for (let i = 0; i < 2000; i++) {
    const input = randomString(next);
    const call = CALLS[i % CALLS.length];
    try {
      call(input);
    } catch (e) {
      assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), `call ${i % CALLS.length} on ${JSON.stringify(input)}: ${e}`);
    }
  }
  assert.equal(lib.totpCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59), "287082");
});
