import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { CliError, ExitCode } from "../exit-codes.js";
import { PullProgressView } from "../output/pull-progress.js";
import type { Io } from "../output/terminal.js";
import { createVmDir, removeVmDir, type VmRecord } from "../state/vm-records.js";
import type { OwnerSpec } from "../vm-owner.js";
import { loadSource, type VmSource } from "../vm-source.js";
import { announcePorts, announceStart } from "./announce.js";

/** The hidden command the background process runs; see `commands/own.ts`. */
export const OWN_COMMAND = "__own";
/** The background process reports on this file descriptor, then closes it. */
export const REPORT_FD = 3;

/** What the background process reports once the VM is up, or why not. */
export type OwnerReport =
  | { ok: true; record: VmRecord }
  | { ok: false; code: string; message: string };

/**
 * `run -d`: a VM belongs to the process that started it (QEMU dies with
 * it), so a detached background process starts and owns it. This process
 * pulls first (so the progress shows here), starts the owner, waits for its
 * report on a pipe, and prints the VM's id.
 */
export async function runDetached(spec: OwnerSpec, source: VmSource, io: Io): Promise<number> {
  const progress = source.kind === "image" ? new PullProgressView(io.err) : undefined;
  await loadSource(source, progress);
  announceStart(io, source);

  const dir = await createVmDir(spec.id);
  const logFile = join(dir, "owner.log");
  const log = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [...process.execArgv, entryScript(), OWN_COMMAND, JSON.stringify(spec)],
    { detached: true, stdio: ["ignore", log, log, "pipe"] },
  );
  closeSync(log);
  const report = await readReport(child.stdio[REPORT_FD] as Readable);
  child.unref();

  if (!report) {
    const said = await lastLine(logFile);
    await removeVmDir(spec.id);
    throw new CliError(`The background process for VM ${spec.id} exited early: ${said}`);
  }
  if (!report.ok) throw new CliError(report.message);
  announcePorts(io, report.record.ports);
  io.out.line(spec.id);
  return ExitCode.ok;
}

/** How this very program was started: the installed bin, or the source shim. */
function entryScript(): string {
  const script = process.argv[1];
  if (!script) throw new Error("internal error: no script in process.argv");
  return script;
}

async function readReport(pipe: Readable): Promise<OwnerReport | undefined> {
  let text = "";
  for await (const chunk of pipe) text += chunk;
  pipe.destroy();
  if (!text.trim()) return undefined;
  return JSON.parse(text) as OwnerReport;
}

async function lastLine(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return (
    text
      .trim()
      .split("\n")
      .at(-1)
      ?.replace(/^supermachine: /, "") || "it printed nothing"
  );
}
