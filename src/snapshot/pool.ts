import pLimit, { type LimitFunction } from "p-limit";
import { type ErrorCode, invalidArgument, SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";

/** One clone the pool manages: restored and paused until it is handed out. */
export interface PooledClone<V> {
  /** Resumes the paused clone and returns the usable VM. Called at most once. */
  resume(): Promise<V>;
  /** Stops the clone (and the VM resume returned) and removes its files. Idempotent. */
  destroy(): Promise<void>;
  /**
   * Settles when the clone has stopped for any reason: destroy(), the user
   * stopping the VM (`await using`), or QEMU dying. Never rejects.
   */
  readonly ended: Promise<void>;
}

export type CloneFactory<V> = () => Promise<PooledClone<V>>;

export interface PoolOptions {
  /** Paused clones kept ready. Default 2. */
  min?: number;
  /** Clones alive at once: ready + being restored + handed out. Default max(min, 8). */
  max?: number;
  /**
   * After a burst the warm set grows toward max; it shrinks back to min after
   * this long with no acquire that had to wait. Default 30_000.
   */
  idleTimeoutMs?: number;
  /** Clones restored at the same time. Default 2. */
  concurrency?: number;
}

export interface AcquireOptions {
  /** How long to wait for a free clone. Default 60_000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface PoolStats {
  ready: number;
  restoring: number;
  inUse: number;
  waiting: number;
}

interface ResolvedPoolOptions {
  min: number;
  max: number;
  idleTimeoutMs: number;
  concurrency: number;
}

// A restore failure is usually not transient (missing snapshot, no QEMU, full
// disk), so retries start after a pause long enough not to load the host and
// stop growing at a delay short enough that a fixed host is noticed soon.
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

// A clone that fails to resume is replaced by the next one, but a snapshot
// whose every clone fails would otherwise restore clones until the deadline.
const RESUME_ATTEMPTS = 3;

/** A clone and the VM it became once handed out. */
interface Slot<V> {
  readonly clone: PooledClone<V>;
  vm: V | undefined;
  ended: boolean;
  destroyed: Promise<void> | undefined;
}

/**
 * A warm set of snapshot clones, restored and paused ahead of time, so that
 * acquire() costs only a resume. The pool keeps `min` clones ready, restores
 * more on demand up to `max` alive at once. A VM it handed out is destroyed
 * when it is released or stopped: a used VM is never handed out again.
 *
 * @example
 * await using pool = snapshot.pool({ min: 2, max: 4 });
 * const vm = await pool.acquire();
 * try {
 *   await vm.exec(["psql", "-c", "select 1"]);
 * } finally {
 *   await pool.release(vm);
 * }
 */
export class Pool<V extends { stop(): Promise<void> }> {
  readonly #factory: CloneFactory<V>;
  readonly #options: ResolvedPoolOptions;
  readonly #limit: LimitFunction;
  readonly #log = debugFor("pool");

  readonly #ready: Slot<V>[] = [];
  readonly #inUse = new Set<Slot<V>>();
  readonly #byVm = new Map<V, Slot<V>>();
  readonly #handedOut = new WeakSet<V>();
  readonly #waiters: Waiter<V>[] = [];
  readonly #readyWaiters: Waiter<void>[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #destroying = new Set<Promise<void>>();
  #restoring = 0;
  #target: number;

  #backoffMs = FIRST_BACKOFF_MS;
  #backoffTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(factory: CloneFactory<V>, options: PoolOptions = {}) {
    if (typeof factory !== "function") {
      invalidArgument("factory", "a function that restores a clone", factory);
    }
    this.#factory = factory;
    this.#options = resolvePoolOptions(options);
    this.#limit = pLimit(this.#options.concurrency);
    this.#target = this.#options.min;
    this.#log("filling to %d (max %d)", this.#options.min, this.#options.max);
    this.#refill();
  }

  get stats(): PoolStats {
    return {
      ready: this.#ready.length,
      restoring: this.#restoring,
      inUse: this.#inUse.size,
      waiting: this.#waiters.length,
    };
  }

  /** Resolves when `min` clones are ready, or rejects with the restore error. */
  ready(): Promise<void> {
    if (this.#closing) return Promise.reject(closedError());
    if (this.#ready.length >= this.#options.min) return Promise.resolve();
    const waiter = new Waiter<void>();
    this.#readyWaiters.push(waiter);
    return waiter.promise;
  }

  /** Hands out the oldest ready clone, resumed; waits FIFO when none is free. */
  async acquire(options: AcquireOptions = {}): Promise<V> {
    const timeoutMs = integerAtLeast("timeoutMs", options.timeoutMs ?? 60_000, 1);
    if (this.#closing) throw closedError();
    options.signal?.throwIfAborted();

    const waiter = new Waiter<V>();
    this.#arm(waiter, timeoutMs, options.signal);
    if (this.#ready.length <= this.#waiters.length) this.#grow();
    this.#waiters.push(waiter);
    this.#dispatch();
    return waiter.promise;
  }

  /** Destroys a VM that acquire() returned. Releasing a VM twice is harmless. */
  async release(vm: V): Promise<void> {
    const slot = this.#byVm.get(vm);
    if (slot) return this.#destroy(slot);
    // It ended on its own (the user stopped it) and its slot is already free.
    if (this.#handedOut.has(vm)) return;
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      "`vm` was not acquired from this pool: release() only takes VMs its acquire() returned.",
    );
  }

  /** Stops every clone: ready, being restored and handed out. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Serves waiters from ready clones, then restores what is still missing. */
  #dispatch(): void {
    if (this.#closing) return;
    for (;;) {
      const waiter = this.#waiters[0];
      const slot = this.#ready[0];
      if (!waiter || !slot) break;
      this.#waiters.shift();
      this.#ready.shift();
      this.#handOut(slot, waiter);
    }
    this.#restoreForWaiters();
    this.#refill();
  }

  // Restores in flight serve waiters too, whoever started them, so only the
  // waiters they cannot cover need a restore of their own.
  #restoreForWaiters(): void {
    while (this.#restoring < this.#waiters.length && this.#alive() < this.#options.max) {
      this.#restore("demand");
    }
  }

  // Background restores start only into a free limiter slot, never into its
  // queue, so an acquire's restore never waits behind one.
  #refill(): void {
    const { max, concurrency } = this.#options;
    while (
      this.#backoffTimer === undefined &&
      this.#restoring < concurrency &&
      this.#alive() < max &&
      this.#ready.length + this.#restoring - this.#waiters.length < this.#target
    ) {
      this.#restore("refill");
    }
  }

  #alive(): number {
    return this.#ready.length + this.#restoring + this.#inUse.size;
  }

  #restore(reason: "demand" | "refill"): void {
    this.#restoring++;
    this.#log("restoring a clone (%s)", reason);
    // A restore still queued when the pool closes has nothing left to do.
    const restored = this.#limit(() => (this.#closing ? undefined : this.#factory()));
    const task = restored.then(
      (clone) => {
        this.#restoring--;
        if (clone) this.#adopt(clone);
      },
      (error: unknown) => {
        this.#restoring--;
        this.#restoreFailed(error);
      },
    );
    this.#inFlight.add(task);
    void task.finally(() => this.#inFlight.delete(task));
  }

  #adopt(clone: PooledClone<V>): void {
    const slot: Slot<V> = { clone, vm: undefined, ended: false, destroyed: undefined };
    if (this.#closing) {
      void this.#destroy(slot);
      return;
    }
    this.#recovered();
    this.#ready.push(slot);
    const ended = () => this.#ended(slot);
    clone.ended.then(ended, ended);

    this.#dispatch();
    this.#trim();
    if (this.#ready.length >= this.#options.min) {
      for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve();
    }
  }

  #restoreFailed(error: unknown): void {
    const failure = wrap(error, "MIGRATION_FAILED", "Restoring a pooled clone failed");
    if (this.#closing) {
      this.#log("a restore failed while closing: %O", error);
      return;
    }
    this.#log("restoring failed, retrying in %d ms: %O", this.#backoffMs, error);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(failure);
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(failure);
    this.#backOff();
  }

  #backOff(): void {
    if (this.#backoffTimer !== undefined) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(delay * 2, MAX_BACKOFF_MS);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#dispatch();
    }, delay);
    this.#backoffTimer.unref();
  }

  #recovered(): void {
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    this.#backoffMs = FIRST_BACKOFF_MS;
  }

  #handOut(slot: Slot<V>, waiter: Waiter<V>): void {
    this.#inUse.add(slot);
    slot.clone.resume().then(
      (vm) => this.#resumed(slot, waiter, vm),
      (error: unknown) => this.#resumeFailed(slot, waiter, error),
    );
  }

  #resumed(slot: Slot<V>, waiter: Waiter<V>, vm: V): void {
    slot.vm = vm;
    if (slot.ended) {
      const error = new SupermachineError("QEMU_EXITED", "A pooled clone stopped as it resumed.");
      this.#resumeFailed(slot, waiter, error);
      return;
    }
    // The waiter gave up (timeout, abort, close) while the clone resumed.
    if (this.#closing || !waiter.resolve(vm)) {
      void this.#destroy(slot);
      return;
    }
    this.#byVm.set(vm, slot);
    this.#handedOut.add(vm);
  }

  #resumeFailed(slot: Slot<V>, waiter: Waiter<V>, error: unknown): void {
    this.#log("resuming a clone failed: %O", error);
    void this.#destroy(slot);
    if (this.#closing || waiter.done) return;
    waiter.resumeFailures++;
    if (waiter.resumeFailures >= RESUME_ATTEMPTS) {
      waiter.reject(wrap(error, "QMP_ERROR", "Resuming a pooled clone failed"));
      return;
    }
    this.#waiters.unshift(waiter);
    this.#dispatch();
  }

  #ended(slot: Slot<V>): void {
    slot.ended = true;
    const at = this.#ready.indexOf(slot);
    if (at >= 0) this.#ready.splice(at, 1);
    this.#inUse.delete(slot);
    if (slot.vm !== undefined) this.#byVm.delete(slot.vm);
    this.#dispatch();
  }

  #destroy(slot: Slot<V>): Promise<void> {
    if (slot.destroyed) return slot.destroyed;
    const destroyed = slot.clone.destroy();
    slot.destroyed = destroyed;
    this.#destroying.add(destroyed);
    // Background destroys have nobody to report to; close() and release()
    // await the same promise and see the error themselves.
    destroyed
      .catch((error: unknown) => this.#log("destroying a clone failed: %O", error))
      .finally(() => this.#destroying.delete(destroyed));
    return destroyed;
  }

  #arm(waiter: Waiter<V>, timeoutMs: number, signal: AbortSignal | undefined): void {
    const timer = setTimeout(() => this.#giveUp(waiter, this.#timeoutError(timeoutMs)), timeoutMs);
    const abort = () => this.#giveUp(waiter, signal?.reason);
    signal?.addEventListener("abort", abort, { once: true });
    waiter.onDone(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    });
  }

  // Restores started for this waiter still finish and land in the ready set;
  // a clone already resuming for it is destroyed by #resumed.
  #giveUp(waiter: Waiter<V>, reason: unknown): void {
    if (!waiter.reject(reason)) return;
    const at = this.#waiters.indexOf(waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
  }

  #timeoutError(timeoutMs: number): SupermachineError {
    const { min, max } = this.#options;
    return new SupermachineError(
      "POOL_TIMEOUT",
      `No pooled VM became free within ${timeoutMs} ms (min ${min}, max ${max}, ` +
        `${this.#inUse.size} in use, ${this.#restoring} restoring). ` +
        "Raise `max`, or release VMs sooner with pool.release(vm) or vm.stop().",
    );
  }

  // An acquire that found nothing ready means the warm set is too small for
  // the current load: keep one more ready until the load has been gone a while.
  #grow(): void {
    const { max, idleTimeoutMs } = this.#options;
    this.#target = Math.min(this.#target + 1, max);
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#shrink(), idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #shrink(): void {
    this.#idleTimer = undefined;
    this.#log("idle for %d ms, shrinking to %d", this.#options.idleTimeoutMs, this.#options.min);
    this.#target = this.#options.min;
    this.#trim();
  }

  #trim(): void {
    while (this.#ready.length > this.#target) {
      const slot = this.#ready.shift();
      if (slot) void this.#destroy(slot);
    }
  }

  async #shutDown(): Promise<void> {
    this.#log("closing");
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#backoffTimer);
    const closed = closedError();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closed);
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(closed);
    for (const slot of [...this.#ready.splice(0), ...this.#inUse]) void this.#destroy(slot);

    // Restores still running land in #adopt, which destroys them now.
    await Promise.all(this.#inFlight);
    const results = await Promise.allSettled(this.#destroying);
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    this.#log("closed");
  }
}

/** A pending acquire() or ready(): settles once and ignores later outcomes. */
class Waiter<T> {
  readonly promise: Promise<T>;
  resumeFailures = 0;
  readonly #settle: { resolve(value: T): void; reject(error: unknown): void };
  #done = false;
  #onDone: () => void = () => {};

  constructor() {
    const settle = { resolve: (_value: T) => {}, reject: (_error: unknown) => {} };
    this.promise = new Promise<T>((resolve, reject) => {
      settle.resolve = resolve;
      settle.reject = reject;
    });
    this.#settle = settle;
  }

  get done(): boolean {
    return this.#done;
  }

  onDone(callback: () => void): void {
    this.#onDone = callback;
  }

  /** Returns false when the waiter had already settled. */
  resolve(value: T): boolean {
    if (!this.#finish()) return false;
    this.#settle.resolve(value);
    return true;
  }

  reject(error: unknown): boolean {
    if (!this.#finish()) return false;
    this.#settle.reject(error);
    return true;
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#onDone();
    return true;
  }
}

function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  const min = integerAtLeast("min", options.min ?? 2, 0);
  const max = integerAtLeast("max", options.max ?? Math.max(min, 8), 1);
  if (max < min) invalidArgument("max", `at least \`min\` (${min})`, max);
  return {
    min,
    max,
    idleTimeoutMs: integerAtLeast("idleTimeoutMs", options.idleTimeoutMs ?? 30_000, 0),
    concurrency: integerAtLeast("concurrency", options.concurrency ?? 2, 1),
  };
}

function integerAtLeast(option: string, value: unknown, least: number): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= least) return value;
  return invalidArgument(option, `an integer of at least ${least}`, value);
}

function closedError(): SupermachineError {
  return new SupermachineError(
    "POOL_CLOSED",
    "The pool is closed: create a new Pool to acquire more VMs.",
  );
}

// The clone source classifies what it knows. Anything else gets the code of
// the step that failed: restoring is QEMU loading a migration stream, and
// resuming is a QMP `cont`.
function wrap(error: unknown, code: ErrorCode, what: string): SupermachineError {
  if (error instanceof SupermachineError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new SupermachineError(code, `${what}: ${why}`, { cause: error });
}
