import { constants } from "node:os";

/**
 * What the `supermachine` binary exits with, as documented in docs/cli.md.
 * The 125–127 range follows `docker run`, so scripts written for Docker
 * read the codes the same way.
 */
export const ExitCode = {
  ok: 0,
  /** Something failed that is not supermachine's own error (or `doctor` found a problem). */
  failure: 1,
  /** The command line is wrong: unknown command or option, missing argument. */
  usage: 2,
  /** Supermachine could not do it: bad reference, no QEMU, boot timeout, no such VM. */
  supermachine: 125,
} as const;

/** 128 + the signal's number, as a shell reports a process a signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** An error the CLI reports as one line, exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = ExitCode.supermachine) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A wrong command line: exits 2 and points at `--help`. */
export function usageError(message: string, command?: string): CliError {
  const help = command ? `supermachine ${command} --help` : "supermachine --help";
  return new CliError(`${message} (see \`${help}\`)`, ExitCode.usage);
}
