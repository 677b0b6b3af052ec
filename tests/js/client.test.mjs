// `LatchkeyClient` (latchkey/client) in Node against a scripted fake server: what it sends, how it
// reads the server's answers, when it refreshes, and that it refreshes once for many callers.
// Offline and fast; the real server and two browser tabs are in tests/browser/client.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

// Imported by its npm name, so the package's `exports` map is what resolves `latchkey/client`.
const scratch = mkdtempSync(join(tmpdir(), "latchkey-client-"));
mkdirSync(join(scratch, "node_modules"));
symlinkSync(join(ROOT, "wasm", "pkg"), join(scratch, "node_modules", "latchkey"), "dir");
writeFileSync(join(scratch, "client.mjs"), 'export * from "latchkey/client";\n');
const { LatchkeyClient, LatchkeyError } = await import(join(scratch, "client.mjs"));

const BASE = "https://auth.example.com";
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
let serial = 0;

/** An access token (unsigned: the client never checks signatures) expiring in `left` seconds. */
function token({ left = 300, lifetime = 300, serverClock = now() } = {}) {
  const exp = serverClock + left;
  const claims = { token_type: "access", exp, iat: exp - lifetime, jti: String((serial += 1)), user_id: "1" };
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
}

const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers });

/** A client whose requests go to `handler(call)`; `calls` records them. Own lock and channel name. */
function setup(handler, options = {}) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const call = {
      path: new URL(url).pathname,
      method: init.method ?? "GET",
      headers: new Headers(init.headers),
      body: init.body ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    return handler(call, calls);
  };
  const client = new LatchkeyClient({ baseUrl: `${BASE}/`, fetch, lockName: `test-${(serial += 1)}`, ...options });
  const changes = [];
  client.onChange((signedIn) => changes.push(signedIn));
  return { client, calls, changes };
}

const paths = (calls) => calls.map((c) => c.path);

test("login uses cookie mode and keeps the access token in memory", async () => {
  const access = token();
  const { client, calls, changes } = setup(() => json(200, { access }));
  assert.deepEqual(await client.login({ email: "ada@example.com", password: "pw" }), { status: "ok" });
  assert.equal(client.accessToken, access);
  assert.equal(client.authenticated, true);
  assert.deepEqual(changes, [true]);
  const [call] = calls;
  assert.equal(call.path, "/api/token/");
  assert.deepEqual(call.body, { email: "ada@example.com", password: "pw", cookie: true });
  assert.equal(call.headers.get("Content-Type"), "application/json");
  assert.equal(call.credentials, "include", "a cross-origin baseUrl must send and receive the cookie");
});

test("a second factor: mfa_required, then verifyMfa", async () => {
  const access = token();
  const { client, calls } = setup((call) =>
    call.path === "/api/token/"
      ? json(403, { detail: "Two-factor authentication required.", code: "mfa_required", mfa_token: "m1", methods: ["totp", "backup_code"] })
      : json(200, { access }),
  );
  const answer = await client.login({ username: "ada", password: "pw" });
  assert.deepEqual(answer, { status: "mfa_required", mfaToken: "m1", methods: ["totp", "backup_code"] });
  assert.equal(client.authenticated, false);
  await client.verifyMfa("m1", "123456");
  assert.deepEqual(calls[1].body, { mfa_token: "m1", code: "123456", cookie: true });
  assert.equal(client.accessToken, access);
});

test("refusals are LatchkeyErrors with the server's message, code, body and Retry-After", async () => {
  const answers = [
    json(401, { detail: "No active account found with the given credentials" }),
    json(403, { detail: "Your password has expired.", code: "password_expired", password_change_token: "pc" }),
    json(429, { detail: "Request was throttled. Expected available in 7 seconds.", code: "throttled" }, { "Retry-After": "7" }),
    json(400, { password: ["This field is required."], non_field_errors: ["Unable to log in."] }),
    json(400, { code: ["Invalid two-factor code."] }),
    new Response("<h1>Bad Gateway</h1>", { status: 502, statusText: "Bad Gateway" }),
  ];
  const { client } = setup(() => answers.shift());
  const refusal = async () => {
    const error = await client.login({ email: "ada@example.com", password: "pw" }).then(() => null, (e) => e);
    assert.ok(error instanceof LatchkeyError && error instanceof Error, `not a LatchkeyError: ${error}`);
    assert.equal(error.name, "LatchkeyError");
    return error;
  };
  let error = await refusal();
  assert.deepEqual([error.message, error.status, error.code], ["No active account found with the given credentials", 401, undefined]);
  error = await refusal();
  assert.deepEqual([error.status, error.code, error.body.password_change_token], [403, "password_expired", "pc"]);
  error = await refusal();
  assert.deepEqual([error.status, error.code, error.retryAfter], [429, "throttled", 7]);
  assert.equal(error.message, "Request was throttled. Expected available in 7 seconds.");
  error = await refusal();
  assert.equal(error.message, "Password: This field is required. Unable to log in.");
  error = await refusal();
  assert.deepEqual([error.message, error.code], ["Code: Invalid two-factor code.", undefined]);
  error = await refusal();
  assert.equal(error.message, "The server answered 502 Bad Gateway.");
  assert.equal(client.authenticated, false);
});

/** A server with one refresh cookie: `/api/token/refresh/` hands out `tokens` in turn. */
function withSession(tokens, me = () => json(200, { id: 1 })) {
  return (call, calls) => {
    if (call.path === "/api/token/") return json(200, { access: tokens.shift() });
    if (call.path === "/api/token/refresh/") return json(200, { access: tokens.shift() });
    return me(call, calls);
  };
}

test("fetch sends the bearer token to baseUrl's paths", async () => {
  const access = token();
  const { client, calls } = setup(withSession([access]));
  await client.login({ email: "ada@example.com", password: "pw" });
  const response = await client.fetch("/api/auth/me/", { headers: { Accept: "application/json" } });
  assert.equal(response.status, 200);
  assert.equal(calls[1].path, "/api/auth/me/");
  assert.equal(calls[1].headers.get("Authorization"), `Bearer ${access}`);
  assert.equal(calls[1].headers.get("Accept"), "application/json");
});

/** Runs `body` with the browser's clock `seconds` later, as if that much time had passed. */
async function later(seconds, body) {
  const realNow = Date.now;
  Date.now = () => realNow() + seconds * 1000;
  try {
    return await body();
  } finally {
    Date.now = realNow;
  }
}

test("a token about to expire is refreshed first, once for all concurrent requests", async () => {
  const [old, fresh] = [token({ left: 60, lifetime: 60 }), token()];
  const { client, calls } = setup(withSession([old, fresh]));
  await client.login({ email: "ada@example.com", password: "pw" });
  // 45 s on, 15 s are left: within the default 30 s margin.
  const answers = await later(45, () => Promise.all([1, 2, 3].map(() => client.fetch("/api/auth/me/"))));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
  assert.deepEqual(paths(calls), ["/api/token/", "/api/token/refresh/", "/api/auth/me/", "/api/auth/me/", "/api/auth/me/"]);
  assert.deepEqual(calls[1].body, {}, "the refresh token is the cookie's, never the body's");
  assert.ok(calls.slice(2).every((c) => c.headers.get("Authorization") === `Bearer ${fresh}`));
});

test("the margin is at most half the token's lifetime, and measured on the server's clock", async () => {
  // 4-second tokens with the default 30 s margin: refreshed at 2 s left, not before every request.
  const short = token({ left: 4, lifetime: 4 });
  // A browser clock ten minutes ahead: by its reckoning this token expired five minutes ago.
  const skewed = token({ left: 300, serverClock: now() - 600 });
  for (const access of [short, skewed]) {
    const { client, calls } = setup(withSession([access]));
    await client.login({ email: "ada@example.com", password: "pw" });
    await client.fetch("/api/auth/me/");
    await client.fetch("/api/auth/me/");
    assert.deepEqual(paths(calls), ["/api/token/", "/api/auth/me/", "/api/auth/me/"]);
  }
});

test("a 401 refreshes and repeats the request once, no more", async () => {
  let refusals = 1;
  const me = () => {
    refusals -= 1;
    return refusals >= 0 ? json(401, { detail: "Given token not valid for any token type" }) : json(200, { id: 1 });
  };
  const { client, calls } = setup(withSession([token(), token(), token()], me));
  await client.login({ email: "ada@example.com", password: "pw" });
  assert.equal((await client.fetch("/api/auth/me/")).status, 200);
  assert.deepEqual(paths(calls).slice(1), ["/api/auth/me/", "/api/token/refresh/", "/api/auth/me/"]);
  // Refused again after the refresh: the 401 is the answer, not a loop.
  calls.length = 0;
  refusals = 2;
  assert.equal((await client.fetch("/api/auth/me/")).status, 401);
  assert.deepEqual(paths(calls), ["/api/auth/me/", "/api/token/refresh/", "/api/auth/me/"]);
  assert.equal(client.authenticated, true);
});

test("restore: signed in with a live cookie, signed out without one", async () => {
  const live = setup(withSession([token()]));
  assert.equal(await live.client.restore(), true);
  assert.deepEqual(live.changes, [true]);
  const none = setup(() => json(400, { refresh: ["This field is required."] }));
  assert.equal(await none.client.restore(), false);
  assert.equal(none.client.authenticated, false);
});

test("without Web Locks, a refresh that lost a race within the grace window is tried once more", async () => {
  const blacklisted = () => json(401, { detail: "Token is blacklisted", code: "token_not_valid" });
  const answers = [blacklisted(), json(200, { access: token() })];
  const raced = setup(() => answers.shift());
  assert.equal(await raced.client.refresh(), true);
  assert.equal(raced.calls.length, 2);
  // A session that is really gone: two refusals, then signed out.
  const gone = setup((call) => (call.path === "/api/token/" ? json(200, { access: token() }) : blacklisted()));
  await gone.client.login({ email: "ada@example.com", password: "pw" });
  assert.equal(await gone.client.refresh(), false);
  assert.deepEqual(paths(gone.calls), ["/api/token/", "/api/token/refresh/", "/api/token/refresh/"]);
  assert.deepEqual(gone.changes, [true, false]);
});

test("refresh failures other than a refused cookie throw and keep the token", async () => {
  const access = token();
  const { client } = setup((call) => (call.path === "/api/token/" ? json(200, { access }) : json(503, { detail: "Busy." })));
  await client.login({ email: "ada@example.com", password: "pw" });
  await assert.rejects(client.refresh(), (e) => e instanceof LatchkeyError && e.status === 503 && e.message === "Busy.");
  assert.equal(client.accessToken, access);
});

test("logout revokes the session with the access token, or with the cookie alone", async () => {
  const access = token();
  const signedIn = setup((call) => json(200, call.path === "/api/token/" ? { access } : {}));
  await signedIn.client.login({ email: "ada@example.com", password: "pw" });
  await signedIn.client.logout();
  const [, call] = signedIn.calls;
  assert.deepEqual([call.path, call.method, call.headers.get("Authorization")], ["/api/auth/logout/", "POST", `Bearer ${access}`]);
  assert.equal(call.headers.get("Content-Type"), "application/json");
  assert.deepEqual(signedIn.changes, [true, false]);
  assert.equal(signedIn.client.accessToken, null);

  const cookieOnly = setup(() => json(200, {}));
  await cookieOnly.client.logout();
  assert.deepEqual(paths(cookieOnly.calls), ["/api/token/blacklist/"]);
  assert.equal(cookieOnly.calls[0].credentials, "include");
});

test("clients sharing a lock name share fresh tokens and sign-outs", async () => {
  const access = token();
  const lockName = `shared-${(serial += 1)}`;
  const first = setup((call) => json(200, call.path === "/api/token/" ? { access } : {}), { lockName });
  const second = setup(() => assert.fail("the second client should not need the server"), { lockName });
  // The channels do not keep Node alive (the client unrefs them); this timer does, while waiting.
  const alive = setInterval(() => {}, 1000);
  const signedIn = new Promise((resolve) => second.client.onChange(resolve));
  await first.client.login({ email: "ada@example.com", password: "pw" });
  assert.equal(await signedIn, true);
  assert.equal(second.client.accessToken, access);
  const signedOut = new Promise((resolve) => second.client.onChange(resolve));
  await first.client.logout();
  assert.equal(await signedOut, false);
  clearInterval(alive);
});

test("bad options are refused", () => {
  assert.throws(() => new LatchkeyClient({ refreshMargin: -1 }), /refreshMargin must be a non-negative number/);
  assert.throws(() => new LatchkeyClient({ refreshMargin: "30" }), TypeError);
});
