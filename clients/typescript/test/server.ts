/**
 * Runs the real `progimage-api` binary for a test file: a free port, a fresh data directory,
 * optional API keys; `stop()` kills it and removes the directory.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type RequestListener } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: clients/typescript/build/test → four levels up. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** A running server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

/** What to start the server with. */
export interface ServerOptions {
  /** `PROGIMAGE_API_KEYS`, e.g. `acme:key-a,globex:key-g`. */
  apiKeys?: string;
  /** `PROGIMAGE_WEBHOOK_SECRET`. */
  webhookSecret?: string;
  /** `PROGIMAGE_ALLOW_URLS`, e.g. `127.0.0.1` to fetch from a test's own HTTP server. */
  allowUrls?: string;
}

/** The binary: `PROGIMAGE_BIN`, else `$CARGO_TARGET_DIR/debug/progimage-api`, else `<repo>/target/debug/...`. */
export function serverBinary(): string {
  const explicit = process.env.PROGIMAGE_BIN;
  if (explicit !== undefined && explicit !== "") {
    return explicit;
  }
  const targetDir = process.env.CARGO_TARGET_DIR;
  const base = targetDir !== undefined && targetDir !== "" ? resolve(REPO_ROOT, targetDir) : join(REPO_ROOT, "target");
  return join(base, "debug", "progimage-api");
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/** Starts the server and resolves once `/healthz` answers 200. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const binary = serverBinary();
  if (!existsSync(binary)) {
    throw new Error(`no server binary at ${binary}: build it with \`cargo build -p progimage-api\` or set PROGIMAGE_BIN`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), "progimage-sdk-ts-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PROGIMAGE_DATA_DIR: dataDir,
    PROGIMAGE_LISTEN: `127.0.0.1:${port}`,
    PROGIMAGE_API_KEYS: options.apiKeys ?? "",
  };
  if (options.allowUrls !== undefined) {
    env.PROGIMAGE_ALLOW_URLS = options.allowUrls;
  }
  if (options.webhookSecret !== undefined) {
    env.PROGIMAGE_WEBHOOK_SECRET = options.webhookSecret;
  }
  const child = spawn(binary, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  // PROGIMAGE_TEST_LOGS=<dir> keeps each server's whole log there, to read after a failure.
  const logDir = process.env.PROGIMAGE_TEST_LOGS;
  const logFile = logDir === undefined || logDir === "" ? undefined : createWriteStream(join(logDir, `progimage-${port}.log`));
  let log = "";
  const record = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
    logFile?.write(chunk);
  };
  child.stdout?.on("data", record);
  child.stderr?.on("data", record);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await kill(child);
    logFile?.end();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(url, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log()}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 50));
  }
  throw new Error(`the server at ${url} was not healthy within 30 s:\n${log()}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A fixture of the repository's `fixtures/` directory. */
export async function fixture(name: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await readFile(join(REPO_ROOT, "fixtures", name)));
}

/** A local HTTP server for the service to fetch from or deliver to. */
export interface LocalSite {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

/** Serves `handler` on a free loopback port. */
export async function startSite(handler: RequestListener): Promise<LocalSite> {
  const site = createHttpServer(handler);
  await new Promise<void>((resolveListen) => site.listen(0, "127.0.0.1", resolveListen));
  const address = site.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolveClose) => {
        site.closeAllConnections();
        site.close(() => resolveClose());
      }),
  };
}
