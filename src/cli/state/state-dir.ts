import { join } from "node:path";
import { cacheDir } from "../../util/cache-dir.js";

/**
 * Where the CLI keeps what it knows beyond the library's cache: the index of
 * snapshot names and the running VMs. `SUPERMACHINE_STATE_DIR` puts both in
 * one directory (the tests give each run its own); otherwise names live in
 * the cache directory, and VMs under `$XDG_RUNTIME_DIR` when there is one
 * (it is emptied at logout, as the VMs are gone then too).
 */
export function namesDir(): string {
  const override = process.env.SUPERMACHINE_STATE_DIR;
  return join(override || cacheDir(), "names");
}

export function vmsDir(): string {
  const override = process.env.SUPERMACHINE_STATE_DIR;
  if (override) return join(override, "vms");
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) return join(runtime, "supermachine", "vms");
  return join(cacheDir(), "vms");
}

/** One VM's directory: `state.json`, `control.sock` and the owner's log. */
export function vmDir(id: string): string {
  return join(vmsDir(), id);
}
