/**
 * A receiver of ProgImage's job webhooks that verifies every delivery before it trusts it.
 *
 *     node build/src/receiver.js --port 8000     # or PORT=8000 npm start
 *
 * The signing secret is `PROGIMAGE_WEBHOOK_SECRET` when set (open mode signs with the
 * server's master secret); otherwise it is asked of the service with the SDK
 * (`GET /v1/webhook-secret` at `PROGIMAGE_URL` with `PROGIMAGE_API_KEY`), which is the way
 * with API keys, where each tenant has a secret of its own.
 *
 * Each delivery gets one line on standard output and an answer: 204 once verified (the service
 * stops retrying), 400 when the signature does not verify (it is not from the service, or was
 * changed on the way). Delivery is at least once, so a job already seen is acknowledged again
 * and not handled twice. Node's `node:http` and the SDK only.
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";

import { ProgImage, ProgImageError, SignatureError, verifyWebhook, type Job } from "@progimage/client";

/** Larger bodies are refused unread: a job of 10,000 items, each with its image, stays below. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** What the HTTP handler calls: verification and de-duplication, no HTTP. */
class Receiver {
  readonly #secret: string;
  /** A real receiver keeps these in its database, beside what it does with the job. */
  readonly #seenJobIds = new Set<string>();

  constructor(secret: string) {
    this.#secret = secret;
  }

  /** The status to answer and the line to log for one delivery. */
  async receive(body: Uint8Array, signature: string | undefined, delivery: string | undefined): Promise<[number, string]> {
    if (signature === undefined) {
      return [400, `rejected delivery ${delivery}: missing ProgImage-Signature header`];
    }
    let job: Job;
    try {
      job = await verifyWebhook(body, signature, this.#secret);
    } catch (error) {
      if (error instanceof SignatureError) {
        return [400, `rejected delivery ${delivery}: ${error.message}`];
      }
      throw error;
    }
    // The delivery id is `<job id>:<attempt>`. It is not signed, so it must name the job the
    // signed body is about before it decides anything.
    if (deliveryJobId(delivery) !== job.id) {
      return [400, `rejected delivery ${delivery}: it does not name job ${job.id}`];
    }
    if (this.#seenJobIds.has(job.id)) {
      return [204, `duplicate delivery ${delivery} of job ${job.id}`];
    }
    this.#seenJobIds.add(job.id);
    // Here a real receiver would act on the job: fetch its outputs, notify someone...
    return [204, `verified job ${job.id} status ${job.status}`];
  }
}

/** The job id of a delivery id `<job id>:<attempt>`. */
function deliveryJobId(delivery: string | undefined): string | undefined {
  const separator = delivery?.lastIndexOf(":") ?? -1;
  return separator < 0 ? undefined : delivery?.slice(0, separator);
}

/** The request's body, exactly as sent: the signature covers these bytes, not a re-encoding. */
async function readBody(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A header's value when it came once; node gives an array for some repeated headers. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

async function handle(receiver: Receiver, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const answer = (status: number, line: string, headers: Record<string, string> = {}) => {
    console.log(line);
    response.writeHead(status, { "content-length": "0", ...headers }).end();
  };
  if (request.method !== "POST") {
    answer(405, `rejected ${request.method} request: only POST is taken`, { allow: "POST" });
    return;
  }
  const length = request.headers["content-length"];
  if (length === undefined) {
    answer(411, "rejected delivery: no Content-Length");
    return;
  }
  if (Number(length) > MAX_BODY_BYTES) {
    // Closing the connection spares reading the body.
    answer(413, `rejected delivery: ${length} bytes is too large`, { connection: "close" });
    return;
  }
  const body = await readBody(request);
  const [status, line] = await receiver.receive(
    body,
    single(request.headers["progimage-signature"]),
    single(request.headers["progimage-delivery"]),
  );
  answer(status, line);
}

/** `PROGIMAGE_WEBHOOK_SECRET`, else this tenant's secret as the service gives it. */
async function webhookSecret(): Promise<string> {
  const secret = process.env.PROGIMAGE_WEBHOOK_SECRET;
  if (secret !== undefined && secret !== "") {
    return secret;
  }
  const client = new ProgImage();
  try {
    return await client.webhookSecret();
  } catch (error) {
    if (error instanceof ProgImageError) {
      console.error(
        `could not get the webhook secret from ${client.baseUrl}: ${error.message} ` +
          "(set PROGIMAGE_URL and PROGIMAGE_API_KEY, or PROGIMAGE_WEBHOOK_SECRET)",
      );
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      // 0 takes any free port; the line "listening on ..." tells which.
      port: { type: "string", default: process.env.PORT ?? "8000" },
    },
  });
  const receiver = new Receiver(await webhookSecret());
  const server = createServer((request, response) => {
    handle(receiver, request, response).catch((error: unknown) => {
      console.log(`failed delivery ${single(request.headers["progimage-delivery"])}: ${String(error)}`);
      if (!response.headersSent) {
        response.writeHead(500, { "content-length": "0" }).end();
      }
    });
  });
  server.listen(Number(values.port), values.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : values.port;
    console.log(`listening on http://${values.host}:${port}`);
  });
}

await main();
