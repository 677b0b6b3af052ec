// `LatchkeyClient`'s social login in Node against a scripted fake server and a fake page (`location`,
// `history`, `sessionStorage`): what `signInWith` sends and keeps before it leaves, what `completeSignIn`
// reads from the address it comes back to (and removes from the address bar), the login code exchanged
// in cookie mode with the binding, the link to an existing account by its password, and the signed-in
// calls (connect through sudo mode, the list, unlinking). Offline and fast; a real provider and server
// are in tests/browser/client-social.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./load.mjs";

const scratch = mkdtempSync(join(tmpdir(), "latchkey-client-social-"));
mkdirSync(join(scratch, "node_modules"));
symlinkSync(join(ROOT, "wasm", "pkg"), join(scratch, "node_modules", "latchkey"), "dir");
writeFileSync(join(scratch, "client.mjs"), 'export * from "latchkey/client";\n');
const { LatchkeyClient, LatchkeyError } = await import(join(scratch, "client.mjs"));

const BASE = "https://auth.example.com";
const PAGE = "https://app.example.com/signin";
const PROVIDER_URL = "https://accounts.example.org/authorize?client_id=latchkey&state=s";
const CODE = "a".repeat(64);
const LINK = "b".repeat(64);
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
let serial = 0;

function token() {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { token_type: "access", exp: iat + 300, iat, jti: String((serial += 1)), user_id: "1" };
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
}

const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers });

/**
 * A fake page at `href`: `location.assign` and `history.replaceState` note where they were sent (in
 * `page.assigned` and `page.replaced`) and `sessionStorage` is a Map, unless `storage` replaces it.
 */
function fakePage(href = PAGE, { storage } = {}) {
  const page = { assigned: [], replaced: [], stored: new Map() };
  let url = new URL(href);
  const location = {
    get href() { return url.href; },
    get origin() { return url.origin; },
    get pathname() { return url.pathname; },
    assign: (target) => page.assigned.push(target),
  };
  const history = {
    state: { app: 1 },
    replaceState(state, unused, target) {
      assert.deepEqual(state, { app: 1 }, "the page's history state is kept");
      url = new URL(target, url);
      page.replaced.push(url.href);
    },
  };
  const sessionStorage = storage ?? {
    getItem: (key) => page.stored.get(key) ?? null,
    setItem: (key, value) => page.stored.set(key, String(value)),
    removeItem: (key) => page.stored.delete(key),
  };
  page.kept = () => JSON.parse(page.stored.get("latchkey.social") ?? "null");
  for (const [name, value] of Object.entries({ location, history, sessionStorage })) {
    Object.defineProperty(globalThis, name, { configurable: true, writable: true, value });
  }
  return page;
}

/** A client of `handler(call)` (default: an empty 200), signed in when `signedIn`; `calls` records requests. */
async function setup(handler = () => json(200, {}), { signedIn = false, ...options } = {}) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const call = {
      path: new URL(url).pathname,
      method: init.method ?? "GET",
      authorization: new Headers(init.headers).get("Authorization"),
      credentials: init.credentials,
      body: init.body ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    if (call.path === "/api/token/") return json(200, { access: token() });
    return handler(call, calls);
  };
  const client = new LatchkeyClient({ baseUrl: BASE, fetch, lockName: `social-${(serial += 1)}`, ...options });
  if (signedIn) await client.login({ email: "ada@example.com", password: "pw" });
  calls.length = 0;
  return { client, calls };
}

const route = (calls) => calls.map((c) => `${c.method} ${c.path}`);
const rejection = (promise) => promise.then((value) => assert.fail(`resolved ${JSON.stringify(value)}`), (e) => e);
const authorized = () => json(200, { authorization_url: PROVIDER_URL });

test("providers: the server's list, asked anonymously", async () => {
  fakePage();
  const list = [{ id: "google", name: "Google" }, { id: "github", name: "GitHub" }];
  const { client, calls } = await setup(() => json(200, list), { signedIn: true });
  assert.deepEqual(await client.providers(), list);
  assert.deepEqual(route(calls), ["GET /api/auth/providers/"]);
  assert.equal(calls[0].authorization, null);
  assert.equal(calls[0].credentials, "include", "the server is on another origin than the page");
});

test("signInWith: authorize with this page and a fresh binding kept in sessionStorage, then leave", async () => {
  const page = fakePage(`${PAGE}?tab=2#top`);
  const { client, calls } = await setup(authorized);
  assert.equal(await client.signInWith("google", { org: "acme" }), undefined);
  assert.deepEqual(route(calls), ["POST /api/auth/social/google/authorize/"]);
  const { process, return_to: returnTo, binding, ...rest } = calls[0].body;
  assert.deepEqual([process, returnTo, rest], ["login", PAGE, {}], "no query, no fragment, no org sent");
  assert.match(binding, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
  assert.deepEqual(page.kept(), { binding, org: "acme", provider: "google" });
  assert.deepEqual(page.assigned, [PROVIDER_URL]);

  await client.signInWith("git hub", { returnTo: "https://app.example.com/back" });
  assert.equal(calls[1].path, "/api/auth/social/git%20hub/authorize/");
  assert.equal(calls[1].body.return_to, "https://app.example.com/back");
  assert.notEqual(calls[1].body.binding, binding, "each sign-in gets its own binding");
  assert.deepEqual(page.kept(), { binding: calls[1].body.binding, provider: "git hub" });
});

test("signInWith: a refusal throws and the page stays where it is", async () => {
  const page = fakePage();
  const answers = [
    json(400, { return_to: ["This address is not allowed."] }),
    json(503, { detail: "The sign-in provider cannot be reached. Try again later.", code: "provider_unavailable" }, { "Retry-After": "30" }),
    json(404, { detail: "Not found." }),
    json(200, { authorization_url: "javascript:alert(1)" }),
  ];
  const { client } = await setup(() => answers.shift());
  const badReturn = await rejection(client.signInWith("google", { returnTo: "https://evil.example/" }));
  assert.ok(badReturn instanceof LatchkeyError);
  assert.deepEqual([badReturn.status, badReturn.message], [400, "Return to: This address is not allowed."]);
  const down = await rejection(client.signInWith("google"));
  assert.deepEqual([down.status, down.code, down.retryAfter], [503, "provider_unavailable", 30]);
  assert.equal((await rejection(client.signInWith("nope"))).status, 404);
  const script = await rejection(client.signInWith("google"));
  assert.ok(script instanceof LatchkeyError, "only http(s) addresses are followed");
  assert.deepEqual(page.assigned, []);
  assert.ok((await rejection(client.signInWith(""))) instanceof TypeError);
});

test("signInWith without a usable sessionStorage goes without a binding", async () => {
  const refused = { getItem() { throw new Error("denied"); }, setItem() { throw new Error("denied"); }, removeItem() {} };
  for (const storage of [refused, null]) {
    const page = fakePage(PAGE, { storage });
    if (storage === null) delete globalThis.sessionStorage;
    const { client, calls } = await setup(authorized);
    await client.signInWith("google");
    assert.ok(!("binding" in calls[0].body), "a binding nobody kept would make the completion fail");
    assert.deepEqual(page.assigned, [PROVIDER_URL]);
  }
});

test("completeSignIn: nothing in the address resolves null and touches nothing", async () => {
  const page = fakePage(`${PAGE}?tab=2`);
  const { client, calls } = await setup();
  assert.equal(await client.completeSignIn(), null);
  assert.deepEqual([calls.length, page.replaced.length], [0, 0]);
});

test("completeSignIn: a login code signs in (cookie mode, org and binding kept), removed from the address", async () => {
  const page = fakePage(`${PAGE}?tab=2&login_code=${CODE}#top`);
  page.stored.set("latchkey.social", JSON.stringify({ binding: "B".repeat(43), org: "acme", provider: "google" }));
  const access = token();
  const { client, calls } = await setup(() => json(200, { access }));
  const changes = [];
  client.onChange((signedIn) => changes.push(signedIn));
  assert.deepEqual(await client.completeSignIn(), { status: "ok" });
  assert.deepEqual(route(calls), ["POST /api/token/social/"]);
  assert.deepEqual(calls[0].body, { login_code: CODE, cookie: true, org: "acme", binding: "B".repeat(43) });
  assert.equal(calls[0].credentials, "include");
  assert.deepEqual([client.accessToken, changes], [access, [true]]);
  assert.deepEqual(page.replaced, [`${PAGE}?tab=2#top`], "the code left the address bar before it was sent");
  assert.equal(page.kept(), null, "the sign-in is over");
});

test("completeSignIn: a two-factor account answers mfa_required, then verifyMfa signs in", async () => {
  const page = fakePage(`${PAGE}?login_code=${CODE}`);
  const { client, calls } = await setup((call) => (call.path === "/api/token/social/"
    ? json(403, { detail: "A second factor is required.", code: "mfa_required", mfa_token: "m1", methods: ["totp", "webauthn"] })
    : json(200, { access: token() })));
  assert.deepEqual(await client.completeSignIn(), { status: "mfa_required", mfaToken: "m1", methods: ["totp", "webauthn"] });
  assert.equal(client.authenticated, false);
  assert.deepEqual(page.replaced, [PAGE]);
  assert.ok(!("binding" in calls[0].body), "nothing was kept in this tab");
  await client.verifyMfa("m1", "123456");
  assert.equal(client.authenticated, true);
});

test("completeSignIn: a refused login code throws, and is gone from the address and the storage", async () => {
  for (const [status, body, headers] of [
    [401, { detail: "The sign-in code is invalid or has expired.", code: "login_code_invalid" }, {}],
    [429, { detail: "Too many attempts.", code: "throttled" }, { "Retry-After": "60" }],
  ]) {
    const page = fakePage(`${PAGE}?login_code=${CODE}`);
    page.stored.set("latchkey.social", JSON.stringify({ binding: "B".repeat(43) }));
    const { client } = await setup(() => json(status, body, headers));
    const error = await rejection(client.completeSignIn());
    assert.ok(error instanceof LatchkeyError);
    assert.deepEqual([error.status, error.code, error.message], [status, body.code, body.detail]);
    if (status === 429) assert.equal(error.retryAfter, 60);
    assert.deepEqual([page.replaced, page.kept(), client.authenticated], [[PAGE], null, false]);
  }
});

test("completeSignIn: link_required, then confirmSocialLink with a wrong and the right password", async () => {
  const page = fakePage(`${PAGE}?link_token=${LINK}&email=ada%2Bx%40example.com&provider=google&tab=2`);
  const kept = { binding: "B".repeat(43), org: "acme", provider: "google" };
  page.stored.set("latchkey.social", JSON.stringify(kept));
  const { client, calls } = await setup((call) => (call.body?.password === "right"
    ? json(200, { access: token() })
    : json(401, { detail: "No active account found with the given credentials" })));
  const result = await client.completeSignIn();
  assert.deepEqual(result, { status: "link_required", linkToken: LINK, email: "ada+x@example.com", provider: "google" });
  assert.deepEqual([calls.length, page.replaced], [0, [`${PAGE}?tab=2`]]);
  assert.deepEqual(page.kept(), kept, "the binding waits for the password");

  const wrong = await rejection(client.confirmSocialLink(result.linkToken, "wrong"));
  assert.deepEqual([wrong.status, wrong.message], [401, "No active account found with the given credentials"]);
  assert.deepEqual(page.kept(), kept, "a wrong password leaves the link usable");
  assert.deepEqual(await client.confirmSocialLink(result.linkToken, "right"), { status: "ok" });
  assert.deepEqual(route(calls), ["POST /api/auth/social/link/confirm/", "POST /api/auth/social/link/confirm/"]);
  assert.deepEqual(calls[1].body, { link_token: LINK, password: "right", cookie: true, org: "acme", binding: "B".repeat(43) });
  assert.deepEqual([client.authenticated, page.kept()], [true, null]);
});

test("completeSignIn: connected and error outcomes; another address than the page's is read, not stripped", async () => {
  const { client, calls } = await setup();
  let page = fakePage(`${PAGE}?linked=github`);
  assert.deepEqual(await client.completeSignIn(), { status: "connected", provider: "github" });
  assert.deepEqual(page.replaced, [PAGE]);
  page = fakePage(`${PAGE}?error=email_unverified`);
  page.stored.set("latchkey.social", JSON.stringify({ binding: "B".repeat(43) }));
  assert.deepEqual(await client.completeSignIn(), { status: "error", code: "email_unverified" });
  assert.deepEqual([page.replaced, page.kept()], [[PAGE], null]);
  page = fakePage();
  assert.deepEqual(await client.completeSignIn(new URL(`${PAGE}/elsewhere?error=access_denied`)), { status: "error", code: "access_denied" });
  assert.deepEqual([page.replaced, calls.length], [[], 0]);
});

test("connectSocial goes through fetch: the bearer token, and sudo mode asks the hook first", async () => {
  const page = fakePage(`${PAGE}?tab=2`);
  let proved = false;
  const asked = [];
  const { client, calls } = await setup((call) => {
    if (call.path === "/api/auth/reauthenticate/") return (proved = true), json(200, { expires_at: "2030-01-01T00:00:00Z" });
    return proved ? authorized() : json(403, { detail: "Please confirm it is you.", code: "reauthentication_required" });
  }, { signedIn: true, onReauthenticate: (request) => (asked.push(request), { password: "pw" }) });
  await client.connectSocial("github");
  assert.deepEqual(route(calls), [
    "POST /api/auth/social/github/authorize/", "POST /api/auth/reauthenticate/", "POST /api/auth/social/github/authorize/",
  ]);
  assert.match(calls[0].authorization, /^Bearer /);
  assert.deepEqual(calls[2].body, { process: "connect", return_to: PAGE });
  assert.deepEqual(asked.map((r) => `${r.method} ${r.url}`), [`POST ${BASE}/api/auth/social/github/authorize/`]);
  assert.deepEqual(page.assigned, [PROVIDER_URL]);
  assert.equal(page.kept(), null, "a connection keeps nothing: its outcome is not exchanged");
});

test("socialAccounts lists with the bearer token; unlinkSocial deletes, a last way to sign in is 409", async () => {
  fakePage();
  const accounts = [{ id: 3, provider: "github", email: "ada@example.com", created_at: "2030-01-01T00:00:00Z" }];
  const { client, calls } = await setup((call) => {
    if (call.method === "GET") return json(200, accounts);
    return call.path.endsWith("/3/") ? new Response(null, { status: 204 })
      : json(409, { detail: "This is the account's only way to sign in.", code: "last_sign_in_method" });
  }, { signedIn: true });
  assert.deepEqual(await client.socialAccounts(), accounts);
  assert.equal(await client.unlinkSocial(3), undefined);
  const last = await rejection(client.unlinkSocial(4));
  assert.ok(last instanceof LatchkeyError);
  assert.deepEqual([last.status, last.code], [409, "last_sign_in_method"]);
  assert.deepEqual(route(calls), ["GET /api/auth/social/accounts/", "DELETE /api/auth/social/accounts/3/", "DELETE /api/auth/social/accounts/4/"]);
  assert.ok(calls.every((c) => c.authorization?.startsWith("Bearer ")));
});
