// The Latchkey server's answers as `LatchkeyClient` reads them: the body (JSON, else text), and any
// refusal as a `LatchkeyError` carrying the server's message, status, code, `Retry-After` and, for a wrong
// e-mailed code, the tries left. Copied
// into the package's builds beside `client.js`, which imports it and exports `LatchkeyError`.

/** The `code` of a `LatchkeyError` for a refused re-authentication (a wrong password, code or passkey, 400). */
const REAUTHENTICATION_FAILED = "reauthentication_failed";

/** An answer of the Latchkey server that is not a success, with the server's message. */
export class LatchkeyError extends Error {
  /**
   * @param {string} message
   * @param {{status: number, code?: string, body?: unknown, retryAfter?: number, attemptsLeft?: number}} details
   */
  constructor(message, { status, code, body = null, retryAfter, attemptsLeft } = {}) {
    super(message);
    this.name = "LatchkeyError";
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
    this.attemptsLeft = attemptsLeft;
  }
}

/** The answer's body: parsed JSON, else its text; null when empty. */
export async function readBody(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/**
 * A refused re-authentication: a wrong password, code or passkey (400) says just that ("Incorrect
 * password."), with the code `reauthentication_failed` (the server's own stays in `body.code`);
 * anything else as the server put it.
 */
export function reauthenticationError(response, data) {
  const error = errorFrom(response, data);
  if (response.status !== 400) return error;
  const fields = data !== null && typeof data === "object" ? Object.entries(data).filter(([field]) => field !== "code") : [];
  const texts = typeof data?.detail === "string" ? [data.detail] : fields.flatMap(([, m]) => [m].flat()).filter((m) => typeof m === "string");
  return new LatchkeyError(texts.length > 0 ? texts.join(" ") : error.message, {
    status: error.status,
    code: REAUTHENTICATION_FAILED,
    body: data,
    retryAfter: error.retryAfter,
  });
}

/**
 * A refusal of the server as a `LatchkeyError`, with its `code`, `Retry-After` and `attempts_left` (401
 * `code_invalid`) when it gave them.
 */
export function errorFrom(response, data) {
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return new LatchkeyError(messageOf(response, data), {
    status: response.status,
    code: typeof data?.code === "string" ? data.code : undefined,
    body: data,
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
    attemptsLeft: Number.isInteger(data?.attempts_left) ? data.attempts_left : undefined,
  });
}

/** The server's `detail`, or DRF's field errors as sentences ("Password: This field is required."). */
function messageOf(response, data) {
  if (typeof data?.detail === "string") return data.detail;
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    const parts = Object.entries(data).flatMap(([field, messages]) => {
      const texts = [messages].flat().filter((m) => typeof m === "string");
      if (texts.length === 0) return [];
      if (field === "non_field_errors") return [texts.join(" ")];
      const label = field.replaceAll("_", " ");
      return [`${label.charAt(0).toUpperCase()}${label.slice(1)}: ${texts.join(" ")}`];
    });
    if (parts.length > 0) return parts.join(" ");
  }
  return `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`;
}
