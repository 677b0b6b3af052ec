// `LatchkeyClient` and 2FA enforcement in Node against a scripted fake server: a login whose access token
// says `mfa_enrollment_required` resolves `{status: "ok", mfaEnrollmentRequired: true}` and the client's
// `mfaEnrollmentRequired` says so until a refresh brings a token without the claim; a refused request is a
// `LatchkeyError` with `code === MFA_ENROLLMENT_REQUIRED`, an organization's refusal one with
// `MFA_REQUIRED_BY_ORG`. Offline and fast; the real server and the demo are in tests/browser/demo-enforce.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

const scratch = mkdtempSync(join(tmpdir(), "latchkey-client-enforce-"));
mkdirSync(join(scratch, "node_modules"));
symlinkSync(join(ROOT, "wasm", "pkg"), join(scratch, "node_modules", "latchkey"), "dir");
writeFileSync(join(scratch, "client.mjs"), 'export * from "latchkey/client";\n');
const { LatchkeyClient, LatchkeyError, MFA_ENROLLMENT_REQUIRED, MFA_REQUIRED_BY_ORG } = await import(join(scratch, "client.mjs"));

const BASE = "https://auth.example.com";
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
let serial = 0;

function token(extra = {}) {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { token_type: "access", exp: iat + 300, iat, jti: String((serial += 1)), user_id: "1", mfa: false, ...extra };
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
}

const json = (status, body) => new Response(JSON.stringify(body), { status });
const ENROLL = { detail: "Set up two-factor authentication to continue.", code: "mfa_enrollment_required" };
const BY_ORG = { detail: "This organization requires two-factor authentication. Set it up, then sign in to the organization.", code: "mfa_required_by_org" };

function setup(handler) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const call = { path: new URL(url).pathname, method: init.method ?? "GET", authorization: new Headers(init.headers).get("Authorization") };
    calls.push(call);
    return handler(call, calls);
  };
  return { client: new LatchkeyClient({ baseUrl: BASE, fetch, lockName: `enforce-${(serial += 1)}` }), calls };
}

test("the codes are exported under their names", () => {
  assert.equal(MFA_ENROLLMENT_REQUIRED, "mfa_enrollment_required");
  assert.equal(MFA_REQUIRED_BY_ORG, "mfa_required_by_org");
});

test("a login whose token carries the claim says so, and requests are refused with the code until the refresh", async () => {
  let enrolled = false;
  const { client, calls } = setup((call) => {
    if (call.path === "/api/token/") return json(200, { access: token({ mfa_enrollment_required: true }) });
    if (call.path === "/api/token/refresh/") return json(200, { access: token(enrolled ? { mfa: true } : { mfa_enrollment_required: true }) });
    if (call.path === "/api/auth/2fa/totp/1/confirm/") {
      enrolled = true;
      return json(200, { backup_codes: ["a", "b"] });
    }
    if (call.path === "/api/auth/me/") return json(200, { email: "ann@example.com", mfa_enabled: enrolled });
    return enrolled ? json(200, []) : json(403, ENROLL);
  });
  assert.equal(client.mfaEnrollmentRequired, false, "signed out");
  assert.deepEqual(await client.login({ email: "ann@example.com", password: "pw" }), { status: "ok", mfaEnrollmentRequired: true });
  assert.equal(client.mfaEnrollmentRequired, true);
  const refused = await client.fetch("/api/orgs/");
  assert.equal(refused.status, 403);
  const me = await client.fetch("/api/auth/me/");
  assert.equal(me.status, 200);
  // The refresh while still un-enrolled keeps the claim; after the confirmation it is gone.
  assert.equal(await client.refresh(), true);
  assert.equal(client.mfaEnrollmentRequired, true);
  const confirmed = await client.fetch("/api/auth/2fa/totp/1/confirm/", { method: "POST", body: "{}" });
  assert.equal(confirmed.status, 200);
  assert.equal(await client.refresh(), true);
  assert.equal(client.mfaEnrollmentRequired, false);
  assert.equal((await client.fetch("/api/orgs/")).status, 200);
  assert.ok(calls.every((c) => c.path === "/api/token/" || c.path === "/api/token/refresh/" || c.authorization?.startsWith("Bearer ")));
});

test("a login without the claim resolves as before", async () => {
  const { client } = setup(() => json(200, { access: token() }));
  assert.deepEqual(await client.login({ email: "ann@example.com", password: "pw" }), { status: "ok" });
  assert.equal(client.mfaEnrollmentRequired, false);
});

test("an organization's refusal at login is a LatchkeyError with its code", async () => {
  const { client } = setup(() => json(403, BY_ORG));
  const error = await client.login({ email: "ann@example.com", password: "pw" }).then(() => assert.fail("resolved"), (e) => e);
  assert.ok(error instanceof LatchkeyError);
  assert.deepEqual([error.status, error.code, error.message], [403, MFA_REQUIRED_BY_ORG, BY_ORG.detail]);
  assert.equal(client.authenticated, false);
});
