import assert from "node:assert/strict";
import { test } from "node:test";

import { ConnectionError, JobWaitTimeoutError, ProgImage, RateLimitedError, UnavailableError } from "../src/index.js";
import { retryDelayMs } from "../src/http.js";

const BASE = "http://progimage.invalid";
const PAGE = JSON.stringify({ images: [], next_cursor: null });

/** A scripted fetch: answers with the next response of the script and records each call. */
function scripted(script: Array<() => Response>) {
  const calls: Array<{ at: number; method: string; requestId: string | null }> = [];
  const fetchImpl: typeof fetch = async (_input, init) => {
    calls.push({ at: Date.now(), method: init?.method ?? "GET", requestId: new Headers(init?.headers).get("x-request-id") });
    const next = script[Math.min(calls.length - 1, script.length - 1)];
    assert.ok(next !== undefined);
    return next();
  };
  return { calls, fetch: fetchImpl };
}

function problem(status: number, code: string, headers: Record<string, string> = {}): () => Response {
  const body = JSON.stringify({ type: `urn:progimage:problem:${code}`, title: code, status, detail: code, code, request_id: "r" });
  return () => new Response(body, { status, headers: { "content-type": "application/problem+json", ...headers } });
}

const ok = () => new Response(PAGE, { status: 200, headers: { "content-type": "application/json" } });
const refused = () => {
  throw new TypeError("fetch failed");
};

test("backoff delays double, with jitter between half and all of the ceiling", () => {
  assert.equal(retryDelayMs(0, undefined, () => 0), 250);
  assert.equal(retryDelayMs(0, undefined, () => 1), 500);
  assert.equal(retryDelayMs(1, undefined, () => 0), 500);
  assert.equal(retryDelayMs(2, undefined, () => 1), 2000);
  assert.equal(retryDelayMs(10, undefined, () => 1), 8000);
  assert.equal(retryDelayMs(3, 7, () => 1), 7000);
  const jittered = new Set(Array.from({ length: 20 }, () => retryDelayMs(1, undefined)));
  assert.ok(jittered.size > 1, "no jitter");
});

test("a 503 on a GET is retried with growing delays, keeping one request id", async () => {
  const { calls, fetch } = scripted([problem(503, "unavailable"), problem(503, "unavailable"), ok]);
  const client = new ProgImage({ baseUrl: BASE, fetch, maxRetries: 2 });
  assert.deepEqual(await client.images.listPage(), { images: [], next_cursor: null });
  assert.equal(calls.length, 3);
  const [first, second, third] = calls as [(typeof calls)[0], (typeof calls)[0], (typeof calls)[0]];
  const gap1 = second.at - first.at;
  const gap2 = third.at - second.at;
  assert.ok(gap1 >= 240 && gap1 < 900, `first delay ${gap1} ms`);
  assert.ok(gap2 >= 490 && gap2 < 1400, `second delay ${gap2} ms`);
  assert.equal(new Set(calls.map((call) => call.requestId)).size, 1);
});

test("Retry-After is honoured", async () => {
  const { calls, fetch } = scripted([problem(429, "rate_limited", { "retry-after": "1" }), ok]);
  const client = new ProgImage({ baseUrl: BASE, fetch });
  await client.images.listPage();
  assert.equal(calls.length, 2);
  const gap = (calls[1]?.at ?? 0) - (calls[0]?.at ?? 0);
  assert.ok(gap >= 990 && gap < 2000, `delay ${gap} ms`);
});

test("after maxRetries the last error is thrown, with its Retry-After", async () => {
  const { calls, fetch } = scripted([problem(503, "unavailable", { "retry-after": "0" })]);
  const client = new ProgImage({ baseUrl: BASE, fetch, maxRetries: 3 });
  const error = await client.images.listPage().catch((caught: unknown) => caught);
  assert.ok(error instanceof UnavailableError);
  assert.equal(error.retryAfter, 0);
  assert.equal(calls.length, 4);
});

test("a Retry-After longer than a minute is not waited out", async () => {
  const { calls, fetch } = scripted([problem(429, "rate_limited", { "retry-after": "120" })]);
  const client = new ProgImage({ baseUrl: BASE, fetch });
  const error = await client.images.listPage().catch((caught: unknown) => caught);
  assert.ok(error instanceof RateLimitedError);
  assert.equal(error.retryAfter, 120);
  assert.equal(calls.length, 1);
});

test("an upload is retried on 429 but not on 503 or a network failure", async () => {
  const image = JSON.stringify({ id: "x" });
  const limited = scripted([problem(429, "rate_limited", { "retry-after": "0" }), () => new Response(image, { status: 201 })]);
  await new ProgImage({ baseUrl: BASE, fetch: limited.fetch }).images.upload(new Uint8Array([1, 2, 3]));
  assert.deepEqual(limited.calls.map((call) => call.method), ["POST", "POST"]);

  const overloaded = scripted([problem(503, "unavailable", { "retry-after": "0" }), ok]);
  const unavailable = await new ProgImage({ baseUrl: BASE, fetch: overloaded.fetch }).images
    .upload(new Uint8Array([1, 2, 3]))
    .catch((caught: unknown) => caught);
  assert.ok(unavailable instanceof UnavailableError);
  assert.equal(overloaded.calls.length, 1);

  const broken = scripted([refused, ok]);
  const network = await new ProgImage({ baseUrl: BASE, fetch: broken.fetch }).images
    .upload(new Uint8Array([1, 2, 3]))
    .catch((caught: unknown) => caught);
  assert.ok(network instanceof ConnectionError);
  assert.equal(broken.calls.length, 1);
});

test("a streamed body is never sent twice", async () => {
  const { calls, fetch } = scripted([problem(429, "rate_limited", { "retry-after": "0" }), ok]);
  const stream = new Blob([new Uint8Array([1, 2, 3])]).stream();
  const error = await new ProgImage({ baseUrl: BASE, fetch }).images.upload(stream).catch((caught: unknown) => caught);
  assert.ok(error instanceof RateLimitedError);
  assert.equal(calls.length, 1);
});

test("network failures of idempotent calls are retried", async () => {
  const { calls, fetch } = scripted([refused, ok]);
  await new ProgImage({ baseUrl: BASE, fetch }).images.listPage();
  assert.equal(calls.length, 2);

  const never = scripted([refused]);
  const error = await new ProgImage({ baseUrl: BASE, fetch: never.fetch, maxRetries: 0 }).images.listPage().catch((caught: unknown) => caught);
  assert.ok(error instanceof ConnectionError);
  assert.equal(never.calls.length, 1);
});

test("a job submission carries an idempotency key, so it is retried like a GET", async () => {
  const keys: string[] = [];
  let attempt = 0;
  const client = new ProgImage({
    baseUrl: BASE,
    fetch: async (_input, init) => {
      keys.push(new Headers(init?.headers).get("idempotency-key") ?? "");
      attempt += 1;
      return attempt === 1
        ? problem(503, "unavailable", { "retry-after": "0" })()
        : new Response(JSON.stringify({ id: "j", status: "queued", url: "/v1/jobs/j", total: 1 }), { status: 202 });
    },
  });
  const created = await client.jobs.create({ items: [{ url: "https://example.com/a.png" }] });
  assert.equal(created.id, "j");
  assert.equal(keys.length, 2);
  assert.match(keys[0] ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(keys[0], keys[1]);
});

test("jobs.wait polls with growing intervals and gives up at its timeout", async () => {
  const running = JSON.stringify({ id: "j", status: "running", total: 1, succeeded: 0, failed: 0, cancelled: 0 });
  const { calls, fetch } = scripted([() => new Response(running, { status: 200 })]);
  const client = new ProgImage({ baseUrl: BASE, fetch });
  const started = Date.now();
  const error = await client.jobs.wait("j", { timeoutMs: 700, pollIntervalMs: 100 }).catch((caught: unknown) => caught);
  const took = Date.now() - started;
  assert.ok(error instanceof JobWaitTimeoutError);
  assert.equal(error.job.status, "running");
  assert.equal(error.code, "wait_timeout");
  assert.ok(took >= 690 && took < 1500, `gave up after ${took} ms`);
  // Intervals 100, 150, 225, then whatever is left: five polls, not seven.
  assert.ok(calls.length >= 4 && calls.length <= 6, `${calls.length} polls`);
  const gaps = calls.slice(1).map((call, index) => call.at - (calls[index]?.at ?? 0));
  assert.ok((gaps[1] ?? 0) > (gaps[0] ?? 0), `intervals did not grow: ${gaps.join(", ")}`);
});
