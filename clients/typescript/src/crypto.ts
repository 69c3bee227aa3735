/**
 * The platform's Web Crypto: global in browsers, Deno and Node 19+; on Node 18 it is
 * `webcrypto` of `node:crypto`.
 *
 * @module
 */

/** The Web Crypto API of the running platform. */
export async function webCrypto(): Promise<Crypto> {
  const global = globalThis.crypto as Crypto | undefined;
  if (global?.subtle !== undefined) {
    return global;
  }
  // The specifier is a variable so that bundlers for browsers, which have the global, do not
  // try to resolve a Node built-in.
  const nodeCrypto = "node:crypto";
  const module = (await import(nodeCrypto)) as { webcrypto: Crypto };
  return module.webcrypto;
}
