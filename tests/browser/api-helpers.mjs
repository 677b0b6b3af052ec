// What the client scripts share: JSON requests from Node, outside the browser, a new account to sign
// in with, the README's examples as modules a page can import, and pages that record their errors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { PASSWORD, ROOT } from "./demo-helpers.mjs";

/**
 * Requests to the server at `base`: `api(path, {method, token, body, base})` resolves `{status, body}`
 * (the JSON answer, or null), `register(name)` a new account, `{email, access}`, with PASSWORD.
 */
export function serverApi(base) {
  async function api(path, { method = "GET", token, body, base: at = base } = {}) {
    const headers = { ...(token && { Authorization: `Bearer ${token}` }), ...(body && { "Content-Type": "application/json" }) };
    const response = await fetch(at + path, { method, headers, body: body && JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
  async function register(name) {
    const email = `${name}-${Date.now()}@example.com`;
    const answer = await api("/api/auth/register/", { method: "POST", body: { email, password: PASSWORD, password_confirm: PASSWORD } });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return { email, access: answer.body.tokens.access };
  }
  return { api, register };
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
