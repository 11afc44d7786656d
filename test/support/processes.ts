import { readdirSync, readFileSync } from "node:fs";

/**
 * Pids of live processes whose command line contains `text` (e.g. a
 * snapshot directory every clone's QEMU names): how a test shows that no
 * QEMU of its own was left behind while other test files run theirs.
 */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    if (cmdline.includes(text) && Number(name) !== process.pid) found.push(Number(name));
  }
  return found;
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
