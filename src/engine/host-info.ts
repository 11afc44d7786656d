import { readFileSync } from "node:fs";

/** null until read; undefined when the host does not say. */
let tscKhz: number | undefined | null = null;

/**
 * The host TSC frequency in kHz, for the guest's `tsc_early_khz=`. Under TCG
 * the guest TSC runs at the host's rate, and without this hint the guest may
 * hang calibrating it against emulated timers. Undefined when unknown.
 */
export function hostTscKhz(): number | undefined {
  // Read once: the TSC rate does not change while this process runs, and
  // every boot builds a command line.
  if (tscKhz === null) tscKhz = readTscKhz();
  return tscKhz;
}

function readTscKhz(): number | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  try {
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1];
    return mhz ? Math.round(Number(mhz) * 1000) : undefined;
  } catch {
    // /proc not readable (unusual sandbox): the guest calibrates by itself
    return undefined;
  }
}
