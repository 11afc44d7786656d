import { createRequire } from "node:module";
import { SupermachineError } from "../errors.js";
import { wantsHelp } from "./args.js";
import type { Command } from "./command.js";
import { bake } from "./commands/bake.js";
import { doctor } from "./commands/doctor.js";
import { exec } from "./commands/exec.js";
import { gc } from "./commands/gc.js";
import { images } from "./commands/images.js";
import { logs } from "./commands/logs.js";
import { own } from "./commands/own.js";
import { ps } from "./commands/ps.js";
import { pull } from "./commands/pull.js";
import { rm } from "./commands/rm.js";
import { run } from "./commands/run.js";
import { snapshots } from "./commands/snapshots.js";
import { stop } from "./commands/stop.js";
import { CliError, ExitCode, usageError } from "./exit-codes.js";
import { printCommandHelp, printMainHelp } from "./help.js";
import type { Io } from "./output/terminal.js";
import { OWN_COMMAND } from "./run/detached.js";

export const COMMANDS: Command[] = [
  pull,
  bake,
  run,
  exec,
  ps,
  logs,
  stop,
  images,
  snapshots,
  rm,
  gc,
  doctor,
];

/**
 * Runs one command line and returns the exit code. Errors end here, as one
 * line on stderr: `supermachine: <what went wrong>` (the stack only with
 * DEBUG set), with the code docs/cli.md documents.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    io.err.line(`${io.err.paint("red", "supermachine:")} ${describe(error)}`);
    if (process.env.DEBUG && error instanceof Error) io.err.line(error.stack ?? "");
    return exitCodeOf(error);
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    printMainHelp(io.out, COMMANDS);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-v") {
    io.out.line(version());
    return ExitCode.ok;
  }
  if (name === OWN_COMMAND) return own(rest);
  if (name === "help") {
    const command = rest[0] ? find(rest[0]) : undefined;
    if (command) printCommandHelp(io.out, command);
    else printMainHelp(io.out, COMMANDS);
    return ExitCode.ok;
  }
  const command = find(name);
  if (wantsHelp(rest)) {
    printCommandHelp(io.out, command);
    return ExitCode.ok;
  }
  return command.run(rest, io);
}

function find(name: string): Command {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command) return command;
  const known = COMMANDS.map((candidate) => candidate.name).join(", ");
  throw usageError(`unknown command \`${name}\`; the commands are ${known}`);
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] || "unknown error";
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof SupermachineError) return ExitCode.supermachine;
  return ExitCode.failure;
}

function version(): string {
  const require = createRequire(import.meta.url);
  return (require("../../package.json") as { version: string }).version;
}
