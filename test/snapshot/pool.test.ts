import { afterEach, expect, test, vi } from "vitest";
import { SupermachineError } from "../../src/errors.js";
import { Pool, type PooledClone, type PoolOptions } from "../../src/snapshot/pool.js";

class FakeVm {
  constructor(
    readonly clone: FakeClone,
    readonly stop: () => Promise<void>,
  ) {}
}

/** A clone that records what the pool did to it; its VM's stop() ends it. */
class FakeClone implements PooledClone<FakeVm> {
  resumes = 0;
  destroys = 0;
  stopped = false;
  resumeError: Error | undefined;
  readonly ended: Promise<void>;
  #end: () => void = () => {};
  #resumeGate: Promise<void> = Promise.resolve();

  constructor(readonly id: number) {
    this.ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  /** Holds resume() until the returned function is called. */
  holdResume(): () => void {
    let open = () => {};
    this.#resumeGate = new Promise((resolve) => {
      open = resolve;
    });
    return open;
  }

  async resume(): Promise<FakeVm> {
    this.resumes++;
    await this.#resumeGate;
    if (this.resumeError) throw this.resumeError;
    return new FakeVm(this, async () => this.#stop());
  }

  async destroy(): Promise<void> {
    this.destroys++;
    this.#stop();
  }

  #stop(): void {
    this.stopped = true;
    this.#end();
  }
}

/** The factory the pool restores from, with restores that can be held. */
class FakeSource {
  readonly clones: FakeClone[] = [];
  calls = 0;
  failure: Error | undefined;
  brokenResumes = new Set<number>();
  #held: (() => void)[] | undefined;

  readonly factory = async (): Promise<FakeClone> => {
    this.calls++;
    const held = this.#held;
    if (held) await new Promise<void>((resolve) => held.push(resolve));
    if (this.failure) throw this.failure;
    const clone = new FakeClone(this.clones.length + 1);
    if (this.brokenResumes.has(clone.id)) clone.resumeError = new Error("cont failed");
    this.clones.push(clone);
    return clone;
  };

  /** Restores started from now on wait for finish(). */
  hold(): void {
    this.#held = [];
  }

  /** Lets every held restore finish and stops holding new ones. */
  finish(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const resolve of held) resolve();
  }

  get running(): FakeClone[] {
    return this.clones.filter((clone) => !clone.stopped);
  }
}

const opened: { pool: Pool<FakeVm>; source: FakeSource }[] = [];

function poolOf(source: FakeSource, options: PoolOptions = {}): Pool<FakeVm> {
  const pool = new Pool(source.factory, options);
  opened.push({ pool, source });
  return pool;
}

afterEach(async () => {
  vi.useRealTimers();
  // A test that failed while restores were held would otherwise hang in close().
  for (const { source } of opened) source.finish();
  await Promise.allSettled(opened.splice(0).map(({ pool }) => pool.close()));
});

// The fake settles through promises only, so once a macrotask runs every
// chain the pool started has reached its end: no sleeping involved.
function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// setImmediate stays real so settled() keeps working under fake timers.
function useFakeTimers(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settled();
}

function code(error: unknown): string | undefined {
  return error instanceof SupermachineError ? error.code : undefined;
}

test("fills to min in the background without resuming anything", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 3, concurrency: 2 });

  await pool.ready();
  await settled();

  expect(source.calls).toBe(3);
  expect(pool.stats).toEqual({ ready: 3, restoring: 0, inUse: 0, waiting: 0 });
  expect(source.clones.every((clone) => clone.resumes === 0)).toBe(true);
});

test("restores at most `concurrency` clones at once", async () => {
  const source = new FakeSource();
  source.hold();
  const pool = poolOf(source, { min: 5, concurrency: 2 });
  await settled();

  expect(source.calls).toBe(2);
  expect(pool.stats.restoring).toBe(2);

  source.finish();
  await pool.ready();
  expect(source.calls).toBe(5);
});

test("acquire resumes the oldest ready clone and refills behind it", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 2 });
  await pool.ready();

  const vm = await pool.acquire();

  expect(vm.clone).toBe(source.clones[0]);
  expect(vm.clone.resumes).toBe(1);
  await settled();
  expect(source.calls).toBe(3);
  expect(pool.stats).toEqual({ ready: 2, restoring: 0, inUse: 1, waiting: 0 });
});

test("restores on demand past min, up to max, then makes acquires wait", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 3 });
  await pool.ready();

  const vms = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  const late = pool.acquire();
  await settled();

  expect(new Set(vms.map((vm) => vm.clone.id)).size).toBe(3);
  expect(source.calls).toBe(3);
  expect(pool.stats).toEqual({ ready: 0, restoring: 0, inUse: 3, waiting: 1 });
  await vms[0]?.stop();
  await expect(late).resolves.toBeInstanceOf(FakeVm);
});

test("a waiter at max gets a fresh clone once a handed-out VM is stopped", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 1 });
  const first = await pool.acquire();
  const waiting = pool.acquire();
  await settled();
  expect(pool.stats.waiting).toBe(1);
  expect(source.calls).toBe(1);

  await first.stop();
  const second = await waiting;

  expect(second.clone).not.toBe(first.clone);
  expect(second.clone.resumes).toBe(1);
  expect(pool.stats).toMatchObject({ inUse: 1, waiting: 0 });
});

test("a timed-out acquire gets POOL_TIMEOUT; its late clone stays in the pool", async () => {
  useFakeTimers();
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 2 });
  await settled();
  const held = await pool.acquire();
  const second = await pool.acquire();
  source.hold();

  const waiting = pool.acquire({ timeoutMs: 500 });
  const outcome = waiting.catch((error: unknown) => error);
  await held.stop();
  await advance(500);

  const error = await outcome;
  expect(code(error)).toBe("POOL_TIMEOUT");
  expect(String(error)).toMatch(/min 1, max 2, 1 in use/);
  expect(String(error)).toMatch(/Raise `max`/);

  const before = source.clones.length;
  source.finish();
  await settled();
  const late = source.clones[before];
  expect(source.clones).toHaveLength(before + 1);
  expect(late).toMatchObject({ resumes: 0, destroys: 0 });
  expect(pool.stats).toMatchObject({ ready: 1, inUse: 1, waiting: 0 });
  await second.stop();
});

test("a waiter that gives up while its clone resumes never receives it", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 1 });
  await pool.ready();
  const clone = source.clones[0];
  const openResume = clone?.holdResume() ?? (() => {});

  const controller = new AbortController();
  const acquired = pool.acquire({ signal: controller.signal });
  await settled();
  expect(clone?.resumes).toBe(1);
  controller.abort(new Error("test gave up"));
  await expect(acquired).rejects.toThrow("test gave up");

  openResume();
  await settled();
  expect(clone?.destroys).toBe(1);
  expect(pool.stats.inUse).toBe(0);
});

test("an aborted signal rejects before anything is taken", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1 });
  await pool.ready();

  await expect(pool.acquire({ signal: AbortSignal.abort() })).rejects.toThrow();
  expect(pool.stats).toMatchObject({ ready: 1, inUse: 0 });
});

test("release destroys the VM and it is never handed out again", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 2 });
  const vm = await pool.acquire();

  await pool.release(vm);
  await settled();
  await pool.release(vm);

  expect(vm.clone.destroys).toBe(1);
  expect(vm.clone.stopped).toBe(true);
  const next = [await pool.acquire(), await pool.acquire()];
  expect(next.map((other) => other.clone)).not.toContain(vm.clone);
  expect(next.every((other) => other.clone.resumes === 1)).toBe(true);
});

test("release of a VM from elsewhere is an INVALID_ARGUMENT error", async () => {
  const pool = poolOf(new FakeSource(), { min: 0 });
  const stranger = new FakeVm(new FakeClone(99), async () => {});

  await expect(pool.release(stranger)).rejects.toThrow(/not acquired from this pool/);
  await expect(pool.release(stranger)).rejects.toSatisfy(
    (error) => code(error) === "INVALID_ARGUMENT",
  );
});

test("a clone that fails to resume is destroyed and the next one is handed out", async () => {
  const source = new FakeSource();
  source.brokenResumes.add(1);
  const pool = poolOf(source, { min: 2 });
  await pool.ready();

  const vm = await pool.acquire();

  expect(vm.clone.id).toBe(2);
  expect(source.clones[0]?.destroys).toBe(1);
});

test("a restore failure rejects waiters and ready(), then backs off until a success", async () => {
  useFakeTimers();
  const source = new FakeSource();
  source.failure = new Error("disk full");
  const pool = poolOf(source, { min: 2, concurrency: 2 });

  const ready = pool.ready().catch((error: unknown) => error);
  const acquired = pool.acquire().catch((error: unknown) => error);
  await settled();

  for (const error of [await ready, await acquired]) {
    expect(code(error)).toBe("MIGRATION_FAILED");
    expect(String(error)).toMatch(/disk full/);
    expect((error as Error).cause).toBe(source.failure);
  }
  expect(source.calls).toBe(2);

  await advance(999);
  expect(source.calls).toBe(2);
  await advance(1);
  expect(source.calls).toBe(4);
  await advance(1_999);
  expect(source.calls).toBe(4);
  await advance(1);
  expect(source.calls).toBe(6);

  source.failure = undefined;
  await advance(4_000);
  await pool.ready();

  source.failure = new Error("disk full again");
  await pool.acquire();
  await settled();
  const calls = source.calls;
  await advance(999);
  expect(source.calls).toBe(calls);
  await advance(1);
  expect(source.calls).toBeGreaterThan(calls);
});

test("a SupermachineError from the factory reaches the caller unchanged", async () => {
  const source = new FakeSource();
  source.failure = new SupermachineError("SNAPSHOT_NOT_FOUND", "gone");
  const pool = poolOf(source, { min: 1 });

  await expect(pool.ready()).rejects.toBe(source.failure);
});

test("after a burst the warm set shrinks back to min once idle", async () => {
  useFakeTimers();
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 4, idleTimeoutMs: 1_000 });
  await settled();

  const vms = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  for (const vm of vms) await vm.stop();
  await settled();
  expect(pool.stats.ready).toBe(3);

  await advance(999);
  expect(pool.stats.ready).toBe(3);
  await advance(1);
  expect(pool.stats.ready).toBe(1);
  const spare = source.clones.filter((clone) => clone.resumes === 0);
  expect(spare.filter((clone) => clone.destroys === 1)).toHaveLength(2);
});

test("close stops everything, in-flight restores included, and refuses new work", async () => {
  const source = new FakeSource();
  const pool = poolOf(source, { min: 1, max: 3, concurrency: 1 });
  await pool.ready();
  const vm = await pool.acquire();
  await settled();
  source.hold();
  const waiting = [pool.acquire(), pool.acquire()].map((p) => p.catch((error) => error));
  await settled();
  expect(pool.stats).toMatchObject({ ready: 0, restoring: 1, inUse: 2, waiting: 1 });

  let closed = false;
  const closing = pool.close().then(() => {
    closed = true;
  });
  await settled();
  expect(closed).toBe(false);
  source.finish();
  await closing;

  expect(code(await waiting[1])).toBe("POOL_CLOSED");
  expect(source.running).toEqual([]);
  expect(vm.clone.stopped).toBe(true);
  expect(pool.stats).toMatchObject({ ready: 0, restoring: 0 });
  await expect(pool.acquire()).rejects.toSatisfy((error) => code(error) === "POOL_CLOSED");
  await expect(pool.ready()).rejects.toSatisfy((error) => code(error) === "POOL_CLOSED");
  await expect(pool.close()).resolves.toBeUndefined();
});

test("await using closes the pool", async () => {
  const source = new FakeSource();
  {
    await using pool = new Pool(source.factory, { min: 2 });
    await pool.ready();
  }
  expect(source.clones).toHaveLength(2);
  expect(source.running).toEqual([]);
});

test.each([
  [{ min: -1 }, /`min` must be an integer of at least 0, received -1 \(number\)/],
  [{ min: 1.5 }, /`min` must be an integer of at least 0, received 1.5 \(number\)/],
  [{ max: 0 }, /`max` must be an integer of at least 1, received 0 \(number\)/],
  [{ min: 4, max: 3 }, /`max` must be at least `min` \(4\), received 3 \(number\)/],
  [{ concurrency: 0 }, /`concurrency` must be an integer of at least 1/],
  [{ idleTimeoutMs: -5 }, /`idleTimeoutMs` must be an integer of at least 0/],
  [{ idleTimeoutMs: "1s" }, /`idleTimeoutMs` must be an integer of at least 0, received "1s"/],
])("pool option %o is an INVALID_ARGUMENT error", (options, message) => {
  const attempt = () => new Pool(new FakeSource().factory, options as never);
  expect(attempt).toThrow(SupermachineError);
  expect(attempt).toThrow(message);
});

test("a bad acquire timeout is an INVALID_ARGUMENT error", async () => {
  const pool = poolOf(new FakeSource(), { min: 0 });
  await expect(pool.acquire({ timeoutMs: 0 })).rejects.toThrow(
    /`timeoutMs` must be an integer of at least 1, received 0/,
  );
});
