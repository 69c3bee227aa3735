import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  ConnectionError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidParameterError,
  MediaTypeMismatchError,
  NotFoundError,
  ProgImage,
  ProgImageError,
  TimeoutError,
  UnauthorizedError,
  UnsupportedFormatError,
  UnsupportedMediaTypeError,
  type Format,
} from "../src/index.js";
import { fixture, startServer, startSite, type TestServer } from "./server.js";

let server: TestServer;
let client: ProgImage;
let png: Uint8Array<ArrayBuffer>;

before(async () => {
  png = await fixture("images/sample.png");
  server = await startServer();
  client = new ProgImage({ baseUrl: server.url });
});

after(async () => {
  await server?.stop();
});

/** The rejection of a promise that must reject. */
async function rejection(promise: Promise<unknown>): Promise<ProgImageError> {
  const error = await promise.then(
    () => assert.fail("the call succeeded"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ProgImageError, `not a ProgImageError: ${String(error)}`);
  return error;
}

test("an unknown id is a NotFoundError carrying the problem document", async () => {
  const error = await rejection(client.images.get("01890a5d-ac96-774b-bcce-b302099a8057"));
  assert.ok(error instanceof NotFoundError);
  assert.equal(error.name, "NotFoundError");
  assert.equal(error.status, 404);
  assert.equal(error.code, "not_found");
  assert.equal(typeof error.detail, "string");
  assert.ok(error.requestId !== undefined && error.requestId.length > 0);
  assert.equal(error.problem?.request_id, error.requestId);
  assert.equal(error.problem?.type, "urn:progimage:problem:not_found");
  assert.equal(error.problem?.status, 404);
  // A malformed id in a path is not found either, and cannot escape the images route.
  assert.ok((await rejection(client.images.get("../healthz"))) instanceof NotFoundError);
});

test("the request id the client sends comes back in the problem", async () => {
  const seen: string[] = [];
  const recording = new ProgImage({
    baseUrl: server.url,
    fetch: (input, init) => {
      seen.push(new Headers(init?.headers).get("x-request-id") ?? "");
      return fetch(input, init);
    },
  });
  const error = await rejection(recording.images.get("01890a5d-ac96-774b-bcce-b302099a8057"));
  assert.equal(seen.length, 1);
  assert.equal(error.requestId, seen[0]);
});

test("bad input maps to the class of its code", async () => {
  const notImage = await rejection(client.images.upload(await fixture("hostile/not-an-image.txt")));
  assert.ok(notImage instanceof InvalidImageError);
  assert.equal(notImage.status, 422);

  const truncated = await rejection(client.images.upload(await fixture("hostile/truncated.png"), { contentType: "image/png" }));
  assert.ok(truncated instanceof InvalidImageError);

  const psd = await rejection(client.images.upload(await fixture("hostile/photoshop.psd")));
  assert.ok(psd instanceof UnsupportedMediaTypeError);
  assert.equal(psd.status, 415);

  const notOurType = await rejection(client.images.upload(png, { contentType: "text/plain" }));
  assert.ok(notOurType instanceof UnsupportedMediaTypeError);

  const mismatch = await rejection(client.images.upload(png, { contentType: "image/jpeg" }));
  assert.ok(mismatch instanceof MediaTypeMismatchError);
  assert.equal(mismatch.code, "media_type_mismatch");

  const bomb = await rejection(client.images.upload(await fixture("hostile/bomb-60000x60000.png")));
  assert.ok(bomb instanceof ImageTooLargeError);
  assert.equal(bomb.status, 422);
});

test("invalid parameters name the parameter at fault", async () => {
  const limit = await rejection(client.images.listPage({ limit: 5000 }));
  assert.ok(limit instanceof InvalidParameterError);
  assert.equal(limit.status, 400);
  assert.equal(limit.param, "limit");

  const cursor = await rejection(client.images.listPage({ cursor: "not-a-cursor" }));
  assert.ok(cursor instanceof InvalidParameterError);
  assert.equal(cursor.param, "cursor");

  const image = await client.images.upload(png);
  const width = await rejection(client.images.download(image.id, { format: "png", width: 20000 }));
  assert.ok(width instanceof InvalidParameterError);
  assert.equal(width.param, "w");

  const eager = await rejection(client.images.upload(png, { eager: ["bogus" as Format] }));
  assert.ok(eager instanceof InvalidParameterError);
  assert.equal(eager.param, "eager");

  const format = await rejection(client.images.download(image.id, { format: "xyz" as Format }));
  assert.ok(format instanceof UnsupportedFormatError);
  assert.equal(format.status, 404);
  assert.equal(format.code, "unsupported_format");
});

test("with API keys: a missing or unknown key is unauthorized, another tenant's image is not found", async () => {
  const keyed = await startServer({ apiKeys: "acme:key-acme,globex:key-globex" });
  try {
    const anonymous = new ProgImage({ baseUrl: keyed.url, apiKey: undefined });
    const missing = await rejection(anonymous.images.listPage());
    assert.ok(missing instanceof UnauthorizedError);
    assert.equal(missing.status, 401);
    assert.equal(missing.code, "unauthorized");

    const wrong = await rejection(new ProgImage({ baseUrl: keyed.url, apiKey: "key-nobody" }).images.listPage());
    assert.ok(wrong instanceof UnauthorizedError);

    const acme = new ProgImage({ baseUrl: keyed.url, apiKey: "key-acme" });
    const globex = new ProgImage({ baseUrl: keyed.url, apiKey: "key-globex" });
    const image = await acme.images.upload(png);
    assert.equal((await acme.images.get(image.id)).id, image.id);
    assert.ok((await rejection(globex.images.get(image.id))) instanceof NotFoundError);
    assert.ok((await rejection(globex.images.delete(image.id))) instanceof NotFoundError);
    assert.deepEqual((await globex.images.listPage()).images, []);
  } finally {
    await keyed.stop();
  }
});

test("baseUrl and apiKey default to PROGIMAGE_URL and PROGIMAGE_API_KEY", async () => {
  const keyed = await startServer({ apiKeys: "acme:key-acme" });
  const saved = { url: process.env.PROGIMAGE_URL, key: process.env.PROGIMAGE_API_KEY };
  try {
    process.env.PROGIMAGE_URL = `${keyed.url}/`;
    process.env.PROGIMAGE_API_KEY = "key-acme";
    const fromEnvironment = new ProgImage();
    assert.equal(fromEnvironment.baseUrl, keyed.url);
    assert.deepEqual((await fromEnvironment.images.listPage()).images, []);
  } finally {
    restore("PROGIMAGE_URL", saved.url);
    restore("PROGIMAGE_API_KEY", saved.key);
    await keyed.stop();
  }
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) {
    delete process.env[name];
  } else {
    process.env[name] = value;
  }
}

test("no answer is a ConnectionError, a slow one a TimeoutError", async () => {
  const site = await startSite(() => {
    // Never answers.
  });
  const siteUrl = site.url;
  await site.stop();
  const closed = await rejection(new ProgImage({ baseUrl: siteUrl, maxRetries: 0 }).images.listPage());
  assert.ok(closed instanceof ConnectionError);
  assert.equal(closed.status, 0);
  assert.equal(closed.code, "connection_error");

  const silent = await startSite(() => {
    // Never answers.
  });
  try {
    const started = Date.now();
    const slow = await rejection(new ProgImage({ baseUrl: silent.url, timeoutMs: 200, maxRetries: 0 }).images.listPage());
    assert.ok(slow instanceof TimeoutError);
    assert.ok(slow instanceof ConnectionError);
    assert.equal(slow.code, "timeout");
    assert.ok(Date.now() - started < 5000);
  } finally {
    await silent.stop();
  }
});
