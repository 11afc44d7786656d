import type { GuestArch } from "../engine/guest-arch.js";
import { invalidArgument, SupermachineError } from "../errors.js";
import { ContentStore } from "./content-store.js";
import { type Credentials, readDockerCredentials } from "./docker-config.js";
import { parseImageConfig } from "./image-config.js";
import type { ImageRecord } from "./image-record.js";
import { loadLocalSource } from "./local-sources.js";
import { type Descriptor, parseManifest } from "./manifest.js";
import { platformFor, selectPlatform } from "./platform.js";
import { checkImage, imageFromStore, type PulledImage } from "./pulled-image.js";
import { formatReference, parseImageSource } from "./reference.js";
import { RegistryClient } from "./registry-client.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./transport.js";

export interface PullOptions {
  /** The guest architecture; picks the platform from multi-platform images. */
  arch: GuestArch;
  /** Overrides whatever `~/.docker/config.json` holds for the registry. */
  credentials?: Credentials;
  /** Hosts (`host` or `host:port`) reached over plain HTTP. Loopback always is. */
  insecureRegistries?: readonly string[];
  signal?: AbortSignal;
  /** Serve from the store only; fail with `IMAGE_NOT_FOUND` rather than use the network. */
  offline?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Defaults to the store under `cacheDir()`. */
  store?: ContentStore;
  /** Told as each layer's bytes arrive, for progress output. */
  onProgress?: (progress: LayerProgress) => void;
}

/** How far one layer of a pull has come. */
export interface LayerProgress {
  digest: string;
  /** The layer's size from the manifest. */
  size: number;
  /** Bytes stored so far; starts again at 0 when a download is retried. */
  received: number;
  /** `cached`: it was in the store already; `done`: downloaded and verified. */
  status: "cached" | "downloading" | "done";
}

// Layers download a few at a time: enough to hide latency, few enough not to
// trip a registry's rate limit.
const LAYER_CONCURRENCY = 3;

/**
 * Pulls an image into the content store and returns its parsed config and
 * layer paths. `ref` is a registry reference (`redis:7`, `host:5000/x@sha256:…`),
 * `oci:<dir>[:tag]` or `docker-archive:<file.tar>`.
 *
 * Network use when the image is already in the store: by digest, none; by
 * tag, one manifest HEAD to learn what the tag points at now (plus the token
 * request if the registry wants one); with `offline: true`, none.
 *
 * @example
 * const image = await pullImage("redis:7", { arch: "x86_64" });
 * image.layers.map((l) => l.path);
 */
export async function pullImage(ref: string, options: PullOptions): Promise<PulledImage> {
  if (typeof ref !== "string") invalidArgument("ref", "an image reference string", ref);
  if (options?.arch !== "x86_64" && options?.arch !== "arm64") {
    invalidArgument("arch", '"x86_64" or "arm64"', options?.arch);
  }
  const source = parseImageSource(ref);
  const store = options.store ?? new ContentStore();
  if (source.kind !== "registry") {
    return loadLocalSource(source, store, options.arch, options.onProgress);
  }

  const reference = source.reference;
  const name = formatReference(reference);
  if (reference.digest) {
    const cached = await fromStore(store, name, reference.digest, options.arch);
    if (cached) return reportCached(cached, options.onProgress);
  }
  if (options.offline) {
    return reportCached(await offlineImage(store, name, options.arch), options.onProgress);
  }

  const client = new RegistryClient(reference, {
    credentials: options.credentials ?? (await readDockerCredentials(reference.registry)),
    insecureRegistries: options.insecureRegistries ?? [],
    signal: options.signal,
    retry: { ...DEFAULT_RETRY, ...options.retry },
  });
  let target = reference.digest;
  if (!target) {
    // By tag, learn the digest first: it may already be in the store, and
    // fetching by digest then verifies the manifest bytes too.
    target = await client.resolveTag(reference.tag ?? "latest");
    const cached = target && (await fromStore(store, name, target, options.arch));
    if (cached) return reportCached(cached, options.onProgress);
  }
  const tagOrDigest = target ?? reference.tag ?? "latest";
  return download(client, store, tagOrDigest, name, options.arch, options.onProgress);
}

/** An image the store had whole: its layers are reported as found there. */
function reportCached(image: PulledImage, onProgress: PullOptions["onProgress"]): PulledImage {
  for (const { digest, size } of image.layers) {
    onProgress?.({ digest, size, received: size, status: "cached" });
  }
  return image;
}

async function download(
  client: RegistryClient,
  store: ContentStore,
  tagOrDigest: string,
  name: string,
  arch: GuestArch,
  onProgress: PullOptions["onProgress"],
): Promise<PulledImage> {
  let fetched = await client.fetchManifest(tagOrDigest);
  await store.ingest(fetched.bytes);
  let manifest = parseManifest(fetched.bytes, fetched.contentType, name);
  let indexDigest: string | undefined;
  if (manifest.kind === "index") {
    indexDigest = fetched.digest;
    const chosen = selectPlatform(manifest.manifests, arch, name);
    fetched = await client.fetchManifest(chosen.digest);
    await store.ingest(fetched.bytes);
    manifest = parseManifest(fetched.bytes, fetched.contentType, name);
  }
  if (manifest.kind !== "image") {
    throw new SupermachineError("INVALID_IMAGE", `${name}: an index points at another index.`);
  }

  await client.downloadBlob(manifest.config, store);
  const config = parseImageConfig(await store.readBlob(manifest.config.digest), name);
  const platform = checkImage(manifest.layers, config, arch, name);
  const layers = manifest.layers;
  await forEachLimited(layers, LAYER_CONCURRENCY, (l) => client.downloadBlob(l, store, onProgress));

  const record: ImageRecord = {
    reference: name,
    ...(indexDigest ? { indexDigest } : {}),
    manifestDigest: fetched.digest,
    configDigest: manifest.config.digest,
    layers: layers.map((l) => l.digest),
    platform,
  };
  await store.recordImage(record);
  return imageFromStore(store, record, layers, false);
}

/**
 * The image whose manifest (or index) has digest `top`, if it and all its
 * blobs are already in the store; it is then recorded under `name` too.
 */
async function fromStore(store: ContentStore, name: string, top: string, arch: GuestArch) {
  if (!(await store.has(top))) return undefined;
  let manifest = parseManifest(await store.readBlob(top), undefined, name);
  let manifestDigest = top;
  let indexDigest: string | undefined;
  if (manifest.kind === "index") {
    indexDigest = top;
    manifestDigest = selectPlatform(manifest.manifests, arch, name).digest;
    if (!(await store.has(manifestDigest))) return undefined;
    manifest = parseManifest(await store.readBlob(manifestDigest), undefined, name);
  }
  if (manifest.kind !== "image") return undefined;
  const blobs: Descriptor[] = [manifest.config, ...manifest.layers];
  for (const blob of blobs) if (!(await store.has(blob.digest))) return undefined;

  const config = parseImageConfig(await store.readBlob(manifest.config.digest), name);
  const record: ImageRecord = {
    reference: name,
    ...(indexDigest ? { indexDigest } : {}),
    manifestDigest,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((l) => l.digest),
    platform: checkImage(manifest.layers, config, arch, name),
  };
  await store.recordImage(record);
  return imageFromStore(store, record, manifest.layers, true);
}

async function offlineImage(store: ContentStore, name: string, arch: GuestArch) {
  const record = await store.readImage(name);
  const cached =
    record && (await fromStore(store, name, record.indexDigest ?? record.manifestDigest, arch));
  if (cached) return cached;
  throw new SupermachineError(
    "IMAGE_NOT_FOUND",
    `${name} (${platformFor(arch).architecture}) is not in the local store and \`offline\` is ` +
      "set. Pull it once without `offline` first.",
  );
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
