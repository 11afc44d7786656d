// A Docker engine of the benchmark's own: dockerd on a private socket, data
// root, exec root and pidfile in a temporary directory, so that neither a
// system Docker nor /var/lib/docker is touched, and everything it made goes
// away with it.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { isAlive } from "../../src/util/process-alive.js";
import { processesMentioning } from "../../test/support/processes.js";
import {
  type DockerInfo,
  type DockerVersion,
  dockerGet,
  dockerRequest,
  removeAllContainers,
} from "./docker-api.js";

const run = promisify(execFile);

// dockerd and the containerd shims create these whatever their roots are
// (plugin sockets; shim sockets). Removed at the end if the run made them.
const GLOBAL_DIRS = [
  ["/run/docker", "/run/docker/plugins"],
  ["/run/containerd", "/run/containerd/s"],
];

const STARTUP_DEADLINE_MS = 60_000;
const SHUTDOWN_DEADLINE_MS = 30_000;

export interface EngineDescription {
  version: string;
  apiVersion: string;
  containerd: string | undefined;
  runc: string | undefined;
  storageDriver: string;
  cgroupVersion: string | undefined;
}

/** What stop() found and removed; all empty after a clean run. */
export interface EngineCleanup {
  removedContainers: string[];
  killedPids: number[];
  unmounted: string[];
  leftGlobalDirs: string[];
}

export interface DockerEngine {
  /** For DOCKER_HOST: `unix://<socket>`. */
  readonly host: string;
  readonly socketPath: string;
  readonly pid: number;
  describe(): Promise<EngineDescription>;
  /** Removes every container, stops dockerd (and its containerd), removes its files. */
  stop(): Promise<EngineCleanup>;
}

export async function startDockerEngine(): Promise<DockerEngine> {
  const dir = await mkdtemp(join(tmpdir(), "bench-dockerd-"));
  const madeGlobal = GLOBAL_DIRS.filter(([root]) => root && !existsSync(root));
  const socketPath = join(dir, "docker.sock");
  // A config file of its own, so that an /etc/docker/daemon.json cannot add
  // to the flags below; without the key path dockerd would write its
  // identity key to /etc/docker/key.json.
  const config = { "deprecated-key-path": join(dir, "key.json") };
  await writeFile(join(dir, "daemon.json"), `${JSON.stringify(config)}\n`);
  const log = join(dir, "dockerd.log");
  const child = spawnDockerd(dir, socketPath, log);
  const pid = child.pid;
  if (pid === undefined) throw new Error("dockerd did not start (no pid)");

  let stopped: Promise<EngineCleanup> | undefined;
  const engine: DockerEngine = {
    host: `unix://${socketPath}`,
    socketPath,
    pid,
    describe: () => describe(socketPath),
    stop: () => {
      stopped ??= shutDown(child, pid, dir, socketPath, madeGlobal);
      return stopped;
    },
  };
  try {
    await waitForPing(child, socketPath, log);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}

function spawnDockerd(dir: string, socketPath: string, log: string): ChildProcess {
  const out = openSync(log, "a");
  const args = [
    "--pdeathsig",
    "TERM", // a benchmark killed outright still stops its engine
    "dockerd",
    `--config-file=${join(dir, "daemon.json")}`,
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--pidfile=${join(dir, "dockerd.pid")}`,
    `--host=unix://${socketPath}`,
    // No bridge, no iptables rules, no sysctl change: containers use the
    // host's network, and the host is left as it was.
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--bridge=none",
    // The one storage driver that needs no kernel support; it copies an
    // image's layers for every container (see the README's caveats).
    "--storage-driver=vfs",
  ];
  // Its own process group: a Ctrl-C in the terminal reaches the benchmark,
  // which removes the containers first and then stops dockerd itself.
  return spawn("/usr/bin/setpriv", args, { detached: true, stdio: ["ignore", out, out] });
}

async function waitForPing(child: ChildProcess, socketPath: string, log: string) {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`dockerd exited with ${child.exitCode}: ${await tail(log)}`);
    }
    const ping = await dockerRequest(socketPath, "GET", "/_ping").catch(() => undefined);
    if (ping?.status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`dockerd did not answer on ${socketPath} within 60 s: ${await tail(log)}`);
    }
    await sleep(100);
  }
}

async function tail(log: string): Promise<string> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text.trim().split("\n").slice(-15).join("\n");
}

async function describe(socketPath: string): Promise<EngineDescription> {
  const version = await dockerGet<DockerVersion>(socketPath, "/version");
  const info = await dockerGet<DockerInfo>(socketPath, "/info");
  const component = (name: string) => version.Components?.find((c) => c.Name === name)?.Version;
  return {
    version: version.Version,
    apiVersion: version.ApiVersion,
    containerd: component("containerd"),
    runc: component("runc"),
    storageDriver: info.Driver,
    cgroupVersion: info.CgroupVersion,
  };
}

async function shutDown(
  child: ChildProcess,
  pid: number,
  dir: string,
  socketPath: string,
  madeGlobal: string[][],
): Promise<EngineCleanup> {
  const removedContainers = isAlive(pid)
    ? await removeAllContainers(socketPath).catch(() => [])
    : [];

  // dockerd stops the containerd it started on SIGTERM.
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(pid, "SIGTERM");
    const gone = await Promise.race([exited, sleep(SHUTDOWN_DEADLINE_MS, false)]);
    if (gone === false) process.kill(pid, "SIGKILL");
  }

  // containerd and the shims name the exec root on their command lines.
  const killedPids = processesMentioning(dir);
  for (const leftover of killedPids) process.kill(leftover, "SIGKILL");

  // dockerd bind-mounts the host network namespace under its exec root
  // and leaves the mount behind when it exits.
  const unmounted = await mountsUnder(dir);
  for (const mount of unmounted) await run("umount", [mount]);
  await rm(dir, { recursive: true, force: true });

  const leftGlobalDirs: string[] = [];
  for (const tree of madeGlobal) {
    for (const path of [...tree].reverse()) {
      // rmdir, not rm -r: a directory someone else filled meanwhile stays.
      await rmdir(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") leftGlobalDirs.push(path);
      });
    }
  }
  return { removedContainers, killedPids, unmounted, leftGlobalDirs };
}

/** Mount points below `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile("/proc/self/mountinfo", "utf8");
  return table
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}
