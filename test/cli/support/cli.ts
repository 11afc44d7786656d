import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The source shim a user of this repository runs: `bin/supermachine`. */
export const BIN = join(import.meta.dirname, "..", "..", "..", "bin", "supermachine");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A private state directory (names and VM records) for one test file, so
 * that `ps` and `snapshots` see only what the file made.
 */
export async function stateDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "sm-cli-state-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Runs the binary to its end; resolves with its code and output, failing or not. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
  input = "",
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: "1", ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`supermachine ${args.join(" ")}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/** A binary left running (`run` in the foreground), with its output so far. */
export interface RunningCli {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null)));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}
