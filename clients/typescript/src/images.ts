/**
 * `/v1/images`: upload, metadata, download, variant URLs, delete and listing.
 *
 * @module
 */

import type { Transport } from "./http.js";
import { hasTransformations, toQuery, type Transformations } from "./transformations.js";
import type { Format, Image, ImagePage, UploadItem } from "./types.js";
import { paginate } from "./pagination.js";

/** Image bytes in any of the forms the platform's fetch can send. */
export type ImageData = Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>;

/** Options of {@link Images.upload}. */
export interface UploadOptions {
  /** Stored with the image and sent as `?filename=`; its extension, if it names a format, must agree with the type. */
  filename?: string;
  /** The Content-Type; default the Blob's type, else `application/octet-stream` (the bytes decide). */
  contentType?: string;
  /** Variants `{id}.{format}` to convert in the background right away. */
  eager?: readonly Format[];
}

/** One file of {@link Images.uploadMany}: bytes, or bytes with a name and a type. */
export type UploadFile =
  | Blob
  | Uint8Array
  | ArrayBuffer
  | { data: Blob | Uint8Array | ArrayBuffer; filename?: string; contentType?: string };

/** Options of {@link Images.uploadUrl}. */
export interface UploadUrlOptions {
  /** Stored with the image; default the URL's last path segment. */
  filename?: string;
}

/** Options of {@link Images.list}. */
export interface ListImagesOptions {
  /** Images per page (1..1000, default 50); the iterator fetches pages as it goes. */
  limit?: number;
  /** Start after this cursor instead of at the newest image. */
  cursor?: string;
}

/** The Content-Type of raw bytes: the caller's, else a Blob's own, else octet-stream. */
export function contentTypeOf(data: ImageData, contentType: string | undefined): string {
  if (contentType !== undefined) {
    return contentType;
  }
  if (data instanceof Blob && data.type !== "") {
    return data.type;
  }
  return "application/octet-stream";
}

/** Whether a value is raw image bytes rather than a `{ url }` or `{ imageId }` reference. */
export function isImageData(value: unknown): value is ImageData {
  return (
    value instanceof Blob ||
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    (typeof ReadableStream !== "undefined" && value instanceof ReadableStream)
  );
}

/** The path of an image id: any id is escaped, so none can reach another route. */
function imagePath(id: string, format?: string): string {
  const extension = format === undefined ? "" : `.${encodeURIComponent(format)}`;
  return `/v1/images/${encodeURIComponent(id)}${extension}`;
}

/** Stored images of the caller's tenant. */
export class Images {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Stores one image from raw bytes (`POST /v1/images`). Not retried except on 429. */
  async upload(data: ImageData, options: UploadOptions = {}): Promise<Image> {
    const query = new URLSearchParams();
    const filename = options.filename ?? fileName(data);
    if (filename !== undefined) {
      query.set("filename", filename);
    }
    if (options.eager !== undefined && options.eager.length > 0) {
      query.set("eager", options.eager.join(","));
    }
    return this.#transport.json<Image>({
      method: "POST",
      path: "/v1/images",
      query,
      headers: { "content-type": contentTypeOf(data, options.contentType) },
      body: data,
      idempotent: false,
    });
  }

  /**
   * Stores several images in one `multipart/form-data` request (at most 100 files), and
   * resolves with one item per file, in order: the stored image, or the problem that refused
   * that file (the others are stored all the same). Not retried except on 429.
   */
  async uploadMany(files: readonly UploadFile[], options: Pick<UploadOptions, "eager"> = {}): Promise<UploadItem[]> {
    const boundary = `progimage-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const parts: BlobPart[] = [];
    for (const file of files) {
      const { data, filename, contentType } =
        file instanceof Blob || file instanceof Uint8Array || file instanceof ArrayBuffer ? { data: file } : file;
      const name = filename ?? fileName(data);
      const type = contentType ?? (data instanceof Blob && data.type !== "" ? data.type : undefined);
      // Written by hand rather than with FormData, which names every unnamed part "blob" and
      // types every untyped one octet-stream: here such parts carry neither, as API.md allows.
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="file"`;
      if (name !== undefined) head += `; filename="${escapeQuoted(name)}"`;
      if (type !== undefined) {
        if (/[\r\n]/.test(type)) throw new TypeError("a content type cannot span lines");
        head += `\r\nContent-Type: ${type}`;
      }
      parts.push(`${head}\r\n\r\n`, data as BlobPart, "\r\n");
    }
    parts.push(`--${boundary}--\r\n`);
    const query = new URLSearchParams();
    if (options.eager !== undefined && options.eager.length > 0) {
      query.set("eager", options.eager.join(","));
    }
    const answer = await this.#transport.json<{ items: UploadItem[] }>({
      method: "POST",
      path: "/v1/images",
      query,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body: new Blob(parts),
      idempotent: false,
    });
    return answer.items;
  }

  /** Has the service fetch and store an image from a URL (the SSRF rules of API.md apply). */
  async uploadUrl(url: string, options: UploadUrlOptions = {}): Promise<Image> {
    const json: Record<string, string> = { url };
    if (options.filename !== undefined) {
      json.filename = options.filename;
    }
    return this.#transport.json<Image>({ method: "POST", path: "/v1/images", json, idempotent: false });
  }

  /** An image's metadata (`GET /v1/images/{id}/metadata`). */
  async get(id: string): Promise<Image> {
    return this.#transport.json<Image>({ method: "GET", path: `${imagePath(id)}/metadata`, idempotent: true });
  }

  /**
   * The original bytes, or with a `format` (required as soon as any transformation is given)
   * the variant `{id}.{format}` after the transformations.
   */
  async download(id: string, options: Transformations = {}): Promise<Uint8Array> {
    const { path, query } = this.#variant(id, options);
    const response = await this.#transport.request({ method: "GET", path, query, idempotent: true });
    return response.body;
  }

  /**
   * The absolute URL of the original or a variant, for `<img src>` or a CDN. It carries no
   * credentials: with API keys configured, fetch it with an `Authorization` header.
   */
  url(id: string, options: Transformations = {}): string {
    const { path, query } = this.#variant(id, options);
    return this.#transport.url(path, query);
  }

  /** Deletes the original and every variant (`DELETE /v1/images/{id}`). */
  async delete(id: string): Promise<void> {
    await this.#transport.request({ method: "DELETE", path: imagePath(id), idempotent: true });
  }

  /** One page of images, newest first. */
  async listPage(options: ListImagesOptions = {}): Promise<ImagePage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.cursor !== undefined) query.set("cursor", options.cursor);
    return this.#transport.json<ImagePage>({ method: "GET", path: "/v1/images", query, idempotent: true });
  }

  /** Every image, newest first, fetching page after page as the loop goes on. */
  list(options: ListImagesOptions = {}): AsyncGenerator<Image, void, undefined> {
    return paginate(options.cursor, async (cursor) => {
      const page = await this.listPage({ ...options, cursor });
      return { items: page.images, nextCursor: page.next_cursor };
    });
  }

  #variant(id: string, options: Transformations): { path: string; query: URLSearchParams } {
    const query = toQuery(options);
    if (options.format === undefined && hasTransformations(options)) {
      throw new TypeError("a transformed image needs a format: pass { format: \"png\" } or another");
    }
    return { path: imagePath(id, options.format), query };
  }
}

/** A filename as a quoted-string of a multipart header, escaped as browsers' FormData does. */
function escapeQuoted(name: string): string {
  return name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A File's own name, where the platform has File (Node 20+, browsers, Deno). */
function fileName(data: ImageData): string | undefined {
  if (typeof File !== "undefined" && data instanceof File && data.name !== "") {
    return data.name;
  }
  return undefined;
}
