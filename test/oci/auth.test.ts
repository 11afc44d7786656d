import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pullImage } from "../../src/oci/index.js";
import { freePort } from "./support/free-port.js";
import { buildImage, type TestImage } from "./support/image-builder.js";
import { type FaultProxy, startProxy } from "./support/proxy.js";
import { Pusher } from "./support/push.js";
import { type RunningRegistry, startRegistry } from "./support/registry.js";
import { startTokenServer, type TokenServer } from "./support/token-server.js";

const SECRET = "s3cr3t-Pa55word";
const WRONG = "wr0ng-Pa55word";
const image: TestImage = buildImage({ architecture: "amd64" });
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), "sm-cache-"));
  process.env.SUPERMACHINE_CACHE_DIR = dir;
  // An empty Docker config, so the developer's own logins never leak in.
  process.env.DOCKER_CONFIG = dir;
  return async () => {
    await rm(dir, { recursive: true, force: true });
    delete process.env.SUPERMACHINE_CACHE_DIR;
    delete process.env.DOCKER_CONFIG;
  };
});

function expectAuthFailure(error: unknown, pattern: RegExp) {
  expect(error).toMatchObject({
    code: "REGISTRY_AUTH_FAILED",
    message: expect.stringMatching(pattern),
  });
  const text = `${(error as Error).message} ${String((error as Error).cause ?? "")}`;
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(WRONG);
}

describe("htpasswd (basic) registry", () => {
  let registry: RunningRegistry;

  beforeAll(async () => {
    registry = await startRegistry({ kind: "htpasswd", username: "alice", password: SECRET });
    await new Pusher(registry.url, basic("alice", SECRET)).image("team/app", image, "v1");
  });
  afterAll(() => registry?.stop());

  it("pulls with explicit credentials", async () => {
    const credentials = { username: "alice", password: SECRET };
    const ref = `${registry.host}/team/app:v1`;
    const pulled = await pullImage(ref, { arch: "x86_64", credentials });
    expect(pulled.manifestDigest).toBe(image.manifest.digest);
  });

  it("pulls with credentials from $DOCKER_CONFIG/config.json", async () => {
    const auth = Buffer.from(`alice:${SECRET}`).toString("base64");
    const config = { auths: { [registry.host]: { auth } } };
    await writeFile(join(process.env.DOCKER_CONFIG ?? "", "config.json"), JSON.stringify(config));
    const pulled = await pullImage(`${registry.host}/team/app:v1`, { arch: "x86_64" });
    expect(pulled.configDigest).toBe(image.config.digest);
  });

  it("fails without leaking the password, and says what to do", async () => {
    const credentials = { username: "alice", password: WRONG };
    const error = await pullImage(`${registry.host}/team/app:v1`, {
      arch: "x86_64",
      credentials,
    }).catch((e) => e);
    expectAuthFailure(error, /refused user "alice" \(HTTP 401\).*docker login/);
    const anonymous = await pullImage(`${registry.host}/team/app:v1`, { arch: "x86_64" }).catch(
      (e) => e,
    );
    expectAuthFailure(anonymous, /requires credentials.*docker login/);
  });
});

describe("redirected blob downloads", () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let storage: Server;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ kind: "htpasswd", username: "alice", password: SECRET });
    await new Pusher(registry.url, basic("alice", SECRET)).image("team/app", image, "v1");
    proxy = await startProxy(registry.url);
    // Stands in for S3 or a CDN: another origin that serves the layer bytes.
    storage = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end(image.layers[0]?.bytes);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => storage.listen(port, "127.0.0.1", resolve));
    const layer = image.layers[0]?.digest ?? "-";
    proxy.fault = (req) =>
      req.url?.includes(layer) ? { redirect: `http://127.0.0.1:${port}/blob` } : undefined;
  });
  afterAll(async () => {
    await new Promise((resolve) => storage?.close(resolve));
    await proxy?.stop();
    await registry?.stop();
  });

  it("follows the redirect without sending credentials to the other origin", async () => {
    const credentials = { username: "alice", password: SECRET };
    const ref = `${proxy.host}/team/app:v1`;
    const pulled = await pullImage(ref, { arch: "x86_64", credentials });
    expect(pulled.layers[0]?.digest).toBe(image.layers[0]?.digest);
    expect(seen).toEqual([undefined]);
  });
});

describe("token (bearer) registry", () => {
  let tokens: TokenServer;
  let registry: RunningRegistry;

  beforeAll(async () => {
    tokens = await startTokenServer({ bob: SECRET });
    registry = await startRegistry({ kind: "token", ...tokens });
    await new Pusher(registry.url, `Bearer ${tokens.token("team/app")}`).image(
      "team/app",
      image,
      "v1",
    );
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  it("fetches a token scoped to the repository and pulls", async () => {
    tokens.requests.length = 0;
    const credentials = { username: "bob", password: SECRET };
    const ref = `${registry.host}/team/app:v1`;
    const pulled = await pullImage(ref, { arch: "x86_64", credentials });
    expect(pulled.layers).toHaveLength(1);
    // One token for the whole pull, reused for every request.
    expect(tokens.requests).toHaveLength(1);
    const url = new URL(tokens.requests[0] ?? "", "http://x");
    expect(url.searchParams.get("service")).toBe(tokens.service);
    expect(url.searchParams.get("scope")).toBe("repository:team/app:pull");
  });

  it("accepts the token in a `token` field as well", async () => {
    tokens.field = "token";
    try {
      const credentials = { username: "bob", password: SECRET };
      const ref = `${registry.host}/team/app:v1`;
      expect((await pullImage(ref, { arch: "x86_64", credentials })).layers).toHaveLength(1);
    } finally {
      tokens.field = "access_token";
    }
  });

  it("reports a refused token request without the secret", async () => {
    const credentials = { username: "bob", password: WRONG };
    const error = await pullImage(`${registry.host}/team/app:v1`, {
      arch: "x86_64",
      credentials,
    }).catch((e) => e);
    expectAuthFailure(error, /Token service 127\.0\.0\.1:\d+ refused user "bob" \(HTTP 401\)/);
  });
});
