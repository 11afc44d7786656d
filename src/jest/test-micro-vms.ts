import type { MicroVmHandle } from "../fixtures/micro-vm.js";
import { debugFor } from "../util/debug.js";

const log = debugFor("jest");

/** How long a failing test waits for a VM's output: a wedged guest must not hang the run. */
const TAIL_TIMEOUT_MS = 5_000;

/** A test, or the file for VMs acquired outside any test. */
export interface Owner {
  readonly vms: TrackedVm[];
  ended: boolean;
}

interface TrackedVm {
  readonly handle: MicroVmHandle;
  /** The output, read just before the test itself stopped the VM. */
  tail?: Promise<string>;
}

/**
 * The microVMs one test file acquired. A VM belongs to the test that was
 * running when it was asked for (`beforeEach` through `afterEach` count as
 * the test) or else to the file (`beforeAll`, the top level), and is stopped
 * when its owner ends unless stopped before. When a test fails, the output of
 * its VMs goes into its error.
 */
export class TestMicroVms {
  readonly #file: Owner = { vms: [], ended: false };
  #test: Owner | undefined;

  /** Who owns a VM asked for now; `add` it there once it is ready. */
  owner(): Owner {
    return this.#test ?? this.#file;
  }

  add(owner: Owner, handle: MicroVmHandle): void {
    // A test that timed out may get its VM after it ended.
    const vm: TrackedVm = { handle };
    (owner.ended ? this.#file : owner).vms.push(vm);
    this.#keepTailOnStop(owner, vm);
  }

  startTest(): void {
    this.#test = { vms: [], ended: false };
  }

  /** Appends the last output of each VM of the running test to `error`. */
  async describeFailure(error: unknown): Promise<void> {
    const vms = this.#test?.vms ?? [];
    const tails = await Promise.all(vms.map((vm) => vm.tail ?? tailOf(vm.handle)));
    for (const [i, vm] of vms.entries()) {
      const tail = tails[i];
      if (tail) appendToError(error, `\n\nLast output of microVM "${vm.handle.name}":\n${tail}`);
    }
  }

  async endTest(): Promise<void> {
    const test = this.#test;
    this.#test = undefined;
    if (test) await stopAll(test);
  }

  /** Stops every VM still running: the file's, and those of a test cut short. */
  async endFile(): Promise<void> {
    await this.endTest();
    await stopAll(this.#file);
  }

  // A test that stops its VM itself (`await using`) does so before Jest
  // reports it failed, and a stopped VM's output is gone; so the output is
  // read first, for a failure that may follow.
  #keepTailOnStop(owner: Owner, vm: TrackedVm): void {
    const { handle } = vm;
    if (owner === this.#file) return;
    const stop = handle.stop.bind(handle);
    handle.stop = async () => {
      if (!owner.ended) vm.tail ??= tailOf(handle);
      await vm.tail;
      await stop();
    };
  }
}

async function stopAll(owner: Owner): Promise<void> {
  owner.ended = true;
  const results = await Promise.allSettled(owner.vms.map((vm) => vm.handle.stop()));
  // The test's outcome is settled by now, and a VM that failed to stop dies
  // with this process at the latest: worth a debug line, not a failure.
  for (const [i, result] of results.entries()) {
    if (result.status === "rejected") {
      log("stopping %s failed: %O", owner.vms[i]?.handle.name, result.reason);
    }
  }
}

function tailOf(handle: MicroVmHandle): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, TAIL_TIMEOUT_MS, "");
  });
  return Promise.race([handle.logTail(), timeout]).finally(() => clearTimeout(timer));
}

// Jest prints a failure from the error's stack, which holds the message as it
// was when the error was made; so the note goes into both.
function appendToError(error: unknown, note: string): void {
  if (typeof error !== "object" || error === null) return;
  const target = error as { message?: unknown; stack?: unknown };
  if (typeof target.message !== "string") return;
  const { message, stack } = target;
  target.message = message + note;
  if (typeof stack !== "string") return;
  const found = message ? stack.indexOf(message) : -1;
  const end = found >= 0 ? found + message.length : firstLineEnd(stack);
  target.stack = stack.slice(0, end) + note + stack.slice(end);
}

function firstLineEnd(text: string): number {
  const newline = text.indexOf("\n");
  return newline >= 0 ? newline : text.length;
}
