/**
 * Transformation options and their three wire spellings: the query parameters of a variant
 * URL, the `ops` pipeline text, and the JSON list of steps.
 *
 * @module
 */

import type { Fit, FlipAxis, Format, Gravity, Operation, SvgMode } from "./types.js";

/**
 * The steps of the query form, applied by the service in this fixed order: crop, resize,
 * rotate, flip, grayscale, blur, sharpen, brightness, contrast, mask. Each maps to the query
 * parameter of API.md named in its comment.
 */
export interface StepOptions {
  /** `w`: target box width, 1..16384 px. */
  width?: number;
  /** `h`: target box height, 1..16384 px. */
  height?: number;
  /** `fit`: contain (default), cover or fill. */
  fit?: Fit;
  /** `gravity`: what a `cover` resize keeps. */
  gravity?: Gravity;
  /** `enlarge`: allow scaling up (default false, true for SVG sources). */
  enlarge?: boolean;
  /** `crop=x,y,w,h`: a rectangle in px, after auto-orientation. */
  crop?: readonly [x: number, y: number, width: number, height: number];
  /** `rotate`: clockwise degrees. */
  rotate?: number;
  /** `flip`: `h` or `v`. */
  flip?: FlipAxis;
  /** `grayscale`. */
  grayscale?: boolean;
  /** `blur`: sigma 0..100. */
  blur?: number;
  /** `sharpen`: sigma 0..100. */
  sharpen?: number;
  /** `brightness`: -100..100. */
  brightness?: number;
  /** `contrast`: -100..100. */
  contrast?: number;
  /** `mask`: `circle`, `ellipse`, `rounded:<radius>` or an image id. */
  mask?: string;
}

/** Output settings: they sit beside the steps and apply however the steps are given. */
export interface OutputOptions {
  /** `q`: quality for lossy encoders, 1..100. */
  quality?: number;
  /** `lossless`: where the format has it (WebP, AVIF). */
  lossless?: boolean;
  /** `bg`: `RRGGBB` or `RRGGBBAA` behind transparency and in rotation fill. */
  background?: string;
  /** `strip`: false keeps EXIF/XMP. */
  strip?: boolean;
  /** `svg`: how a raster becomes SVG. */
  svg?: SvgMode;
}

/**
 * Every transformation a download, URL or transform takes: either the step shorthands of
 * {@link StepOptions} or `operations` (sent as the `ops` pipeline text, or as JSON), never both;
 * plus the output settings and `format`.
 */
export interface Transformations extends StepOptions, OutputOptions {
  /** Steps in any order, replacing the step shorthands. */
  operations?: readonly Operation[];
  /** The output format. */
  format?: Format;
}

/** The query parameter of each step shorthand, in the service's fixed order. */
const STEP_PARAMS: ReadonlyArray<[keyof StepOptions, string]> = [
  ["crop", "crop"],
  ["width", "w"],
  ["height", "h"],
  ["fit", "fit"],
  ["gravity", "gravity"],
  ["enlarge", "enlarge"],
  ["rotate", "rotate"],
  ["flip", "flip"],
  ["grayscale", "grayscale"],
  ["blur", "blur"],
  ["sharpen", "sharpen"],
  ["brightness", "brightness"],
  ["contrast", "contrast"],
  ["mask", "mask"],
];

/** The query parameter of each output setting. */
const OUTPUT_PARAMS: ReadonlyArray<[keyof OutputOptions, string]> = [
  ["quality", "q"],
  ["lossless", "lossless"],
  ["background", "bg"],
  ["strip", "strip"],
  ["svg", "svg"],
];

/** Whether any step shorthand is set. */
function hasSteps(options: StepOptions): boolean {
  return STEP_PARAMS.some(([key]) => options[key] !== undefined);
}

/** Steps given twice are a caller's mistake the service would refuse; say so before sending. */
function checkOneStepForm(options: Transformations): void {
  if (options.operations !== undefined && hasSteps(options)) {
    throw new TypeError("give either operations or step options (width, crop, rotate, ...), not both");
  }
}

/** Whether the options ask for any step or output setting (not counting `format`). */
export function hasTransformations(options: Transformations): boolean {
  return (
    options.operations !== undefined ||
    hasSteps(options) ||
    OUTPUT_PARAMS.some(([key]) => options[key] !== undefined)
  );
}

/**
 * The query parameters of the options, in the service's order (steps, then output
 * settings); `format` is left to the caller, as it is a path extension for variants.
 */
export function toQuery(options: Transformations): URLSearchParams {
  checkOneStepForm(options);
  const query = new URLSearchParams();
  for (const [key, param] of STEP_PARAMS) {
    const value = options[key];
    if (value !== undefined) {
      query.set(param, Array.isArray(value) ? value.join(",") : String(value));
    }
  }
  if (options.operations !== undefined) {
    query.set("ops", toPipelineText(options.operations));
  }
  for (const [key, param] of OUTPUT_PARAMS) {
    const value = options[key];
    if (value !== undefined) {
      query.set(param, String(value));
    }
  }
  return query;
}

/**
 * The pipeline text of a list of steps: `name:key=value,...` joined by `|`, with the JSON keys
 * of API.md (e.g. `rotate:degrees=90|resize:width=300,fit=cover|grayscale`).
 */
export function toPipelineText(operations: readonly Operation[]): string {
  return operations
    .map((operation) => {
      const { op, ...keys } = operation;
      const pairs = Object.entries(keys)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${String(value)}`);
      return pairs.length === 0 ? op : `${op}:${pairs.join(",")}`;
    })
    .join("|");
}

/**
 * The JSON steps of the options: `operations` as given, or the step shorthands turned into
 * the steps they stand for, in the query form's fixed order.
 */
export function toOperations(options: Transformations): Operation[] | undefined {
  checkOneStepForm(options);
  if (options.operations !== undefined) {
    return [...options.operations];
  }
  if (!hasSteps(options)) {
    return undefined;
  }
  const steps: Operation[] = [];
  if (options.crop !== undefined) {
    const [x, y, width, height] = options.crop;
    steps.push({ op: "crop", x, y, width, height });
  }
  const resizeKeys = [options.width, options.height, options.fit, options.gravity, options.enlarge];
  if (resizeKeys.some((value) => value !== undefined)) {
    steps.push(
      dropUndefined({
        op: "resize",
        width: options.width,
        height: options.height,
        fit: options.fit,
        gravity: options.gravity,
        enlarge: options.enlarge,
      }),
    );
  }
  if (options.rotate !== undefined) steps.push({ op: "rotate", degrees: options.rotate });
  if (options.flip !== undefined) steps.push({ op: "flip", axis: options.flip });
  if (options.grayscale === true) steps.push({ op: "grayscale" });
  if (options.blur !== undefined) steps.push({ op: "blur", sigma: options.blur });
  if (options.sharpen !== undefined) steps.push({ op: "sharpen", sigma: options.sharpen });
  if (options.brightness !== undefined) steps.push({ op: "brightness", amount: options.brightness });
  if (options.contrast !== undefined) steps.push({ op: "contrast", amount: options.contrast });
  if (options.mask !== undefined) steps.push(maskOperation(options.mask));
  return steps;
}

/** The JSON step of a query-form mask value. */
function maskOperation(mask: string): Operation {
  if (mask === "circle" || mask === "ellipse") {
    return { op: "mask", shape: mask };
  }
  const rounded = /^rounded:(.+)$/.exec(mask);
  if (rounded?.[1] !== undefined) {
    return { op: "mask", shape: "rounded", radius: Number(rounded[1]) };
  }
  return { op: "mask", image_id: mask };
}

/** The output settings as JSON body fields (`quality`, `lossless`, ... keep their names). */
export function toOutputFields(options: Transformations): Record<string, unknown> {
  return dropUndefined({
    format: options.format,
    quality: options.quality,
    lossless: options.lossless,
    background: options.background,
    strip: options.strip,
    svg: options.svg,
  });
}

/** The object without its undefined members, so JSON bodies carry only what was given. */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}
