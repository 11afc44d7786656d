import { PassThrough, type Readable } from "node:stream";
import type { Vm } from "../vm.js";

export interface WorkloadExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface LogOptions {
  /** Only output produced at or after this time. */
  since?: Date;
  /** Keep streaming new output until the workload exits or the stream is destroyed. */
  follow?: boolean;
}

/**
 * The image's main process (Entrypoint + Cmd), started by the agent after
 * boot. It is not tied to the host connection: it keeps running across
 * reconnections, and its output is kept in the guest for `logs()`.
 */
export class WorkloadHandle {
  readonly pid: number;
  /** Resolves when the workload exits (rejects if the VM stops first). */
  readonly exited: Promise<WorkloadExit>;
  readonly #vm: Vm;
  readonly #stopSignal: NodeJS.Signals;

  constructor(vm: Vm, pid: number, stopSignal: NodeJS.Signals = "SIGTERM") {
    this.#vm = vm;
    this.pid = pid;
    this.#stopSignal = stopSignal;
    const wait = vm.agentStream({ op: "waitWorkload" }, { inbound: [], outbound: [] });
    this.exited = wait.result.then(toExit);
    this.exited.catch(() => {}); // awaiting it is optional
  }

  /**
   * Sends `signal` (default: the image's StopSignal, else SIGTERM), then
   * SIGKILL to the process group after `timeoutMs`, as `docker stop` does.
   */
  async stop(signal = this.#stopSignal, timeoutMs = 10_000): Promise<WorkloadExit> {
    const stream = this.#vm.agentStream(
      { op: "stopWorkload", signal, timeoutMs },
      { inbound: [], outbound: [] },
    );
    return toExit(await stream.result);
  }

  /** The workload's stdout and stderr, interleaved as they were produced. */
  logs(options: LogOptions = {}): Readable {
    const request: Record<string, unknown> = { op: "logs", follow: options.follow ?? false };
    if (options.since) request.since = (BigInt(options.since.getTime()) * 1_000_000n).toString();
    const stream = this.#vm.agentStream(request, { inbound: [1, 2], outbound: [] });
    const out = new PassThrough();
    let open = 2;
    for (const channel of [1, 2]) {
      const source = stream.inbound(channel);
      source.pipe(out, { end: false });
      source.once("end", () => {
        if (--open === 0) out.end();
      });
    }
    stream.result.catch((error) => out.destroy(error));
    out.once("close", () => stream.cancel());
    return out;
  }
}

function toExit(body: Record<string, unknown>): WorkloadExit {
  return {
    exitCode: typeof body.exitCode === "number" ? body.exitCode : null,
    signal: typeof body.signal === "string" ? (body.signal as NodeJS.Signals) : null,
  };
}
