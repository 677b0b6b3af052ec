// `LatchkeyClient`'s e-mailed sign-in codes in Node against a scripted fake server: what `requestLoginCode`
// sends and resolves (the flow, whatever the address), the code and the link's token traded in cookie mode
// for a session (`{status: "ok"}`, or `mfa_required` and then `verifyMfa`), and the refusals as
// `LatchkeyError`s: `attemptsLeft` counting down on 401 `code_invalid`, 404 with codes off, 429 with
// `retryAfter`. Offline and fast; the real server and the demo's pages are in tests/browser/demo-code.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

const scratch = mkdtempSync(join(tmpdir(), "latchkey-client-code-"));
mkdirSync(join(scratch, "node_modules"));
symlinkSync(join(ROOT, "wasm", "pkg"), join(scratch, "node_modules", "latchkey"), "dir");
writeFileSync(join(scratch, "client.mjs"), 'export * from "latchkey/client";\n');
const { LatchkeyClient, LatchkeyError } = await import(join(scratch, "client.mjs"));

const BASE = "https://auth.example.com";
const FLOW = "f".repeat(64);
const TOKEN = "t".repeat(64);
const SENT = "If the address is registered, a code has been sent.";
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
let serial = 0;

function token() {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { token_type: "access", exp: iat + 300, iat, jti: String((serial += 1)), user_id: "1" };
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
}

const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers });
const invalid = (left) => json(401, { detail: "The code is invalid or has expired.", code: "code_invalid", attempts_left: left });

/** A client of `handler(call)`; `calls` records what it sent. */
function setup(handler) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const call = {
      path: new URL(url).pathname,
      method: init.method ?? "GET",
      authorization: new Headers(init.headers).get("Authorization"),
      contentType: new Headers(init.headers).get("Content-Type"),
      credentials: init.credentials,
      body: init.body ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return handler(call, calls);
  };
  const client = new LatchkeyClient({ baseUrl: BASE, fetch, lockName: `code-${(serial += 1)}` });
  return { client, calls };
}

const rejection = (promise) => promise.then((value) => assert.fail(`resolved ${JSON.stringify(value)}`), (e) => e);

test("requestLoginCode: the address, anonymously; resolves the flow and the server's sentence", async () => {
  const { client, calls } = setup(() => json(200, { detail: SENT, flow_id: FLOW }));
  assert.deepEqual(await client.requestLoginCode("ada@example.com"), { flowId: FLOW, detail: SENT });
  assert.deepEqual(calls.map((c) => [c.method, c.path, c.body]), [["POST", "/api/auth/code/request/", { email: "ada@example.com" }]]);
  assert.equal(calls[0].authorization, null);
  assert.equal(calls[0].contentType, "application/json");
  assert.equal(calls[0].credentials, "include", "the server is on another origin than the page");
  assert.equal(client.authenticated, false, "asking signs nobody in");
});

test("requestLoginCode: refusals throw, and an answer without a flow is one", async () => {
  const answers = [
    json(400, { email: ["Enter a valid email address."] }),
    json(404, { detail: "Not found." }),
    json(429, { detail: "Request was throttled. Expected available in 120 seconds.", code: "throttled" }, { "Retry-After": "120" }),
    json(200, { detail: SENT }),
  ];
  const { client } = setup(() => answers.shift());
  const bad = await rejection(client.requestLoginCode("nope"));
  assert.ok(bad instanceof LatchkeyError);
  assert.deepEqual([bad.status, bad.message], [400, "Email: Enter a valid email address."]);
  assert.equal((await rejection(client.requestLoginCode("ada@example.com"))).status, 404, "codes are off");
  const throttled = await rejection(client.requestLoginCode("ada@example.com"));
  assert.deepEqual([throttled.status, throttled.code, throttled.retryAfter, throttled.attemptsLeft], [429, "throttled", 120, undefined]);
  assert.ok((await rejection(client.requestLoginCode("ada@example.com"))) instanceof LatchkeyError);
  assert.ok((await rejection(client.requestLoginCode(undefined))) instanceof TypeError);
});

test("signInWithCode: the flow and the code in cookie mode, then signed in like login", async () => {
  const access = token();
  const { client, calls } = setup(() => json(200, { access }));
  const changes = [];
  client.onChange((signedIn) => changes.push(signedIn));
  assert.deepEqual(await client.signInWithCode(FLOW, "012345", { org: "acme" }), { status: "ok" });
  assert.deepEqual(calls.map((c) => [c.method, c.path]), [["POST", "/api/token/code/"]]);
  assert.deepEqual(calls[0].body, { flow_id: FLOW, code: "012345", cookie: true, org: "acme" });
  assert.equal(calls[0].credentials, "include", "the refresh cookie comes back with the answer");
  assert.deepEqual([client.accessToken, changes], [access, [true]]);
});

test("signInWithLink: the link's flow and token; a two-factor account answers mfa_required, then verifyMfa", async () => {
  const { client, calls } = setup((call) => (call.path === "/api/token/code/"
    ? json(403, { detail: "Two-factor authentication required.", code: "mfa_required", mfa_token: "m1", methods: ["totp", "backup_code"] })
    : json(200, { access: token() })));
  assert.deepEqual(await client.signInWithLink(FLOW, TOKEN), { status: "mfa_required", mfaToken: "m1", methods: ["totp", "backup_code"] });
  assert.deepEqual(calls[0].body, { flow_id: FLOW, token: TOKEN, cookie: true });
  assert.equal(client.authenticated, false);
  await client.verifyMfa("m1", "123456");
  assert.deepEqual(calls[1].body, { mfa_token: "m1", code: "123456", cookie: true });
  assert.equal(client.authenticated, true);
});

test("a wrong code throws code_invalid with the tries left, down to 0", async () => {
  const answers = [4, 3, 2, 1, 0].map(invalid);
  const { client } = setup(() => answers.shift());
  for (const left of [4, 3, 2, 1, 0]) {
    const error = await rejection(client.signInWithCode(FLOW, "999999"));
    assert.ok(error instanceof LatchkeyError);
    assert.deepEqual([error.status, error.code, error.attemptsLeft], [401, "code_invalid", left]);
    assert.equal(error.message, "The code is invalid or has expired.");
  }
  assert.equal(client.authenticated, false);
});

test("other refusals carry no attemptsLeft; bad arguments reject with a TypeError before any request", async () => {
  const answers = [
    json(401, { detail: "No active account found with the given credentials" }),
    json(429, { detail: "Request was throttled. Expected available in 60 seconds.", code: "throttled" }, { "Retry-After": "60" }),
    json(401, { detail: "x", code: "code_invalid", attempts_left: "4" }),
  ];
  const { client, calls } = setup(() => answers.shift());
  const inactive = await rejection(client.signInWithCode(FLOW, "123456"));
  assert.deepEqual([inactive.status, inactive.code, inactive.attemptsLeft], [401, undefined, undefined]);
  const locked = await rejection(client.signInWithLink(FLOW, TOKEN));
  assert.deepEqual([locked.status, locked.retryAfter, locked.attemptsLeft], [429, 60, undefined]);
  assert.equal((await rejection(client.signInWithCode(FLOW, "123456"))).attemptsLeft, undefined, "only a whole number counts");
  assert.equal(calls.length, 3);
  for (const call of [() => client.signInWithCode(FLOW, 123456), () => client.signInWithCode("", "123456"), () => client.signInWithLink(FLOW)]) {
    assert.ok((await rejection(call())) instanceof TypeError);
  }
  assert.equal(calls.length, 3);
});
