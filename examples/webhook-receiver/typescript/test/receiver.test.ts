/**
 * The receiver as a client runs it: a real server delivers a job's webhook to it.
 *
 * The server is `PROGIMAGE_BIN` (else `progimage-api` in `$CARGO_TARGET_DIR` or the
 * repository's `target/debug`), on a free loopback port with a data directory of its own; the
 * receiver is `build/src/receiver.js` in a process of its own, asking the service for its secret.
 */

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { ProgImage, type Job } from "@progimage/client";

/** examples/webhook-receiver/typescript/build/test → the repository, five levels up. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../..");
const RECEIVER = resolve(dirname(fileURLToPath(import.meta.url)), "../src/receiver.js");
const MASTER_SECRET = "example-master-secret";
/** How long a line of the receiver, the server's health or the job may take to come. */
const WAIT_MS = 30_000;

/** A process's standard output, line by line, to wait on. */
class Lines {
  readonly lines: string[] = [];
  #waiters: Array<() => void> = [];
  #ended = false;

  constructor(child: ChildProcess) {
    const reader = createInterface({ input: child.stdout! });
    reader.on("line", (line) => {
      this.lines.push(line);
      this.#wake();
    });
    reader.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** The first line for which `predicate` holds; rejects after `WAIT_MS` or at the end of output. */
  async waitFor(predicate: (line: string) => boolean): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const line = this.lines.find(predicate);
      if (line !== undefined) return line;
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) {
        throw new Error(`no such line within ${WAIT_MS} ms; the receiver wrote ${JSON.stringify(this.lines)}`);
      }
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }
}

function serverBinary(): string {
  const explicit = process.env.PROGIMAGE_BIN;
  if (explicit) return explicit;
  return join(resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR || "target"), "debug", "progimage-api");
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const address = probe.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise((closed) => probe.close(closed));
  return port;
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`progimage-api exited at start:\n${log()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    // Nothing to wait on but the port: poll it.
    await new Promise((wake) => setTimeout(wake, 50));
  }
  throw new Error(`progimage-api not healthy in ${WAIT_MS} ms:\n${log()}`);
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

let dataDir: string;
let server: ChildProcess | undefined;
let receiver: ChildProcess | undefined;
let output: Lines;
let receiverUrl: string;
let client: ProgImage;
let secret: string;
let job: Job;

before(async () => {
  const binary = serverBinary();
  if (!existsSync(binary)) throw new Error(`no progimage-api at ${binary}: build it or set PROGIMAGE_BIN`);
  dataDir = await mkdtemp(join(tmpdir(), "progimage-example-ts-"));
  const port = await freePort();
  server = spawn(binary, [], {
    env: {
      ...process.env,
      PROGIMAGE_DATA_DIR: dataDir,
      PROGIMAGE_LISTEN: `127.0.0.1:${port}`,
      PROGIMAGE_API_KEYS: "",
      PROGIMAGE_WEBHOOK_SECRET: MASTER_SECRET,
      // The receiver is on loopback, which the SSRF rules refuse otherwise.
      PROGIMAGE_ALLOW_URLS: "127.0.0.1",
      RUST_LOG: process.env.RUST_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const record = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8000));
  server.stdout?.on("data", record);
  server.stderr?.on("data", record);
  const serverUrl = `http://127.0.0.1:${port}`;
  await waitHealthy(serverUrl, server, () => log);

  // No secret given: it asks the service for it, as a receiver of a keyed tenant must.
  const { PROGIMAGE_WEBHOOK_SECRET: _unused, ...environment } = process.env;
  receiver = spawn(process.execPath, [RECEIVER, "--port", "0"], {
    env: { ...environment, PROGIMAGE_URL: serverUrl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  output = new Lines(receiver);
  receiverUrl = (await output.waitFor((line) => line.startsWith("listening on "))).slice("listening on ".length);

  client = new ProgImage({ baseUrl: serverUrl });
  secret = await client.webhookSecret();
  const logo = new Uint8Array(await readFile(join(REPO_ROOT, "fixtures", "images", "logo.png")));
  const image = await client.images.upload(logo, { filename: "logo.png" });
  const created = await client.jobs.create({
    items: [{ imageId: image.id }],
    operations: [{ op: "resize", width: 32 }],
    format: "webp",
    webhookUrl: `${receiverUrl}/hooks/progimage`,
  });
  job = await client.jobs.wait(created.id, { timeoutMs: WAIT_MS });
});

after(async () => {
  await stop(receiver);
  await stop(server);
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

function verifiedLines(jobId: string): string[] {
  return output.lines.filter((line) => line.startsWith(`verified job ${jobId} `));
}

/** The job's JSON as the service serves it: the body a delivery of it carries. */
async function jobDocument(jobId: string): Promise<string> {
  const response = await fetch(`${client.baseUrl}/v1/jobs/${jobId}`);
  assert.equal(response.status, 200);
  return response.text();
}

/** Headers of a delivery as the service makes them, signed with `key`. */
function signedDelivery(body: string, key: string, delivery: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", key).update(`${timestamp}.`).update(body).digest("hex");
  return {
    "content-type": "application/json",
    "progimage-signature": `t=${timestamp},v1=${signature}`,
    "progimage-event": "job.finished",
    "progimage-delivery": delivery,
  };
}

async function deliver(body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${receiverUrl}/hooks/progimage`, { method: "POST", body, headers });
  await response.arrayBuffer();
  return response.status;
}

test("the delivery is verified with the job's final status", async () => {
  assert.equal(job.status, "succeeded");
  const expected = `verified job ${job.id} status ${job.status}`;
  await output.waitFor((line) => line.startsWith("verified job "));
  assert.deepEqual(verifiedLines(job.id), [expected]);
  assert.deepEqual(output.lines.filter((line) => line.startsWith("verified ")), [expected]);
});

test("a redelivery is acknowledged and not handled again", async () => {
  await output.waitFor((line) => line.startsWith(`verified job ${job.id} `));
  const delivery = `${job.id}:2`;
  const body = await jobDocument(job.id);
  assert.equal(await deliver(body, signedDelivery(body, secret, delivery)), 204);
  await output.waitFor((line) => line.startsWith(`duplicate delivery ${delivery} `));
  assert.equal(verifiedLines(job.id).length, 1);
});

const refusals: Array<[string, string, (body: string, delivery: string) => [string, Record<string, string>]]> = [
  [
    "91",
    "a tampered body",
    (body, delivery) => {
      const tampered = body.replace('"succeeded"', '"failed"');
      assert.notEqual(tampered, body);
      return [tampered, signedDelivery(body, secret, delivery)];
    },
  ],
  ["92", "a wrong secret", (body, delivery) => [body, signedDelivery(body, "not-the-secret", delivery)]],
  [
    "93",
    "no signature",
    (body, delivery) => {
      const { "progimage-signature": _unused, ...headers } = signedDelivery(body, secret, delivery);
      return [body, headers];
    },
  ],
];

for (const [attempt, change, make] of refusals) {
  test(`a delivery with ${change} is refused`, async () => {
    const delivery = `${job.id}:${attempt}`;
    const [body, headers] = make(await jobDocument(job.id), delivery);
    assert.equal(await deliver(body, headers), 400);
    await output.waitFor((line) => line.startsWith(`rejected delivery ${delivery}:`));
  });
}

test("a delivery whose id names another job is refused", async () => {
  const delivery = "01890a5d-ac96-774b-bcce-b302099a8057:94";
  const body = await jobDocument(job.id);
  assert.equal(await deliver(body, signedDelivery(body, secret, delivery)), 400);
  await output.waitFor((line) => line.startsWith(`rejected delivery ${delivery}:`));
});
