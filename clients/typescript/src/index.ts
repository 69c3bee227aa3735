/**
 * `@progimage/client`: a dependency-free client of the ProgImage HTTP image service.
 *
 * @module
 */

export { ProgImage, type TransformOptions, type TransformSource } from "./client.js";
export type { ClientOptions } from "./http.js";
export { Images, type ImageData, type ListImagesOptions, type UploadFile, type UploadOptions, type UploadUrlOptions } from "./images.js";
export {
  Jobs,
  isFinished,
  type CreateJobOptions,
  type JobItemInput,
  type JobSettings,
  type ListJobsOptions,
  type WaitOptions,
} from "./jobs.js";
export { toOperations, toPipelineText, toQuery, type OutputOptions, type StepOptions, type Transformations } from "./transformations.js";
export { verifyWebhook, type VerifyWebhookOptions } from "./webhooks.js";
export * from "./errors.js";
export type * from "./types.js";
