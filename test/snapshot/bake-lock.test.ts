import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { SupermachineError } from "../../src/errors.js";
import { acquireBakeLock } from "../../src/snapshot/bake-lock.js";

const fixture = join(import.meta.dirname, "..", "fixtures", "hold-bake-lock.ts");

let dir: string;
let lockPath: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sm-bake-lock-"));
  lockPath = join(dir, "key.lock");
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await rm(dir, { recursive: true, force: true });
});

test("a second acquire in the same process waits until the first releases", async () => {
  const order: string[] = [];
  const first = await acquireBakeLock(lockPath, { pollMs: 10 });

  const waiting = deferred<{ pid: number }>();
  const onWait = waiting.resolve;
  const second = acquireBakeLock(lockPath, { pollMs: 10, onWait }).then((lock) => {
    order.push("second acquired");
    return lock;
  });
  expect(await waiting.promise).toEqual({ pid: process.pid });

  order.push("first releasing");
  await first.release();
  const lock = await second;
  expect(order).toEqual(["first releasing", "second acquired"]);
  await lock.release();
  expect(await readdir(dir)).toEqual([]);
});

test("another process holding the lock keeps this one out until it releases", async () => {
  const holder = await startHolder(lockPath);

  const error = await acquireBakeLock(lockPath, { timeoutMs: 300, pollMs: 20 }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SupermachineError);
  expect(error).toMatchObject({ code: "WAIT_TIMEOUT" });
  expect((error as Error).message).toContain(lockPath);
  expect((error as Error).message).toContain(`pid ${holder.pid}`);
  expect((error as Error).message).toMatch(/if no bake is running, delete/);

  let acquired = false;
  const waiting = deferred<{ pid: number }>();
  const pending = acquireBakeLock(lockPath, { pollMs: 20, onWait: waiting.resolve }).then(
    (lock) => {
      acquired = true;
      return lock;
    },
  );
  expect(await waiting.promise).toEqual({ pid: holder.pid });
  expect(acquired).toBe(false);

  holder.child.stdin.end();
  const lock = await pending;
  expect(await holder.exited).toBe(0);
  expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
  await lock.release();
});

test("a lock left by a holder killed with SIGKILL is broken", async () => {
  const holder = await startHolder(lockPath);
  holder.child.kill("SIGKILL");
  await holder.exited;
  expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: holder.pid });

  const lock = await acquireBakeLock(lockPath, { timeoutMs: 5_000, pollMs: 20 });
  expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
  expect(await readdir(dir)).toEqual(["key.lock"]); // nothing left of the stale file
  await lock.release();
});

test.each([
  ["this process", process.pid],
  // Usually another user's process: kill(1, 0) fails with EPERM, still alive.
  ["pid 1", 1],
])("a lock held by a live pid (%s) is not broken", async (_name, pid) => {
  const text = holderJson({ pid, hostname: hostname(), createdAt: "2001-01-01T00:00:00.000Z" });
  await writeFile(lockPath, text);

  const error = await acquireBakeLock(lockPath, { timeoutMs: 200, pollMs: 20 }).catch(
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: "WAIT_TIMEOUT" });
  expect(await readFile(lockPath, "utf8")).toBe(text);
});

test("a lock from another host is waited for even if its pid is dead here", async () => {
  const pid = await deadPid();
  const local = holderJson({ pid, hostname: hostname(), createdAt: new Date().toISOString() });
  const foreign = holderJson({ pid, hostname: `not-${hostname()}`, createdAt: "x" });

  // The same dead pid on this host is broken, so the pid really is dead...
  await writeFile(lockPath, local);
  await (await acquireBakeLock(lockPath, { timeoutMs: 2_000 })).release();

  // ...and only the hostname keeps the foreign lock alive.
  await writeFile(lockPath, foreign);
  const error = await acquireBakeLock(lockPath, { timeoutMs: 200, pollMs: 20 }).catch(
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: "WAIT_TIMEOUT" });
  expect((error as Error).message).toContain(`pid ${pid} on not-${hostname()}`);
  expect(await readFile(lockPath, "utf8")).toBe(foreign);
});

test("unreadable lock content is waited for while fresh and broken once old", async () => {
  await writeFile(lockPath, "");
  const error = await acquireBakeLock(lockPath, { timeoutMs: 200, pollMs: 20 }).catch(
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: "WAIT_TIMEOUT" });

  const old = new Date(Date.now() - 60_000);
  await utimes(lockPath, old, old);
  const lock = await acquireBakeLock(lockPath, { timeoutMs: 2_000, pollMs: 20 });
  expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
  await lock.release();
});

test("release is idempotent and leaves a lock file that is not ours", async () => {
  const lock = await acquireBakeLock(lockPath);
  await lock.release();
  await lock.release();
  expect(await readdir(dir)).toEqual([]);

  const replaced = await acquireBakeLock(lockPath);
  const other = holderJson({ pid: 1, hostname: "elsewhere", createdAt: "x" });
  await rm(lockPath);
  await writeFile(lockPath, other);
  await replaced.release();
  expect(await readFile(lockPath, "utf8")).toBe(other);
});

test("creates the parent directory of the lock", async () => {
  const nested = join(dir, "a", "b", "key.lock");
  const lock = await acquireBakeLock(nested);
  expect(await readdir(join(dir, "a", "b"))).toEqual(["key.lock"]);
  await lock.release();
});

test("an aborted signal stops the wait with its reason", async () => {
  const first = await acquireBakeLock(lockPath);
  const controller = new AbortController();
  const waiting = deferred<{ pid: number }>();
  const pending = acquireBakeLock(lockPath, {
    pollMs: 20,
    signal: controller.signal,
    onWait: waiting.resolve,
  });
  await waiting.promise;
  const reason = new Error("test over");
  controller.abort(reason);
  await expect(pending).rejects.toBe(reason);
  await first.release();
});

test("rejects bad options as INVALID_ARGUMENT", async () => {
  await expect(acquireBakeLock(lockPath, { timeoutMs: -1 })).rejects.toMatchObject({
    code: "INVALID_ARGUMENT",
    message: expect.stringContaining("`timeoutMs`"),
  });
  await expect(acquireBakeLock(lockPath, { pollMs: 0 })).rejects.toMatchObject({
    code: "INVALID_ARGUMENT",
    message: expect.stringContaining("`pollMs`"),
  });
});

interface StartedHolder {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  exited: Promise<number | null>;
}

/** Starts the fixture and resolves once it prints that it holds the lock. */
async function startHolder(path: string): Promise<StartedHolder> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, path]);
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("locked\n")) resolve();
    });
    exited.then((code) => reject(new Error(`fixture exited early with ${code}: ${stderr}`)));
  });
  return { child, pid: child.pid ?? 0, exited };
}

/** A pid that belonged to a process which has since exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid ?? 0;
}

function holderJson(holder: { pid: number; hostname: string; createdAt: string }): string {
  return `${JSON.stringify(holder)}\n`;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
