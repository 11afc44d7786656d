import type { Blob, TestImage } from "./image-builder.js";

/**
 * Pushes blobs and manifests with the monolithic upload of the distribution
 * API: POST an upload, PUT the bytes with `?digest=`, then PUT the manifest.
 */
export class Pusher {
  constructor(
    readonly url: string,
    readonly authorization?: string,
  ) {}

  async blob(repository: string, b: Blob): Promise<void> {
    const start = await this.#fetch(`${this.url}/v2/${repository}/blobs/uploads/`, {
      method: "POST",
    });
    const location = start.headers.get("location");
    if (start.status !== 202 || !location) throw new Error(`upload start: HTTP ${start.status}`);
    const target = new URL(location, this.url);
    target.searchParams.set("digest", b.digest);
    const put = await this.#fetch(target.href, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: b.bytes,
    });
    if (put.status !== 201) throw new Error(`blob PUT: HTTP ${put.status} ${await put.text()}`);
  }

  async manifest(repository: string, reference: string, m: Blob): Promise<void> {
    const put = await this.#fetch(`${this.url}/v2/${repository}/manifests/${reference}`, {
      method: "PUT",
      headers: { "content-type": m.mediaType },
      body: m.bytes,
    });
    if (put.status !== 201) {
      throw new Error(`manifest PUT: HTTP ${put.status} ${await put.text()}`);
    }
  }

  /** Pushes an image's blobs and its manifest under `tag` (or only by digest). */
  async image(repository: string, image: TestImage, tag?: string): Promise<void> {
    for (const b of [image.config, ...image.layers]) await this.blob(repository, b);
    await this.manifest(repository, tag ?? image.manifest.digest, image.manifest);
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.authorization) headers.set("authorization", this.authorization);
    const response = await fetch(url, { ...init, headers });
    return response;
  }
}
