// The requests `LatchkeyClient` sends: JSON bodies the way the server's CSRF guard wants them, and addresses
// resolved against the page. Shared by `client.js` and `client-social.js`; copied into the package's builds
// beside them.

/** The cookie endpoints refuse anything but JSON (the server's CSRF guard). */
const JSON_HEADERS = Object.freeze({ "Content-Type": "application/json", Accept: "application/json" });

/** A JSON POST's `init` for `fetch`. */
export const jsonInit = (body) => ({ method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });

/** Whether `base` (the client's `baseUrl`) is this page's origin, so cookies go without `credentials: "include"`. */
export function isSameOrigin(base) {
  if (base === "") return true;
  if (typeof location === "undefined") return false;
  try {
    return new URL(base, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/** `url` resolved against the page's address, when there is a page. */
export function absolute(url) {
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    return url;
  }
}

/** `{password}` or `{code}` as the reauthenticate endpoint takes it; null for anything else. */
export function proofBody(proof) {
  if (proof === null || typeof proof !== "object") return null;
  if (typeof proof.password === "string") return { password: proof.password };
  if (typeof proof.code === "string") return { code: proof.code };
  return null;
}
