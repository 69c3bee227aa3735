import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { ProgImage, SignatureError, verifyWebhook } from "../src/index.js";
import { startServer } from "./server.js";

const SECRET = "whsec-test-7f3a";
const NOW = 1_760_000_000;
const JOB = {
  id: "01890a5d-ac96-774b-bcce-b302099a8057",
  status: "succeeded",
  total: 1,
  succeeded: 1,
  failed: 0,
  cancelled: 0,
  items: [],
  metadata: { order: "héllo" },
  webhook: null,
  created_at: "2025-10-09T08:53:20Z",
  updated_at: "2025-10-09T08:53:21Z",
  finished_at: "2025-10-09T08:53:21Z",
};
const BODY = JSON.stringify(JOB);

/** The signature of API.md, computed independently with node:crypto. */
function sign(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

test("a valid signature yields the job", async () => {
  const header = `t=${NOW},v1=${sign(SECRET, NOW, BODY)}`;
  assert.deepEqual(await verifyWebhook(BODY, header, SECRET, { now: NOW }), JOB);
  // The same vector as raw bytes, and with the time as a Date.
  const bytes = new TextEncoder().encode(BODY);
  assert.deepEqual(await verifyWebhook(bytes, header, SECRET, { now: new Date(NOW * 1000) }), JOB);
});

test("any one of several v1 signatures may match, in any order, with spaces", async () => {
  const other = sign("an-older-secret", NOW, BODY);
  const header = `t=${NOW}, v1=${other}, v0=ignored, v1=${sign(SECRET, NOW, BODY)}`;
  assert.equal((await verifyWebhook(BODY, header, SECRET, { now: NOW })).id, JOB.id);
});

test("a wrong secret, a changed body or a changed time is refused", async () => {
  const header = `t=${NOW},v1=${sign(SECRET, NOW, BODY)}`;
  await assert.rejects(verifyWebhook(BODY, header, "another-secret", { now: NOW }), SignatureError);
  await assert.rejects(verifyWebhook(BODY.replace("succeeded", "failed"), header, SECRET, { now: NOW }), SignatureError);
  const shifted = `t=${NOW + 1},v1=${sign(SECRET, NOW, BODY)}`;
  await assert.rejects(verifyWebhook(BODY, shifted, SECRET, { now: NOW }), SignatureError);
  // A truncated signature is not a prefix match.
  const short = `t=${NOW},v1=${sign(SECRET, NOW, BODY).slice(0, 32)}`;
  await assert.rejects(verifyWebhook(BODY, short, SECRET, { now: NOW }), SignatureError);
});

test("a signature older or newer than the tolerance is refused", async () => {
  const header = `t=${NOW},v1=${sign(SECRET, NOW, BODY)}`;
  assert.equal((await verifyWebhook(BODY, header, SECRET, { now: NOW + 300 })).id, JOB.id);
  await assert.rejects(verifyWebhook(BODY, header, SECRET, { now: NOW + 301 }), /300 s/);
  await assert.rejects(verifyWebhook(BODY, header, SECRET, { now: NOW - 301 }), SignatureError);
  assert.equal((await verifyWebhook(BODY, header, SECRET, { now: NOW + 3000, toleranceSec: 3600 })).id, JOB.id);
  // Without `now` the clock decides, and NOW is long past.
  await assert.rejects(verifyWebhook(BODY, header, SECRET), SignatureError);
  const fresh = Math.floor(Date.now() / 1000);
  assert.equal((await verifyWebhook(BODY, `t=${fresh},v1=${sign(SECRET, fresh, BODY)}`, SECRET)).id, JOB.id);
});

test("the header as Node delivers it: one in a list passes, none or several are refused", async () => {
  const header = `t=${NOW},v1=${sign(SECRET, NOW, BODY)}`;
  assert.equal((await verifyWebhook(BODY, [header], SECRET, { now: NOW })).id, JOB.id);
  await assert.rejects(verifyWebhook(BODY, undefined, SECRET, { now: NOW }), /no ProgImage-Signature/);
  await assert.rejects(verifyWebhook(BODY, null, SECRET, { now: NOW }), SignatureError);
  await assert.rejects(verifyWebhook(BODY, [header, header], SECRET, { now: NOW }), /2 ProgImage-Signature/);
  await assert.rejects(verifyWebhook(BODY, [], SECRET, { now: NOW }), SignatureError);
});

test("malformed headers are refused", async () => {
  const signature = sign(SECRET, NOW, BODY);
  for (const header of ["", `v1=${signature}`, `t=${NOW}`, `t=abc,v1=${signature}`, `t=${NOW},v1=xyz`, `t=${NOW},v2=${signature}`]) {
    await assert.rejects(verifyWebhook(BODY, header, SECRET, { now: NOW }), SignatureError, `accepted ${JSON.stringify(header)}`);
  }
});

test("webhookSecret: the master in open mode, a per-tenant derivation with API keys", async () => {
  const master = "master-secret-for-tests";
  const open = await startServer({ webhookSecret: master });
  try {
    assert.equal(await new ProgImage({ baseUrl: open.url }).webhookSecret(), master);
  } finally {
    await open.stop();
  }
  const keyed = await startServer({ webhookSecret: master, apiKeys: "acme:key-acme,globex:key-globex" });
  try {
    const acme = await new ProgImage({ baseUrl: keyed.url, apiKey: "key-acme" }).webhookSecret();
    const globex = await new ProgImage({ baseUrl: keyed.url, apiKey: "key-globex" }).webhookSecret();
    assert.equal(acme, createHmac("sha256", master).update("acme").digest("hex"));
    assert.equal(globex, createHmac("sha256", master).update("globex").digest("hex"));
    // A body signed with acme's secret verifies for acme only.
    const header = `t=${NOW},v1=${sign(acme, NOW, BODY)}`;
    assert.equal((await verifyWebhook(BODY, header, acme, { now: NOW })).id, JOB.id);
    await assert.rejects(verifyWebhook(BODY, header, globex, { now: NOW }), SignatureError);
  } finally {
    await keyed.stop();
  }
});
