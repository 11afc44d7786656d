import type { Io } from "./output/terminal.js";

/** One `supermachine` subcommand: its help text and what it does. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** After `supermachine `: `pull [--platform P] REF`. */
  usage: string;
  description: string;
  /** `[flag, what it does]` pairs. */
  options: [string, string][];
  examples: string[];
  /** Returns the exit code. */
  run(argv: string[], io: Io): Promise<number>;
}

/** `--json` is on every listing command. */
export const JSON_OPTION: [string, string] = ["--json", "print a JSON array instead of a table"];
