/**
 * Typed errors: one class per problem `code` of API.md, all under {@link ProgImageError}.
 *
 * @module
 */

import type { Job, Problem } from "./types.js";

/** What an error is built from. */
export interface ProgImageErrorInit {
  status: number;
  code: string;
  detail: string;
  param?: string | undefined;
  requestId?: string | undefined;
  problem?: Problem | undefined;
  cause?: unknown;
}

/**
 * Any failure of a ProgImage call. For an error answered by the service, `status` is the HTTP
 * status and `problem` the problem document; for a failure before any answer (network,
 * timeout) `status` is 0.
 */
export class ProgImageError extends Error {
  /** The HTTP status, or 0 when no response was received. */
  readonly status: number;
  /** The stable problem code (`not_found`, `invalid_parameter`, ...). */
  readonly code: string;
  /** What went wrong, in words. */
  readonly detail: string;
  /** The query parameter or JSON path at fault, when one is. */
  readonly param: string | undefined;
  /** The `x-request-id` of the failed request, for the service's logs. */
  readonly requestId: string | undefined;
  /** The problem document as the service sent it. */
  readonly problem: Problem | undefined;

  constructor(init: ProgImageErrorInit) {
    const where = init.param === undefined ? "" : ` (${init.param})`;
    super(`${init.code}: ${init.detail}${where}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.param = init.param;
    this.requestId = init.requestId;
    this.problem = init.problem;
  }
}

/** 400 `invalid_parameter`: a query parameter, JSON field or path value is wrong. */
export class InvalidParameterError extends ProgImageError {}
/** 400 `invalid_json`: the body is not the JSON asked for. */
export class InvalidJsonError extends ProgImageError {}
/** 400 `url_not_allowed`: a `url` or `webhook_url` the SSRF rules refuse. */
export class UrlNotAllowedError extends ProgImageError {}
/** 401 `unauthorized`: a missing or unknown API key. */
export class UnauthorizedError extends ProgImageError {}
/** 404 `not_found`: an unknown id, or another tenant's. */
export class NotFoundError extends ProgImageError {}
/** 404 `unsupported_format`: an unknown extension in a path. */
export class UnsupportedFormatError extends ProgImageError {}
/** 405 `method_not_allowed`. */
export class MethodNotAllowedError extends ProgImageError {}
/** 409 `idempotency_conflict`: the same `Idempotency-Key` with another body. */
export class IdempotencyConflictError extends ProgImageError {}
/** 413 `payload_too_large`: over the byte limit. */
export class PayloadTooLargeError extends ProgImageError {}
/** 415 `unsupported_media_type`: a Content-Type or image format the service does not take. */
export class UnsupportedMediaTypeError extends ProgImageError {}
/** 415 `media_type_mismatch`: Content-Type, filename extension and bytes disagree. */
export class MediaTypeMismatchError extends ProgImageError {}
/** 416 `range_not_satisfiable`. */
export class RangeNotSatisfiableError extends ProgImageError {}
/** 422 `invalid_image`: empty, unrecognisable or undecodable bytes. */
export class InvalidImageError extends ProgImageError {}
/** 422 `image_too_large`: over the pixel or side limits. */
export class ImageTooLargeError extends ProgImageError {}
/** 500 `internal`: a bug in the service; its logs have the details. */
export class InternalError extends ProgImageError {}

/** 422 `fetch_failed`: a remote source was unreachable, answered non-2xx or timed out. */
export class FetchFailedError extends ProgImageError {
  /** The remote's HTTP status, when it answered. */
  get upstreamStatus(): number | undefined {
    const value = this.problem?.upstream_status;
    return typeof value === "number" ? value : undefined;
  }
}

/** A refusal that says when to come back: 429 and 503 carry `Retry-After`. */
export class RetryableError extends ProgImageError {
  /** Seconds to wait before retrying, from `Retry-After`, when it was given. */
  retryAfter: number | undefined;

  constructor(init: ProgImageErrorInit & { retryAfter?: number | undefined }) {
    super(init);
    this.retryAfter = init.retryAfter;
  }
}

/** 429 `rate_limited`. */
export class RateLimitedError extends RetryableError {}
/** 503 `unavailable`: overloaded, or a dependency is down. */
export class UnavailableError extends RetryableError {}

/** No response: the connection failed or was reset (`status` 0, code `connection_error`). */
export class ConnectionError extends ProgImageError {}

/** No response within the client's `timeoutMs` (`status` 0, code `timeout`). */
export class TimeoutError extends ConnectionError {}

/** `jobs.wait` gave up before the job finished (`status` 0, code `wait_timeout`). */
export class JobWaitTimeoutError extends ProgImageError {
  /** The job as last seen. */
  readonly job: Job;

  constructor(job: Job, timeoutMs: number) {
    super({
      status: 0,
      code: "wait_timeout",
      detail: `job ${job.id} was still ${job.status} after ${timeoutMs} ms`,
    });
    this.job = job;
  }
}

/** A webhook whose signature header is missing, malformed, stale or does not match. */
export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignatureError";
  }
}

const CLASS_BY_CODE: Record<string, typeof ProgImageError> = {
  invalid_parameter: InvalidParameterError,
  invalid_json: InvalidJsonError,
  url_not_allowed: UrlNotAllowedError,
  unauthorized: UnauthorizedError,
  not_found: NotFoundError,
  unsupported_format: UnsupportedFormatError,
  method_not_allowed: MethodNotAllowedError,
  idempotency_conflict: IdempotencyConflictError,
  payload_too_large: PayloadTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  media_type_mismatch: MediaTypeMismatchError,
  range_not_satisfiable: RangeNotSatisfiableError,
  invalid_image: InvalidImageError,
  image_too_large: ImageTooLargeError,
  fetch_failed: FetchFailedError,
  rate_limited: RateLimitedError,
  internal: InternalError,
  unavailable: UnavailableError,
};

/** The code a bare status stands for, when the body is not a problem document (a proxy's page). */
const CODE_BY_STATUS: Record<number, string> = {
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  429: "rate_limited",
  500: "internal",
  503: "unavailable",
};

/** Builds the error for a non-2xx response from its status, headers and body text. */
export function errorFromResponse(status: number, headers: Headers, bodyText: string): ProgImageError {
  const problem = parseProblem(bodyText);
  const code = problem?.code ?? CODE_BY_STATUS[status] ?? "http_error";
  const detail = problem?.detail ?? (bodyText.trim().slice(0, 200) || `HTTP ${status}`);
  const init = {
    status,
    code,
    detail,
    param: problem?.param,
    requestId: problem?.request_id ?? headers.get("x-request-id") ?? undefined,
    problem,
    retryAfter: parseRetryAfter(headers.get("retry-after")),
  };
  const ErrorClass = CLASS_BY_CODE[code] ?? ProgImageError;
  return new ErrorClass(init);
}

function parseProblem(text: string): Problem | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && typeof (value as Problem).code === "string") {
      return value as Problem;
    }
  } catch {
    // Not JSON: the caller falls back to the status.
  }
  return undefined;
}

/** `Retry-After` in seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") {
    return undefined;
  }
  if (/^\d+$/.test(value.trim())) {
    return Number(value.trim());
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
