/**
 * The transport: one request with auth, a timeout, request ids and retries.
 *
 * @module
 */

import { ConnectionError, ProgImageError, RetryableError, TimeoutError, errorFromResponse } from "./errors.js";

/** How the client reaches the service. */
export interface ClientOptions {
  /** The service's root URL; default `PROGIMAGE_URL`, else `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** The API key sent as `Authorization: Bearer <key>`; default `PROGIMAGE_API_KEY`. */
  apiKey?: string;
  /** Time allowed for one attempt, response body included; default 60 000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt, for failures that may be retried; default 2. */
  maxRetries?: number;
  /** The fetch to use (a mock, a proxy-aware fetch...); default the platform's. */
  fetch?: typeof fetch;
}

/** One logical call; the transport may send it several times. */
export interface RequestSpec {
  method: "GET" | "HEAD" | "POST" | "DELETE";
  /** Path from the service root, starting with `/`. */
  path: string;
  query?: URLSearchParams | undefined;
  headers?: Record<string, string>;
  /** A JSON body, serialised with `Content-Type: application/json`. */
  json?: unknown;
  /** A raw body; a ReadableStream can be sent only once, so it is never retried. */
  body?: Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>;
  /**
   * Whether sending the call twice has the effect of sending it once: such calls are retried
   * on 503 and network failures too, not only on 429.
   */
  idempotent: boolean;
}

/** A successful answer, body read in full. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** The longest `Retry-After` the client waits out by itself; past it the error is thrown. */
const MAX_RETRY_AFTER_S = 60;
/** The first backoff delay; each retry doubles it, up to {@link MAX_BACKOFF_MS}. */
const BASE_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/** Reads an environment variable where the platform has `process` (Node, Bun, Deno's shim). */
export function environment(name: string): string | undefined {
  const processLike = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = processLike?.env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * The delay before retry number `attempt` (0-based): `Retry-After` when the service gave one,
 * else exponential backoff with jitter, between half and all of `500 ms × 2^attempt` (≤ 8 s),
 * so that clients refused together do not come back together.
 */
export function retryDelayMs(attempt: number, retryAfterS: number | undefined, random: () => number = Math.random): number {
  if (retryAfterS !== undefined) {
    return retryAfterS * 1000;
  }
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Sends requests to one service. */
export class Transport {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? environment("PROGIMAGE_URL") ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.#apiKey = options.apiKey ?? environment("PROGIMAGE_API_KEY");
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxRetries = options.maxRetries ?? 2;
    // Called through a closure: browsers refuse a fetch invoked with another `this`.
    const platformFetch = (input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init);
    this.#fetch = options.fetch ?? platformFetch;
    if (!Number.isInteger(this.#maxRetries) || this.#maxRetries < 0) {
      throw new TypeError("maxRetries must be a non-negative integer");
    }
  }

  /** The absolute URL of a path and query. */
  url(path: string, query?: URLSearchParams): string {
    const search = query === undefined || [...query.keys()].length === 0 ? "" : `?${query.toString()}`;
    return `${this.baseUrl}${path}${search}`;
  }

  /** Sends the call, retrying what may be retried; resolves with a 2xx or 3xx answer. */
  async request(spec: RequestSpec): Promise<RawResponse> {
    const requestId = newRequestId();
    const replayable = !(spec.body instanceof ReadableStream);
    for (let attempt = 0; ; attempt += 1) {
      const retriesLeft = replayable && attempt < this.#maxRetries;
      let response: RawResponse;
      try {
        response = await this.#send(spec, requestId);
      } catch (error) {
        if (retriesLeft && spec.idempotent && error instanceof ConnectionError) {
          await sleep(retryDelayMs(attempt, undefined));
          continue;
        }
        throw error;
      }
      if (response.status < 400) {
        return response;
      }
      const error = errorFromResponse(response.status, response.headers, new TextDecoder().decode(response.body));
      // 429 is a refusal before any work, so even a non-idempotent call may be sent again;
      // a 503 may come after work was done (a timeout), so only idempotent calls retry it.
      const retryable = response.status === 429 || (response.status === 503 && spec.idempotent);
      const retryAfter = error instanceof RetryableError ? error.retryAfter : undefined;
      if (retriesLeft && retryable && (retryAfter ?? 0) <= MAX_RETRY_AFTER_S) {
        await sleep(retryDelayMs(attempt, retryAfter));
        continue;
      }
      throw error;
    }
  }

  /** Sends one attempt and reads its whole body within the timeout. */
  async #send(spec: RequestSpec, requestId: string): Promise<RawResponse> {
    const headers = new Headers(spec.headers);
    headers.set("x-request-id", requestId);
    if (this.#apiKey !== undefined) {
      headers.set("authorization", `Bearer ${this.#apiKey}`);
    }
    let body: BodyInit | undefined;
    if (spec.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(spec.json);
    } else if (spec.body !== undefined) {
      body = spec.body as BodyInit;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const init: RequestInit & { duplex?: "half" } = { method: spec.method, headers, signal: controller.signal };
      if (body !== undefined) {
        init.body = body;
        // Streaming request bodies must say so (fetch spec); harmless for the other kinds.
        if (body instanceof ReadableStream) {
          init.duplex = "half";
        }
      }
      const response = await this.#fetch(this.url(spec.path, spec.query), init);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, headers: response.headers, body: bytes };
    } catch (error) {
      if (error instanceof ProgImageError) {
        throw error;
      }
      if (controller.signal.aborted) {
        throw new TimeoutError({
          status: 0,
          code: "timeout",
          detail: `no complete answer to ${spec.method} ${spec.path} within ${this.#timeoutMs} ms`,
          requestId,
          cause: error,
        });
      }
      throw new ConnectionError({
        status: 0,
        code: "connection_error",
        detail: `${spec.method} ${spec.path} failed: ${error instanceof Error ? error.message : String(error)}`,
        requestId,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends the call and parses its JSON answer. */
  async json<T>(spec: RequestSpec): Promise<T> {
    const response = await this.request(spec);
    return JSON.parse(new TextDecoder().decode(response.body)) as T;
  }
}

/** A request id shared by every attempt of one call, so the service's logs tie them together. */
function newRequestId(): string {
  const crypto = globalThis.crypto as Crypto | undefined;
  if (crypto?.randomUUID !== undefined) {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
