// The workloads of bench-workloads.md (W1-W5; sharp cannot trace, so no W6) run through sharp,
// the libvips-based peer, over the shared corpus.
//
//   node workloads.mjs [--runs 3] [--seconds 3] [--only W1,W3c] [--corpus ../../../shared/corpus]
//
// Every (run, workload, mode) measurement is a fresh child process, so its peak RSS is its
// own; runs are interleaved (run 1 of every workload and mode, then run 2, ...) so that
// machine noise spreads evenly. Modes: "one" = one core (sharp.concurrency(1),
// UV_THREADPOOL_SIZE=1, one image at a time); "all" = as many images in flight as cores, each
// on one libvips thread. Prints one JSON line per measurement, then one summary line per
// workload and mode (median and min-max over the runs).

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const args = {
    runs: 3,
    seconds: 3,
    only: null,
    corpus: resolve(here, '../../../shared/corpus'),
    child: null,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === '--runs') args.runs = Number(value);
    else if (key === '--seconds') args.seconds = Number(value);
    else if (key === '--only') args.only = value.split(',');
    else if (key === '--corpus') args.corpus = resolve(value);
    else if (key === '--child') args.child = JSON.parse(value);
    else throw new Error(`unknown argument ${key}`);
  }
  return args;
}

const PHOTOS = (corpus) =>
  readdirSync(join(corpus, 'jpeg'))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => join(corpus, 'jpeg', f));
const THREE = (corpus) =>
  ['Kleiber_by_Lukas_Baubkus.jpg', 'Wine_by_Jakkub_Mede.jpg', 'picosdeeuropa_by_Aitzol_Berasategi.jpg'].map(
    (f) => join(corpus, 'jpeg', f),
  );
const PNGS = (corpus) =>
  readdirSync(join(corpus, 'png'))
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => join(corpus, 'png', f));
const SVGS = (corpus) =>
  readdirSync(join(corpus, 'svg'))
    .filter((f) => f.endsWith('.svg'))
    .sort()
    .map((f) => join(corpus, 'svg', f));

// Each workload: its inputs, and the pipeline for one input. `prepare` may compute per-input
// options once, outside the timed loop. W5 reports output megapixels, the others input ones.
const WORKLOADS = {
  W1: {
    inputs: PHOTOS,
    run: (sharp, input) => sharp(input.bytes).resize(300, 300, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer(),
  },
  W2: {
    inputs: PHOTOS,
    run: (sharp, input) => sharp(input.bytes).resize({ width: 1920 }).jpeg({ quality: 85 }).toBuffer(),
  },
  W3a: {
    inputs: PNGS,
    run: (sharp, input) => sharp(input.bytes).flatten({ background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer(),
  },
  W3b: {
    inputs: THREE,
    run: (sharp, input) => sharp(input.bytes).png({ compressionLevel: 6 }).toBuffer(),
  },
  W3c: {
    inputs: THREE,
    run: (sharp, input) => sharp(input.bytes).webp({ quality: 80, effort: 4 }).toBuffer(),
  },
  W4: {
    inputs: THREE,
    run: (sharp, input) => sharp(input.bytes).rotate(90).greyscale().blur(2).jpeg({ quality: 80 }).toBuffer(),
  },
  W5: {
    inputs: SVGS,
    outputMegapixels: true,
    // Render the vector at the density that makes it 1024 px wide (not at 72 dpi then
    // scaled), as a rasteriser asked for 1024 px would.
    prepare: async (sharp, input) => {
      const { width } = await sharp(input.bytes).metadata();
      input.density = (72 * 1024) / width;
    },
    run: (sharp, input) =>
      sharp(input.bytes, { density: input.density }).resize({ width: 1024 }).png().toBuffer({ resolveWithObject: true }),
  },
};

async function child({ workload, mode, run, seconds, corpus }) {
  const { default: sharp } = await import('sharp');
  sharp.cache(false); // repeated identical operations must not be served from libvips' cache
  sharp.concurrency(1);
  const spec = WORKLOADS[workload];
  const inputs = [];
  for (const path of spec.inputs(corpus)) {
    const bytes = readFileSync(path);
    const { width, height } = await sharp(bytes).metadata();
    const input = { path, bytes, megapixels: (width * height) / 1e6 };
    if (spec.prepare) await spec.prepare(sharp, input);
    inputs.push(input);
  }
  const process1 = async (input) => {
    const result = await spec.run(sharp, input);
    return spec.outputMegapixels ? (result.info.width * result.info.height) / 1e6 : input.megapixels;
  };
  for (const input of inputs) await process1(input); // warm-up pass
  const inFlight = mode === 'one' ? 1 : availableParallelism();
  let next = 0;
  let images = 0;
  let megapixels = 0;
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  // Each worker takes the next input in turn until the time is up, in whole passes over the
  // set so that every input weighs the same.
  const worker = async () => {
    while (elapsed() < seconds || next % inputs.length !== 0) {
      const input = inputs[next++ % inputs.length];
      const done = await process1(input);
      megapixels += done;
      images += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const time = elapsed();
  console.log(
    JSON.stringify({
      run,
      workload,
      mode,
      in_flight: inFlight,
      images,
      seconds: Number(time.toFixed(3)),
      images_per_s: Number((images / time).toFixed(3)),
      [spec.outputMegapixels ? 'output_mp_per_s' : 'input_mp_per_s']: Number((megapixels / time).toFixed(2)),
      peak_rss_mb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
    }),
  );
}

function measure(args, workload, mode, run) {
  const threads = mode === 'one' ? 1 : availableParallelism();
  const childArgs = { workload, mode, run, seconds: args.seconds, corpus: args.corpus };
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(childArgs)], {
      env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('close', (code) =>
      code === 0 ? resolvePromise(JSON.parse(out.trim())) : reject(new Error(`${workload}/${mode} exited ${code}`)),
    );
  });
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: Number(median.toFixed(3)), min: sorted[0], max: sorted[sorted.length - 1] };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return child(args.child);
  const workloads = args.only ?? Object.keys(WORKLOADS);
  const results = [];
  for (let run = 1; run <= args.runs; run++) {
    for (const workload of workloads) {
      for (const mode of ['one', 'all']) {
        const result = await measure(args, workload, mode, run);
        console.log(JSON.stringify(result));
        results.push(result);
      }
    }
  }
  for (const workload of workloads) {
    for (const mode of ['one', 'all']) {
      const rows = results.filter((r) => r.workload === workload && r.mode === mode);
      const mpKey = 'output_mp_per_s' in rows[0] ? 'output_mp_per_s' : 'input_mp_per_s';
      console.log(
        JSON.stringify({
          summary: true,
          workload,
          mode,
          runs: rows.length,
          images_per_s: stats(rows.map((r) => r.images_per_s)),
          [mpKey]: stats(rows.map((r) => r[mpKey])),
          peak_rss_mb: Math.max(...rows.map((r) => r.peak_rss_mb)),
        }),
      );
    }
  }
}

await main();
