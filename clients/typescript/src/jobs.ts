/**
 * `/v1/jobs`: bulk, asynchronous transformations.
 *
 * @module
 */

import { webCrypto } from "./crypto.js";
import { JobWaitTimeoutError } from "./errors.js";
import type { Transport } from "./http.js";
import { paginate } from "./pagination.js";
import { dropUndefined } from "./transformations.js";
import type { Format, Job, JobCreated, JobPage, JobStatus, Operation, SvgMode } from "./types.js";

/** Settings a job gives every item, and an item may replace (each replaces, none merges). */
export interface JobSettings {
  operations?: readonly Operation[];
  format?: Format;
  quality?: number;
  lossless?: boolean;
  background?: string;
  strip?: boolean;
  svg?: SvgMode;
}

/** One source of a job: a stored image or a URL, with settings of its own if any. */
export type JobItemInput = ({ imageId: string; url?: never } | { url: string; imageId?: never }) & JobSettings;

/** Options of {@link Jobs.create}. */
export interface CreateJobOptions extends JobSettings {
  /** 1..10 000 sources. */
  items: readonly JobItemInput[];
  /** Where to POST the finished job, signed (see `verifyWebhook`). */
  webhookUrl?: string;
  /** Any JSON, returned with the job. */
  metadata?: unknown;
  /**
   * Makes the submission safe to repeat: the same key and body give the same job. Default: a
   * fresh random key per call, so the client's own retries never create a second job.
   */
  idempotencyKey?: string;
}

/** Options of {@link Jobs.wait}. */
export interface WaitOptions {
  /** Give up after this long (default 300 000 ms), rejecting with `JobWaitTimeoutError`. */
  timeoutMs?: number;
  /** The first delay between polls (default 500 ms); it grows by half each poll, up to 5 s. */
  pollIntervalMs?: number;
}

/** Options of {@link Jobs.list}. */
export interface ListJobsOptions {
  /** Only jobs in this status. */
  status?: JobStatus;
  /** Jobs per page. */
  limit?: number;
  /** Start after this cursor instead of at the newest job. */
  cursor?: string;
}

/** The statuses a job does not leave. */
const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "completed_with_errors", "cancelled"]);

/** The longest wait between two polls of {@link Jobs.wait}. */
const MAX_POLL_INTERVAL_MS = 5_000;

/** Whether a job has ended (succeeded, failed, completed_with_errors or cancelled). */
export function isFinished(job: Pick<Job, "status">): boolean {
  return FINAL_STATUSES.has(job.status);
}

/** The wire form of job settings: the names are the same, undefined ones are left out. */
function settingsFields(settings: JobSettings): Record<string, unknown> {
  return dropUndefined({
    operations: settings.operations,
    format: settings.format,
    quality: settings.quality,
    lossless: settings.lossless,
    background: settings.background,
    strip: settings.strip,
    svg: settings.svg,
  });
}

/** Bulk jobs of the caller's tenant. */
export class Jobs {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Submits a job (`POST /v1/jobs`); it runs in the background. */
  async create(options: CreateJobOptions): Promise<JobCreated> {
    const items = options.items.map((item) => {
      const source = item.imageId !== undefined ? { image_id: item.imageId } : { url: item.url };
      return { ...source, ...settingsFields(item) };
    });
    const json = dropUndefined({
      items,
      ...settingsFields(options),
      webhook_url: options.webhookUrl,
      metadata: options.metadata,
    });
    const idempotencyKey = options.idempotencyKey ?? (await webCrypto()).randomUUID();
    return this.#transport.json<JobCreated>({
      method: "POST",
      path: "/v1/jobs",
      headers: { "idempotency-key": idempotencyKey },
      json,
      idempotent: true,
    });
  }

  /** A job with its items (`GET /v1/jobs/{id}`). */
  async get(id: string): Promise<Job> {
    return this.#transport.json<Job>({ method: "GET", path: jobPath(id), idempotent: true });
  }

  /**
   * Polls until the job has finished and resolves with it; rejects with
   * `JobWaitTimeoutError` (carrying the job as last seen) after `timeoutMs`.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const deadline = Date.now() + timeoutMs;
    let interval = options.pollIntervalMs ?? 500;
    for (;;) {
      const job = await this.get(id);
      if (isFinished(job)) {
        return job;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new JobWaitTimeoutError(job, timeoutMs);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
      interval = Math.min(MAX_POLL_INTERVAL_MS, interval * 1.5);
    }
  }

  /**
   * Cancels a job (`DELETE /v1/jobs/{id}`): queued items are cancelled at once, running ones
   * finish. Resolves with the job as it then is; a finished job comes back unchanged.
   */
  async cancel(id: string): Promise<Job> {
    return this.#transport.json<Job>({ method: "DELETE", path: jobPath(id), idempotent: true });
  }

  /** One page of jobs (without items), newest first. */
  async listPage(options: ListJobsOptions = {}): Promise<JobPage> {
    const query = new URLSearchParams();
    if (options.status !== undefined) query.set("status", options.status);
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.cursor !== undefined) query.set("cursor", options.cursor);
    return this.#transport.json<JobPage>({ method: "GET", path: "/v1/jobs", query, idempotent: true });
  }

  /** Every job (without items), newest first, fetching page after page as the loop goes on. */
  list(options: ListJobsOptions = {}): AsyncGenerator<Job, void, undefined> {
    return paginate(options.cursor, async (cursor) => {
      const page = await this.listPage({ ...options, cursor });
      return { items: page.jobs, nextCursor: page.next_cursor };
    });
  }
}

function jobPath(id: string): string {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}
