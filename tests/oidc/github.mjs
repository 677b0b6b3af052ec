// A GitHub stand-in for the browser tests: GitHub's OAuth app endpoints and the two REST calls Latchkey
// makes, on a loopback port, with GitHub's paths and answers (`github_url` and `api_url` both point here).
// - GET /login/oauth/authorize: checks client_id, the registered redirect_uri, state and an S256 PKCE
//   challenge (400 text otherwise: a page, as GitHub shows, never a redirect), then answers for the user
//   signed in at "GitHub" (`setUser`) at once: 302 redirect_uri?code&state, or ?error=access_denied when
//   the user is `null` (refused).
// - POST /login/oauth/access_token (form; client credentials in the form or HTTP Basic): JSON with
//   `Accept: application/json`, else form-encoded, as GitHub. Errors are HTTP 200 with `error`:
//   incorrect_client_credentials, redirect_uri_mismatch, bad_verification_code (an unknown, spent or
//   expired code, or a verifier that does not match the challenge). A code is spent by any attempt.
// - GET /user and GET /user/emails: a User-Agent is required (403), and `Authorization: Bearer|token`
//   with a live access token (401 "Bad credentials"). /user's `email` is null (no public address), so
//   the address comes from /user/emails (primary and verified).
//
// As a module: `startGithub({port?, clients, user?})` resolves to `{url, setClients, setUser, calls,
// close}`. As a command: `node tests/oidc/github.mjs [port] [redirect_uri...]` prints the URL and serves
// client "latchkey-github" (secret "s3cret") until stopped.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

/** The user signed in at the stand-in unless a test says otherwise: GitHub's own example user. */
export const OCTOCAT = {
  id: 583231, login: "octocat", name: "The Octocat",
  emails: [
    { email: "octocat@example.test", primary: true, verified: true, visibility: "private" },
    { email: "583231+octocat@users.noreply.github.com", primary: false, verified: true, visibility: null },
  ],
};

const CODE_TTL_MS = 10 * 60 * 1000; // GitHub's codes live 10 minutes.

/**
 * Starts the stand-in on `http://127.0.0.1:<port>` (a free port by default). Each client is
 * `{client_id, client_secret, redirect_uris}`. `setUser(user)` changes who is signed in at "GitHub"
 * (`{id, login, name, emails}`, or null to refuse); `calls` counts the requests to each endpoint.
 */
export async function startGithub({ port = 0, clients = [], user = OCTOCAT } = {}) {
  const state = { clients, user, codes: new Map(), tokens: new Map() };
  const calls = { authorize: 0, token: 0, user: 0, emails: 0 };
  const server = createServer((req, res) => {
    handle(state, calls, req, res).catch((error) => send(res, 500, "text/plain", String(error)));
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return {
    url,
    calls,
    setClients: (list) => { state.clients = list; },
    setUser: (next) => { state.user = next; },
    close,
  };
}

async function handle(state, calls, req, res) {
  const address = new URL(req.url, "http://stand-in");
  const route = `${req.method} ${address.pathname}`;
  if (route === "GET /login/oauth/authorize") {
    calls.authorize += 1;
    return authorize(state, address.searchParams, res);
  }
  if (route === "POST /login/oauth/access_token") {
    calls.token += 1;
    return accessToken(state, req, new URLSearchParams(await readBody(req)), res);
  }
  if (route === "GET /user" || route === "GET /user/emails") {
    calls[address.pathname === "/user" ? "user" : "emails"] += 1;
    return api(state, req, address.pathname, res);
  }
  return json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
}

function authorize(state, params, res) {
  const client = state.clients.find((c) => c.client_id === params.get("client_id"));
  if (!client) return send(res, 400, "text/plain", "The client_id is not an OAuth app's.");
  const redirectUri = params.get("redirect_uri");
  if (!client.redirect_uris.includes(redirectUri)) {
    return send(res, 400, "text/plain", "The redirect_uri is not associated with this application.");
  }
  const challenge = params.get("code_challenge") ?? "";
  if (params.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
    return send(res, 400, "text/plain", "code_challenge (S256) is required.");
  }
  const stateParam = params.get("state");
  if (!stateParam) return send(res, 400, "text/plain", "state is required.");
  const back = new URL(redirectUri);
  if (state.user === null) {
    back.searchParams.set("error", "access_denied");
    back.searchParams.set("error_description", "The user has denied your application access.");
  } else {
    const code = randomBytes(10).toString("hex"); // GitHub's codes are 20 hex characters.
    state.codes.set(code, { client_id: client.client_id, redirectUri, challenge, user: state.user, expires: Date.now() + CODE_TTL_MS });
    back.searchParams.set("code", code);
  }
  back.searchParams.set("state", stateParam);
  res.writeHead(302, { Location: back.href }).end();
}

function accessToken(state, req, form, res) {
  const [basicId, basicSecret] = basicCredentials(req.headers.authorization);
  const id = form.get("client_id") ?? basicId;
  const secret = form.get("client_secret") ?? basicSecret;
  const answer = (body) => {
    if ((req.headers.accept ?? "").includes("application/json")) return json(res, 200, body);
    return send(res, 200, "application/x-www-form-urlencoded; charset=utf-8", new URLSearchParams(body).toString());
  };
  const refuse = (error, description) => answer({ error, error_description: description,
    error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors" });
  const client = state.clients.find((c) => c.client_id === id);
  if (!client || !same(client.client_secret, secret ?? "")) {
    return refuse("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
  }
  const code = form.get("code") ?? "";
  const granted = state.codes.get(code);
  state.codes.delete(code); // Spent by any attempt.
  const verifier = form.get("code_verifier") ?? "";
  const proved = /^[A-Za-z0-9._~-]{43,128}$/.test(verifier)
    && createHash("sha256").update(verifier).digest("base64url") === granted?.challenge;
  if (!granted || granted.client_id !== id || granted.expires < Date.now() || !proved) {
    return refuse("bad_verification_code", "The code passed is incorrect or expired.");
  }
  const redirectUri = form.get("redirect_uri");
  if (redirectUri !== null && redirectUri !== granted.redirectUri) {
    return refuse("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.");
  }
  const token = `gho_${randomBytes(18).toString("base64url")}`;
  state.tokens.set(token, granted.user);
  return answer({ access_token: token, token_type: "bearer", scope: "read:user,user:email" });
}

function api(state, req, path, res) {
  if (!req.headers["user-agent"]) {
    return send(res, 403, "text/plain", "Request forbidden by administrative rules. "
      + "Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).");
  }
  const [, token] = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? "") ?? [];
  const user = state.tokens.get(token ?? "");
  if (!user) return json(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
  if (path === "/user") {
    return json(res, 200, { login: user.login, id: user.id, type: "User", name: user.name, email: null });
  }
  return json(res, 200, user.emails);
}

function basicCredentials(header) {
  const [, encoded] = /^Basic (\S+)$/i.exec(header ?? "") ?? [];
  if (!encoded) return [null, null];
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return [null, null];
  return [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
}

function same(a, b) {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res, status, body) {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

function send(res, status, type, text) {
  res.writeHead(status, { "Content-Type": type }).end(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port = "0", ...redirectUris] = process.argv.slice(2);
  const uris = redirectUris.length ? redirectUris : ["http://localhost:8000/api/auth/social/github/callback/"];
  const { url } = await startGithub({
    port: Number(port), clients: [{ client_id: "latchkey-github", client_secret: "s3cret", redirect_uris: uris }],
  });
  console.log(url);
}
