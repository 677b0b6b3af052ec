// What the client scripts share: JSON requests from Node, outside the browser, a new account to sign
// in with, the README's examples as modules a page can import, and pages that record their errors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { PASSWORD, ROOT } from "./demo-helpers.mjs";
import { nowSeconds, stepAt, totpAtStep } from "./totp.mjs";

/**
 * Requests to the server at `base`: `api(path, {method, token, body, base})` resolves `{status, body}`
 * (the JSON answer, or null), `register(name, email?)` a new account, `{email, access}`, with PASSWORD
 * (its address `<name>-<time>@example.com` unless given), `enrollTotp(access)` an authenticator app,
 * confirmed: `{secret, step, backupCodes}` (`step` is spent).
 */
export function serverApi(base) {
  async function api(path, { method = "GET", token, body, base: at = base } = {}) {
    const headers = { ...(token && { Authorization: `Bearer ${token}` }), ...(body && { "Content-Type": "application/json" }) };
    const response = await fetch(at + path, { method, headers, body: body && JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
  async function register(name, email = `${name}-${Date.now()}@example.com`) {
    const answer = await api("/api/auth/register/", { method: "POST", body: { email, password: PASSWORD, password_confirm: PASSWORD } });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return { email, access: answer.body.tokens.access };
  }
  async function enrollTotp(access) {
    const device = await api("/api/auth/2fa/totp/", { method: "POST", token: access, body: { name: "Phone" } });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const step = stepAt(nowSeconds());
    const code = totpAtStep(device.body.secret, step);
    const confirmed = await api(`/api/auth/2fa/totp/${device.body.id}/confirm/`, { method: "POST", token: access, body: { code } });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    return { secret: device.body.secret, step, backupCodes: confirmed.body.backup_codes };
  }
  return { api, register, enrollTotp };
}

/**
 * README.md's `<!-- example:<block> -->` as a module the page can import: its bare import pointed at the
 * page's copy of the web build's client (`/pkg/client.js`; the page's own module has run `init()`), and
 * `names` exported. Fails when the block is missing or does not import "latchkey/client".
 */
export function readmeExample(block, names = []) {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const example = new RegExp(`<!-- example:${block} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  assert.ok(example, `README.md has no <!-- example:${block} --> block`);
  const source = example.replace(/(\bfrom\s*)(["'])latchkey\/client\2/g, '$1"/pkg/client.js"');
  assert.notEqual(source, example, `the README's ${block} example does not import "latchkey/client"`);
  return names.length ? `${source}\nexport { ${names.join(", ")} };\n` : source;
}

/** Records `page`'s uncaught errors and console errors (but failed resource loads) in `errors`. */
export function recordErrors(page, errors) {
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
}
