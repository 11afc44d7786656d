import { expect, test } from "vitest";
import {
  incompatibilities,
  parseManifest,
  type RestoreHost,
  type SnapshotManifest,
} from "../../src/snapshot/manifest.js";

const guest = {
  kernelSha256: "k".repeat(64),
  initrdSha256: "i".repeat(64),
  agentSha256: "a".repeat(64),
  protocol: 1,
};

const manifest: SnapshotManifest = {
  format: 1,
  createdAt: "2026-12-03T19:00:00.000Z",
  key: "sha256:00",
  image: { reference: "127.0.0.1:5000/redis:test", manifestDigest: "sha256:11" },
  machine: {
    arch: "x86_64",
    accel: "tcg",
    cpu: "max",
    memoryMib: 256,
    vcpus: 1,
    qemuVersion: "7.2.22",
    args: ["-M", "microvm"],
    commandLine: "console=ttyS0",
    graceSeconds: 30,
  },
  guest,
  files: {
    memory: { bytes: 256 << 20 },
    state: { bytes: 60_000, sha256: "5".repeat(64) },
    disk: { file: "disk.qcow2", base: "base.ext4" },
  },
  ports: [6379],
  workload: { pid: 40, argv: ["redis-server"], user: "redis", cwd: "/data", stopSignal: "SIGTERM" },
  wait: { kind: "port", port: 6379, timeoutMs: 60_000 },
  setupKey: null,
};

const host: RestoreHost = {
  arch: "x86_64",
  accel: "tcg",
  qemuVersion: "7.2.22",
  guest,
  args: ["-M", "microvm"],
};

test("a manifest round-trips through JSON", () => {
  expect(parseManifest(JSON.stringify(manifest), "/s")).toEqual(manifest);
});

test("invalid JSON and missing fields are SNAPSHOT_CORRUPT, naming the fields", () => {
  expect(() => parseManifest("{", "/s")).toThrow(
    expect.objectContaining({ code: "SNAPSHOT_CORRUPT" }),
  );
  const { files: _files, ...partial } = manifest;
  expect(() => parseManifest(JSON.stringify(partial), "/s")).toThrow(
    expect.objectContaining({
      code: "SNAPSHOT_CORRUPT",
      message: expect.stringMatching(/lacks files\.memory\.bytes, files\.state\.bytes/),
    }),
  );
});

test("another format version is SNAPSHOT_INCOMPATIBLE and says to bake again", () => {
  expect(() => parseManifest(JSON.stringify({ ...manifest, format: 2 }), "/s")).toThrow(
    expect.objectContaining({
      code: "SNAPSHOT_INCOMPATIBLE",
      message: expect.stringMatching(/format 2.*reads format 1.*Bake it again/),
    }),
  );
});

test("a matching host has no incompatibilities", () => {
  expect(incompatibilities(manifest, host)).toEqual([]);
});

test("every difference is reported together", () => {
  const found = incompatibilities(manifest, {
    ...host,
    accel: "kvm",
    qemuVersion: "8.2.0",
    guest: { ...guest, agentSha256: "b".repeat(64) },
  });
  expect(found).toEqual([
    "the accelerator is tcg, here kvm",
    "the QEMU version is 7.2.22, here 8.2.0",
    "the guest agent is aaaaaaaaaaaa, here bbbbbbbbbbbb",
  ]);
});

test("machine arguments are compared once everything else matches", () => {
  const found = incompatibilities(manifest, { ...host, args: ["-M", "microvm,rtc=off"] });
  expect(found).toEqual([expect.stringMatching(/machine arguments differ/)]);
});
