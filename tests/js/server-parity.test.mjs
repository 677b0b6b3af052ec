// The browser's verdict is the server's: every case of tests/vectors/policy_django.json goes to the
// real server's POST /api/auth/password/validate/ and to the npm package's validatePassword with the
// policy the server reports at GET /api/auth/password/policy/, and the two answers must be equal,
// field for field. Run once with the default policy and once per policy of the vectors, each given
// to the server as a file (JSON, and TOML for the other), as LATCHKEY_PASSWORD_POLICY.
// Needs target/debug/latchkey (scripts/test.sh builds it first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT, loadNode, loadVectors } from "./load.mjs";

const lib = loadNode();
const { cases } = loadVectors().policy_django;

/** Starts the server with `policyFile` (or none) and resolves to `{url, stop}`. */
async function startServer(policyFile) {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-parity-"));
  const env = {
    ...process.env,
    LATCHKEY_BIND: "127.0.0.1:0",
    LATCHKEY_DATABASE_URL: `sqlite://${join(dir, "latchkey.db")}?mode=rwc`,
    LATCHKEY_SECRET_KEY: "parity-test-secret-parity-test-secret",
    LATCHKEY_ENCRYPTION_KEY: "parity-test-encryption-key",
    LATCHKEY_EMAIL_BACKEND: `file:${dir}`,
    LATCHKEY_LOG: "warn",
  };
  if (policyFile) env.LATCHKEY_PASSWORD_POLICY = policyFile;
  const server = spawn(join(ROOT, "target/debug/latchkey"), [], { env, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    server.once("exit", (code) => reject(new Error(`latchkey exited with ${code}`)));
    createInterface({ input: server.stdout }).once("line", resolve);
  });
  const url = /^listening on (http:\/\/\S+)$/.exec(line)?.[1];
  assert.ok(url, `unexpected first line: ${line}`);
  return { url, stop: () => server.kill() };
}

async function post(url, body) {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

/** The user fields of a case, as the validate endpoint takes them. */
const userFields = (user) => Object.fromEntries(Object.entries(user ?? {}).filter(([, v]) => typeof v === "string"));

async function compareAll(policyFile, label) {
  const { url, stop } = await startServer(policyFile);
  try {
    const policy = await (await fetch(`${url}/api/auth/password/policy/`)).json();
    const mismatches = [];
    for (const c of cases) {
      const fields = userFields(c.user);
      const server = await post(`${url}/api/auth/password/validate/`, { password: c.password, ...fields });
      const browser = lib.validatePassword(c.password, fields, policy);
      try {
        assert.deepEqual(server, browser);
      } catch {
        mismatches.push(`${JSON.stringify(c.password)}: server ${JSON.stringify(server)}, package ${JSON.stringify(browser)}`);
      }
    }
    assert.deepEqual(mismatches, [], `${label}: ${mismatches.length} of ${cases.length} differ:\n${mismatches.slice(0, 10).join("\n")}`);
    assert.ok(cases.length > 500);
    return policy.fingerprint;
  } finally {
    stop();
  }
}

test("server and package agree on every vector: the default policy", async () => {
  assert.equal(await compareAll(null, "default"), lib.defaultPolicy().fingerprint);
});

test("server and package agree on every vector: the vectors' policies, from JSON and TOML files", async () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-policies-"));
  const fingerprints = new Set();
  for (const minLength of [...new Set(cases.map((c) => c.min_length))]) {
    const json = join(dir, `policy-${minLength}.json`);
    writeFileSync(json, JSON.stringify({ min_length: minLength, max_length_bytes: 1_000_000, min_score: 0 }));
    const toml = join(dir, `policy-${minLength}.toml`);
    writeFileSync(toml, `min_length = ${minLength}\nmax_length_bytes = 1000000\nmin_score = 0\n`);
    const fromJson = await compareAll(json, `min_length ${minLength} (JSON)`);
    const fromToml = await compareAll(toml, `min_length ${minLength} (TOML)`);
    assert.equal(fromJson, fromToml, "the same rules have the same fingerprint");
    fingerprints.add(fromJson);
  }
  assert.ok(fingerprints.size >= 2, "different rules, different fingerprints");
  assert.ok(!fingerprints.has(lib.defaultPolicy().fingerprint));
});
