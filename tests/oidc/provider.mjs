// A real OpenID Connect provider for the social login tests: oidc-provider (tools/node_modules, pinned in
// tools/package.json) on a loopback port. The authorization code flow with PKCE (S256) is required, the ID
// tokens are RS256 under a key generated at start, and the development login page (devInteractions) takes
// any login and any password: the login becomes the subject, with the e-mail `<login>@example.test`,
// verified unless the login starts with "unverified". Consent is given automatically, so a sign-in is the
// login form and nothing else. Bad ID tokens are not made here (oidc-provider cannot sign them); the Rust
// fake in server/tests/common/oidc_fake.rs makes those.
//
// As a module: `startProvider({port?, clients})` resolves to `{issuer, setClients, close}`. As a command:
//   node tests/oidc/provider.mjs [port] [redirect_uri...]
// prints the issuer and serves client "latchkey" (secret "s3cret") until stopped.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// oidc-provider is ESM without an `exports` map: resolve its entry point from tools/, then import it.
const entry = createRequire(`${ROOT}tools/`).resolve("oidc-provider");
const { default: Provider } = await import(pathToFileURL(entry).href);

/** The claims a login gets: the login is the subject; "unverified…" logins have an unverified e-mail. */
export function claimsFor(sub) {
  return { sub, email: `${sub}@example.test`, email_verified: !sub.startsWith("unverified"), name: sub,
           given_name: sub, family_name: "Tester" };
}

/**
 * Starts the provider on `http://127.0.0.1:<port>` (a free port by default). Each client is
 * `{client_id, client_secret, redirect_uris}` and authenticates at the token endpoint with HTTP Basic.
 * `setClients(clients)` replaces them (and forgets every sign-in under way) while the issuer and the key
 * stay: a test whose server learns its port only once started gives the redirect URIs then.
 */
export async function startProvider({ port = 0, clients = [] }) {
  const server = createServer();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  // RSA key generation takes a few tens of milliseconds: once per provider is fine.
  const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  let handle;
  const setClients = (list) => {
    handle = configure(issuer, jwk, list).callback();
  };
  setClients(clients);
  server.on("request", (req, res) => handle(req, res));
  const close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return { issuer, setClients, close };
}

function configure(issuer, jwk, clients) {
  return new Provider(issuer, {
    clients: clients.map((client) => ({
      grant_types: ["authorization_code"], response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic", ...client,
    })),
    pkce: { required: () => true },
    jwks: { keys: [{ ...jwk, kid: "test-key-1", alg: "RS256", use: "sig" }] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "given_name", "family_name"] },
    findAccount: (ctx, sub) => ({ accountId: sub, claims: () => claimsFor(sub) }),
    loadExistingGrant,
    features: { devInteractions: { enabled: true } },
    // Fixed secrets and lifetimes are fine for a throwaway test provider; oidc-provider would otherwise
    // print a notice for each default it uses.
    cookies: { keys: ["latchkey-test-cookie-key"] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
  });
}

// Consent without a page: the session's existing grant, or else a new one for every scope and claim the
// test provider knows (the defaults would show devInteractions' consent form after each login).
async function loadExistingGrant(ctx) {
  const { client, session, provider, result } = ctx.oidc;
  const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  if (grantId) return provider.Grant.find(grantId);
  const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope("openid email profile");
  await grant.save();
  return grant;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port = "0", ...redirectUris] = process.argv.slice(2);
  const uris = redirectUris.length ? redirectUris : ["http://localhost:8000/api/auth/social/test-oidc/callback/"];
  const { issuer } = await startProvider({
    port: Number(port), clients: [{ client_id: "latchkey", client_secret: "s3cret", redirect_uris: uris }],
  });
  console.log(issuer);
}
