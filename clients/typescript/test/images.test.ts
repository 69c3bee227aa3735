import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";

import { NotFoundError, ProgImage, UrlNotAllowedError, type Image } from "../src/index.js";
import { readHeader } from "./headers.js";
import { fixture, startServer, startSite, type LocalSite, type TestServer } from "./server.js";

let server: TestServer;
let site: LocalSite;
let client: ProgImage;
let png: Uint8Array<ArrayBuffer>;
let jpeg: Uint8Array<ArrayBuffer>;

before(async () => {
  png = await fixture("images/sample.png");
  jpeg = await fixture("images/sample.jpeg");
  site = await startSite((request, response) => {
    if (request.url === "/pictures/remote.png") {
      response.writeHead(200, { "content-type": "image/png" }).end(png);
    } else {
      response.writeHead(404).end();
    }
  });
  server = await startServer({ allowUrls: "127.0.0.1" });
  client = new ProgImage({ baseUrl: server.url });
});

after(async () => {
  await server?.stop();
  await site?.stop();
});

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

test("upload stores the bytes and get returns the same Image", async () => {
  const image = await client.images.upload(png, { filename: "sample.png" });
  assert.match(image.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(image.url, `/v1/images/${image.id}`);
  assert.equal(image.format, "png");
  assert.equal(image.content_type, "image/png");
  assert.equal(image.width, 64);
  assert.equal(image.height, 96);
  assert.equal(image.bytes, png.length);
  assert.equal(image.sha256, sha256(png));
  assert.equal(image.filename, "sample.png");
  assert.equal(image.source_image_id, null);
  assert.equal(image.job_id, null);
  assert.ok(!Number.isNaN(Date.parse(image.created_at)));
  assert.deepEqual(await client.images.get(image.id), image);
});

test("upload takes a typed Blob, an ArrayBuffer and a ReadableStream", async () => {
  const fromBlob = await client.images.upload(new Blob([jpeg], { type: "image/jpeg" }));
  assert.equal(fromBlob.format, "jpeg");
  assert.equal(fromBlob.filename, null);

  // Untyped bytes go as octet-stream: the bytes decide the format.
  const buffer: ArrayBuffer = png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength);
  const fromBuffer = await client.images.upload(buffer);
  assert.equal(fromBuffer.format, "png");

  const stream = new Blob([jpeg]).stream();
  const fromStream = await client.images.upload(stream, { filename: "streamed.jpg" });
  assert.equal(fromStream.format, "jpeg");
  assert.equal(fromStream.filename, "streamed.jpg");
  assert.equal(fromStream.sha256, sha256(jpeg));
});

test("uploadMany stores each file of one multipart request, reporting refusals per file", async () => {
  const items = await client.images.uploadMany([
    { data: png, filename: "first.png" },
    { data: await fixture("hostile/not-an-image.txt"), filename: "notes.txt" },
    new Blob([jpeg], { type: "image/jpeg" }),
    png,
    { data: png, filename: 'quote".png', contentType: "image/png" },
  ]);
  assert.equal(items.length, 5);
  assert.equal(items[0]?.image?.filename, "first.png");
  assert.equal(items[0]?.image?.format, "png");
  assert.equal(items[1]?.image, null);
  assert.equal(items[1]?.error?.code, "invalid_image");
  assert.equal(items[1]?.error?.status, 422);
  assert.equal(items[2]?.image?.format, "jpeg");
  assert.equal(items[2]?.image?.sha256, sha256(jpeg));
  // A part with neither name nor type is typed by its bytes and stored without a name.
  assert.equal(items[3]?.image?.format, "png");
  assert.equal(items[3]?.image?.filename, null);
  assert.equal(items[4]?.image?.filename, "quote%22.png");
});

test("upload with eager formats is accepted and the variant is served", async () => {
  const image = await client.images.upload(png, { eager: ["webp"] });
  const webp = await client.images.download(image.id, { format: "webp" });
  assert.deepEqual(readHeader(webp), { format: "webp", width: 64, height: 96 });
});

test("download without options returns the original bytes unchanged", async () => {
  const image = await client.images.upload(jpeg, { contentType: "image/jpeg" });
  assert.deepEqual(await client.images.download(image.id), jpeg);
});

test("download converts and resizes with the step shorthands", async () => {
  const image = await client.images.upload(png);
  const thumbnail = await client.images.download(image.id, { format: "jpeg", width: 32, quality: 70 });
  assert.deepEqual(readHeader(thumbnail), { format: "jpeg", width: 32, height: 48 });

  const cropped = await client.images.download(image.id, { format: "png", crop: [8, 8, 40, 20] });
  assert.deepEqual(readHeader(cropped), { format: "png", width: 40, height: 20 });

  const covered = await client.images.download(image.id, { format: "png", width: 30, height: 30, fit: "cover", gravity: "north" });
  assert.deepEqual(readHeader(covered), { format: "png", width: 30, height: 30 });

  const stretched = await client.images.download(image.id, { format: "gif", width: 10, height: 50, fit: "fill", grayscale: true });
  assert.deepEqual(readHeader(stretched), { format: "gif", width: 10, height: 50 });
});

test("download with operations runs them in the order given", async () => {
  const image = await client.images.upload(png);
  // Rotating first turns 64x96 into 96x64; resizing to width 48 then gives 48x32.
  const rotatedFirst = await client.images.download(image.id, {
    format: "png",
    operations: [{ op: "rotate", degrees: 90 }, { op: "resize", width: 48 }, { op: "blur", sigma: 1 }],
  });
  assert.deepEqual(readHeader(rotatedFirst), { format: "png", width: 48, height: 32 });
  // Resizing first gives 48x72; rotating then gives 72x48.
  const resizedFirst = await client.images.download(image.id, {
    format: "png",
    operations: [{ op: "resize", width: 48 }, { op: "rotate", degrees: 90 }, { op: "mask", shape: "circle" }],
  });
  assert.deepEqual(readHeader(resizedFirst), { format: "png", width: 72, height: 48 });
});

test("url builds the addresses the service answers", async () => {
  const image = await client.images.upload(png);
  const original = client.images.url(image.id);
  assert.equal(original, `${server.url}/v1/images/${image.id}`);
  assert.deepEqual(new Uint8Array(await (await fetch(original)).arrayBuffer()), png);

  const variant = client.images.url(image.id, { format: "png", width: 16, flip: "h", background: "ff0000" });
  assert.equal(variant, `${server.url}/v1/images/${image.id}.png?w=16&flip=h&bg=ff0000`);
  const response = await fetch(variant);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  assert.deepEqual(readHeader(new Uint8Array(await response.arrayBuffer())), { format: "png", width: 16, height: 24 });

  const piped = client.images.url(image.id, {
    format: "webp",
    operations: [{ op: "resize", width: 20, fit: "cover" }, { op: "grayscale" }],
  });
  assert.equal(piped, `${server.url}/v1/images/${image.id}.webp?ops=resize%3Awidth%3D20%2Cfit%3Dcover%7Cgrayscale`);
  assert.equal((await fetch(piped)).status, 200);

  assert.throws(() => client.images.url(image.id, { width: 10 }), TypeError);
  assert.throws(() => client.images.url(image.id, { format: "png", width: 10, operations: [] }), TypeError);
});

test("list iterates every page, newest first", async () => {
  const uploaded: Image[] = [];
  for (let index = 0; index < 5; index += 1) {
    uploaded.push(await client.images.upload(png, { filename: `page-${index}.png` }));
  }
  const page = await client.images.listPage({ limit: 2 });
  assert.equal(page.images.length, 2);
  assert.equal(typeof page.next_cursor, "string");

  const iterated: string[] = [];
  for await (const image of client.images.list({ limit: 2 })) {
    iterated.push(image.id);
  }
  const everything = await client.images.listPage({ limit: 1000 });
  assert.equal(everything.next_cursor, null);
  assert.deepEqual(iterated, everything.images.map((image) => image.id));
  assert.deepEqual(iterated.slice(0, 5), uploaded.map((image) => image.id).reverse());

  const afterFirst: string[] = [];
  for await (const image of client.images.list({ limit: 3, cursor: page.next_cursor ?? undefined })) {
    afterFirst.push(image.id);
  }
  assert.deepEqual(afterFirst, iterated.slice(2));
});

test("delete removes the image and its variants", async () => {
  const image = await client.images.upload(png);
  await client.images.download(image.id, { format: "webp", width: 8 });
  await client.images.delete(image.id);
  await assert.rejects(client.images.get(image.id), NotFoundError);
  await assert.rejects(client.images.download(image.id, { format: "webp", width: 8 }), NotFoundError);
  await assert.rejects(client.images.delete(image.id), NotFoundError);
});

test("uploadUrl stores a fetched image named after the URL's last segment", async () => {
  const image = await client.images.uploadUrl(`${site.url}/pictures/remote.png`);
  assert.equal(image.format, "png");
  assert.equal(image.filename, "remote.png");
  assert.equal(image.sha256, sha256(png));
  const named = await client.images.uploadUrl(`${site.url}/pictures/remote.png`, { filename: "renamed.png" });
  assert.equal(named.filename, "renamed.png");
});

test("uploadUrl is refused for addresses outside the allow-list", async () => {
  const strict = await startServer();
  try {
    const strictClient = new ProgImage({ baseUrl: strict.url });
    const error = await strictClient.images.uploadUrl(`${site.url}/pictures/remote.png`).then(
      () => assert.fail("a loopback URL was fetched"),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof UrlNotAllowedError);
    assert.equal(error.status, 400);
    assert.equal(error.code, "url_not_allowed");
    assert.equal(error.param, "url");
  } finally {
    await strict.stop();
  }
});
