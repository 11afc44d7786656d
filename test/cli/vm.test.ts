// The real binary driving real VMs: nginx from the loopback registry, run in
// the foreground and detached, baked and restored, exec'd into, removed and
// collected. One private cache and state directory for the whole file.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { diskUsage } from "../../src/cli/cache/disk-usage.js";
import { freePort } from "../oci/support/free-port.js";
import { eventually } from "../support/eventually.js";
import { isRunning, processesMentioning } from "../support/processes.js";
import { registryWith, type TestRegistry } from "../support/test-images.js";
import { BIN, runCli, startCli } from "./support/cli.js";

const run = promisify(execFile);
let registry: TestRegistry;
let cache: string;
let env: Record<string, string>;

beforeAll(async () => {
  registry = await registryWith(["nginx"]);
  cache = await mkdtemp(join(tmpdir(), "sm-cli-cache-"));
  env = { SUPERMACHINE_CACHE_DIR: cache, SUPERMACHINE_STATE_DIR: join(cache, "state") };
});

afterAll(async () => {
  // Whatever a failed test left running is stopped by id, then its files go.
  const ps = await runCli(["ps", "-q"], env).catch(() => undefined);
  for (const id of ps?.stdout.split("\n").filter(Boolean) ?? []) await runCli(["stop", id], env);
  await registry?.stop();
  if (cache) await rm(cache, { recursive: true, force: true });
});

async function page(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  return response.text();
}

interface PsEntry {
  id: string;
  pid: number;
  qemuPid: number;
  kind: string;
  ports: { host: number; guest: number }[];
}

async function ps(): Promise<PsEntry[]> {
  const result = await runCli(["ps", "--json"], env);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as PsEntry[];
}

test("doctor --json reports the accelerator and QEMU's version", async () => {
  const result = await runCli(["doctor", "--json"], env);
  const report = JSON.parse(result.stdout);
  expect(report.ok, result.stdout).toBe(true);
  expect(result.code).toBe(0);
  expect(["kvm", "hvf", "whpx", "tcg"]).toContain(report.accelerator.accel);
  expect(report.accelerator.reason).toEqual(expect.any(String));
  expect(report.qemu.version).toMatch(/^\d+\.\d+/);
  expect(report.cache.dir).toBe(cache);
  const names = report.checks.map((check: { name: string }) => check.name);
  expect(names).toEqual(expect.arrayContaining(["qemu", "qemu-img", "guest", "accel", "cache"]));
});

test("pull shows each layer and a summary; a second pull is up to date", async () => {
  const first = await runCli(["pull", registry.ref("nginx")], env);
  expect(first.code, first.stderr).toBe(0);
  // Not a terminal: one plain line per finished layer, no redrawing.
  expect(first.stderr).toMatch(/^[0-9a-f]{12} {2}done {2}[\d.]+ [kM]?B in .*\/s$/m);
  expect(first.stderr).not.toContain("\x1b[");
  expect(first.stdout).toMatch(/^Pulled .*nginx:test: 1 layer, [\d.]+ MB downloaded in /);
  expect(first.stdout).toMatch(/\nDigest: sha256:[0-9a-f]{64}\n$/);

  const second = await runCli(["pull", registry.ref("nginx")], env);
  expect(second.stdout).toMatch(/^.*nginx:test is up to date: 1 layer/);
  const images = JSON.parse((await runCli(["images", "--json"], env)).stdout);
  expect(images).toEqual([
    expect.objectContaining({ reference: registry.ref("nginx"), platform: "linux/amd64" }),
  ]);
});

test("run in the foreground exits with the guest command's code", async () => {
  const result = await runCli(
    ["run", registry.ref("nginx"), "--", "sh", "-c", "echo hi; exit 5"],
    env,
  );
  expect(result.stdout).toBe("hi\n");
  expect(result.code).toBe(5);
  expect(await ps()).toEqual([]);
});

test("run -p serves nginx's page to the host; SIGINT stops it and leaves no QEMU", async () => {
  const port = await freePort();
  const cli = startCli(["run", "-p", `${port}:80`, registry.ref("nginx")], env);
  try {
    await eventually(async () => {
      if (!cli.output().stderr.includes("is running")) throw new Error(cli.output().stderr);
    }, 240_000);
    expect(cli.output().stderr).toContain("cold boot, no snapshot");
    expect(cli.output().stderr).toContain(`Forwarding 127.0.0.1:${port} -> guest port 80`);
    expect(await eventually(() => page(port), 60_000)).toMatch(/<html/i);

    const [entry] = await ps();
    expect(entry?.ports).toEqual([{ host: port, guest: 80 }]);
    expect(isRunning(entry?.qemuPid ?? -1)).toBe(true);

    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(130);
    expect(isRunning(entry?.qemuPid ?? -1)).toBe(false);
    expect(await ps()).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  } finally {
    cli.child.kill("SIGKILL");
  }
});

test("bake, then run -d NAME restores the snapshot; exec, exec -t, logs and stop work on it", async () => {
  const bake = await runCli(
    ["bake", registry.ref("nginx"), "--name", "web", "-p", "80"],
    env,
    300_000,
  );
  expect(bake.code, bake.stderr).toBe(0);
  expect(bake.stdout).toMatch(/^Baked web from .*nginx:test in /);
  expect(bake.stderr).toMatch(/snapshot/);
  const again = await runCli(["bake", registry.ref("nginx"), "--name", "web", "-p", "80"], env);
  expect(again.stdout).toMatch(/^web: snapshot cached/);

  const port = await freePort();
  const started = await runCli(["run", "-d", "-p", `${port}:80`, "web"], env);
  expect(started.code, started.stderr).toBe(0);
  expect(started.stderr).toMatch(/Starting web from snapshot \(.*nginx:test, baked /);
  const id = started.stdout.trim();
  expect(id).toMatch(/^[0-9a-f]{12}$/);

  const [entry] = await ps();
  expect(entry).toMatchObject({ id, kind: "snapshot", ports: [{ host: port, guest: 80 }] });
  expect(await eventually(() => page(port), 30_000)).toMatch(/<html/i);

  const three = await runCli(
    ["exec", id.slice(0, 6), "--", "sh", "-c", "echo out; echo err >&2; exit 3"],
    env,
  );
  expect(three).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
  const missing = await runCli(["exec", id, "--", "no-such-program"], env);
  expect(missing.code).toBe(127);

  const piped = await runCli(
    ["exec", "-i", id, "--", "tr", "a-z", "A-Z"],
    env,
    30_000,
    "piped in\n",
  );
  expect(piped).toMatchObject({ code: 0, stdout: "PIPED IN\n" });

  // `script` runs the command under a pseudo-terminal, as a user's shell would.
  const command = `${process.execPath} ${BIN} exec -t ${id} -- tty`;
  const pty = await run("script", ["-qec", command, "/dev/null"], {
    env: { ...process.env, ...env },
  });
  expect(pty.stdout.trim()).toMatch(/^\/dev\/pts\/\d+$/);
  const plain = await runCli(["exec", id, "--", "tty"], env);
  expect(plain.stdout.trim()).toBe("not a tty");

  // nginx's access log is its stdout, which `logs` prints.
  await fetch(`http://127.0.0.1:${port}/asked-for-by-the-cli-test`);
  await eventually(async () => {
    const logs = await runCli(["logs", id], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("GET /asked-for-by-the-cli-test");
  }, 15_000);

  const stopped = await runCli(["stop", id], env);
  expect(stopped).toMatchObject({ code: 0, stdout: `${id}\n` });
  expect(isRunning(entry?.pid ?? -1)).toBe(false);
  expect(isRunning(entry?.qemuPid ?? -1)).toBe(false);
  expect(await ps()).toEqual([]);
});

test("gc after rm frees the bytes it reports", async () => {
  const listed = JSON.parse((await runCli(["snapshots", "--json"], env)).stdout);
  expect(listed).toEqual([expect.objectContaining({ names: ["web"], status: "ok" })]);

  const removed = await runCli(["rm", "web", registry.ref("nginx")], env);
  expect(removed.code, removed.stderr).toBe(0);
  expect(removed.stdout).toMatch(/^Removed web and its snapshot, [\d.]+ [kMG]?B freed\n/);
  expect(removed.stdout).toMatch(/Removed image .*nginx:test; `supermachine gc` frees/);
  expect(JSON.parse((await runCli(["images", "--json"], env)).stdout)).toEqual([]);

  const before = await diskUsage(cache);
  const gc = await runCli(["gc", "--json"], env);
  expect(gc.code, gc.stderr).toBe(0);
  const report = JSON.parse(gc.stdout);
  const after = await diskUsage(cache);
  expect(report.rootfs.removed).toHaveLength(1);
  expect(report.blobs.removed).toBeGreaterThan(0);
  expect(report.bytesFreed).toBeGreaterThan(1_000_000);
  // What the cache lost is what gc said it freed, give or take the
  // directory blocks of the state files the commands themselves write.
  expect(Math.abs(before - after - report.bytesFreed)).toBeLessThan(64 * 1024);

  const second = JSON.parse((await runCli(["gc", "--json"], env)).stdout);
  expect(second.bytesFreed).toBe(0);
});

test("no QEMU of this file is left running", () => {
  expect(processesMentioning(cache)).toEqual([]);
});
