// Bad input from JavaScript: every function throws an Error with a message a person can read, and
// never panics (a wasm panic would surface as a RuntimeError "unreachable" and poison the module).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNode } from "./load.mjs";

const lib = loadNode();
const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const huge = "x".repeat(1 << 20);

const BAD_CALLS = [
  ["validatePassword", [123], /password must be a string/],
  ["validatePassword", [undefined], /password must be a string/],
  ["validatePassword", ["pw", "alice"], /user must be an object/],
  ["validatePassword", ["pw", { email: 5 }], /invalid user/],
  ["validatePassword", ["pw", null, { min_lenght: 3 }], /invalid policy.*min_lenght/],
  ["validatePassword", ["pw", null, { max_similarity: 0.01 }], /max_similarity/],
  ["validatePassword", ["pw", null, { min_score: 7 }], /min_score/],
  ["passwordStrength", [null], /password must be a string/],
  ["passwordStrength", [huge], /at most 4096 bytes/],
  ["passwordStrength", ["pw", "alice"], /userInputs must be an array of strings/],
  ["passwordStrength", ["pw", ["ok", 3]], /userInputs\[1\] must be a string/],
  ["totpUri", ["otpauth"], /options must be an object, got string/],
  ["totpUri", [], /expects an object/],
  ["totpUri", [{ secret: SECRET, issuer: "X" }], /missing field `account`/],
  ["totpUri", [{ secret: "not base32!", issuer: "X", account: "a" }], /base32|secret/i],
  ["totpUri", [{ secret: SECRET, issuer: "X", account: "a", digits: 7 }], /digits/],
  ["parseOtpauthUri", [""], /./],
  ["parseOtpauthUri", ["https://example.com/"], /otpauth/i],
  ["parseOtpauthUri", ["otpauth://totp/X:a?issuer=X"], /secret/i],
  ["parseOtpauthUri", [`otpauth://totp/X:a?secret=${huge}`], /long|2048|bytes/i],
  ["parseOtpauthUri", [42], /uri must be a string/],
  ["totpQrSvg", [huge], /./],
  ["totpCode", ["!!!!", 0], /base32|secret/i],
  ["totpCode", [SECRET, -1], /non-negative/],
  ["totpCode", [SECRET, Number.NaN], /non-negative/],
  ["totpCode", [SECRET, "59"], /number of Unix seconds/],
  ["totpCode", [SECRET, 59, { algorithm: "MD5" }], /algorithm/i],
  ["totpCode", [SECRET, 59, { period: 0 }], /period/i],
  ["totpCode", [SECRET, 59, { digitz: 8 }], /unknown field/],
  ["verifyTotp", [SECRET, 123456, 59], /code must be a string/],
  ["verifyTotp", [SECRET, "123456", 59, { window: 50 }], /window/],
  ["decodeToken", [""], /./],
  ["decodeToken", ["a.b"], /./],
  ["decodeToken", ["a.b.c.d"], /./],
  ["decodeToken", ["!!!.e30.sig"], /./],
  ["decodeToken", [huge], /./],
  ["decodeToken", [{}], /jwt must be a string/],
  ["tokenSecondsLeft", ["nonsense", 0], /./],
  ["normalizeBackupCode", ["not a code at all"], /./],
  ["normalizeBackupCode", [huge], /./],
];

for (const [name, args, pattern] of BAD_CALLS) {
  const shown = JSON.stringify(args, (_, v) => (typeof v === "string" && v.length > 40 ? `${v.slice(0, 20)}…(${v.length})` : v));
  test(`${name}(${shown}) throws a readable Error`, () => {
    assert.throws(
      () => lib[name](...args),
      (e) => {
        assert.ok(e instanceof Error, `not an Error: ${e}`);
        assert.ok(!/unreachable|panicked|RuntimeError/.test(`${e.name} ${e.message}`), `a panic: ${e.message}`);
        assert.match(e.message, pattern);
        return true;
      },
    );
  });
}

test("the module still works after every bad call (no panic poisoned it)", () => {
  assert.equal(lib.totpCode(SECRET, 59), "287082");
  assert.equal(lib.validatePassword("correct horse battery staple").valid, true);
});
