/**
 * The service's models, exactly as they travel on the wire.
 *
 * Naming rule of this package: every model the service sends or receives as JSON (an
 * {@link Image}, a {@link Job}, an {@link Operation}, a {@link Problem}...) keeps the wire's
 * snake_case keys, so what you read here is what API.md and `/openapi.json` describe. Options
 * of this package's own methods are camelCase JavaScript options and are mapped onto the wire
 * by the client (`imageId` → `image_id`, `webhookUrl` → `webhook_url`, `idempotencyKey` → the
 * `Idempotency-Key` header; the transformation names are mapped as listed on
 * {@link Transformations}).
 *
 * @module
 */

/** An output or input format name; `jpg` and `tif` are accepted aliases. */
export type Format = "jpeg" | "jpg" | "png" | "webp" | "gif" | "avif" | "tiff" | "tif" | "bmp" | "svg";

/** How a resize fits the target box. */
export type Fit = "contain" | "cover" | "fill";

/** Which part of the image a `cover` resize keeps. */
export type Gravity = "centre" | "north" | "south" | "east" | "west" | "smart";

/** A mirror axis: `h` mirrors left-right, `v` top-bottom. */
export type FlipAxis = "h" | "v";

/** How a raster becomes SVG: traced colour paths (default) or an embedded raster. */
export type SvgMode = "trace" | "embed";

/** A stored image (`GET /v1/images/{id}/metadata`). */
export interface Image {
  id: string;
  /** The path of the original bytes, relative to the service: `/v1/images/{id}`. */
  url: string;
  format: Exclude<Format, "jpg" | "tif">;
  content_type: string;
  /** Width as displayed, after EXIF orientation. */
  width: number;
  /** Height as displayed, after EXIF orientation. */
  height: number;
  bytes: number;
  sha256: string;
  filename: string | null;
  /** RFC 3339 UTC. */
  created_at: string;
  /** For job outputs, the image the output was made from (null for URL sources). */
  source_image_id: string | null;
  /** For job outputs, the job that made it. */
  job_id: string | null;
}

/** One page of `GET /v1/images`. */
export interface ImagePage {
  images: Image[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** An RFC 9457 problem document, as every error response carries. */
export interface Problem {
  /** `urn:progimage:problem:<code>`. */
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  /** The query parameter (`w`, `ops`) or JSON path (`operations[1].width`) at fault. */
  param?: string;
  /** For `fetch_failed`: the remote's HTTP status, when it answered. */
  upstream_status?: number;
  [extension: string]: unknown;
}

/** One multipart upload item: the stored image or the problem that refused it. */
export type UploadItem = { image: Image; error: null } | { image: null; error: Problem };

/** `resize`: at least one of `width` and `height`. */
export interface ResizeOperation {
  op: "resize";
  width?: number;
  height?: number;
  fit?: Fit;
  gravity?: Gravity;
  enlarge?: boolean;
}

/** `crop`: a rectangle in pixels, after auto-orientation. */
export interface CropOperation {
  op: "crop";
  x: number;
  y: number;
  width: number;
  height: number;
}

/** `rotate`: clockwise degrees, any finite number. */
export interface RotateOperation {
  op: "rotate";
  degrees: number;
}

/** `flip`: mirror along an axis. */
export interface FlipOperation {
  op: "flip";
  axis: FlipAxis;
}

/** `grayscale`. */
export interface GrayscaleOperation {
  op: "grayscale";
}

/** `blur` or `sharpen` with a sigma of 0..100. */
export interface SigmaOperation {
  op: "blur" | "sharpen";
  sigma: number;
}

/** `brightness` or `contrast` with an amount of -100..100. */
export interface AmountOperation {
  op: "brightness" | "contrast";
  amount: number;
}

/** `mask`: a shape (`rounded` takes a radius) or another image of the caller's tenant. */
export type MaskOperation =
  | { op: "mask"; shape: "circle" | "ellipse" }
  | { op: "mask"; shape: "rounded"; radius: number }
  | { op: "mask"; image_id: string };

/** One step of a pipeline in the JSON form of API.md. */
export type Operation =
  | ResizeOperation
  | CropOperation
  | RotateOperation
  | FlipOperation
  | GrayscaleOperation
  | SigmaOperation
  | AmountOperation
  | MaskOperation;

/** A job's status; the last four are final. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "completed_with_errors" | "cancelled";

/** A job item's status. */
export type JobItemStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** The outcome of one item of a job. */
export interface JobItem {
  /** The item's 0-based position in the submitted `items`. */
  index: number;
  status: JobItemStatus;
  image: Image | null;
  error: Problem | null;
}

/** Where a job's webhook goes and how its delivery went. */
export interface JobWebhook {
  url: string;
  /** How many delivery attempts were made. */
  attempts: number;
  delivered_at: string | null;
  last_status: number | null;
}

/** A bulk job (`GET /v1/jobs/{id}`); `items` is absent in listings. */
export interface Job {
  id: string;
  status: JobStatus;
  /** The job's path relative to the service, where the service gives it. */
  url?: string;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  items?: JobItem[];
  metadata: unknown;
  webhook: JobWebhook | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** The answer to `POST /v1/jobs`: a newly queued job, or the job an idempotency key names. */
export interface JobCreated {
  id: string;
  status: JobStatus;
  url: string;
  total: number;
}

/** One page of `GET /v1/jobs`. */
export interface JobPage {
  jobs: Job[];
  next_cursor: string | null;
}
