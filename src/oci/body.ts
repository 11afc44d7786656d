import { SupermachineError } from "../errors.js";
import type { Descriptor } from "./manifest.js";
import { TransientError } from "./transport.js";

/** Reads a whole (small) body, refusing one over `limit` bytes. */
export async function readBody(response: Response, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of sized(response, undefined)) {
    total += chunk.length;
    if (total > limit) {
      throw new SupermachineError(
        "INVALID_IMAGE",
        `Refused a manifest over ${limit} bytes: no real manifest is that large.`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The body as chunks, turning a connection lost mid-body or a body shorter
 * than the descriptor says into a `TransientError`, so it is retried; a body
 * longer than declared is cut off, and the digest check then rejects it.
 */
export async function* sized(response: Response, descriptor: Descriptor | undefined) {
  let received = 0;
  try {
    if (!response.body) return;
    for await (const chunk of response.body) {
      received += chunk.length;
      if (descriptor && received > descriptor.size) {
        yield chunk.subarray(0, chunk.length - (received - descriptor.size));
        return;
      }
      yield chunk;
    }
  } catch (error) {
    if (error instanceof SupermachineError || (error as Error)?.name === "AbortError") throw error;
    throw new TransientError(`connection lost after ${received} bytes`, undefined, {
      cause: error,
    });
  }
  if (descriptor && received < descriptor.size) {
    throw new TransientError(`body ended after ${received} of ${descriptor.size} bytes`);
  }
}

/** Passes chunks through, telling `onBytes` the running total. */
export async function* counted(
  source: AsyncIterable<Uint8Array>,
  onBytes: (received: number) => void,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of source) {
    received += chunk.length;
    onBytes(received);
    yield chunk;
  }
}
