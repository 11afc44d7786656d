import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isAlive } from "../../util/process-alive.js";
import { CliError } from "../exit-codes.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";
import { vmDir, vmsDir } from "./state-dir.js";

export interface PortMapping {
  /** On 127.0.0.1. */
  host: number;
  guest: number;
}

/** `state.json` of a VM the CLI started: what `ps` lists. */
export interface VmRecord {
  id: string;
  /** The process that owns the VM: `run` itself, or its background process with `-d`. */
  pid: number;
  /** QEMU's pid, once the VM is up. */
  qemuPid: number | null;
  /** What was run: an image reference or a snapshot name, as typed. */
  source: string;
  /** `image`: a cold boot; `snapshot`: restored from a baked snapshot. */
  kind: "image" | "snapshot";
  image: string | null;
  ports: PortMapping[];
  command: string[] | null;
  detached: boolean;
  /** Stop and forget the VM when its workload exits. */
  removeOnExit: boolean;
  status: "starting" | "running" | "exited";
  exit: { exitCode: number | null; signal: string | null } | null;
  createdAt: string;
}

const STATE_FILE = "state.json";
// A directory with no state.json is a VM still starting; older than this,
// its owner died before writing one.
const ORPHAN_MS = 5 * 60 * 1000;

export function newVmId(): string {
  return randomBytes(6).toString("hex");
}

export async function createVmDir(id: string): Promise<string> {
  const dir = vmDir(id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function writeVmRecord(record: VmRecord): Promise<void> {
  return writeJsonFile(join(vmDir(record.id), STATE_FILE), record);
}

export async function removeVmDir(id: string): Promise<void> {
  await rm(vmDir(id), { recursive: true, force: true });
}

/**
 * The VMs whose owner process is alive. Entries of dead owners (a crash, a
 * reboot, `kill -9`) are removed on the way: their VMs died with them.
 */
export async function listVmRecords(): Promise<VmRecord[]> {
  const records: VmRecord[] = [];
  const names = await readdir(vmsDir()).catch(() => [] as string[]);
  for (const id of names.sort()) {
    const record = await readJsonFile<VmRecord>(join(vmDir(id), STATE_FILE));
    if (record && isAlive(record.pid)) {
      records.push(record);
      continue;
    }
    if (record || (await olderThan(vmDir(id), ORPHAN_MS))) await removeVmDir(id);
  }
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The live VM whose id is, or starts with, `prefix`. */
export async function findVmRecord(prefix: string): Promise<VmRecord> {
  const matches = (await listVmRecords()).filter((record) => record.id.startsWith(prefix));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length > 1) {
    throw new CliError(`VM id ${prefix} is ambiguous: it matches ${matches.length} VMs.`);
  }
  throw new CliError(
    `No running VM has the id ${prefix}. \`supermachine ps\` lists the running VMs.`,
  );
}

export function controlSocket(id: string): string {
  return join(vmDir(id), "control.sock");
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}
