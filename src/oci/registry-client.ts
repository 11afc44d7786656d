import { createHash } from "node:crypto";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import { type AuthContext, authorize, refused } from "./auth.js";
import { counted, readBody, sized } from "./body.js";
import type { ContentStore } from "./content-store.js";
import type { Credentials } from "./docker-config.js";
import type { Descriptor } from "./manifest.js";
import { MANIFEST_ACCEPT } from "./media-types.js";
import type { LayerProgress } from "./pull.js";
import { apiHost, formatReference, type ImageReference } from "./reference.js";
import {
  parseRetryAfter,
  type RetryPolicy,
  registryScheme,
  TransientError,
  withRetries,
} from "./transport.js";

const debug = debugFor("pull");

// Manifests are small; a bigger answer is a misbehaving server, not an image.
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export interface RegistryClientOptions {
  credentials: Credentials | undefined;
  insecureRegistries: readonly string[];
  signal: AbortSignal | undefined;
  retry: RetryPolicy;
}

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | undefined;
  digest: string;
}

/**
 * Talks to one repository of one registry over the distribution API. It does
 * not ping `/v2/` first: the 401 on the first real request carries the same
 * challenge, so an anonymous registry costs no extra round trip, and the
 * authorization obtained is reused for every later request.
 */
export class RegistryClient {
  readonly #base: string;
  readonly #ref: ImageReference;
  readonly #auth: AuthContext;
  readonly #options: RegistryClientOptions;
  #authorization: string | undefined;

  constructor(ref: ImageReference, options: RegistryClientOptions) {
    const host = apiHost(ref.registry);
    const scheme = registryScheme(host, options.insecureRegistries);
    this.#base = `${scheme}://${host}/v2/${ref.repository}`;
    this.#ref = ref;
    this.#options = options;
    this.#auth = {
      registry: ref.registry,
      repository: ref.repository,
      credentials: options.credentials,
      insecureRegistries: options.insecureRegistries,
      signal: options.signal,
    };
  }

  /**
   * The digest a tag points at, from a HEAD request, when the registry says.
   * HEAD rather than GET because Docker Hub does not count it against the
   * pull rate limit; a registry without HEAD (405) just means "unknown".
   */
  async resolveTag(tag: string): Promise<string | undefined> {
    const response = await this.#retrying(`resolve tag ${tag}`, () =>
      this.#request("HEAD", `/manifests/${tag}`, MANIFEST_ACCEPT, [405]),
    );
    if (response.status === 405) return undefined;
    const digest = response.headers.get("docker-content-digest") ?? undefined;
    return digest?.startsWith("sha256:") ? digest : undefined;
  }

  /** Fetches a manifest by tag or digest; by digest, its bytes are verified. */
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    return this.#retrying(`fetch manifest ${reference}`, async () => {
      const response = await this.#request("GET", `/manifests/${reference}`, MANIFEST_ACCEPT);
      const bytes = Buffer.from(await readBody(response, MAX_MANIFEST_BYTES));
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      if (reference.startsWith("sha256:") && digest !== reference) {
        throw new SupermachineError(
          "DIGEST_MISMATCH",
          `The manifest served for ${this.#name()}@${reference} hashes to ${digest}.`,
        );
      }
      return { bytes, contentType: response.headers.get("content-type") ?? undefined, digest };
    });
  }

  /**
   * Downloads a blob into the store, verified, unless it is already there,
   * telling `onProgress` as its bytes arrive.
   */
  async downloadBlob(
    descriptor: Descriptor,
    store: ContentStore,
    onProgress?: (progress: LayerProgress) => void,
  ): Promise<string> {
    const { digest, size } = descriptor;
    if (await store.has(digest)) {
      onProgress?.({ digest, size, received: size, status: "cached" });
      return store.blobPath(digest);
    }
    await this.#retrying(`download blob ${digest}`, async () => {
      const response = await this.#request("GET", `/blobs/${digest}`);
      const body = counted(sized(response, descriptor), (received) =>
        onProgress?.({ digest, size, received, status: "downloading" }),
      );
      await store.ingest(body, {
        digest,
        what: `A blob of ${this.#name()}`,
        fix: "The registry, or a proxy in between, served corrupt data; try again later.",
      });
    });
    onProgress?.({ digest, size, received: size, status: "done" });
    return store.blobPath(digest);
  }

  #retrying<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return withRetries(
      `${what} of ${this.#name()}`,
      this.#options.retry,
      this.#options.signal,
      operation,
    );
  }

  #name(): string {
    return `${this.#ref.registry}/${this.#ref.repository}`;
  }

  /**
   * One request, answering an auth challenge once; failures become coded
   * errors, except for the statuses in `pass`, returned to the caller.
   * Bearer tokens expire (Docker Hub's after five minutes), so a 401 on a
   * token we already hold earns one fresh token before we give up.
   */
  async #request(method: string, path: string, accept?: string, pass: number[] = []) {
    let response = await this.#send(method, path, accept);
    if (response.status === 401 && !this.#authorization?.startsWith("Basic ")) {
      await response.body?.cancel();
      this.#authorization = await authorize(response.headers.get("www-authenticate"), this.#auth);
      response = await this.#send(method, path, accept);
    }
    if (response.ok || pass.includes(response.status)) return response;
    await response.body?.cancel();
    const status = response.status;
    if (status === 401 || status === 403) throw refused(this.#auth, status);
    if (status === 404) {
      const what = path.startsWith("/blobs/") ? `blob ${path.slice(7)} of` : "image";
      throw new SupermachineError(
        "IMAGE_NOT_FOUND",
        `The ${what} ${formatReference(this.#ref)} was not found on ${this.#ref.registry} ` +
          "(HTTP 404). Check the repository name, tag and digest.",
      );
    }
    if (status === 429 || status >= 500) {
      throw new TransientError(
        `${this.#ref.registry} answered HTTP ${status}`,
        parseRetryAfter(response.headers.get("retry-after")),
      );
    }
    throw new SupermachineError(
      "REGISTRY_UNAVAILABLE",
      `${this.#ref.registry} answered HTTP ${status} to ${method} ${path}.`,
    );
  }

  /**
   * Sends one request, following redirects by hand: registries redirect blob
   * downloads to storage elsewhere (S3, a CDN), and our credentials must not
   * follow them to another origin.
   */
  async #send(method: string, path: string, accept?: string): Promise<Response> {
    let url = new URL(`${this.#base}${path}`);
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {};
      if (accept) headers.accept = accept;
      const sameOrigin = url.origin === origin;
      if (this.#authorization && sameOrigin) headers.authorization = this.#authorization;
      debug("%s %s", method, url.href);
      const response = await fetch(url, {
        method,
        headers,
        redirect: "manual",
        signal: this.#options.signal,
      });
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || !location || hop === MAX_REDIRECTS) return response;
      await response.body?.cancel();
      url = new URL(location, url);
    }
  }
}
