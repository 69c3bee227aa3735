import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { InvalidParameterError, NotFoundError, ProgImage } from "../src/index.js";
import { readHeader } from "./headers.js";
import { fixture, startServer, startSite, type LocalSite, type TestServer } from "./server.js";

let server: TestServer;
let site: LocalSite;
let client: ProgImage;
let png: Uint8Array<ArrayBuffer>;

before(async () => {
  png = await fixture("images/sample.png");
  site = await startSite((_request, response) => {
    response.writeHead(200, { "content-type": "image/png" }).end(png);
  });
  server = await startServer({ allowUrls: "127.0.0.1" });
  client = new ProgImage({ baseUrl: server.url });
});

after(async () => {
  await server?.stop();
  await site?.stop();
});

test("transform of bytes sends them raw with the query form", async () => {
  const output = await client.transform(png, { format: "jpeg", width: 32, quality: 80 });
  assert.deepEqual(readHeader(output), { format: "jpeg", width: 32, height: 48 });

  const blob = new Blob([png], { type: "image/png" });
  const rotated = await client.transform(blob, { operations: [{ op: "rotate", degrees: 270 }] });
  // No format: the output keeps the source's.
  assert.deepEqual(readHeader(rotated), { format: "png", width: 96, height: 64 });
});

test("transform of a stored image sends JSON, the step shorthands as operations", async () => {
  const image = await client.images.upload(png);
  const output = await client.transform({ imageId: image.id }, { format: "png", crop: [0, 0, 40, 60], width: 20 });
  assert.deepEqual(readHeader(output), { format: "png", width: 20, height: 30 });

  const flipped = await client.transform({ imageId: image.id }, { operations: [{ op: "flip", axis: "v" }], format: "gif" });
  assert.deepEqual(readHeader(flipped), { format: "gif", width: 64, height: 96 });
  // Nothing was stored.
  const page = await client.images.listPage();
  assert.deepEqual(page.images.map((stored) => stored.id), [image.id]);
});

test("transform of a URL has the service fetch it", async () => {
  const output = await client.transform({ url: `${site.url}/any.png` }, { format: "webp", height: 48, lossless: true });
  assert.deepEqual(readHeader(output), { format: "webp", width: 32, height: 48 });
});

test("transform errors name the parameter in the form that was sent", async () => {
  const query = await client.transform(png, { width: 0 }).catch((error: unknown) => error);
  assert.ok(query instanceof InvalidParameterError);
  assert.equal(query.param, "w");

  const pipeline = await client.transform(png, { operations: [{ op: "blur", sigma: 101 }] }).catch((error: unknown) => error);
  assert.ok(pipeline instanceof InvalidParameterError);
  assert.equal(pipeline.param, "ops");

  const image = await client.images.upload(png);
  const json = await client
    .transform({ imageId: image.id }, { operations: [{ op: "resize", width: 10 }, { op: "resize", width: 0 }] })
    .catch((error: unknown) => error);
  assert.ok(json instanceof InvalidParameterError);
  assert.equal(json.param, "operations[1].width");

  const missing = await client
    .transform({ imageId: "01890a5d-ac96-774b-bcce-b302099a8057" }, { format: "png" })
    .catch((error: unknown) => error);
  assert.ok(missing instanceof NotFoundError);
});
