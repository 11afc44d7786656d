import { setTimeout as sleep } from "node:timers/promises";
import { SupermachineError } from "../errors.js";
import type { Vm } from "../vm.js";

/** What a strategy awaited, as recorded in a snapshot's manifest and bake key. */
export type WaitDescription =
  | { kind: "port"; port: number; timeoutMs: number }
  | { kind: "log"; pattern: string; flags: string; times: number; timeoutMs: number }
  | { kind: "exec"; argv: string[]; timeoutMs: number }
  | { kind: "http"; port: number; path: string; status: number; timeoutMs: number }
  | { kind: "all"; strategies: WaitDescription[] };

/**
 * Decides when a freshly started service is ready, so that a snapshot is
 * taken of a service that accepts work, not of one still starting. Build one
 * with the `wait` helpers.
 */
export interface WaitStrategy {
  readonly description: WaitDescription;
  /** Resolves when ready; rejects with WAIT_TIMEOUT naming what it awaited. */
  waitUntilReady(vm: Vm): Promise<void>;
}

export const DEFAULT_WAIT_MS = 60_000;
const RETRY_MS = 100;

/**
 * Retries `attempt` until it returns true, the deadline passes, or the
 * workload exits (then waiting longer is pointless). The error names `what`
 * and quotes the last attempt's complaint and the workload's last output.
 */
export async function pollUntil(
  vm: Vm,
  what: string,
  timeoutMs: number,
  attempt: () => Promise<string | true>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exited = workloadExit(vm);
  let last = "no attempt finished";
  for (;;) {
    const outcome = await Promise.race([attempt().catch(describeFailure), exited.promise]);
    if (outcome === true) return;
    if (typeof outcome === "object") {
      throw await waitError(vm, `The workload exited (${outcome.how}) before ${what}.`);
    }
    last = outcome;
    if (Date.now() + RETRY_MS > deadline) {
      throw await waitError(vm, `Gave up after ${timeoutMs} ms waiting until ${what} (${last}).`);
    }
    await sleep(RETRY_MS);
  }
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Settles with how the workload ended; never, for a VM without one. */
function workloadExit(vm: Vm): { promise: Promise<{ how: string }> } {
  let exited: Promise<{ how: string }>;
  try {
    exited = vm.workload.exited.then(
      (exit) => ({ how: exit.signal ? `signal ${exit.signal}` : `code ${exit.exitCode}` }),
      () => new Promise<never>(() => {}),
    );
  } catch {
    // A scratch VM has no workload to exit; only the deadline ends the wait.
    exited = new Promise<never>(() => {});
  }
  return { promise: exited };
}

async function waitError(vm: Vm, message: string): Promise<SupermachineError> {
  const tail = await logTail(vm, 15);
  const advice =
    " Check the image's environment and command, or raise the strategy's `timeoutMs` on a " +
    "slow machine.";
  return new SupermachineError(
    "WAIT_TIMEOUT",
    `${message}${advice}${tail ? `\nLast lines of the workload's output:\n${tail}` : ""}`,
  );
}

async function logTail(vm: Vm, lines: number): Promise<string> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of vm.logs()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    // No workload, or the VM is gone: the message stands without a tail.
    return "";
  }
}
