import type { Readable, Writable } from "node:stream";
import { PassThrough } from "node:stream";
import type { AgentStream } from "./agent/agent-stream.js";

/** How a guest process ended. */
export interface ExitStatus {
  /** The exit code, or null when a signal ended the process. */
  exitCode: number | null;
  /** The signal name (e.g. "SIGKILL"), or null on a normal exit. */
  signal: NodeJS.Signals | null;
  /** True when `timeoutMs` passed and the process group was killed. */
  timedOut: boolean;
  /** Wall time from start to exit, measured in the guest. */
  durationMs: number;
  /** Peak resident set size of the process and its reaped children. */
  peakRssKib: number;
}

/**
 * A process running in the guest, with Node streams for its stdio, like a
 * `ChildProcess`. With a tty, everything arrives on `stdout` and `stderr`
 * stays empty.
 */
export class VmProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly #stream: AgentStream;

  constructor(stream: AgentStream, options: { tty: boolean; stdin: boolean }) {
    this.#stream = stream;
    this.stdin = options.stdin ? stream.outbound(0) : new PassThrough().end();
    this.stdout = stream.inbound(1);
    this.stderr = options.tty ? new PassThrough().end() : stream.inbound(2);
  }

  /** The guest pid, once the process started. */
  get pid(): Promise<number> {
    return this.#stream.opened.then((body) => Number(body.pid));
  }

  /** Resolves when the process exited and all its output was delivered. */
  async wait(): Promise<ExitStatus> {
    const body = await this.#stream.result;
    return {
      exitCode: typeof body.exitCode === "number" ? body.exitCode : null,
      signal: typeof body.signal === "string" ? (body.signal as NodeJS.Signals) : null,
      timedOut: body.timedOut === true,
      durationMs: Number(body.durationMs ?? 0),
      peakRssKib: Number(body.peakRssKib ?? 0),
    };
  }

  /** Sends a signal to the process (to its whole group with `group`). */
  kill(signal: NodeJS.Signals = "SIGTERM", options: { group?: boolean } = {}): Promise<void> {
    return this.#stream.control(options.group ? { signalGroup: signal } : { signal });
  }

  /** Resizes the process's terminal (only with a tty). */
  resize(rows: number, cols: number): Promise<void> {
    return this.#stream.control({ resize: { rows, cols } });
  }
}
