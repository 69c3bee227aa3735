import assert from "node:assert/strict";
import { after, before, test, type TestContext } from "node:test";

import {
  IdempotencyConflictError,
  InvalidParameterError,
  NotFoundError,
  ProgImage,
  isFinished,
  verifyWebhook,
  type Image,
  type Job,
} from "../src/index.js";
import { readHeader } from "./headers.js";
import { fixture, startServer, startSite, type LocalSite, type TestServer } from "./server.js";

let server: TestServer;
let client: ProgImage;
let png: Uint8Array<ArrayBuffer>;
/** Whether the server has `/v1/jobs`: while it answers 404 there, these tests are skipped. */
let jobsApi = false;

before(async () => {
  png = await fixture("images/sample.png");
  server = await startServer({ allowUrls: "127.0.0.1" });
  client = new ProgImage({ baseUrl: server.url });
  const probe = await fetch(`${server.url}/v1/jobs`);
  jobsApi = probe.status !== 404;
});

after(async () => {
  await server?.stop();
});

/** Skips the test while the server has no jobs API; true when it should run. */
function hasJobs(t: TestContext): boolean {
  if (!jobsApi) {
    t.skip("the server has no jobs API yet");
  }
  return jobsApi;
}

const MISSING_ID = "01890a5d-ac96-774b-bcce-b302099a8057";

test("a job transforms every item into a new stored image", async (t) => {
  if (!hasJobs(t)) return;
  const sources: Image[] = [await client.images.upload(png), await client.images.upload(png)];
  const created = await client.jobs.create({
    items: [
      { imageId: sources[0]!.id },
      { imageId: sources[1]!.id, operations: [{ op: "resize", width: 16 }], format: "png" },
    ],
    operations: [{ op: "resize", width: 32 }, { op: "grayscale" }],
    format: "jpeg",
    quality: 80,
    metadata: { batch: 7 },
  });
  assert.equal(created.total, 2);
  assert.equal(created.url, `/v1/jobs/${created.id}`);

  const job = await client.jobs.wait(created.id, { timeoutMs: 60_000, pollIntervalMs: 100 });
  assert.equal(job.status, "succeeded");
  assert.ok(isFinished(job));
  assert.equal(job.succeeded, 2);
  assert.deepEqual(job.metadata, { batch: 7 });
  assert.ok(job.finished_at !== null);
  const items = job.items ?? [];
  assert.deepEqual(items.map((item) => [item.index, item.status]), [[0, "succeeded"], [1, "succeeded"]]);

  const first = items[0]?.image;
  assert.ok(first);
  assert.equal(first.job_id, job.id);
  assert.equal(first.source_image_id, sources[0]!.id);
  assert.equal(first.format, "jpeg");
  assert.deepEqual(readHeader(await client.images.download(first.id)), { format: "jpeg", width: 32, height: 48 });
  // The item's own settings replace the job's: PNG, 16 wide, not grayscale-then-32.
  const second = items[1]?.image;
  assert.ok(second);
  assert.deepEqual(readHeader(await client.images.download(second.id)), { format: "png", width: 16, height: 24 });
});

test("an item whose source is missing fails alone", async (t) => {
  if (!hasJobs(t)) return;
  const source = await client.images.upload(png);
  const created = await client.jobs.create({ items: [{ imageId: source.id }, { imageId: MISSING_ID }] });
  const job = await client.jobs.wait(created.id, { timeoutMs: 60_000, pollIntervalMs: 100 });
  assert.equal(job.status, "completed_with_errors");
  assert.equal(job.succeeded, 1);
  assert.equal(job.failed, 1);
  const failed = job.items?.[1];
  assert.equal(failed?.status, "failed");
  assert.equal(failed?.image, null);
  assert.equal(failed?.error?.code, "not_found");
});

test("an invalid submission is refused with the JSON path at fault", async (t) => {
  if (!hasJobs(t)) return;
  const empty = await client.jobs.create({ items: [] }).catch((error: unknown) => error);
  assert.ok(empty instanceof InvalidParameterError);
  const badOperation = await client.jobs
    .create({ items: [{ imageId: MISSING_ID }], operations: [{ op: "blur", sigma: 500 }] })
    .catch((error: unknown) => error);
  assert.ok(badOperation instanceof InvalidParameterError);
  assert.equal(badOperation.param, "operations[0].sigma");
});

test("the same idempotency key gives the same job; another body conflicts", async (t) => {
  if (!hasJobs(t)) return;
  const source = await client.images.upload(png);
  const key = `sdk-ts-${Date.now()}`;
  const body = { items: [{ imageId: source.id }], format: "webp" as const, idempotencyKey: key };
  const first = await client.jobs.create(body);
  const again = await client.jobs.create(body);
  assert.equal(again.id, first.id);
  const conflict = await client.jobs.create({ ...body, format: "png" }).catch((error: unknown) => error);
  assert.ok(conflict instanceof IdempotencyConflictError);
  assert.equal(conflict.status, 409);
  await client.jobs.wait(first.id, { timeoutMs: 60_000 });
});

test("get, list by status and cancel", async (t) => {
  if (!hasJobs(t)) return;
  const source = await client.images.upload(png);
  const created = await client.jobs.create({ items: [{ imageId: source.id }], operations: [{ op: "rotate", degrees: 90 }] });
  const fetched = await client.jobs.get(created.id);
  assert.equal(fetched.id, created.id);
  assert.equal(fetched.total, 1);

  const finished = await client.jobs.wait(created.id, { timeoutMs: 60_000 });
  const listed: Job[] = [];
  for await (const job of client.jobs.list({ status: "succeeded", limit: 1 })) {
    listed.push(job);
  }
  assert.ok(listed.some((job) => job.id === created.id));
  assert.ok(listed.every((job) => job.status === "succeeded"));

  // Cancelling a finished job returns it unchanged.
  const cancelled = await client.jobs.cancel(created.id);
  assert.equal(cancelled.status, finished.status);
  assert.equal(cancelled.finished_at, finished.finished_at);

  await assert.rejects(client.jobs.get(MISSING_ID), NotFoundError);
  await assert.rejects(client.jobs.cancel(MISSING_ID), NotFoundError);
});

test("cancelling a running job cancels its queued items", async (t) => {
  if (!hasJobs(t)) return;
  const source = await client.images.upload(png);
  const many = await client.jobs.create({
    items: Array.from({ length: 50 }, () => ({ imageId: source.id })),
    operations: [{ op: "resize", width: 300, enlarge: true }],
    format: "png",
  });
  const cancelling = await client.jobs.cancel(many.id);
  assert.equal(cancelling.id, many.id);
  const ended = await client.jobs.wait(many.id, { timeoutMs: 60_000, pollIntervalMs: 100 });
  assert.ok(isFinished(ended));
  assert.ok(ended.finished_at !== null);
  assert.equal(ended.succeeded + ended.failed + ended.cancelled, 50);
  assert.equal(ended.status, ended.cancelled > 0 ? "cancelled" : "succeeded");
  // Outputs of items that ran are kept.
  for (const item of ended.items ?? []) {
    assert.equal(item.image !== null, item.status === "succeeded");
  }
});

test("the finished job is delivered to the webhook, signed with the tenant's secret", async (t) => {
  if (!hasJobs(t)) return;
  const deliveries: Array<{ body: string; signature: string; event: string }> = [];
  let delivered: () => void = () => {};
  const arrived = new Promise<void>((resolve) => {
    delivered = resolve;
  });
  const site: LocalSite = await startSite((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      deliveries.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(request.headers["progimage-signature"]),
        event: String(request.headers["progimage-event"]),
      });
      response.writeHead(204).end();
      delivered();
    });
  });
  try {
    const source = await client.images.upload(png);
    const created = await client.jobs.create({ items: [{ imageId: source.id }], webhookUrl: `${site.url}/hooks` });
    await Promise.race([
      arrived,
      new Promise((_, reject) => setTimeout(() => reject(new Error("no webhook within 60 s")), 60_000)),
    ]);
    const delivery = deliveries[0];
    assert.ok(delivery);
    assert.equal(delivery.event, "job.finished");
    const job = await verifyWebhook(delivery.body, delivery.signature, await client.webhookSecret());
    assert.equal(job.id, created.id);
    assert.equal(job.status, "succeeded");
    await assert.rejects(verifyWebhook(delivery.body, delivery.signature, "not-the-secret"));
  } finally {
    await site.stop();
  }
});
