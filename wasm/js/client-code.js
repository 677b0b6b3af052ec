// Signing in with a code or link e-mailed to the account's address, for `LatchkeyClient`. `requestLoginCode`
// asks the server to send one and resolves the sign-in's `flowId` (the same answer for every address, so it
// says nothing about whether the address has an account); the user types the 6-digit code from the message
// into this page (`signInWithCode`), or opens the message's link, whose page reads `flow` and `token` from its
// address and signs in with them (`signInWithLink`) when the user presses its button: a mail scanner that
// fetches the link signs nobody in. Both resolve as `login` does (`{status: "ok"}` or `mfa_required`); a
// wrong code throws a `LatchkeyError` with `attemptsLeft` (0: the sign-in is over, ask for a new code).
// Hand-written, dependency-free; copied into the package's builds beside `client.js`, which imports it.
import { errorFrom, LatchkeyError, readBody } from "./client-errors.js";
import { jsonInit } from "./client-http.js";

/**
 * The code methods of one `LatchkeyClient`, given its ways to reach the server: `request(path, init)`
 * (anonymous, cookie mode) and `signIn(path, body)` (a cookie-mode POST whose answer signs in as `login`'s
 * does, resolving `{status: "ok"}` or `mfa_required`).
 */
export class CodeLogin {
  #request;
  #signIn;

  constructor({ request, signIn }) {
    this.#request = request;
    this.#signIn = signIn;
  }

  /**
   * Asks the server to e-mail `email` a sign-in code and link. Resolves `{flowId, detail}` whatever the
   * address; throws a `LatchkeyError` for 400 (not an address), 404 (codes are off) and 429.
   */
  async requestLoginCode(email) {
    if (typeof email !== "string") throw new TypeError("requestLoginCode needs an e-mail address");
    const response = await this.#request("/api/auth/code/request/", jsonInit({ email }));
    const data = await readBody(response);
    if (!response.ok) throw errorFrom(response, data);
    if (typeof data?.flow_id !== "string") {
      throw new LatchkeyError("The server's answer has no flow_id.", { status: response.status, body: data });
    }
    return { flowId: data.flow_id, detail: typeof data.detail === "string" ? data.detail : "" };
  }

  /** Signs in with the code the message holds, for the sign-in `requestLoginCode` started. */
  async signInWithCode(flowId, code, { org } = {}) {
    return this.#signIn("/api/token/code/", { flow_id: text(flowId, "flowId"), code: text(code, "code"), cookie: true, org });
  }

  /** Signs in with the `flow` and `token` of the message's link (its page's address). */
  async signInWithLink(flowId, token, { org } = {}) {
    return this.#signIn("/api/token/code/", { flow_id: text(flowId, "flowId"), token: text(token, "token"), cookie: true, org });
  }
}

function text(value, name) {
  if (typeof value !== "string" || value === "") throw new TypeError(`${name} must be a non-empty string`);
  return value;
}
