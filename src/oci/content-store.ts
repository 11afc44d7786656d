import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { SupermachineError } from "../errors.js";
import { cacheDir } from "../util/cache-dir.js";
import type { ImageRecord } from "./image-record.js";

// Temp files older than this belong to a process that died mid-write; younger
// ones may be another process's download in progress, so gc leaves them.
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Blobs by digest under `<cache>/blobs/sha256/<hex>`, plus a record per
 * pulled image under `<cache>/images/`. Every file is written to a temp file
 * in its final directory, checked, then renamed: rename is atomic, so two
 * processes pulling the same image at once both end with the same, whole
 * files, and a reader never sees a partial blob.
 */
export class ContentStore {
  readonly root: string;

  constructor(root: string = cacheDir()) {
    this.root = root;
  }

  blobPath(digest: string): string {
    return join(this.root, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.blobPath(digest)).then(
      () => true,
      () => false,
    );
  }

  readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /**
   * Streams `source` into the store. With `expected`, the content must hash
   * to its digest, or `DIGEST_MISMATCH` (naming `what` and suggesting `fix`)
   * is thrown and nothing is kept; without, the computed digest names the
   * blob. Returns the digest and size.
   */
  async ingest(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    expected?: { digest: string; what: string; fix: string },
  ): Promise<{ digest: string; size: number }> {
    const dir = join(this.root, "blobs", "sha256");
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    const hashing = async function* (input: AsyncIterable<Uint8Array> | Uint8Array) {
      const chunks = input instanceof Uint8Array ? [input] : input;
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    try {
      await pipeline(hashing(source), createWriteStream(temp, { mode: 0o644 }));
      const digest = `sha256:${hash.digest("hex")}`;
      if (expected && digest !== expected.digest) {
        throw new SupermachineError(
          "DIGEST_MISMATCH",
          `${expected.what} should have digest ${expected.digest}, but the ${size} bytes ` +
            `read hash to ${digest}; nothing was stored. ${expected.fix}`,
        );
      }
      await rename(temp, this.blobPath(digest));
      return { digest, size };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Stores a record of a pulled image, keyed by its normalised reference. */
  async recordImage(record: ImageRecord): Promise<void> {
    const path = this.#recordPath(record.reference);
    await mkdir(join(this.root, "images"), { recursive: true });
    const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temp, path);
  }

  async readImage(reference: string): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#recordPath(reference), "utf8"));
    } catch {
      // Missing or unreadable record: the image simply isn't cached.
      return undefined;
    }
  }

  /**
   * Forgets the image recorded under `reference` (normalised, as in its
   * record). Its blobs stay until `gc()` finds nothing else refers to them.
   * Returns false when no such record exists.
   */
  async removeImage(reference: string): Promise<boolean> {
    return unlink(this.#recordPath(reference)).then(
      () => true,
      () => false,
    );
  }

  async listImages(): Promise<ImageRecord[]> {
    const names = await readdir(join(this.root, "images")).catch(() => []);
    const records = await Promise.all(
      names.filter((n) => n.endsWith(".json")).map((n) => this.#readRecordFile(n)),
    );
    return records.filter((r): r is ImageRecord => r !== undefined);
  }

  /**
   * Deletes blobs no recorded image references, and temp files left by dead
   * processes. Do not run it while a pull in another process is between
   * downloading and recording: that pull's new blobs are not yet referenced.
   */
  async gc(): Promise<{ bytesFreed: number; blobsRemoved: number }> {
    const keep = new Set<string>();
    for (const r of await this.listImages()) {
      for (const d of [r.indexDigest, r.manifestDigest, r.configDigest, ...r.layers]) {
        if (d) keep.add(d.replace(/^sha256:/, ""));
      }
    }
    const dir = join(this.root, "blobs", "sha256");
    let bytesFreed = 0;
    let blobsRemoved = 0;
    for (const name of await readdir(dir).catch(() => [])) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info || keep.has(name)) continue;
      if (name.startsWith(".tmp-") && Date.now() - info.mtimeMs < STALE_TEMP_MS) continue;
      await unlink(path).catch(() => undefined);
      bytesFreed += info.size;
      blobsRemoved += name.startsWith(".tmp-") ? 0 : 1;
    }
    return { bytesFreed, blobsRemoved };
  }

  #recordPath(reference: string): string {
    const key = createHash("sha256").update(reference).digest("hex");
    return join(this.root, "images", `${key}.json`);
  }

  async #readRecordFile(name: string): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.root, "images", name), "utf8"));
    } catch {
      // A record being replaced right now: skip it rather than fail gc.
      return undefined;
    }
  }
}
