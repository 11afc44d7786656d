import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ContentStore, pullImage } from "../../src/oci/index.js";
import { freePort } from "./support/free-port.js";
import type { TestImage } from "./support/image-builder.js";
import type { FaultProxy } from "./support/proxy.js";
import { type SeededRegistry, seedRegistry, useTempCache } from "./support/seeded-registry.js";

// Short delays keep the retry tests quick; the policy, not the timing, is tested.
const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };

let seeded: SeededRegistry;
let proxy: FaultProxy;
let amd64: TestImage;

beforeAll(async () => {
  seeded = await seedRegistry();
  ({ proxy, amd64 } = seeded);
});
afterAll(() => seeded?.stop());
useTempCache();
beforeEach(() => {
  proxy.requests.length = 0;
  proxy.fault = () => undefined;
});

const pull = (ref: string, options: { offline?: boolean } = {}) =>
  pullImage(`${proxy.host}/${ref}`, { arch: "x86_64", retry: FAST_RETRY, ...options });

describe("faults on the way", () => {
  const isLayer = (url: string | undefined) => url?.includes(amd64.layers[0]?.digest ?? "-");

  it("rejects a corrupted blob and caches nothing of it", async () => {
    proxy.fault = (req) => (isLayer(req.url) ? "corrupt" : undefined);
    await expect(pull("app/single:v1")).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining(amd64.layers[0]?.digest ?? "-"),
    });
    const blobs = await readdir(join(process.env.SUPERMACHINE_CACHE_DIR ?? "", "blobs/sha256"));
    expect(blobs).not.toContain(amd64.layers[0]?.digest.slice(7));
    expect(blobs.filter((n) => n.startsWith(".tmp"))).toEqual([]);
  });

  it("retries a connection dropped mid-blob", async () => {
    let cuts = 0;
    proxy.fault = (req) => (isLayer(req.url) && cuts++ === 0 ? "cut" : undefined);
    const image = await pull("app/single:v1");
    expect(image.layers[0]?.digest).toBe(amd64.layers[0]?.digest);
    expect(cuts).toBe(2);
  });

  it("gives up with REGISTRY_UNAVAILABLE when every attempt drops", async () => {
    proxy.fault = (req) => (isLayer(req.url) ? "cut" : undefined);
    await expect(pull("app/single:v1")).rejects.toMatchObject({
      code: "REGISTRY_UNAVAILABLE",
      message: expect.stringMatching(/after 3 attempts.*Check that the registry is reachable/),
    });
  });

  it("waits out 429 and 503 answers", async () => {
    const answers = [{ status: 429, retryAfter: "0" }, { status: 503 }];
    proxy.fault = (req) => (req.method === "HEAD" ? answers.shift() : undefined);
    const image = await pull("app/single:v1");
    expect(image.manifestDigest).toBe(amd64.manifest.digest);
    expect(proxy.requests.filter((r) => r.startsWith("HEAD")).length).toBe(3);
  });
});

describe("cancellation", () => {
  it("stops when the signal is aborted", async () => {
    const signal = AbortSignal.abort();
    const pulling = pullImage(`${proxy.host}/app/single:v1`, { arch: "x86_64", signal });
    await expect(pulling).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("unreachable registry", () => {
  it("retries a refused connection, then says the registry is unavailable", async () => {
    const port = await freePort();
    const pulling = pullImage(`127.0.0.1:${port}/app/x:v1`, { arch: "x86_64", retry: FAST_RETRY });
    await expect(pulling).rejects.toMatchObject({
      code: "REGISTRY_UNAVAILABLE",
      message: expect.stringMatching(/resolve tag v1 of 127\.0\.0\.1:\d+\/app\/x after 3/),
    });
  });
});

describe("gc", () => {
  it("frees blobs that no recorded image references", async () => {
    await pull("app/single:v1");
    const store = new ContentStore();
    await store.ingest(Buffer.from("orphan blob"));
    const before = await readdir(join(store.root, "blobs/sha256"));
    expect(await store.gc()).toEqual({ bytesFreed: "orphan blob".length, blobsRemoved: 1 });
    const after = await readdir(join(store.root, "blobs/sha256"));
    expect(after.length).toBe(before.length - 1);
    const again = await pull("app/single:v1", { offline: true });
    expect(again.fromCache).toBe(true);
  });
});
