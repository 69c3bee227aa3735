/**
 * The client: one object per service, with its resources.
 *
 * @module
 */

import { Transport, type ClientOptions } from "./http.js";
import { Images, contentTypeOf, isImageData, type ImageData } from "./images.js";
import { Jobs } from "./jobs.js";
import { toOperations, toOutputFields, toQuery, type Transformations } from "./transformations.js";

/** A source for {@link ProgImage.transform}: bytes, a URL for the service to fetch, or a stored image. */
export type TransformSource = ImageData | { url: string } | { imageId: string };

/** Options of {@link ProgImage.transform}. */
export interface TransformOptions extends Transformations {
  /** For byte sources: the Content-Type; default the Blob's type, else octet-stream. */
  contentType?: string;
}

/**
 * A client of one ProgImage service.
 *
 * ```ts
 * const client = new ProgImage({ baseUrl: "http://127.0.0.1:8080", apiKey: "s3cr3t" });
 * const image = await client.images.upload(bytes, { filename: "cat.jpg" });
 * const thumb = await client.images.download(image.id, { format: "webp", width: 200 });
 * ```
 */
export class ProgImage {
  /** Stored images. */
  readonly images: Images;
  /** Bulk jobs. */
  readonly jobs: Jobs;
  readonly #transport: Transport;

  constructor(options: ClientOptions = {}) {
    this.#transport = new Transport(options);
    this.images = new Images(this.#transport);
    this.jobs = new Jobs(this.#transport);
  }

  /** The service's root URL, without a trailing slash. */
  get baseUrl(): string {
    return this.#transport.baseUrl;
  }

  /**
   * Transforms without storing anything (`POST /v1/transform`) and resolves with the output
   * bytes. Bytes go as the raw body with the transformations in the query; `{ url }` and
   * `{ imageId }` go as JSON with the steps as `operations`. `format` defaults to the source's.
   */
  async transform(source: TransformSource, options: TransformOptions = {}): Promise<Uint8Array> {
    if (isImageData(source)) {
      const query = toQuery(options);
      if (options.format !== undefined) {
        query.set("format", options.format);
      }
      const response = await this.#transport.request({
        method: "POST",
        path: "/v1/transform",
        query,
        headers: { "content-type": contentTypeOf(source, options.contentType) },
        body: source,
        // Nothing is stored, so sending it twice does no harm.
        idempotent: true,
      });
      return response.body;
    }
    const reference = "url" in source ? { url: source.url } : { image_id: source.imageId };
    const operations = toOperations(options);
    const json = { ...reference, ...(operations === undefined ? {} : { operations }), ...toOutputFields(options) };
    const response = await this.#transport.request({ method: "POST", path: "/v1/transform", json, idempotent: true });
    return response.body;
  }

  /** The caller's tenant's webhook signing secret (`GET /v1/webhook-secret`). */
  async webhookSecret(): Promise<string> {
    const answer = await this.#transport.json<{ secret: string }>({
      method: "GET",
      path: "/v1/webhook-secret",
      idempotent: true,
    });
    return answer.secret;
  }
}
