/**
 * Verification of the signed webhooks the service sends when a job ends.
 *
 * @module
 */

import { webCrypto } from "./crypto.js";
import { SignatureError } from "./errors.js";
import type { Job } from "./types.js";

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** How far the signature's time may be from now, either way (default 300 s). */
  toleranceSec?: number;
  /** The time to judge against: a Date, or unix seconds; default the clock. */
  now?: Date | number;
}

const encoder = new TextEncoder();

/**
 * Checks a webhook's `ProgImage-Signature` header against its raw body and the tenant's
 * secret (`client.webhookSecret()`), and resolves with the Job it carries.
 *
 * The header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; several
 * `v1` entries may be present (any one matching is enough). Pass the body exactly as received:
 * re-serialised JSON has other bytes and fails. The header may be given as Node's
 * `request.headers[...]` holds it (`string | string[] | undefined`). Rejects with
 * {@link SignatureError} when the header is missing, repeated or malformed, no signature
 * matches, or `t` is more than `toleranceSec` from now.
 */
export async function verifyWebhook(
  payload: string | Uint8Array,
  signatureHeader: string | readonly string[] | null | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<Job> {
  const { timestamp, signatures } = parseSignatureHeader(oneHeader(signatureHeader));
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const expected = await hmacSha256(secret, concat(encoder.encode(`${timestamp}.`), body));
  // Every candidate is compared in full, so the time taken tells nothing about the secret.
  let matched = false;
  for (const signature of signatures) {
    matched = constantTimeEqual(expected, signature) || matched;
  }
  if (!matched) {
    throw new SignatureError("no v1 signature matches the payload");
  }
  const toleranceSec = options.toleranceSec ?? 300;
  const now = options.now instanceof Date ? options.now.getTime() / 1000 : (options.now ?? Date.now() / 1000);
  if (Math.abs(now - timestamp) > toleranceSec) {
    throw new SignatureError(`the signature's time is more than ${toleranceSec} s from now`);
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as Job;
  } catch (error) {
    throw new SignatureError(`the signed payload is not JSON: ${String(error)}`);
  }
}

/** The one signature header a delivery carries: none, or several, is refused. */
function oneHeader(header: string | readonly string[] | null | undefined): string {
  if (header === undefined || header === null) {
    throw new SignatureError("the delivery has no ProgImage-Signature header");
  }
  if (typeof header === "string") {
    return header;
  }
  if (header.length !== 1) {
    throw new SignatureError(`the delivery has ${header.length} ProgImage-Signature headers, not one`);
  }
  return header[0] as string;
}

/** The timestamp and the decoded `v1` signatures of a header; other schemes are ignored. */
function parseSignatureHeader(header: string): { timestamp: number; signatures: Uint8Array[] } {
  let timestamp: number | undefined;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const separator = part.indexOf("=");
    if (separator < 0) {
      continue;
    }
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === "t" && /^\d+$/.test(value)) {
      timestamp = Number(value);
    } else if (key === "v1" && /^([0-9a-fA-F]{2})+$/.test(value)) {
      signatures.push(fromHex(value));
    }
  }
  if (timestamp === undefined) {
    throw new SignatureError("the signature header has no t=<unix seconds>");
  }
  if (signatures.length === 0) {
    throw new SignatureError("the signature header has no v1=<hex> signature");
  }
  return { timestamp, signatures };
}

async function hmacSha256(secret: string, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const { subtle } = await webCrypto();
  const key = await subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", key, data));
}

/** Equality whose time depends only on the lengths, not on where the bytes differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  let difference = 0;
  for (let index = 0; index < a.length; index += 1) {
    difference |= (a[index] as number) ^ (b[index] as number);
  }
  return difference === 0;
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}
