import { setTimeout as sleep } from "node:timers/promises";
import { SupermachineError } from "../errors.js";
import type { QmpClient } from "./qmp-client.js";

/**
 * Device state moves through QEMU's migration machinery into and out of
 * plain files, by way of `exec:` URIs (QEMU 7.2 has no `file:` URI). With
 * `x-ignore-shared` the RAM in a shared memory-backend-file is left out of the
 * stream: it is already in its file, so the stream is a few dozen KB.
 */

interface MigrationInfo {
  status?: string;
  "error-desc"?: string;
}

const POLL_MS = 2;

export interface SaveOptions {
  /** Leave out RAM that lives in a shared memory file. */
  ignoreShared: boolean;
  timeoutMs?: number;
}

/**
 * Pauses the guest and writes its state to `path`. The guest stays paused:
 * quit QEMU, or `cont` to go on (which reactivates its disks).
 */
export async function saveState(qmp: QmpClient, path: string, options: SaveOptions) {
  await qmp.execute("stop");
  await setIgnoreShared(qmp, options.ignoreShared);
  await qmp.execute("migrate", { uri: `exec:cat > ${shellQuote(path)}` });
  await settled(qmp, "saving the VM state", options.timeoutMs ?? 120_000);
}

/** Loads state written by `saveState` into a QEMU started with `-incoming defer`. */
export async function loadState(qmp: QmpClient, path: string, options: SaveOptions) {
  await setIgnoreShared(qmp, options.ignoreShared);
  await qmp.execute("migrate-incoming", { uri: `exec:cat ${shellQuote(path)}` });
  await settled(qmp, "loading the VM state", options.timeoutMs ?? 120_000);
}

function setIgnoreShared(qmp: QmpClient, state: boolean): Promise<unknown> {
  return qmp.execute("migrate-set-capabilities", {
    capabilities: [{ capability: "x-ignore-shared", state }],
  });
}

/** Polls `query-migrate`: the MIGRATION event needs a capability and is no faster. */
async function settled(qmp: QmpClient, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await qmp.execute("query-migrate")) as MigrationInfo;
    if (info.status === "completed") return;
    if (info.status === "failed" || info.status === "cancelled") {
      const why = info["error-desc"] ? `: ${info["error-desc"]}` : "";
      throw new SupermachineError("MIGRATION_FAILED", `QEMU failed ${what}${why}.`);
    }
    if (Date.now() > deadline) {
      throw new SupermachineError(
        "MIGRATION_FAILED",
        `QEMU was still ${what} after ${timeoutMs} ms (status ${info.status ?? "none"}).`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Quotes a path for `/bin/sh`, which runs QEMU's `exec:` commands. */
export function shellQuote(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}
