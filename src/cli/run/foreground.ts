import { once } from "node:events";
import { debugFor } from "../../util/debug.js";
import { CliError, ExitCode, signalExitCode } from "../exit-codes.js";
import { PullProgressView } from "../output/pull-progress.js";
import type { Io } from "../output/terminal.js";
import { type OwnerSpec, VmOwner } from "../vm-owner.js";
import { loadSource, type VmSource } from "../vm-source.js";
import { announcePorts, announceStart } from "./announce.js";

// After the workload exits, its last output may still be on the way.
const LOG_DRAIN_MS = 3_000;
const log = debugFor("cli:run");
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * `run` without -d: this process owns the VM, streams the workload's output
 * to stdout, and stops the VM when the workload exits or on a signal (a
 * second Ctrl-C stops it at once). Exits with the workload's code, or
 * 128+n after signal n.
 */
export async function runForeground(spec: OwnerSpec, source: VmSource, io: Io): Promise<number> {
  const progress = source.kind === "image" ? new PullProgressView(io.err) : undefined;
  const loaded = await loadSource(source, progress);
  announceStart(io, source);
  // This process removes the VM itself once the output is drained.
  const owner = await VmOwner.start({ ...spec, removeOnExit: false }, loaded);
  announcePorts(io, owner.record.ports);
  io.err.line(`VM ${spec.id} is running; Ctrl-C stops it.`);

  const logs = owner.vm.logs({ follow: true });
  logs.pipe(io.out.stream, { end: false });
  const logsEnded = once(logs, "end").catch(() => undefined);

  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      owner.kill().catch(() => undefined);
      return;
    }
    interrupted = signal;
    io.err.line(`Stopping VM ${spec.id} (again to stop at once)…`);
    owner.stop().catch(() => undefined);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    const exit = await Promise.race([owner.workloadExit, owner.ended.then(() => null)]);
    log("workload exit %o", exit);
    if (exit) await within(logsEnded, LOG_DRAIN_MS);
    log("logs drained");
    logs.destroy();
    await owner.stop();
    const end = await owner.ended;
    log("ended %o", end);

    if (interrupted) return signalExitCode(interrupted);
    if (!exit && end.reason === "vm-ended") {
      const console = owner.vm.consoleTail(5);
      throw new CliError(
        `VM ${spec.id} stopped unexpectedly.${console ? ` Console: ${console}` : ""}`,
      );
    }
    if (!exit) return ExitCode.ok; // stopped by `supermachine stop`
    return exit.exitCode ?? (exit.signal ? signalExitCode(exit.signal) : ExitCode.failure);
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

/** Waits for `promise`, or `ms` at most; the timer goes either way. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
