import { describe, expect, it } from "vitest";
import {
  apiHost,
  formatReference,
  parseImageSource,
  parseReference,
} from "../../src/oci/reference.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it.each([
    ["redis", "docker.io", "library/redis", "latest", undefined],
    ["redis:7", "docker.io", "library/redis", "7", undefined],
    ["bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", undefined],
    ["docker.io/redis", "docker.io", "library/redis", "latest", undefined],
    ["index.docker.io/library/redis", "docker.io", "library/redis", "latest", undefined],
    ["localhost/x", "localhost", "x", "latest", undefined],
    ["localhost:5000/ns/name:tag", "localhost:5000", "ns/name", "tag", undefined],
    ["127.0.0.1:5000/a/b/c:v1.0_rc-2", "127.0.0.1:5000", "a/b/c", "v1.0_rc-2", undefined],
    ["ghcr.io/owner/app", "ghcr.io", "owner/app", "latest", undefined],
    ["[::1]:5000/app", "[::1]:5000", "app", "latest", undefined],
    [`redis@${DIGEST}`, "docker.io", "library/redis", undefined, DIGEST],
    [`redis:7@${DIGEST}`, "docker.io", "library/redis", "7", DIGEST],
    ["my__name/a.b-c_d", "docker.io", "my__name/a.b-c_d", "latest", undefined],
  ])("%s", (input, registry, repository, tag, digest) => {
    expect(parseReference(input)).toEqual({ registry, repository, tag, digest });
  });

  it.each([
    ["", /empty/],
    ["Redis", /"Redis" is not allowed\. Repository names must be lowercase/],
    ["docker.io/Library/redis", /must be lowercase/],
    ["redis:", /tag "" may contain only/],
    ["redis:-x", /tag "-x"/],
    [`redis:${"t".repeat(129)}`, /at most 128/],
    ["redis@sha256:abc", /digest "sha256:abc" must be/],
    [`redis@md5:${"a".repeat(64)}`, /digest/],
    [`redis@sha256:${"A".repeat(64)}`, /digest/],
    ["a//b", /empty path component/],
    ["/redis", /empty path component/],
    ["redis/", /empty path component/],
    ["a/-b", /component "-b"/],
    ["a/b_", /component "b_"/],
    ["a/b...c", /component "b...c"/],
    ["bad_host.io/x", /registry host "bad_host.io"/],
    ["host:99999/x", /registry host/],
    ["-host.io/x", /registry host/],
    ["red is", /whitespace/],
    [`x/${"a".repeat(260)}`, /longer than 255/],
  ])("rejects %j", (input, message) => {
    expect(() => parseReference(input)).toThrow(
      expect.objectContaining({
        code: "INVALID_REFERENCE",
        message: expect.stringMatching(message),
      }),
    );
  });

  it("formats the normalised name, keeping a pinned digest", () => {
    expect(formatReference(parseReference("redis"))).toBe("docker.io/library/redis:latest");
    expect(formatReference(parseReference(`x@${DIGEST}`))).toBe(`docker.io/library/x@${DIGEST}`);
  });

  it("maps Docker Hub to its API host", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("localhost:5000")).toBe("localhost:5000");
  });
});

describe("parseImageSource", () => {
  it("reads local sources", () => {
    expect(parseImageSource("oci:/tmp/layout:v1")).toEqual({
      kind: "oci-layout",
      path: "/tmp/layout",
      tag: "v1",
    });
    expect(parseImageSource("oci:/tmp/lay:out/dir")).toMatchObject({
      path: "/tmp/lay:out/dir",
      tag: undefined,
    });
    expect(parseImageSource("docker-archive:/tmp/x.tar")).toEqual({
      kind: "docker-archive",
      path: "/tmp/x.tar",
    });
    expect(parseImageSource("redis")).toMatchObject({ kind: "registry" });
  });

  it.each(["oci:", "docker-archive:", "oci:/x:-bad"])("rejects %j", (input) => {
    expect(() => parseImageSource(input)).toThrow(
      expect.objectContaining({ code: "INVALID_REFERENCE" }),
    );
  });
});
