import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseChallenges } from "../../src/oci/challenge.js";
import { credentialsFromConfig, readDockerCredentials } from "../../src/oci/docker-config.js";
import { parseRetryAfter, registryScheme } from "../../src/oci/transport.js";

describe("parseChallenges", () => {
  it("reads a Bearer challenge with quoted parameters", () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' +
      'scope="repository:library/redis:pull,push"';
    expect(parseChallenges(header)).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/redis:pull,push",
        },
      },
    ]);
  });

  it("reads several challenges, unquoted values and escapes", () => {
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=x , service=y')).toEqual([
      { scheme: "basic", params: { realm: 'a "b"' } },
      { scheme: "bearer", params: { realm: "x", service: "y" } },
    ]);
  });

  it("survives garbage", () => {
    expect(parseChallenges("")).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')[0]?.params.realm).toBe("unterminated");
  });
});

describe("docker config credentials", () => {
  const auth = (s: string) => Buffer.from(s).toString("base64");
  const config = JSON.stringify({
    auths: {
      "https://index.docker.io/v1/": { auth: auth("hub:p:w") },
      "registry.example.com:5000": { auth: auth("alice:secret") },
      "https://other.example.com/v1/": { username: "bob", password: "pw" },
    },
  });

  it("finds entries by host, URL and Docker Hub aliases", () => {
    expect(credentialsFromConfig(config, "docker.io")).toEqual({
      username: "hub",
      password: "p:w",
    });
    expect(credentialsFromConfig(config, "registry.example.com:5000")).toEqual({
      username: "alice",
      password: "secret",
    });
    expect(credentialsFromConfig(config, "other.example.com")?.username).toBe("bob");
    expect(credentialsFromConfig(config, "nowhere.example.com")).toBeUndefined();
    expect(credentialsFromConfig("{not json", "docker.io")).toBeUndefined();
  });

  it("honours DOCKER_CONFIG and tolerates a missing file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sm-docker-config-"));
    try {
      await writeFile(join(dir, "config.json"), config);
      const found = await readDockerCredentials("docker.io", { DOCKER_CONFIG: dir });
      expect(found).toMatchObject({ username: "hub" });
      const empty = { DOCKER_CONFIG: join(dir, "absent") };
      expect(await readDockerCredentials("docker.io", empty)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("transport rules", () => {
  it("uses plain HTTP only for loopback and listed hosts", () => {
    expect(registryScheme("127.0.0.1:5000")).toBe("http");
    expect(registryScheme("127.8.9.10")).toBe("http");
    expect(registryScheme("localhost:5000")).toBe("http");
    expect(registryScheme("[::1]:5000")).toBe("http");
    expect(registryScheme("128.0.0.1:5000")).toBe("https");
    expect(registryScheme("registry.lan:5000")).toBe("https");
    expect(registryScheme("registry.lan:5000", ["registry.lan"])).toBe("http");
    expect(registryScheme("registry.lan:5000", ["registry.lan:5000"])).toBe("http");
  });

  it("reads SUPERMACHINE_INSECURE_REGISTRIES", () => {
    process.env.SUPERMACHINE_INSECURE_REGISTRIES = "a.lan, b.lan:5000";
    try {
      expect(registryScheme("b.lan:5000")).toBe("http");
      expect(registryScheme("c.lan")).toBe("https");
    } finally {
      delete process.env.SUPERMACHINE_INSECURE_REGISTRIES;
    }
  });

  it("parses Retry-After in seconds and as a date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
    const later = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString()) ?? 0;
    expect(later).toBeGreaterThan(50_000);
  });
});
