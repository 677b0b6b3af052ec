// The cross-target checks: the same vectors from tests/vectors/, replayed through the npm package.
// Node (tests/js/*.test.mjs) and headless Chromium (tests/browser/) both run these functions, so both
// targets must give the answers the Rust tests check natively. Each check returns a list of failures.

/** Every vector file a check reads, relative to tests/vectors/. */
export const VECTOR_FILES = ["policy_django", "rfc6238", "rfc4226", "otpauth", "jwt", "parity"];

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

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

/** Every check, by the vector file it reads. */
export const CHECKS = { policy_django: policyDjango, rfc6238, rfc4226, otpauth };

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
