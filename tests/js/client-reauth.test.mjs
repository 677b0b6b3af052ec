// `LatchkeyClient`'s sudo mode in Node against a scripted fake server: a 403
// `reauthentication_required` asks the `onReauthenticate` hook, proves its answer to
// `POST /api/auth/reauthenticate/` and sends the request once more; cancelled or refused, the error
// surfaces; concurrent refusals share one question. Offline and fast; the real server is in
// tests/browser/client-reauth.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

const scratch = mkdtempSync(join(tmpdir(), "latchkey-client-reauth-"));
mkdirSync(join(scratch, "node_modules"));
symlinkSync(join(ROOT, "wasm", "pkg"), join(scratch, "node_modules", "latchkey"), "dir");
writeFileSync(join(scratch, "client.mjs"), 'export * from "latchkey/client";\n');
const { LatchkeyClient, LatchkeyError } = await import(join(scratch, "client.mjs"));

const BASE = "https://auth.example.com";
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
let serial = 0;

function token() {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { token_type: "access", exp: iat + 300, iat, jti: String((serial += 1)), user_id: "1" };
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
}

const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers });
const REQUIRED = { detail: "Please confirm it is you.", code: "reauthentication_required" };
const EXPIRES = "2030-01-01T00:00:00Z";
const SENSITIVE = "/api/auth/password/change/";

/**
 * A signed-in client of a fake server that refuses `SENSITIVE` with 403 `reauthentication_required`
 * until `/api/auth/reauthenticate/` accepted the password "pw" (or `reauth` answers otherwise).
 * `calls` records every request; `hook` answers with `answer` and counts its calls.
 */
async function setup({ answer = { password: "pw" }, reauth, sensitive, hook: ownHook, options = {} } = {}) {
  const calls = [];
  let proved = false;
  const access = token();
  const fetch = async (url, init = {}) => {
    const call = {
      path: new URL(url).pathname,
      method: init.method ?? "GET",
      authorization: new Headers(init.headers).get("Authorization"),
      body: init.body ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    if (call.path === "/api/token/") return json(200, { access });
    if (call.path === "/api/auth/reauthenticate/") {
      if (reauth) return reauth(call);
      if (call.body.password !== "pw") return json(400, { password: ["Incorrect password."] });
      proved = true;
      return json(200, { expires_at: EXPIRES });
    }
    if (call.path === SENSITIVE) return sensitive ? sensitive(call, proved) : proved ? json(200, { detail: "Saved." }) : json(403, REQUIRED);
    return json(200, {});
  };
  const asked = [];
  const hook = ownHook ?? (async (request) => {
    asked.push(request);
    return typeof answer === "function" ? answer(request) : answer;
  });
  const client = new LatchkeyClient({ baseUrl: BASE, fetch, lockName: `reauth-${(serial += 1)}`, onReauthenticate: hook, ...options });
  await client.login({ email: "ada@example.com", password: "pw" });
  calls.length = 0;
  return { client, calls, asked, access };
}

const post = (client, body = { new_password: "a new one" }) =>
  client.fetch(SENSITIVE, { method: "post", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const route = (calls) => calls.map((c) => `${c.method} ${c.path}`);
const rejection = (promise) => promise.then((value) => assert.fail(`resolved ${value?.status}`), (e) => e);

test("a 403 reauthentication_required asks the hook, proves it, and sends the request once more", async () => {
  const { client, calls, asked, access } = await setup();
  const response = await post(client);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { detail: "Saved." });
  assert.deepEqual(route(calls), [`post ${SENSITIVE}`, "POST /api/auth/reauthenticate/", `post ${SENSITIVE}`]);
  assert.deepEqual(calls[1].body, { password: "pw" });
  assert.equal(calls[1].authorization, `Bearer ${access}`, "the reauthentication is the session's");
  assert.deepEqual(calls[2].body, { new_password: "a new one" }, "the retried request lost its body");
  assert.equal(asked.length, 1);
  const [request] = asked;
  assert.deepEqual([request.method, request.url], ["POST", `${BASE}${SENSITIVE}`]);
  assert.ok(request.error instanceof LatchkeyError);
  assert.deepEqual([request.error.status, request.error.code, request.error.message], [403, "reauthentication_required", "Please confirm it is you."]);
  // The window is open now: no more questions.
  assert.equal((await post(client)).status, 200);
  assert.equal(asked.length, 1);
});

test("a code is sent as {code}", async () => {
  const reauth = (call) => (call.body.code === "123456" ? json(200, { expires_at: EXPIRES }) : json(400, { code: ["Invalid two-factor code."] }));
  let proved = 0;
  const sensitive = () => (proved++ === 0 ? json(403, REQUIRED) : json(200, {}));
  const { client, calls } = await setup({ answer: { code: "123456" }, reauth, sensitive });
  assert.equal((await post(client)).status, 200);
  assert.deepEqual(calls[1].body, { code: "123456" });
});

test("cancelled: the 403 surfaces as a LatchkeyError, and nothing else is sent", async () => {
  for (const answer of [() => null, () => undefined]) {
    const { client, calls, asked } = await setup({ answer });
    const error = await rejection(post(client));
    assert.ok(error instanceof LatchkeyError, `not a LatchkeyError: ${error}`);
    assert.deepEqual([error.status, error.code, error.message], [403, "reauthentication_required", "Please confirm it is you."]);
    assert.equal(asked.length, 1);
    assert.deepEqual(route(calls), [`post ${SENSITIVE}`]);
    assert.equal(client.authenticated, true, "cancelling signed the client out");
  }
});

test("a wrong password surfaces the reauthentication's error; the request is not sent again", async () => {
  const { client, calls } = await setup({ answer: { password: "wrong" } });
  const error = await rejection(post(client));
  assert.ok(error instanceof LatchkeyError);
  assert.deepEqual([error.status, error.code, error.message], [400, "reauthentication_failed", "Incorrect password."]);
  assert.deepEqual(error.body, { password: ["Incorrect password."] });
  assert.deepEqual(route(calls), [`post ${SENSITIVE}`, "POST /api/auth/reauthenticate/"]);
});

test("a throttled reauthentication surfaces with its code and Retry-After", async () => {
  const reauth = () => json(429, { detail: "Request was throttled. Expected available in 60 seconds.", code: "throttled" }, { "Retry-After": "60" });
  const { client } = await setup({ reauth });
  const error = await rejection(post(client));
  assert.deepEqual([error.status, error.code, error.retryAfter], [429, "throttled", 60]);
  assert.equal(error.message, "Request was throttled. Expected available in 60 seconds.");
});

test("concurrent refusals share one question and one reauthentication", async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const { client, calls, asked } = await setup({ answer: async () => (await held, { password: "pw" }) });
  const all = Promise.all([1, 2, 3].map(() => post(client)));
  // Let all three be refused while the user is still typing.
  await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  assert.deepEqual((await all).map((r) => r.status), [200, 200, 200]);
  assert.equal(asked.length, 1);
  assert.equal(calls.filter((c) => c.path === "/api/auth/reauthenticate/").length, 1);
  assert.equal(calls.filter((c) => c.path === SENSITIVE).length, 6);
});

test("a refusal that arrives after the question was answered uses that answer", async () => {
  // The second request's 403 is held until the first request was answered after the question.
  for (const answer of [{ password: "pw" }, null]) {
    let firstDone;
    const done = new Promise((resolve) => { firstDone = resolve; });
    let refused = 0;
    const sensitive = async (call, proved) => {
      if (call.body.n === 2 && refused++ === 0) {
        await done;
        return json(403, REQUIRED);
      }
      return proved ? json(200, { n: call.body.n }) : json(403, REQUIRED);
    };
    const { client, asked } = await setup({ answer, sensitive });
    const second = post(client, { n: 2 }).then((r) => r.status, (e) => e.code);
    const first = await post(client, { n: 1 }).then((r) => r.status, (e) => e.code);
    firstDone();
    assert.equal(await second, first, "the late refusal did not share the answer");
    assert.equal(asked.length, 1, `asked ${asked.length} times (answer ${JSON.stringify(answer)})`);
  }
});

test("a refusal that arrives after the application reauthenticated on its own is sent again at once", async () => {
  // The first request is refused, but its answer is held until `reauthenticate` succeeded.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let first = true;
  const sensitive = async (call, proved) => {
    if (first) {
      first = false;
      await held;
      return json(403, REQUIRED);
    }
    return proved ? json(200, {}) : json(403, REQUIRED);
  };
  const { client, asked, calls } = await setup({ sensitive });
  const pending = post(client);
  await client.reauthenticate({ password: "pw" });
  release();
  assert.equal((await pending).status, 200);
  assert.equal(asked.length, 0, "asked although the session had just proved it");
  assert.deepEqual(route(calls), [`post ${SENSITIVE}`, "POST /api/auth/reauthenticate/", `post ${SENSITIVE}`]);
});

test("refused again after reauthenticating: that answer is the response, no second question", async () => {
  const { client, calls, asked } = await setup({ sensitive: () => json(403, REQUIRED) });
  const response = await post(client);
  assert.equal(response.status, 403);
  assert.deepEqual(await response.json(), REQUIRED);
  assert.equal(asked.length, 1);
  assert.equal(calls.length, 3);
});

test("other 403s, and any 403 without a hook, are answers like any other", async () => {
  const denied = { detail: "You do not have permission to perform this action." };
  const { client, asked } = await setup({ sensitive: () => json(403, denied) });
  const response = await post(client);
  assert.deepEqual([response.status, await response.json()], [403, denied]);
  assert.equal(asked.length, 0);

  const bare = await setup({ options: { onReauthenticate: undefined } });
  const refusal = await post(bare.client);
  assert.deepEqual([refusal.status, await refusal.json()], [403, REQUIRED]);
  assert.deepEqual(route(bare.calls), [`post ${SENSITIVE}`]);
});

test("the hook's errors and bad answers reject the request", async () => {
  const failing = await setup({ hook: async () => { throw new Error("dialog broke"); } });
  await assert.rejects(post(failing.client), /dialog broke/);
  const odd = await setup({ answer: "pw" });
  await assert.rejects(post(odd.client), (e) => e instanceof TypeError && /must resolve \{password\}, \{code\}, \{passkey: true\}, or null/.test(e.message));
  assert.deepEqual(route(odd.calls), [`post ${SENSITIVE}`]);
  // After a failed question the next refusal asks again.
  const again = await setup({ answer: (() => { let n = 0; return () => (n++ === 0 ? null : { password: "pw" }); })() });
  await rejection(post(again.client));
  assert.equal((await post(again.client)).status, 200);
  assert.equal(again.asked.length, 2);
});

test("reauthenticate() on its own, and the option checked", async () => {
  const { client, calls } = await setup();
  assert.deepEqual(await client.reauthenticate({ password: "pw" }), { expiresAt: EXPIRES });
  assert.deepEqual(route(calls), ["POST /api/auth/reauthenticate/"]);
  const error = await rejection(client.reauthenticate({ password: "nope" }));
  assert.deepEqual([error.status, error.code, error.message], [400, "reauthentication_failed", "Incorrect password."]);
  await assert.rejects(client.reauthenticate({}), TypeError);
  assert.throws(() => new LatchkeyClient({ onReauthenticate: "ask" }), /onReauthenticate must be a function/);
});
