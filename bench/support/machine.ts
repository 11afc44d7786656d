// What a results file says about the machine it was measured on.
import { cpus, loadavg, release, totalmem } from "node:os";
import { hostGuestArch } from "../../src/engine/guest-arch.js";
import { findQemu } from "../../src/engine/qemu-binary.js";
import { round1 } from "./stats.js";

export interface MachineDescription {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  qemu: string;
}

export async function describeMachine(): Promise<MachineDescription> {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    qemu: (await findQemu(hostGuestArch())).version,
  };
}

export interface LoadRecord {
  loadAverageAtStart: number[];
  loadAverage1mDuringRun: { min: number; max: number };
}

/**
 * Samples the 1-minute load average every 5 s until `stop()`: other work on
 * the machine slows emulated guests down, and a results file should say
 * how busy the machine was.
 */
export function watchLoad(): { stop(): LoadRecord } {
  const atStart = loadavg().map(round1);
  const seen = [atStart[0] ?? 0];
  const timer = setInterval(() => seen.push(round1(loadavg()[0] ?? 0)), 5_000).unref();
  return {
    stop() {
      clearInterval(timer);
      return {
        loadAverageAtStart: atStart,
        loadAverage1mDuringRun: { min: Math.min(...seen), max: Math.max(...seen) },
      };
    },
  };
}
