// The cross-target checks: the same vectors from tests/vectors/, replayed through the npm package.
// Node (tests/js/*.test.mjs) and headless Chromium (tests/browser/) both run these functions, so both
// targets must give the answers the Rust tests check natively. Each check returns a list of failures.

/** Every vector file a check reads, relative to tests/vectors/. */
export const VECTOR_FILES = ["policy_django", "rfc6238", "rfc4226", "otpauth", "jwt", "parity"];

/** JSON text with object keys sorted, so that key order does not matter when comparing. */
const canonical = (v) => JSON.stringify(v, (_, x) =>
  x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x);
const same = (a, b) => canonical(a) === canonical(b);

/** Django 5.2's verdicts (gen_policy.py) through validatePassword with Django's four rules only. */
export function policyDjango(lib, data) {
  const failures = [];
  for (const c of data.cases) {
    const policy = { min_length: c.min_length, max_length_bytes: 1_000_000, min_score: 0 };
    const got = lib.validatePassword(c.password, c.user, policy).violations;
    if (!same(got, c.violations)) {
      failures.push(`${JSON.stringify(c.password)}: got ${JSON.stringify(got)}, Django says ${JSON.stringify(c.violations)}`);
    }
  }
  if (data.cases.length < 500) failures.push(`only ${data.cases.length} cases`);
  return failures;
}

/** RFC 6238 Appendix B: every row, SHA1/SHA256/SHA512, 8 digits. */
export function rfc6238(lib, data) {
  const failures = [];
  for (const c of data.cases) {
    const options = { algorithm: c.algorithm, digits: c.digits, period: c.period };
    const code = lib.totpCode(c.secret, c.time, options);
    if (code !== c.totp) failures.push(`${c.algorithm} t=${c.time}: got ${code}, want ${c.totp}`);
    const verdict = lib.verifyTotp(c.secret, c.totp, c.time, options);
    if (!verdict.valid || verdict.step !== c.step) failures.push(`verify ${c.algorithm} t=${c.time}: ${JSON.stringify(verdict)}`);
  }
  return failures;
}

/** RFC 4226 Appendix D: HOTP is TOTP with a one-second period at time = counter. */
export function rfc4226(lib, data) {
  return data.cases
    .map((c) => [c, lib.totpCode(c.secret, c.counter, { period: 1, digits: data.digits, algorithm: data.algorithm })])
    .filter(([c, code]) => code !== c.hotp)
    .map(([c, code]) => `counter ${c.counter}: got ${code}, want ${c.hotp}`);
}

/** otpauth URIs: build exactly, parse exactly, refuse what must be refused with an Error. */
export function otpauth(lib, data) {
  const failures = [];
  for (const c of data.build) {
    const { secret, issuer, account, params } = c.input;
    const uri = lib.totpUri({ secret, issuer, account, ...params });
    if (uri !== c.uri) failures.push(`build ${c.name}: got ${uri}`);
  }
  for (const c of data.parse) {
    const got = lib.parseOtpauthUri(c.uri);
    const want = { secret: c.expected.secret, issuer: c.expected.issuer, account: c.expected.account, ...c.expected.params };
    if (!same(got, want)) failures.push(`parse ${c.name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  for (const c of [...data.parse_reject, ...data.build_reject]) {
    try {
      if (c.uri !== undefined) lib.parseOtpauthUri(c.uri);
      else {
        const { params, ...rest } = c.input;
        lib.totpUri({ ...rest, ...params });
      }
      failures.push(`accepted: ${c.name}`);
    } catch (e) {
      if (!(e instanceof Error) || e.message.length < 8) failures.push(`${c.name}: threw ${e}`);
    }
  }
  return failures;
}

/** JWT decoding without verification: the claims, seconds left, and the exact error messages. */
export function jwt(lib, data) {
  const failures = [];
  for (const t of data.tokens) {
    if (t.decode === "ok") {
      const { claims } = lib.decodeToken(t.token);
      // The vectors hold verified claims, where user_id is always a string; decoding keeps it raw.
      if (claims.user_id !== undefined) claims.user_id = String(claims.user_id);
      if (t.claims && !same(claims, t.claims)) failures.push(`${t.name}: claims ${JSON.stringify(claims)}`);
      if (t.seconds_left !== null && t.seconds_left !== undefined) {
        const left = lib.tokenSecondsLeft(t.token, t.now);
        if (left !== t.seconds_left) failures.push(`${t.name}: ${left} seconds left, want ${t.seconds_left}`);
      }
    } else {
      try {
        lib.decodeToken(t.token);
        failures.push(`${t.name}: decoded`);
      } catch (e) {
        if (!(e instanceof Error) || e.message !== t.decode) failures.push(`${t.name}: threw ${JSON.stringify(e.message)}`);
      }
    }
  }
  return failures;
}

/** The native answers (core/tests/parity.rs) for the default policy and the strength estimate. */
export function parity(lib, data) {
  const failures = [];
  const policyFingerprint = lib.defaultPolicy().fingerprint;
  if (policyFingerprint !== data.policy.fingerprint) failures.push(`default policy fingerprint ${policyFingerprint}`);
  for (const c of data.cases) {
    const validation = lib.validatePassword(c.password, c.user);
    if (!same(validation, c.validation)) {
      failures.push(`validate ${JSON.stringify(c.password)}: ${JSON.stringify(validation)} != ${JSON.stringify(c.validation)}`);
    }
    const { guessesLog10, ...strength } = lib.passwordStrength(c.password, c.user_inputs);
    const { guessesLog10: want, ...wantStrength } = c.strength;
    // log10 and pow may differ in the last bit between the platform's libm and wasm's; nothing else may.
    if (!same(strength, wantStrength) || Math.abs(guessesLog10 - want) > 1e-9) {
      failures.push(`strength ${JSON.stringify(c.password)}: ${JSON.stringify({ guessesLog10, ...strength })}`);
    }
  }
  return failures;
}

/** Every check, by the vector file it reads. */
export const CHECKS = { policy_django: policyDjango, rfc6238, rfc4226, otpauth, jwt, parity };

/** Runs every check on `lib` with `vectors` (file name to parsed JSON): `{check: failures}`. */
export function runAll(lib, vectors) {
  const results = {};
  for (const [name, check] of Object.entries(CHECKS)) {
    try {
      results[name] = check(lib, vectors[name]);
    } catch (e) {
      results[name] = [`threw: ${e && e.stack ? e.stack : e}`];
    }
  }
  return results;
}
