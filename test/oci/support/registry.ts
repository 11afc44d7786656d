import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";

export type RegistryAuth =
  | { kind: "none" }
  | { kind: "htpasswd"; username: string; password: string }
  | { kind: "token"; realm: string; service: string; issuer: string; certPath: string };

export interface RunningRegistry {
  /** `127.0.0.1:<port>`, as an image reference names it. */
  host: string;
  url: string;
  stop(): Promise<void>;
}

const BINARY = "/usr/bin/docker-registry";
const STARTUP_DEADLINE_MS = 15_000;

/**
 * Starts Debian's docker-registry with a config of our own: storage in a
 * temp dir and a listener on loopback only (the packaged default config
 * listens on every interface). Stopped by its PID.
 */
export async function startRegistry(
  auth: RegistryAuth = { kind: "none" },
): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "sm-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await writeFile(join(dir, "config.yml"), await configFor(dir, host, auth));

  const child = spawn(BINARY, ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (chunk) => {
    log = (log + chunk).slice(-4000);
  });
  const url = `http://${host}`;
  const stop = async () => {
    await kill(child);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited (${child.exitCode}): ${log}`);
    }
    const up = await fetch(`${url}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) return { host, url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${url}/v2/ within 15 s: ${log}`);
    }
    await sleep(50);
  }
}

async function configFor(dir: string, host: string, auth: RegistryAuth): Promise<string> {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "http:",
    `  addr: ${host}`,
    "  secret: test-only-secret",
  ];
  if (auth.kind === "htpasswd") {
    // htpasswd (apache2-utils) writes the bcrypt hash the registry requires.
    const entry = execFileSync("htpasswd", ["-nbB", auth.username, auth.password]).toString();
    await writeFile(join(dir, "htpasswd"), entry.trim());
    lines.push("auth:", "  htpasswd:", "    realm: test", `    path: ${join(dir, "htpasswd")}`);
  }
  if (auth.kind === "token") {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${auth.realm}`,
      `    service: ${auth.service}`,
      `    issuer: ${auth.issuer}`,
      `    rootcertbundle: ${auth.certPath}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(child.pid, "SIGTERM");
  await exited;
}
