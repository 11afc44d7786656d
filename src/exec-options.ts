import type { Readable } from "node:stream";
import { invalidArgument } from "./errors.js";
import type { ExitStatus } from "./vm-process.js";

/** PATH for guest processes whose environment names none, as in Docker. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface SpawnOptions {
  /** Added to the default environment (PATH). */
  env?: Record<string, string>;
  /** Working directory in the guest. Default: the image's WorkingDir, else "/". */
  cwd?: string;
  /**
   * `name`, `uid`, `name:group` or `uid:gid`, looked up in the guest's
   * /etc/passwd and /etc/group as `docker exec --user` does. In a VM started
   * from an image the default is the image's User; otherwise root.
   */
  user?: string;
  /** Numeric ids instead of `user`. */
  uid?: number;
  gid?: number;
  /** Allocate a pseudo-terminal; `true` means 24 rows by 80 columns. */
  tty?: boolean | { rows: number; cols: number };
  /** Kill the process group after this many milliseconds. */
  timeoutMs?: number;
  /** Give the process a stdin pipe (else /dev/null). Default true for spawn. */
  stdin?: boolean;
}

export interface ExecOptions extends Omit<SpawnOptions, "stdin"> {
  /** Fed to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Uint8Array | Readable;
  /** "utf8" (default) for strings, "buffer" for Buffers. */
  encoding?: "utf8" | "buffer";
}

export interface ExecResult<T = string> extends ExitStatus {
  stdout: T;
  stderr: T;
}

/** Validates spawn options and builds the agent's `exec` request. */
export function execRequest(argv: unknown, options: SpawnOptions) {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
    invalidArgument("argv", "a non-empty array of strings", argv);
  }
  const env = { PATH: DEFAULT_PATH, ...(options.env ?? {}) };
  for (const [key, value] of Object.entries(env)) {
    if (key === "" || key.includes("=") || typeof value !== "string") {
      invalidArgument(`env.${key}`, "a string under a name without '='", value);
    }
  }
  if (options.user !== undefined && (options.uid !== undefined || options.gid !== undefined)) {
    invalidArgument("user", "left out when `uid` or `gid` is given", options.user);
  }
  if (options.user !== undefined && typeof options.user !== "string") {
    invalidArgument("user", "a string such as `nobody` or `1000:1000`", options.user);
  }
  return {
    op: "exec",
    argv: argv as string[],
    env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    cwd: options.cwd ?? "/",
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.uid !== undefined ? { uid: id("uid", options.uid) } : {}),
    ...(options.gid !== undefined ? { gid: id("gid", options.gid) } : {}),
    tty: tty(options.tty),
    timeoutMs: timeout(options.timeoutMs),
  };
}

function id(option: string, value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  return invalidArgument(option, "a non-negative integer", value);
}

function tty(value: SpawnOptions["tty"]): { rows: number; cols: number } | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { rows: 24, cols: 80 };
  if (Number.isInteger(value.rows) && Number.isInteger(value.cols)) return value;
  return invalidArgument("tty", "a boolean or { rows, cols }", value);
}

function timeout(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  return invalidArgument("timeoutMs", "a positive integer of milliseconds", value);
}
