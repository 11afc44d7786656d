import { createHash } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import { invalidArgument } from "../errors.js";
import { cacheDir } from "../util/cache-dir.js";
import { debugFor } from "../util/debug.js";
import type { Accelerator } from "./machine.js";

const log = debugFor("accel");
const ACCELERATORS: readonly Accelerator[] = ["kvm", "hvf", "whpx", "tcg"];
/** A hardware-accelerated microvm reaches the agent in well under a second. */
export const PROBE_TIMEOUT_MS = 5_000;

export interface AcceleratorVerdict {
  accel: Accelerator;
  /** Why this one: "forced by SUPERMACHINE_ACCEL", "probed", "kvm failed: …". */
  reason: string;
  cached: boolean;
}

export interface ProbeContext {
  /** Identifies what was probed; a different QEMU or kernel probes again. */
  cacheKey: string;
  /** Boots a throwaway VM with `accel`; rejects if it is not up in time. */
  tryBoot(accel: Accelerator, timeoutMs: number): Promise<void>;
}

export function parseAccelerator(value: unknown, option: string): Accelerator {
  if (typeof value === "string" && (ACCELERATORS as readonly string[]).includes(value)) {
    return value as Accelerator;
  }
  return invalidArgument(option, `one of ${ACCELERATORS.join(", ")}`, value);
}

/** The hardware accelerator this OS offers, if any, and why not if none. */
export function hardwareCandidate(): { accel?: Accelerator; unavailable?: string } {
  if (process.platform === "darwin") return { accel: "hvf" };
  if (process.platform === "win32") return { accel: "whpx" };
  if (process.platform !== "linux") return { unavailable: `no accelerator on ${process.platform}` };
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return { accel: "kvm" };
  } catch {
    return { unavailable: "/dev/kvm is missing or not accessible" };
  }
}

const inFlight = new Map<string, Promise<AcceleratorVerdict>>();

/**
 * Chooses the accelerator: `SUPERMACHINE_ACCEL` if set; else the cached
 * verdict for this QEMU, kernel and host; else a probe boot with the hardware
 * accelerator, falling back to `tcg` (and saying so once on stderr) when the
 * probe fails. A device file is not proof: a nested hypervisor can expose
 * /dev/kvm and still never run an ordinary guest.
 */
export function chooseAccelerator(context: ProbeContext): Promise<AcceleratorVerdict> {
  const forced = process.env.SUPERMACHINE_ACCEL;
  if (forced) {
    const accel = parseAccelerator(forced, "SUPERMACHINE_ACCEL");
    return Promise.resolve({ accel, reason: "forced by SUPERMACHINE_ACCEL", cached: false });
  }
  let verdict = inFlight.get(context.cacheKey);
  if (!verdict) {
    verdict = resolveVerdict(context);
    inFlight.set(context.cacheKey, verdict);
    verdict.catch(() => inFlight.delete(context.cacheKey));
  }
  return verdict;
}

async function resolveVerdict(context: ProbeContext): Promise<AcceleratorVerdict> {
  const file = verdictFile(context.cacheKey);
  const saved = await readVerdict(file);
  if (saved) return { ...saved, cached: true };

  const candidate = hardwareCandidate();
  let verdict: AcceleratorVerdict;
  if (!candidate.accel) {
    verdict = { accel: "tcg", reason: candidate.unavailable ?? "no accelerator", cached: false };
  } else {
    verdict = await probe(context, candidate.accel);
  }
  await saveVerdict(file, verdict);
  return verdict;
}

async function probe(context: ProbeContext, accel: Accelerator): Promise<AcceleratorVerdict> {
  const started = Date.now();
  try {
    await context.tryBoot(accel, PROBE_TIMEOUT_MS);
    log("%s booted a guest in %d ms", accel, Date.now() - started);
    return { accel, reason: `${accel} booted a probe guest`, cached: false };
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    const reason = `${accel} could not boot a guest (${why})`;
    process.stderr.write(
      `supermachine: ${reason}; using tcg (software emulation, slower). ` +
        "Set SUPERMACHINE_ACCEL to choose explicitly.\n",
    );
    return { accel: "tcg", reason, cached: false };
  }
}

function verdictFile(cacheKey: string): string {
  const hash = createHash("sha256").update(cacheKey).update(release()).digest("hex");
  return join(cacheDir(), "accel", `${hash.slice(0, 16)}.json`);
}

async function readVerdict(file: string): Promise<Omit<AcceleratorVerdict, "cached"> | undefined> {
  try {
    const saved = JSON.parse(await readFile(file, "utf8"));
    return { accel: parseAccelerator(saved.accel, file), reason: String(saved.reason) };
  } catch {
    // no verdict yet (or an unreadable one): probe again
    return undefined;
  }
}

async function saveVerdict(file: string, verdict: AcceleratorVerdict): Promise<void> {
  await mkdir(join(file, ".."), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify({ accel: verdict.accel, reason: verdict.reason }));
  await rename(temp, file);
}
