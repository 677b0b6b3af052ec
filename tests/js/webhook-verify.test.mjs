// README.md's webhook examples run as written: `verifyWebhook` (<!-- example:webhook -->) accepts the
// Standard Webhooks test vector and refuses what a consumer must refuse, and the node:http receiver
// (<!-- example:webhook-server -->) answers 204 to a signed delivery and 400 to anything else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./load.mjs";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const block = (name) => {
  const code = new RegExp(`<!-- example:${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  assert.ok(code, `README.md has no <!-- example:${name} --> block`);
  return code;
};
// The server imports the function from the file the first block names.
const dir = mkdtempSync(join(tmpdir(), "latchkey-webhook-"));
writeFileSync(join(dir, "verify-webhook.mjs"), block("webhook"));
writeFileSync(join(dir, "server.mjs"), block("webhook-server"));
const { verifyWebhook } = await import(pathToFileURL(join(dir, "verify-webhook.mjs")).href);

// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  headers: {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  },
  body: '{"test": 2432232314}',
  now: 1614265330 * 1000,
};
const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const BODY = '{"type":"login.failed","timestamp":"2026-12-03T23:59:00Z","data":{"audit_event_id":42,"user_id":7}}';

/** The signature header value of `body` under `secret` (the test's own signer, checked on the vector). */
function sign(secret, id, timestamp, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

function signed(secret, body, seconds = Math.floor(Date.now() / 1000)) {
  const [id, timestamp] = ["msg_test1", String(seconds)];
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": sign(secret, id, timestamp, body) };
}

test("verifyWebhook accepts the Standard Webhooks test vector", () => {
  const { secret, headers, body, now } = VECTOR;
  assert.equal(sign(secret, headers["webhook-id"], headers["webhook-timestamp"], body), headers["webhook-signature"]);
  assert.deepEqual(verifyWebhook(secret, headers, body, now), { test: 2432232314 });
  assert.deepEqual(verifyWebhook(secret, headers, Buffer.from(body), now), { test: 2432232314 });
});

test("verifyWebhook refuses a changed body and a wrong secret", () => {
  const { secret, headers, body, now } = VECTOR;
  assert.throws(() => verifyWebhook(secret, headers, body.replace("2432", "2433"), now), /no webhook-signature matches/);
  assert.throws(() => verifyWebhook(SECRET, headers, body, now), /no webhook-signature matches/);
  const v2 = { ...headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,") };
  assert.throws(() => verifyWebhook(secret, v2, body, now), /no webhook-signature matches/);
});

test("verifyWebhook refuses a timestamp more than 5 minutes off", () => {
  const { secret, headers, body, now } = VECTOR;
  for (const off of [-6 * 60_000, 6 * 60_000]) {
    assert.throws(() => verifyWebhook(secret, headers, body, now + off), /more than 5 minutes off/);
  }
  assert.deepEqual(verifyWebhook(secret, headers, body, now + 4 * 60_000), { test: 2432232314 });
  const fresh = signed(SECRET, BODY);
  assert.equal(verifyWebhook(SECRET, fresh, BODY).type, "login.failed");
  const old = signed(SECRET, BODY, Math.floor(Date.now() / 1000) - 6 * 60);
  assert.throws(() => verifyWebhook(SECRET, old, BODY), /more than 5 minutes off/);
  const garbled = { ...fresh, "webhook-timestamp": `${fresh["webhook-timestamp"]}.5` };
  assert.throws(() => verifyWebhook(SECRET, garbled, BODY), /more than 5 minutes off/);
});

test("verifyWebhook refuses a delivery missing a header", () => {
  const { secret, headers, body, now } = VECTOR;
  for (const missing of Object.keys(headers)) {
    const partial = { ...headers };
    delete partial[missing];
    assert.throws(() => verifyWebhook(secret, partial, body, now), /is missing/, missing);
  }
});

test("verifyWebhook accepts any of several signatures", () => {
  const { secret, headers, body, now } = VECTOR;
  const wrong = sign(SECRET, headers["webhook-id"], headers["webhook-timestamp"], body);
  const several = { ...headers, "webhook-signature": `${wrong} ${headers["webhook-signature"]}` };
  assert.deepEqual(verifyWebhook(secret, several, body, now), { test: 2432232314 });
  const none = { ...headers, "webhook-signature": `${wrong} v1,${Buffer.alloc(32).toString("base64")}` };
  assert.throws(() => verifyWebhook(secret, none, body, now), /no webhook-signature matches/);
});

/** A port nothing listens on now. */
async function freePort() {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("the README's receiver answers 204 to a signed delivery and 400 otherwise", async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(dir, "server.mjs")], {
    env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => child.kill());
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  const post = async (headers, body) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers, body });
        return { status: response.status, text: await response.text() };
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50)); // still starting
      }
    }
  };
  assert.equal((await post(signed(SECRET, BODY), BODY)).status, 204);
  const tampered = await post(signed(SECRET, BODY), BODY.replace("42", "43"));
  assert.deepEqual(tampered, { status: 400, text: "no webhook-signature matches: a wrong secret, or a changed body" });
  assert.equal((await post({}, BODY)).status, 400);
  assert.match(output, /^login\.failed /m);
});
