// Proves tests/oidc/provider.mjs on this Node: an authorization code flow with PKCE through headless
// Chromium (discovery, the devInteractions login form, automatic consent, the redirect with code and state),
// then the code exchanged at the token endpoint with the verifier, and the e-mail read from userinfo.
//   node tests/oidc/provider-selftest.mjs
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { CHROMIUM } from "../browser/chromium.mjs";
import { startProvider } from "./provider.mjs";

const { chromium } = createRequire(fileURLToPath(new URL("../../tools/", import.meta.url)))("playwright-core");
const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

// The relying party's callback: resolves to the query of the first request.
const callback = createServer();
await new Promise((resolve) => callback.listen(0, "127.0.0.1", resolve));
// On localhost, another site than the provider's 127.0.0.1, as the demo is served for passkeys.
const redirectUri = `http://localhost:${callback.address().port}/callback/`;
const received = new Promise((resolve) => callback.on("request", (req, res) => {
  res.end("ok");
  resolve(new URL(req.url, redirectUri).searchParams);
}));

const client = { client_id: "latchkey", client_secret: "s3cret", redirect_uris: [redirectUri] };
// Without clients first, as a test that learns its redirect URI late starts it.
const provider = await startProvider({});
provider.setClients([client]);
const browser = await chromium.launch(CHROMIUM);
try {
  const meta = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(meta.issuer, provider.issuer);
  assert.deepEqual(meta.code_challenge_methods_supported, ["S256"]);

  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(32));
  const nonce = b64url(randomBytes(32));
  const authorize = new URL(meta.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: redirectUri, response_type: "code", scope: "openid email profile",
    state, nonce, code_challenge: b64url(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
  });
  const page = await browser.newPage();
  await page.goto(authorize.href);
  await page.fill("input[name=login]", "alice");
  await page.fill("input[name=password]", "anything");
  await page.click("button.login-submit");
  const params = await received;
  assert.equal(params.get("state"), state);
  assert.ok(params.get("code"), `no code in ${params}`);
  assert.equal(params.get("iss"), provider.issuer, "RFC 9207: the callback names the issuer too");

  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64");
  const exchange = (codeVerifier) => fetch(meta.token_endpoint, {
    method: "POST", headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"),
                                redirect_uri: redirectUri, code_verifier: codeVerifier }),
  });
  // A wrong verifier is refused (a code injected from another flow) without spending the code.
  const refused = await exchange(b64url(randomBytes(32)));
  assert.deepEqual([refused.status, (await refused.json()).error], [400, "invalid_grant"]);
  const tokens = await (await exchange(verifier)).json();
  assert.ok(tokens.id_token, JSON.stringify(tokens));
  const claims = JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url").toString());
  assert.equal(claims.sub, "alice");
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.iss, provider.issuer);
  assert.equal(claims.aud, client.client_id);
  const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url").toString());
  assert.equal(header.alg, "RS256");

  const userinfo = await (await fetch(meta.userinfo_endpoint, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  })).json();
  assert.deepEqual([userinfo.sub, userinfo.email, userinfo.email_verified], ["alice", "alice@example.test", true]);
  console.log(`ok: ${process.version}, id token claims ${Object.keys(claims).join(",")}`);
} finally {
  await browser.close();
  await provider.close();
  callback.close();
}
